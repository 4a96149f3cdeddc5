"""What the model hears: invoking tools through `invoke_tool`, every outcome, sync and async."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from vns_sdk.context import CallContext
from vns_sdk.exceptions import ToolError
from vns_sdk.tools import ToolArgumentsError, ToolReply, ToolRouter, invoke_tool


class Line(BaseModel):
    sku: str
    quantity: Annotated[int, Field(ge=1)] = 1


class Address(BaseModel):
    street: str
    zip_code: Annotated[str, Field(alias="zipCode", pattern=r"^\d{5}$")]


router = ToolRouter()


@router.tool
async def lookup(
    call: CallContext,
    name: str | None = None,
    phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,
) -> dict[str, Any]:
    """Looks up a person."""
    return {"name": name, "phoneNumber": phone_number, "caller": call.caller_id}


@router.tool
def order(lines: list[Line], address: Address, note: str = "", tags: dict[str, str] | None = None) -> dict[str, Any]:
    """Places an order."""
    return {
        "lines": [line.model_dump() for line in lines],
        "zip": address.zip_code,
        "note": note,
        "tags": tags,
        "thread": threading.current_thread() is not threading.main_thread(),
    }


@router.tool
def count(n: int) -> int:
    """Counts."""
    return n


@router.tool
async def whoami(call: CallContext, shout: bool = False) -> dict[str, Any]:
    """Tells what the tool sees of the call."""
    call.state["seen"] = True
    return {"tool": call.tool_name, "time_left": call.time_left, "guid": call.session_guid}


@router.tool
def fails_politely() -> None:
    """Fails with a message for the model."""
    raise ToolError("There is no appointment free on that day. Offer the caller another day.")


@router.tool
async def crashes() -> None:
    """Crashes with a secret in the message."""
    raise RuntimeError("db password=hunter2 rejected")


@router.tool
async def own_timeout() -> None:
    """Its own I/O times out, well before the tool's deadline."""
    raise TimeoutError("upstream read timed out")


def positional(first: str, /, second: int = 2) -> str:
    """Positional-only parameters."""
    return f"{first}-{second}"


router.add_tool(positional)


def call_context() -> CallContext:
    return CallContext(session_guid="guid-1", customer_call_id="ccid", caller_id="3035551212")


async def invoke(name: str, arguments: Any, call: CallContext | None = None, **options: Any) -> ToolReply:
    return await invoke_tool(router, name, arguments, call or call_context(), **options)


def cancelling() -> int:
    """Pending cancellation requests of the current task (Python 3.11+ counts them)."""
    count = getattr(asyncio.current_task(), "cancelling", lambda: 0)()
    assert isinstance(count, int)
    return count


def assert_spoken_friendly(body: dict[str, Any]) -> None:
    text = json.dumps(body)
    assert "pydantic" not in text.lower()
    assert "http" not in text
    assert "Traceback" not in text
    assert set(body) >= {"error", "message"}


# --- success -----------------------------------------------------------------------------------------


async def test_async_tool_gets_the_call_and_its_arguments_by_wire_name() -> None:
    reply = await invoke("lookup", {"phoneNumber": "+13035551212"})
    assert reply == ToolReply({"name": None, "phoneNumber": "+13035551212", "caller": "3035551212"}, "ok")
    assert reply.ok


async def test_python_names_are_accepted_too() -> None:
    reply = await invoke("lookup", {"phone_number": "+1"})
    assert reply.body["phoneNumber"] == "+1"


async def test_sync_tool_runs_in_a_worker_thread() -> None:
    reply = await invoke("order", {"lines": [{"sku": "A1"}], "address": {"street": "1 Main", "zipCode": "80202"}})
    assert reply.outcome == "ok"
    assert reply.body == {
        "lines": [{"sku": "A1", "quantity": 1}],
        "zip": "80202",
        "note": "",
        "tags": None,
        "thread": True,
    }


async def test_non_dict_result_is_wrapped() -> None:
    assert (await invoke("count", {"n": "7"})).body == {"result": 7}


