"""CallStart and CallEnd handlers read their parameters by the rule tools use: one rule for a CallContext."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import pytest

from vns_sdk.app.handlers import call_end_handler, call_start_handler
from vns_sdk.context import CallContext
from vns_sdk.exceptions import InvalidToolSignature
from vns_sdk.models import CallEndRequest
from vns_sdk.tools import Tool

if TYPE_CHECKING:
    import vns_sdk as vns


class MyContext(CallContext):
    pass


def plain(call: CallContext) -> None: ...


def optional(call: CallContext | None) -> None: ...


def annotated(call: Annotated[CallContext, "the call"]) -> None: ...


def subclass(call: MyContext) -> None: ...


def type_checking_only(call: vns.CallContext) -> None: ...


def quoted(call: "CallContext") -> None: ...  # noqa: UP037 - quoted under postponed annotations


def keyword_only(*, call: CallContext) -> None: ...


FORMS = [plain, optional, annotated, subclass, type_checking_only, quoted, keyword_only]


@pytest.mark.parametrize("fn", FORMS, ids=[fn.__name__ for fn in FORMS])
def test_tools_and_handlers_find_the_same_context_parameter(fn: Callable[..., None]) -> None:
    assert Tool.from_function(fn, name="t").metadata.context_param == "call"
    assert call_start_handler(fn).context_param == "call"
    assert call_end_handler(fn).context_param == "call"


async def test_a_callend_handler_gets_the_report_by_the_same_rule() -> None:
    seen: list[Any] = []

    def both(report: CallEndRequest | None, call: Annotated[CallContext, "the call"]) -> None:
        seen.append((call, report))

    handler = call_end_handler(both)
    assert (handler.context_param, handler.report_param, handler.is_async) == ("call", "report", False)
    call = SimpleNamespace(report="the report")
    await handler(call)  # type: ignore[arg-type]
    assert seen == [(call, "the report")]


class AsyncCallable:
    async def __call__(self, call: CallContext) -> None: ...


def test_an_object_with_an_async_call_is_awaited() -> None:
    assert call_start_handler(AsyncCallable()).is_async


@pytest.mark.parametrize(
    ("register", "fn", "message"),
    [
        (
            call_start_handler,
            lambda a, b: None,
            "has a parameter 'a' the app cannot fill: a handler may take only a parameter annotated CallContext.",
        ),
        (call_end_handler, lambda a: None, "annotated CallContext and/or a parameter annotated CallEndRequest"),
    ],
)
def test_a_parameter_the_app_cannot_fill_is_refused(
    register: Callable[[Callable[..., Any]], Any], fn: Callable[..., Any], message: str
) -> None:
    with pytest.raises(InvalidToolSignature, match=message):
        register(fn)


def test_handlers_and_tools_refuse_the_same_mistakes_in_the_same_words() -> None:
    def twice(call: CallContext, other: CallContext | None) -> None: ...

    def positional(call: CallContext, /) -> None: ...

    for fn, words in (
        (twice, "parameters 'call' and 'other' both ask for the CallContext; keep one."),
        (positional, "the CallContext parameter 'call' cannot be positional-only."),
    ):
        with pytest.raises(InvalidToolSignature, match=rf"^Tool 't': {words}"):
            Tool.from_function(fn, name="t")
        with pytest.raises(InvalidToolSignature, match=rf"^@app.on_call_start handler '.*{fn.__name__}': {words}"):
            call_start_handler(fn)


def test_a_parameter_with_a_default_is_left_alone_and_the_report_is_refused_at_callstart() -> None:
    def defaulted(call: CallContext, verbose: bool = False) -> None: ...

    def report_at_start(report: CallEndRequest) -> None: ...

    assert call_start_handler(defaulted).context_param == "call"
    with pytest.raises(InvalidToolSignature, match="parameter 'report' the app cannot fill"):
        call_start_handler(report_at_start)


def test_a_handler_whose_signature_cannot_be_read_is_refused() -> None:
    with pytest.raises(InvalidToolSignature, match="cannot read the signature of <built-in function max>"):
        call_start_handler(max)
    with pytest.raises(InvalidToolSignature, match="expects a function, got 42"):
        call_start_handler(42)  # type: ignore[arg-type]
