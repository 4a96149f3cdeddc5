"""How vns-sdk reads the signature of a function it calls: tools and CallStart/CallEnd handlers alike.

One rule finds the parameters vns-sdk fills itself. A parameter asks for a `CallContext` (or, in a
CallEnd handler, for the `CallEndRequest`) when it is annotated with that class, a subclass, the class
``| None``, or ``Annotated[<class>, ...]``. Annotations written as text (``from __future__ import
annotations``) are evaluated first, in the function's module and then among the local names of the
code registering it; one that still cannot be evaluated names the class when its last dotted name is
the class's (imported under ``if TYPE_CHECKING:``, the intent is clear).
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Union

from vns_sdk.exceptions import InvalidToolSignature

__all__ = ["Unresolved", "asks_for", "find_injected", "is_async", "read_signature"]


@dataclass(frozen=True)
class Unresolved:
    """A text annotation that names nothing importable when the function is registered.

    Attributes:
        text: The annotation as written.
        error: Why it could not be evaluated.
    """

    text: str
    error: Exception


def read_signature(fn: Callable[..., Any], *, owner: str) -> inspect.Signature:
    """The signature of ``fn`` with text annotations evaluated (`Unresolved` where they cannot be).

    The return annotation is dropped: nothing vns-sdk does depends on it.

    Args:
        fn: The function.
        owner: How error messages name the function (``Tool 'lookup'``).

    Raises:
        InvalidToolSignature: Python cannot tell the signature (some built-in functions).
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise InvalidToolSignature(
            f"{owner}: cannot read the signature of {fn!r} ({exc}); register a plain function."
        ) from None
    namespace = _namespace(fn)
    parameters = []
    for param in signature.parameters.values():
        annotation = param.annotation
        try:
            # A quoted annotation under postponed evaluation ("'CallContext'") is text twice.
            for _ in range(3):
                if not isinstance(annotation, str):
                    break
                annotation = _evaluate(annotation, namespace)
        except Exception as exc:
            annotation = Unresolved(param.annotation, exc)
        parameters.append(param.replace(annotation=annotation))
    return signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)


def asks_for(annotation: Any, cls: type) -> bool:
    """Whether a parameter with this (evaluated) annotation asks for a ``cls``.

    ``cls``, a subclass, ``cls | None``, ``Annotated[cls, ...]``, or an `Unresolved` annotation whose
    last dotted name is the class's name (``"vns_sdk.CallContext"``, ``"CallContext | None"``).
    """
    if isinstance(annotation, Unresolved):
        members = [part.strip().strip("'\"") for part in annotation.text.split("|")]
        named = [member for member in members if member != "None"]
        return len(named) == 1 and named[0].rsplit(".", 1)[-1] == cls.__name__
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type):
        return issubclass(annotation, cls)
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return len(members) == 1 and asks_for(members[0], cls)
    return False


def find_injected(
    signature: inspect.Signature, wanted: Mapping[str, type], *, owner: str
) -> tuple[dict[str, str], list[inspect.Parameter]]:
    """Split the parameters into those vns-sdk fills and the others.

    Args:
        signature: From `read_signature`.
        wanted: What vns-sdk can give, by what messages call it: ``{"CallContext": CallContext}``.
        owner: How error messages name the function.

    Returns:
        What is asked for -> the name of the parameter that asks (a key of ``wanted``), and the other
        parameters in order (``*args`` and ``**kwargs`` among them).

    Raises:
        InvalidToolSignature: Two parameters ask for the same thing, or one that asks is positional-only
            (vns-sdk passes them by name).
    """
    found: dict[str, str] = {}
    others: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        kind = None
        if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            kind = next((key for key, cls in wanted.items() if asks_for(param.annotation, cls)), None)
        if kind is None:
            others.append(param)
            continue
        if kind in found:
            raise InvalidToolSignature(
                f"{owner}: parameters {found[kind]!r} and {param.name!r} both ask for the {kind}; keep one."
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise InvalidToolSignature(f"{owner}: the {kind} parameter {param.name!r} cannot be positional-only.")
        found[kind] = param.name
    return found, others


def is_async(fn: Callable[..., Any]) -> bool:
    """Whether calling ``fn`` returns a coroutine: a coroutine function, or an object whose ``__call__`` is one."""
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - a callable object's __call__ may be async
    return call is not None and not inspect.isfunction(fn) and inspect.iscoroutinefunction(call)


def _namespace(fn: Callable[..., Any]) -> dict[str, Any]:
    """The globals of the module that wrote ``fn`` (through decorators, partials and callable objects)."""
    target: Any = inspect.unwrap(fn)
    while isinstance(target, functools.partial):
        target = inspect.unwrap(target.func)
    found = getattr(target, "__globals__", None)
    if found is None:
        found = getattr(getattr(type(target), "__call__", None), "__globals__", None)  # noqa: B004
    return found if isinstance(found, dict) else {}


def _evaluate(annotation: str, namespace: dict[str, Any]) -> Any:
    try:
        return eval(annotation, namespace)  # what inspect.signature(eval_str=True) does
    except NameError:
        # A function defined inside another may use classes local to it (with postponed annotations).
        return eval(annotation, namespace, _registering_frame_locals())


def _registering_frame_locals() -> dict[str, Any]:
    """The local names of the code that registers the function: the first frame outside vns_sdk."""
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("vns_sdk."):
        frame = frame.f_back  # type: ignore[assignment]
    return dict(frame.f_locals) if frame is not None else {}