async def test_tool_name_deadline_and_state_reach_the_tool() -> None:
    call = call_context()
    reply = await invoke("whoami", {}, call, default_timeout=30)
    assert reply.body["tool"] == "whoami"
    assert reply.body["guid"] == "guid-1"
    assert 0 < reply.body["time_left"] <= 30
    assert call.tool_name == "whoami"
    assert call.deadline is not None
    assert call.state["seen"] is True


async def test_no_default_timeout_means_no_deadline() -> None:
    call = call_context()
    reply = await invoke("whoami", {}, call, default_timeout=None)
    assert reply.body["time_left"] is None
    assert call.deadline is None


async def test_per_tool_timeout_wins_over_the_default() -> None:
    local = ToolRouter()

    @local.tool(timeout=5)
    async def left(call: CallContext) -> float | None:
        return call.time_left

    reply = await invoke_tool(local, "left", {}, call_context(), default_timeout=1000)
    assert 0 < reply.body["result"] <= 5


async def test_positional_only_parameters_are_passed_positionally() -> None:
    assert (await invoke("positional", {"first": "a"})).body == {"result": "a-2"}


async def test_unknown_arguments_are_ignored() -> None:
    assert (await invoke("count", {"n": 1, "unexpected": True})).body == {"result": 1}


async def test_sync_function_returning_an_awaitable_is_awaited() -> None:
    async def later(x: int) -> int:
        return x * 2

    def double(x: int) -> Awaitable[int]:
        return later(x)

    local = ToolRouter([double])
    assert not local.tools["double"].metadata.is_async
    assert (await invoke_tool(local, "double", {"x": 2}, call_context())).body == {"result": 4}


async def test_run_is_the_raw_call() -> None:
    tool = router.tools["count"]
    assert await tool.run({"n": "3"}) == 3
    with pytest.raises(ToolArgumentsError) as caught:
        await tool.run({"n": "three"})
    assert caught.value.problems == [{"argument": "n", "problem": "must be a whole number"}]
    assert caught.value.tool_name == "count"
    assert "Invalid arguments for tool 'count': n must be a whole number" in str(caught.value)


# --- JSON-string arguments ---------------------------------------------------------------------------


async def test_objects_and_lists_sent_as_json_text_are_parsed() -> None:
    reply = await invoke(
        "order",
        {
            "lines": '[{"sku": "A1", "quantity": 2}]',
            "address": '{"street": "1 Main", "zipCode": "80202"}',
            "tags": '{"gift": "yes"}',
            "note": '{"kept": "as text"}',
        },
    )
    assert reply.outcome == "ok"
    assert reply.body["lines"] == [{"sku": "A1", "quantity": 2}]
    assert reply.body["zip"] == "80202"
    assert reply.body["tags"] == {"gift": "yes"}
    assert reply.body["note"] == '{"kept": "as text"}'  # a text parameter keeps its text


async def test_json_text_that_is_not_an_object_is_an_argument_error() -> None:
    reply = await invoke("order", {"lines": "[oops", "address": '"a string"'})
    assert reply.outcome == "invalid_arguments"
    assert reply.body["problems"] == [
        {"argument": "lines", "problem": "must be a list"},
        {"argument": "address", "problem": "must be an object"},
    ]


# --- invalid arguments -------------------------------------------------------------------------------


async def test_missing_argument_is_named_by_its_wire_name() -> None:
    local = ToolRouter()

    @local.tool
    def find(phone_number: Annotated[str, Field(alias="phoneNumber")]) -> None:
        """Finds."""

    reply = await invoke_tool(local, "find", {}, call_context())
    assert reply.outcome == "invalid_arguments"
    assert reply.body == {
        "error": "invalid_arguments",
        "message": "The arguments for find were not valid: phoneNumber is required but was not given. Ask the "
        "caller again for what is missing or wrong, or correct the arguments, then call find again.",
        "problems": [{"argument": "phoneNumber", "problem": "is required but was not given"}],
    }


