"""CallStart and CallEnd handlers: what a handler may ask for, checked when it is registered.

The parameters are read as a tool's are (`vns_sdk.tools._signature`): one annotated `CallContext`
receives the call, and in a CallEnd handler one annotated `CallEndRequest` receives VNS's report.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from vns_sdk.context import CallContext
from vns_sdk.exceptions import InvalidToolSignature
from vns_sdk.tools._signature import find_injected, is_async, read_signature

__all__ = ["Handler", "call_end_handler", "call_start_handler"]


@dataclass(frozen=True)
class Handler:
    """A registered CallStart or CallEnd handler and the parameters it asked for.

    Attributes:
        fn: The function as written.
        context_param: The name of its `CallContext` parameter, if any.
        report_param: The name of its `CallEndRequest` parameter, if any (CallEnd handlers only).
        is_async: Whether it must be awaited.
    """

    fn: Callable[..., Any]
    context_param: str | None
    report_param: str | None
    is_async: bool

    @property
    def name(self) -> str:
        """The handler's qualified name, for logs."""
        return getattr(self.fn, "__qualname__", repr(self.fn))

    async def __call__(self, call: CallContext) -> None:
        kwargs: dict[str, Any] = {}
        if self.context_param:
            kwargs[self.context_param] = call
        if self.report_param:
            kwargs[self.report_param] = call.report
        result = self.fn(**kwargs)
        if self.is_async or inspect.isawaitable(result):
            await result


def _inspect(fn: Callable[..., Any], *, wanted: Mapping[str, type], decorator: str) -> Handler:
    if not callable(fn):
        raise InvalidToolSignature(f"{decorator} expects a function, got {fn!r}")
    owner = f"{decorator} handler {getattr(fn, '__qualname__', fn)!r}"
    found, others = find_injected(read_signature(fn, owner=owner), wanted, owner=owner)
    for param in others:
        if param.default is not param.empty and param.kind is not param.POSITIONAL_ONLY:
            continue  # a parameter with a default is left alone
        asked = " and/or a parameter annotated ".join(wanted)
        raise InvalidToolSignature(
            f"{owner} has a parameter {param.name!r} the app cannot fill: a handler may take only a "
            f"parameter annotated {asked}."
        )
    return Handler(
        fn=fn,
        context_param=found.get("CallContext"),
        report_param=found.get("CallEndRequest"),
        is_async=is_async(fn),
    )


def call_start_handler(fn: Callable[..., Any]) -> Handler:
    """Check a CallStart handler: it may take only a parameter annotated `CallContext`.

    Raises:
        InvalidToolSignature: The handler asks for something the app cannot give it.
    """
    return _inspect(fn, wanted={"CallContext": CallContext}, decorator="@app.on_call_start")


def call_end_handler(fn: Callable[..., Any]) -> Handler:
    """Check a CallEnd handler: it may take a `CallContext` and/or a `CallEndRequest` parameter.

    Raises:
        InvalidToolSignature: The handler asks for something the app cannot give it.
    """
    from vns_sdk.models import CallEndRequest

    return _inspect(
        fn, wanted={"CallContext": CallContext, "CallEndRequest": CallEndRequest}, decorator="@app.on_call_end"
    )
