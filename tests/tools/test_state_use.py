"""Which tools use call.state: read from the function once, at registration, and overridable."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from vns_sdk import CallContext, Tool, ToolRouter
from vns_sdk.exceptions import InvalidToolSignature


def helper(call: CallContext) -> None:
    call.state["touched"] = True


async def no_context(name: str) -> dict[str, Any]:
    """Looks a name up."""
    return {"name": name}


async def reads_attributes(call: CallContext, name: str) -> dict[str, Any]:
    """Reads what the call is, never its state."""
    if call.time_left is not None and call.caller_id:
        call.refuse  # noqa: B018 - an attribute read all the same
    return {"caller": call.caller_id, "guid": call.session_guid, "name": name}


async def reads_state(call: CallContext) -> dict[str, Any]:
    """Reads the state."""
    return {"cart": call.state.get("cart", [])}


async def writes_state(call: CallContext, item: str) -> dict[str, Any]:
    """Adds to the cart."""
    call.state.setdefault("cart", []).append(item)
    return {}


async def passes_the_context_on(call: CallContext) -> dict[str, Any]:
    """Hands the call to a helper, which may do anything with it."""
    helper(call)
    return {}


async def aliases_it(call: CallContext) -> dict[str, Any]:
    """Keeps the call under another name."""
    other = call
    return {"caller": other.caller_id}


async def uses_it_in_a_closure(call: CallContext) -> dict[str, Any]:
    """Reads the state in a nested function."""

    def cart() -> Any:
        return call.state["cart"]

    return {"cart": cart()}


async def only_attributes_in_a_closure(call: CallContext) -> dict[str, Any]:
    """Reads an attribute in a nested function."""
    return {"caller": (lambda: call.caller_id)()}


async def looks_through_locals(call: CallContext) -> dict[str, Any]:
    """Reaches its parameters through locals()."""
    return {"n": len(locals())}


async def reads_a_private_attribute(call: CallContext) -> dict[str, Any]:
    """Reads the object's own dict."""
    return {"keys": list(call.__dict__)}


async def sets_an_attribute(call: CallContext) -> dict[str, Any]:
    """Changes the call."""
    call.max_seconds = 60
    return {}


class CallableTool:
    async def __call__(self, call: CallContext) -> dict[str, Any]:
        """Answers with the caller."""
        return {"caller": call.caller_id}


class Methods:
    async def lookup(self, call: CallContext) -> dict[str, Any]:
        """Answers with the caller."""
        return {"caller": call.caller_id}


def logged(fn: Any) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await fn(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (no_context, False),
        (reads_attributes, False),
        (only_attributes_in_a_closure, False),
        (CallableTool(), False),
        (Methods().lookup, False),
        (reads_state, True),
        (writes_state, True),
        (passes_the_context_on, True),
        (aliases_it, True),
        (uses_it_in_a_closure, True),
        (looks_through_locals, True),
        (reads_a_private_attribute, True),
        (sets_an_attribute, True),
        (logged(reads_attributes), True),  # the wrapper's code is not read: assume the worst
    ],
)
def test_whether_a_tool_uses_the_state_is_read_from_its_code(fn: Any, expected: bool) -> None:
    assert Tool.from_function(fn, name="tool").uses_state is expected


def test_a_function_without_source_uses_the_state() -> None:
    namespace: dict[str, Any] = {"CallContext": CallContext}
    exec(  # a function typed at a prompt or generated: inspect cannot find its source
        "async def generated(call: CallContext) -> dict:\n"
        "    '''Generated.'''\n"
        "    return {'caller': call.caller_id}\n",
        namespace,
    )
    assert Tool.from_function(namespace["generated"]).uses_state is True


def test_a_lambda_with_a_context_uses_the_state() -> None:
    fn: Any = lambda call, name: {"name": name}  # noqa: E731
    fn.__annotations__ = {"call": CallContext, "name": str}
    assert Tool.from_function(fn, name="lam").uses_state is True


def test_the_app_can_say_so_itself() -> None:
    router = ToolRouter()
    router.add_tool(reads_state, state=False)
    router.tool(state=True)(no_context)
    assert router.tools["reads_state"].uses_state is False
    assert router.tools["no_context"].uses_state is True
    # A ready Tool registered again keeps its own answer unless told otherwise.
    other = ToolRouter()
    other.add_tool(router.tools["reads_state"], name="renamed")
    other.add_tool(router.tools["no_context"], name="renamed_too", state=False)
    assert other.tools["renamed"].uses_state is False
    assert other.tools["renamed_too"].uses_state is False


def test_state_must_be_a_bool() -> None:
    with pytest.raises(InvalidToolSignature, match="state must be True, False or None"):
        Tool.from_function(no_context, state="yes")  # type: ignore[arg-type]
