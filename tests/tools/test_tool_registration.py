"""Registering tools: the decorator forms, the router API, and the errors that say what to change."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from vns_sdk.context import CallContext
from vns_sdk.exceptions import InvalidToolSignature
from vns_sdk.models import FunctionTool
from vns_sdk.state.base import CallState
from vns_sdk.tools import Tool, ToolRouter


def greet(name: str) -> str:
    """Greets someone.

    Args:
        name: Who to greet.
    """
    return f"Hello {name}"


class Node(BaseModel):
    value: int
    children: list[Node] = []


def test_bare_decorator_registers_and_returns_the_function_unchanged() -> None:
    router = ToolRouter()

    @router.tool
    def hours(day: str) -> str:
        """Opening hours."""
        return "9-5"

    assert hours("monday") == "9-5"
    assert router.get("hours") is not None
    assert router.tools["hours"].fn is hours


def test_decorator_with_options() -> None:
    router = ToolRouter()

    @router.tool(name="opening-hours", description="Tells the opening hours.", timeout=2.5)
    async def hours(day: str) -> str:
        return "9-5"

    tool = router.tools["opening-hours"]
    assert (tool.name, tool.description, tool.timeout, tool.fn) == (
        "opening-hours",
        "Tells the opening hours.",
        2.5,
        hours,
    )
    assert "hours" not in router


def test_empty_parentheses_work_too() -> None:
    router = ToolRouter()
    decorated = router.tool()(greet)
    assert decorated is greet
    assert "greet" in router


def test_name_given_positionally_is_refused_with_the_fix() -> None:
    router = ToolRouter()
    with pytest.raises(InvalidToolSignature, match=r"@tool\('lookup'\) passes the name.*@tool\(name='lookup'\)"):
        router.tool("lookup")  # type: ignore[call-overload]
    with pytest.raises(InvalidToolSignature, match=r"write @tool\(name='lookup'\)"):
        router.add_tool("lookup")  # type: ignore[arg-type]


def test_add_tool_and_the_router_api() -> None:
    router = ToolRouter()
    tool = router.add_tool(greet, timeout=1)
    assert isinstance(tool, Tool)
    assert router.get("greet") is tool
    assert "greet" in router and "nope" not in router
    assert len(router) == 1
    assert list(router) == [tool]
    assert repr(router) == "ToolRouter(['greet'])"
    with pytest.raises(TypeError):
        router.tools["x"] = tool  # type: ignore[index]
    assert router.remove("greet") is tool
    assert len(router) == 0
    with pytest.raises(KeyError):
        router.remove("greet")


def test_tools_keep_registration_order_and_become_function_tools() -> None:
    def b() -> None:
        """B."""

    def a() -> None:
        """A."""

    router = ToolRouter([b, a])
    assert list(router.tools) == ["b", "a"]
    function_tools = router.function_tools()
    assert all(isinstance(t, FunctionTool) for t in function_tools)
    assert [(t.name, t.description, t.parameters) for t in function_tools] == [
        ("b", "B.", {"type": "object", "properties": {}}),
        ("a", "A.", {"type": "object", "properties": {}}),
    ]


def test_add_a_ready_tool_with_overrides() -> None:
    tool = Tool.from_function(greet)
    router = ToolRouter()
    renamed = router.add_tool(tool, name="say_hello", description="Says hello.", timeout=3)
    assert (renamed.name, renamed.description, renamed.timeout) == ("say_hello", "Says hello.", 3)
    assert renamed.parameters == tool.parameters
    assert router.add_tool(tool) is tool


def test_include_router_copies_the_tools() -> None:
    crm, app = ToolRouter(), ToolRouter()
    crm.add_tool(greet)
    app.include_router(crm)
    assert app.get("greet") is crm.get("greet")

    @crm.tool
    def later() -> None:
        """Added after the include."""

    assert "later" not in app


def test_duplicate_names_are_refused() -> None:
    router = ToolRouter([greet])
    with pytest.raises(InvalidToolSignature, match=r"already registered \(from .*greet\).*name='\.\.\.'"):
        router.add_tool(greet)
    other = ToolRouter([greet])
    with pytest.raises(InvalidToolSignature, match="'greet' is already registered"):
        router.include_router(other)


@pytest.mark.parametrize("name", ["has space", "a" * 65, "", "café", "dot.ted"])
def test_names_the_realtime_api_refuses(name: str) -> None:
    with pytest.raises(InvalidToolSignature, match="1 to 64 letters, digits, underscores or hyphens"):
        ToolRouter().add_tool(greet, name=name)


def test_longest_name_is_accepted() -> None:
    assert ToolRouter().add_tool(greet, name="a" * 64).name == "a" * 64


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan"), True, "5"])
def test_bad_timeouts(timeout: Any) -> None:
    with pytest.raises(InvalidToolSignature, match="timeout must be a positive number of seconds"):
        ToolRouter().add_tool(greet, timeout=timeout)


def _raises(fn: Callable[..., Any], pattern: str, **options: Any) -> None:
    with pytest.raises(InvalidToolSignature, match=pattern):
        ToolRouter().add_tool(fn, **options)


def test_var_positional_is_refused() -> None:
    def f(*names: str) -> None: ...

    _raises(f, r"Tool 'f': \*names is not allowed.*Declare each argument as its own parameter")


def test_var_keyword_is_refused() -> None:
    def f(**options: str) -> None: ...

    _raises(f, r"\*\*options is not allowed: the schema must list every argument")


def test_unannotated_parameter_is_refused() -> None:
    def f(city, days: int = 1) -> None:  # type: ignore[no-untyped-def]
        ...

    _raises(f, r"parameter 'city' has no type annotation; annotate it \(for example `city: str`\)")


def test_two_context_parameters_are_refused() -> None:
    def f(a: CallContext, b: CallContext) -> None: ...

    _raises(f, "parameters 'a' and 'b' both ask for the CallContext; keep one")


def test_positional_only_context_is_refused() -> None:
    def f(call: CallContext, /) -> None: ...

    _raises(f, "the CallContext parameter 'call' cannot be positional-only")


def test_recursive_types_are_refused() -> None:
    def f(tree: Node) -> None: ...

    _raises(f, "the type 'Node' refers to itself.*no \\$ref")


def test_types_pydantic_cannot_validate_are_refused() -> None:
    def f(state: CallState) -> None: ...

    _raises(f, "parameter 'state' has a type that cannot be validated.*Use JSON-friendly types")


def test_unresolvable_annotation_names_the_fix() -> None:
    def f(x: Missing) -> None:  # type: ignore[name-defined]  # noqa: F821
        ...

    _raises(f, "cannot resolve the annotation 'Missing' of parameter 'x'.*not under `if TYPE_CHECKING:`")


def test_context_imported_only_for_type_checking_still_works() -> None:
    # With `if TYPE_CHECKING: from vns_sdk import CallContext`, the annotation cannot be evaluated.
    def f(call: vns.CallContext, x: int) -> None:  # type: ignore[name-defined]  # noqa: F821
        ...

    tool = ToolRouter().add_tool(f)
    assert tool.metadata.context_param == "call"
    assert list(tool.parameters["properties"]) == ["x"]


def test_classes_generators_and_non_callables_are_refused() -> None:
    class Lookup:
        def __init__(self, name: str) -> None: ...

    _raises(Lookup, "is a class; register a function")

    def gen(x: int) -> Any:
        yield x

    _raises(gen, "the function yields; a tool must return its result")

    async def agen(x: int) -> Any:
        yield x

    _raises(agen, "the function yields")
    _raises(42, "is not callable", name="answer")  # type: ignore[arg-type]


def test_lambdas_and_partials_need_a_name() -> None:
    _raises(lambda x: x, "has no usable name; pass name='...'")
    _raises(functools.partial(greet, name="Ron"), "has no usable name")
    tool = ToolRouter().add_tool(functools.partial(greet), name="greet_partial")
    assert tool.parameters["required"] == ["name"]


def test_wrapped_functions_keep_their_signature() -> None:
    def logged(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return wrapper

    tool = ToolRouter().add_tool(logged(greet))
    assert tool.name == "greet"
    assert tool.parameters["properties"] == {"name": {"type": "string", "description": "Who to greet."}}


def test_callable_objects_are_tools() -> None:
    class Counter:
        """Counts."""

        async def __call__(self, step: int = 1) -> int:
            return step

    tool = ToolRouter().add_tool(Counter(), name="count")
    assert tool.metadata.is_async
    assert tool.parameters == {"type": "object", "properties": {"step": {"type": "integer", "default": 1}}}


def test_callables_without_a_signature_are_refused() -> None:
    _raises(max, "Tool 'max': cannot read the signature of <built-in function max>")


def test_local_classes_in_postponed_annotations_are_found() -> None:
    class Booking(BaseModel):
        day: str

    def book(booking: Booking) -> None:
        """Books."""

    tool = ToolRouter().add_tool(book)
    assert tool.parameters["properties"]["booking"]["properties"] == {"day": {"type": "string"}}


class Reading(BaseModel):
    meter: str
    value: float


class MeterBook:
    """Records a meter reading."""

    def __call__(self, reading: Reading, call: CallContext) -> dict[str, str]:
        return {"meter": reading.meter}


def test_callable_objects_resolve_postponed_annotations_in_their_class_module() -> None:
    tool = ToolRouter().add_tool(MeterBook(), name="record_reading")
    assert tool.metadata.context_param == "call"
    assert tool.parameters["properties"]["reading"]["properties"] == {
        "meter": {"type": "string"},
        "value": {"type": "number"},
    }