async def test_nested_problems_have_a_path() -> None:
    reply = await invoke(
        "order",
        {"lines": [{"sku": "A1"}, {"sku": "B2", "quantity": 0}], "address": {"street": "1 Main", "zipCode": "8020"}},
    )
    assert reply.outcome == "invalid_arguments"
    assert reply.body["problems"] == [
        {"argument": "lines[1].quantity", "problem": "should be greater than or equal to 1"},
        {"argument": "address.zipCode", "problem": "should match pattern '^\\d{5}$'"},
    ]
    assert_spoken_friendly(reply.body)


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"n": "seven"}, "must be a whole number"),
        ({"n": 1.5}, "must be a whole number"),
        ({"n": [1]}, "must be a whole number"),
        ({}, "is required but was not given"),
    ],
)
async def test_wrong_types_in_plain_words(arguments: dict[str, Any], problem: str) -> None:
    reply = await invoke("count", arguments)
    assert reply.body["problems"] == [{"argument": "n", "problem": problem}]
    assert_spoken_friendly(reply.body)


async def test_huge_values_are_not_echoed() -> None:
    reply = await invoke("count", {"n": "9" * 5000 + "x"})
    assert reply.outcome == "invalid_arguments"
    assert len(json.dumps(reply.body)) < 500


@pytest.mark.parametrize("tool", ["count", "order"])
@pytest.mark.parametrize("arguments", [["n", 1], None, "n=1"])
async def test_arguments_that_are_not_an_object(tool: str, arguments: Any) -> None:
    reply = await invoke(tool, arguments)
    assert reply.body["problems"] == [{"argument": "arguments", "problem": "must be an object"}]


async def test_many_problems_are_capped() -> None:
    local = ToolRouter()

    @local.tool
    def many(a: int, b: int, c: int, d: int, e: int, f: int, g: int, h: int, i: int, j: int, k: int, m: int) -> None:
        """Many."""

    reply = await invoke_tool(local, "many", {}, call_context())
    assert len(reply.body["problems"]) == 10


async def test_validator_messages_are_passed_without_prefix() -> None:
    from pydantic import field_validator

    class Booking(BaseModel):
        day: str

        @field_validator("day")
        @classmethod
        def weekday(cls, value: str) -> str:
            if value.lower() in {"saturday", "sunday"}:
                raise ValueError("we are closed at weekends, offer a weekday")
            return value

    local = ToolRouter()

    @local.tool
    def book(booking: Booking) -> None:
        """Books."""

    reply = await invoke_tool(local, "book", {"booking": {"day": "Sunday"}}, call_context())
    assert reply.body["problems"] == [
        {"argument": "booking.day", "problem": "we are closed at weekends, offer a weekday"}
    ]


# --- failures ----------------------------------------------------------------------------------------


async def test_tool_error_message_is_passed_exactly() -> None:
    reply = await invoke("fails_politely", {})
    assert reply == ToolReply(
        {
            "error": "tool_error",
            "message": "There is no appointment free on that day. Offer the caller another day.",
        },
        "tool_error",
    )


async def test_other_exceptions_are_generic_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="vns_sdk.tools"):
        reply = await invoke("crashes", {})
    assert reply.outcome == "error"
    assert reply.body == {
        "error": "error",
        "message": "The tool crashes failed because of a problem on our side. Tell the caller it did not work "
        "this time, and offer to try again or to help another way.",
    }
    assert "hunter2" not in json.dumps(reply.body)
    [record] = [r for r in caplog.records if r.name == "vns_sdk.tools"]
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])
    assert "crashes" in record.getMessage() and "guid-1" in record.getMessage()


async def test_a_tools_own_timeout_error_is_a_failure_not_a_timeout(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="vns_sdk.tools"):
        reply = await invoke("own_timeout", {}, default_timeout=60)
    assert reply.outcome == "error"
    assert "upstream" not in json.dumps(reply.body)


async def test_unknown_tool_lists_the_tools_that_exist() -> None:
    local = ToolRouter([count])
    call = call_context()
    reply = await invoke_tool(local, "cuont", {"n": 1}, call)
    assert reply == ToolReply(
        {
            "error": "unknown_tool",
            "message": "There is no tool named 'cuont'. The tools you can call are: count.",
            "available_tools": ["count"],
        },
        "unknown_tool",
    )
    assert call.tool_name == "cuont"
    empty = await invoke_tool(ToolRouter(), "x" * 1000, {}, call)
    assert empty.body["available_tools"] == []
    assert empty.body["message"] == f"There is no tool named '{'x' * 61}...'. The tools you can call are: none."


