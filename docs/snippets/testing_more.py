"""The testing page's record-and-replay and async examples, against the home page's app."""

from __future__ import annotations

from pathlib import Path

__all__ = ["check_async_call", "record_and_replay"]


# --8<-- [start:record]
def record_and_replay(transcript: Path) -> None:
    from shop import app

    from vns_sdk.testing import VNSSimulator, replay

    # Record: every webhook of the call goes to a JSON Lines file, secrets redacted.
    with VNSSimulator(app, record=transcript) as vns, vns.call(caller_id="3035550142") as call:
        call.invoke("order_status", order_number="A100")

    # Replay: send the same requests again and compare the answers with the recorded ones.
    report = replay(transcript, app=app)
    assert report.ok, report.render()


# --8<-- [end:record]


# --8<-- [start:async]
async def check_async_call() -> None:
    from shop import app

    from vns_sdk.testing import VNSSimulator

    async with VNSSimulator(app) as vns, vns.acall(caller_id="3035550142") as call:
        reply = await call.invoke("order_status", order_number="A101")
        assert reply == {"order_number": "A101", "status": "being packed"}


# --8<-- [end:async]
