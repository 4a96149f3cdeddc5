"""CallStart and CallEnd handlers: what a handler may ask for, checked when it is registered."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vns_sdk.context import CallContext
from vns_sdk.exceptions import InvalidToolSignature

__all__ = ["Handler", "call_end_handler", "call_start_handler"]

Kind = typing.Literal["context", "report"]


def _kind_of(annotation: Any) -> Kind | None:
    from vns_sdk.models import CallEndRequest

    if annotation is CallContext:
        return "context"
    if annotation is CallEndRequest:
        return "report"
    if isinstance(annotation, str):
        # The annotation could not be resolved (a name imported under TYPE_CHECKING): go by its name.
        name = annotation.rsplit(".", 1)[-1].strip("'\" ")
        if name == "CallContext":
            return "context"
        if name == "CallEndRequest":
            return "report"
    return None


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


def _inspect(fn: Callable[..., Any], *, allowed: tuple[Kind, ...], decorator: str) -> Handler:
    if not callable(fn):
        raise InvalidToolSignature(f"{decorator} expects a function, got {fn!r}")
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = {}
    wanted = " and/or a parameter annotated CallEndRequest" if "report" in allowed else ""
    found: dict[Kind, str] = {}
    for param in inspect.signature(fn).parameters.values():
        kind = _kind_of(hints.get(param.name, param.annotation))
        if kind is None or kind not in allowed or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            if param.default is not param.empty and param.kind is not param.POSITIONAL_ONLY:
                continue  # a parameter with a default is left alone
            raise InvalidToolSignature(
                f"{decorator} handler {getattr(fn, '__qualname__', fn)!r} has a parameter {param.name!r} the app "
                f"cannot fill: a handler may take only a parameter annotated CallContext{wanted}."
            )
        if kind in found:
            raise InvalidToolSignature(
                f"{decorator} handler {getattr(fn, '__qualname__', fn)!r} asks twice for the {kind} "
                f"({found[kind]!r} and {param.name!r})."
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise InvalidToolSignature(f"{decorator} handler parameter {param.name!r} must not be positional-only.")
        found[kind] = param.name
    return Handler(
        fn=fn,
        context_param=found.get("context"),
        report_param=found.get("report"),
        is_async=inspect.iscoroutinefunction(fn),
    )


def call_start_handler(fn: Callable[..., Any]) -> Handler:
    """Check a CallStart handler: it may take only a parameter annotated `CallContext`.

    Raises:
        InvalidToolSignature: The handler asks for something the app cannot give it.
    """
    return _inspect(fn, allowed=("context",), decorator="@app.on_call_start")


def call_end_handler(fn: Callable[..., Any]) -> Handler:
    """Check a CallEnd handler: it may take a `CallContext` and/or a `CallEndRequest` parameter.

    Raises:
        InvalidToolSignature: The handler asks for something the app cannot give it.
    """
    return _inspect(fn, allowed=("context", "report"), decorator="@app.on_call_end")