async def test_a_result_that_cannot_be_json_is_an_error(caplog: pytest.LogCaptureFixture) -> None:
    local = ToolRouter()

    @local.tool
    def opaque() -> object:
        """Returns something JSON cannot hold."""
        return object()

    with caplog.at_level(logging.ERROR, logger="vns_sdk.tools"):
        reply = await invoke_tool(local, "opaque", {}, call_context())
    assert reply.outcome == "error"
    assert any("opaque" in r.getMessage() for r in caplog.records)


# --- timeouts ----------------------------------------------------------------------------------------


async def test_async_tool_past_its_timeout_is_cancelled() -> None:
    local = ToolRouter()
    seen: list[str] = []

    @local.tool(timeout=0.05)
    async def slow() -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return "never"

    reply = await invoke_tool(local, "slow", {}, call_context())
    assert reply == ToolReply(
        {
            "error": "timeout",
            "message": "The tool slow took too long to answer and was stopped. Tell the caller it is taking longer "
            "than expected, and offer to try again.",
        },
        "timeout",
    )
    assert seen == ["cancelled"]


async def test_default_timeout_applies_to_tools_without_their_own() -> None:
    local = ToolRouter()

    @local.tool
    async def slow() -> None:
        await asyncio.Event().wait()

    reply = await invoke_tool(local, "slow", {}, call_context(), default_timeout=0.05)
    assert reply.outcome == "timeout"


async def test_sync_tool_past_its_timeout_is_answered_on_time() -> None:
    # The worker thread cannot be stopped: the model hears the timeout, the thread finishes later.
    release, done = threading.Event(), threading.Event()
    local = ToolRouter()

    @local.tool(timeout=0.05)
    def blocking() -> str:
        release.wait(10)
        done.set()
        return "late"

    reply = await invoke_tool(local, "blocking", {}, call_context())
    assert reply.outcome == "timeout"
    assert not done.is_set()
    release.set()
    assert await asyncio.to_thread(done.wait, 10)


async def test_long_problem_texts_are_shortened() -> None:
    from pydantic import field_validator

    class Code(BaseModel):
        value: str

        @field_validator("value")
        @classmethod
        def check(cls, value: str) -> str:
            raise ValueError("no " * 200)

    local = ToolRouter()

    @local.tool
    def redeem(code: Code) -> None:
        """Redeems."""

    reply = await invoke_tool(local, "redeem", {"code": {"value": "x"}}, call_context())
    [problem] = reply.body["problems"]
    assert len(problem["problem"]) == 200
    assert problem["problem"].endswith("...")


async def test_a_short_timeout_fires_while_a_longer_call_runs() -> None:
    local = ToolRouter()
    release = asyncio.Event()

    @local.tool(timeout=30)
    async def patient() -> str:
        await release.wait()
        return "done"

    @local.tool(timeout=0.05)
    async def hasty() -> str:
        await asyncio.Event().wait()
        return "never"

    long_call = asyncio.ensure_future(invoke_tool(local, "patient", {}, call_context()))
    await asyncio.sleep(0)
    assert (await invoke_tool(local, "hasty", {}, call_context())).outcome == "timeout"
    assert (await invoke_tool(local, "hasty", {}, call_context())).outcome == "timeout"
    assert not long_call.done()
    release.set()
    assert (await long_call).body == {"result": "done"}


