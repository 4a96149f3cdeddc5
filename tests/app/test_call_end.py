"""CallEnd through the real ASGI app: handlers once per call, with the call's state and the report."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.app.conftest import AUTH, SEED_GUID, AppFactory, client_for, spec, start_call, tools_base
from vns_sdk.app import VNSApp
from vns_sdk.context import CallContext
from vns_sdk.exceptions import InvalidToolSignature, StateStoreError
from vns_sdk.models import CallEndRequest
from vns_sdk.state import MemoryCallStateStore
from vns_sdk.state.base import CallSnapshot


def report(guid: str = SEED_GUID, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = spec("call_end_request") | {"sessionGuid": guid} | fields
    return body


async def test_seed_call_end_runs_handlers_with_state_and_report(make_app: AppFactory) -> None:
    app = make_app()
    seen: list[tuple[str, Any]] = []

    @app.on_call_end
    async def record(call: CallContext, report: CallEndRequest) -> None:
        seen.append(("both", (call.session_guid, call.state.to_dict(), report.caller_id_name, call.report is report)))

    @app.on_call_end
    def only_report(end: CallEndRequest) -> None:
        seen.append(("report", end.call_end.isoformat() if end.call_end else None))

    @app.on_call_end
    async def nothing() -> None:
        seen.append(("nothing", None))

    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http))
        await http.post(f"{url}/lookup_name_or_phone", json={"name": "Ron"}, headers=headers)
        response = await http.post("/vns/call-end", json=report(), headers=AUTH)
    assert response.status_code == 200
    assert response.json() == spec("call_end_response") == {"status": 0, "errorMessage": "Success"}
    assert seen == [
        ("both", (SEED_GUID, {"lookups": 1}, "Jane Doe", True)),
        ("report", "2026-03-20T02:44:45.862663+00:00"),
        ("nothing", None),
    ]
    assert await app.store.load_call(SEED_GUID) is None  # forgotten


def test_call_end_handler_signatures_are_checked(app: VNSApp) -> None:
    def untyped(x):  # type: ignore[no-untyped-def]
        return None

    async def two_reports(a: CallEndRequest, b: CallEndRequest) -> None: ...

    for handler in (untyped, two_reports):
        with pytest.raises(InvalidToolSignature):
            app.on_call_end(handler)


async def test_unknown_call_gets_a_context_from_the_report(app: VNSApp) -> None:
    seen: list[CallContext] = []

    @app.on_call_end
    def keep(call: CallContext) -> None:
        seen.append(call)

    async with client_for(app) as http:
        response = await http.post("/vns/call-end", json=spec("call_end_request"), headers=AUTH)
    assert response.json() == {"status": 0, "errorMessage": "Success"}
    call = seen[0]
    assert (call.session_guid, call.customer_call_id, call.caller_id) == (
        "164ff386-b1b4-4521-97e4-440ca6b3b5c8",
        "CallId-001",
        "7205551212",
    )
    assert dict(call.state) == {}
    assert call.report is not None and call.report.status == 0


async def test_retried_call_end_runs_handlers_once(app: VNSApp, caplog: pytest.LogCaptureFixture) -> None:
    runs: list[str] = []

    @app.on_call_end
    def count(call: CallContext) -> None:
        runs.append(call.session_guid)

    caplog.set_level(logging.INFO, logger="vns_sdk.app")
    async with client_for(app) as http:
        await start_call(http)
        answers = [(await http.post("/vns/call-end", json=report(), headers=AUTH)).json() for _ in range(3)]
    assert runs == [SEED_GUID]
    assert answers == [{"status": 0, "errorMessage": "Success"}] * 3
    outcomes = [
        getattr(record, "vns_outcome", None)
        for record in caplog.records
        if record.getMessage().startswith("webhook call-end")
    ]
    assert outcomes == ["ok", "duplicate", "duplicate"]


async def test_a_call_end_that_waits_too_long_for_the_state_still_ends_the_call(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Another worker's handler holds the call's state (its lease outlives this app's longest tool timeout):
    # CallEnd waits for that long, runs its handlers without the state, and still records the end, so the
    # call's tools are refused from then on, that handler's late save too, and a repeat is a duplicate.
    app = make_app(tool_timeout=0.2)
    ended_with: list[tuple[dict[str, Any], bool]] = []

    @app.on_call_end
    def record(call: CallContext) -> None:
        ended_with.append((call.state.to_dict(), call.state_available))

    caplog.set_level(logging.INFO, logger="vns_sdk.app")
    async with client_for(app) as http:
        url, headers = tools_base(await start_call(http))
        held = await app.store.acquire_call(SEED_GUID, lease_seconds=60, wait_seconds=0)
        assert held.lease is not None
        assert (await http.post("/vns/call-end", json=report(), headers=AUTH)).json()["status"] == 0
        late = await http.post(f"{url}/lookup_name_or_phone", json={"name": "Ron"}, headers=headers)
        assert (await http.post("/vns/call-end", json=report(), headers=AUTH)).json()["status"] == 0
    assert ended_with == [({}, False)]
    assert late.status_code == 410
    assert await app.store.save_call(held.lease, {"late": "1"}, [], 60) is False
    lines = [record for record in caplog.records if record.getMessage().startswith("webhook call-end")]
    outcomes = [getattr(record, "vns_outcome", None) for record in lines]
    assert outcomes == ["state_unavailable", "duplicate"]


class EndingFails(MemoryCallStateStore):
    """A store whose CallEnd step keeps failing while its claims still answer."""

    async def end_call(self, session_guid: str, **kwargs: Any) -> CallSnapshot:
        raise StateStoreError("the store cannot end calls just now")


async def test_a_call_end_whose_store_step_fails_still_recognizes_a_repeat(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    store = EndingFails()
    app = make_app(tool_timeout=0.2, state_store=store)
    runs: list[str] = []

    @app.on_call_end
    def count(call: CallContext) -> None:
        runs.append(call.session_guid)

    caplog.set_level(logging.INFO, logger="vns_sdk.app")
    async with client_for(app) as http:
        await start_call(http)
        assert await store.claim_call_end(SEED_GUID, 60, claimant="an earlier delivery") is True
        answer = (await http.post("/vns/call-end", json=report(), headers=AUTH)).json()
    assert answer == {"status": 0, "errorMessage": "Success"}
    assert runs == []  # the earlier delivery ran them: its claim is on record
    outcomes = [getattr(r, "vns_outcome", None) for r in caplog.records if r.getMessage().startswith("webhook")]
    assert outcomes[-1] == "duplicate"


async def test_failing_handler_answers_status_1_and_is_not_rerun(app: VNSApp, caplog: pytest.LogCaptureFixture) -> None:
    runs: list[str] = []

    @app.on_call_end
    def fails(call: CallContext) -> None:
        runs.append("fails")
        raise RuntimeError("warehouse unreachable at db://user:pw@host")

    @app.on_call_end
    def still_runs(call: CallContext) -> None:
        runs.append("still_runs")

    async with client_for(app) as http:
        await start_call(http)
        first = await http.post("/vns/call-end", json=report(), headers=AUTH)
        retry = await http.post("/vns/call-end", json=report(), headers=AUTH)
    assert first.status_code == 200
    assert first.json() == {"status": 1, "errorMessage": "A CallEnd handler failed."}
    assert "warehouse" not in first.text
    assert retry.json() == {"status": 0, "errorMessage": "Success"}
    assert runs == ["fails", "still_runs"]
    assert any("fails failed" in record.getMessage() and record.exc_info for record in caplog.records)


async def test_call_end_bad_input(client: Any) -> None:
    missing_guid = await client.post("/vns/call-end", json={"status": 0}, headers=AUTH)
    bad_type = await client.post("/vns/call-end", json=report(status="done"), headers=AUTH)
    assert missing_guid.status_code == 422
    assert missing_guid.json()["problems"] == [{"field": "sessionGuid", "problem": "Field required"}]
    assert bad_type.status_code == 422
    assert bad_type.json()["problems"][0]["field"] == "status"
    assert "pydantic" not in bad_type.text and "done" not in bad_type.text
