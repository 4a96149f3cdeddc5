"""The Realtime bridge's own time per function call, against the scripted Realtime server.

Run from the repository root, with the realtime extra installed (``pip install -e '.[dev]'`` has it):

    python bench/bridge.py                  # 5 rounds x 20 turns x 10 function calls
    python bench/bridge.py --rounds 9 --turns 40

For each function call the model makes, the bridge's own time is from the moment its
``response.function_call_arguments.done`` arrives to the moment the ``function_call_output`` is sent,
less the tool's own time (the app answering the tool request, in process through ASGI): reading the
rest of the response's events (parsed with the ``openai`` package's types), building the tool request
as VNS does, recording the exchange, and sending the output. The scripted server runs in a process of
its own, so its work is not counted; the app runs in the bridge's process, as with ``vns-sdk chat``.
The target is a median of at most 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import statistics
import sys
from contextlib import AsyncExitStack
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEY = "sk-bench-key-0123456789"
TOKEN = "whk-bench-token-0123456789"
TARGET_MS = 2.0


def _script(calls_per_turn: int) -> Any:
    """The scripted model: each turn calls the lookup `calls_per_turn` times, one after the other."""
    from vns_sdk.testing.realtime import RealtimeScript

    script = RealtimeScript()
    rule = script.when("look up")
    for _ in range(calls_per_turn):
        rule.call("lookup_name_or_phone", name="Ron")
    rule.say("Ron Tanner is on +1 303 555 1212.")
    return script


def _serve(calls_per_turn: int, pipe: Connection) -> None:
    """The scripted model in a process of its own, until told to stop."""
    from vns_sdk.testing.realtime import ScriptedRealtimeServer

    with ScriptedRealtimeServer(_script(calls_per_turn), api_key=KEY) as server:
        pipe.send(server.url())
        pipe.recv()  # until the benchmark is done


def _app() -> Any:
    from vns_sdk import VNSApp

    app = VNSApp(instructions="You look up people.", webhook_token=TOKEN, openai_api_key=KEY)

    @app.tool
    async def lookup_name_or_phone(name: str | None = None) -> dict[str, Any]:
        """Looks up the phone number of a person from a name.

        Args:
            name: Name of the person to search for.
        """
        return {"matchType": "name", "contactFound": True, "contactName": "Ron Tanner", "phoneNumber": "+13035551212"}

    return app


async def _round(url: str | None, turns: int, calls_per_turn: int) -> tuple[list[float], list[float]]:
    """One call of `turns` turns; the bridge's own and the tool's time of each function call, in ms."""
    from vns_sdk.realtime import RealtimeBridge
    from vns_sdk.testing.realtime import ScriptedRealtimeServer

    own: list[float] = []
    tool: list[float] = []
    async with AsyncExitStack() as stack:
        if url is None:  # the scripted server in this event loop
            server = await stack.enter_async_context(ScriptedRealtimeServer(_script(calls_per_turn), api_key=KEY))
            url = server.url()
        call = await stack.enter_async_context(RealtimeBridge(_app(), realtime_url=url).call())
        for _ in range(turns):
            turn = await call.say("Please look up Ron.")
            own.extend(item.bridge_ms for item in turn.tool_calls)
            tool.extend(item.tool_ms for item in turn.tool_calls)
    return own, tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="calls placed (each a fresh Realtime session)")
    parser.add_argument("--turns", type=int, default=20, help="caller turns per call")
    parser.add_argument("--calls", type=int, default=10, help="function calls per turn")
    parser.add_argument(
        "--server",
        choices=["process", "loop"],
        default="process",
        help="run the scripted server in a process of its own (default), or in the bridge's event loop",
    )
    options = parser.parse_args()

    import openai
    import websockets

    url: str | None = None
    stop = None
    if options.server == "process":
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(options.calls, theirs), daemon=True)
        process.start()
        url = ours.recv()

        def stop() -> None:
            ours.send("done")
            process.join(10)

    try:
        asyncio.run(_round(url, 2, options.calls))  # warm-up: imports, first parses, connection setup
        medians: list[float] = []
        own_all: list[float] = []
        tool_all: list[float] = []
        for _ in range(options.rounds):
            own, tool = asyncio.run(_round(url, options.turns, options.calls))
            medians.append(statistics.median(own))
            own_all.extend(own)
            tool_all.extend(tool)
    finally:
        if stop is not None:
            stop()

    own_all.sort()
    print(
        f"Python {platform.python_version()}, openai {openai.__version__}, websockets {websockets.__version__}, "
        f"{options.rounds} rounds x {options.turns} turns x {options.calls} function calls, "
        f"scripted server in {'its own process' if options.server == 'process' else 'the same event loop'}"
    )
    print(
        f"bridge's own time per function call: median {statistics.median(own_all):.3f} ms, "
        f"p90 {own_all[int(len(own_all) * 0.9)]:.3f} ms, mean {statistics.fmean(own_all):.3f} ms"
    )
    print(f"median per round: {', '.join(f'{value:.3f}' for value in medians)} ms")
    print(f"the tool's own time (app in process): median {statistics.median(tool_all):.3f} ms")
    verdict = "met" if statistics.median(own_all) <= TARGET_MS else "MISSED"
    print(f"target: median <= {TARGET_MS:g} ms: {verdict}")


if __name__ == "__main__":
    main()