async def test_cancellation_from_outside_is_not_a_timeout() -> None:
    # The client went away: the request's task is cancelled, and that must propagate.
    local = ToolRouter()
    started = asyncio.Event()

    @local.tool(timeout=30)
    async def waits() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.ensure_future(invoke_tool(local, "waits", {}, call_context()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_outer_timeout_still_works_around_a_tool_call() -> None:
    local = ToolRouter()

    @local.tool(timeout=30)
    async def waits() -> None:
        await asyncio.Event().wait()

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(invoke_tool(local, "waits", {}, call_context()), 0.05)


async def test_a_tool_that_swallows_the_cancellation_keeps_its_result() -> None:
    local = ToolRouter()

    @local.tool(timeout=0.05)
    async def stubborn() -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return "partial answer"
        return "never"

    reply = await invoke_tool(local, "stubborn", {}, call_context())
    assert reply.body == {"result": "partial answer"}
    assert cancelling() == 0
    # The task is usable afterwards: a later await is not cancelled.
    await asyncio.sleep(0)


class Cat(BaseModel):
    kind: Literal["cat"] = "cat"
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"] = "dog"
    good: bool


async def test_union_problems_name_the_argument_not_pydantics_member_tags() -> None:
    local = ToolRouter()

    @local.tool
    def adopt(
        value: int | str,
        pet: Annotated[Cat | Dog, Field(discriminator="kind")],
        scores: dict[str, list[int]] | None = None,
        cats: list[Cat] | None = ...,
    ) -> None:
        """Adopts."""

    arguments = {
        "value": [1],
        "pet": {"kind": "cat", "lives": "many"},
        "scores": {"math": [1, "x"]},
        "cats": [{"lives": "nine"}],
    }
    reply = await invoke_tool(local, "adopt", arguments, call_context())
    assert reply.body["problems"] == [
        {"argument": "value", "problem": "must be a whole number or must be text"},
        {"argument": "pet.lives", "problem": "must be a whole number"},
        {"argument": "scores.math[1]", "problem": "must be a whole number"},
        {"argument": "cats[0].lives", "problem": "must be a whole number"},
    ]


# --- tools that finish without waiting, and tools that wait -------------------------------------------


async def test_a_tool_that_never_waits_keeps_its_result_even_past_its_timeout() -> None:
    # Nothing can interrupt a coroutine that never suspends (asyncio.timeout behaves the same way).
    local = ToolRouter()

    @local.tool(timeout=0.01)
    async def busy(call: CallContext) -> str:
        while call.time_left:  # works without waiting until past its deadline
            pass
        return "done"

    reply = await invoke_tool(local, "busy", {}, call_context())
    assert reply == ToolReply({"result": "done"})
    assert cancelling() == 0


async def test_a_tool_that_waits_after_its_deadline_is_cancelled() -> None:
    local = ToolRouter()
    seen: list[str] = []

    @local.tool(timeout=0.01)
    async def late(call: CallContext) -> str:
        while call.time_left:  # past its deadline before its first wait
            pass
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return "never"

    reply = await invoke_tool(local, "late", {}, call_context())
    assert reply.outcome == "timeout"
    assert seen == ["cancelled"]
    assert cancelling() == 0


async def test_a_tool_that_waits_several_times_gets_every_value_back() -> None:
    local = ToolRouter()
    loop = asyncio.get_running_loop()

    async def later(value: int) -> int:
        future: asyncio.Future[int] = loop.create_future()
        loop.call_soon(future.set_result, value)
        return await future

    @local.tool(timeout=30)
    async def adds(a: int, b: int) -> int:
        first = await later(a)
        await asyncio.sleep(0)
        return first + await later(b)

    @local.tool(timeout=30)
    async def refuses() -> None:
        await asyncio.sleep(0)
        raise ToolError("Nothing to refund.")

    @local.tool(timeout=30)
    async def breaks() -> None:
        await later(1)
        raise RuntimeError("boom")

    assert (await invoke_tool(local, "adds", {"a": 2, "b": 3}, call_context())).body == {"result": 5}
    refused = await invoke_tool(local, "refuses", {}, call_context())
    assert refused.outcome == "tool_error" and refused.body["message"] == "Nothing to refund."
    assert (await invoke_tool(local, "breaks", {}, call_context())).outcome == "error"


async def test_an_exception_thrown_into_a_waiting_tool_reaches_it() -> None:
    local = ToolRouter()
    seen: list[str] = []
    started = asyncio.Event()

    @local.tool(timeout=30)
    async def cleans_up() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            seen.append("cleaned up")

    task = asyncio.ensure_future(invoke_tool(local, "cleans_up", {}, call_context()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cleaned up"]


async def test_closing_a_waiting_tool_call_closes_the_tool() -> None:
    local = ToolRouter()
    seen: list[str] = []

    @local.tool(timeout=30)
    async def waits() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            seen.append("closed")

    # Step the call by hand, as an event loop would, until the tool waits; then drop it.
    running = invoke_tool(local, "waits", {}, call_context())
    waited_on = running.send(None)
    assert isinstance(waited_on, asyncio.Future)
    running.close()
    assert seen == ["closed"]
    waited_on.cancel()
