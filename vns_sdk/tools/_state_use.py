"""Whether a tool uses ``call.state``: decided once, when the tool is registered.

The tools of one call that use the state run one after another, under the call's lease; the others run
alongside them and never wait. ``call.state`` is read synchronously, so the lease cannot be taken at the
moment a tool first touches it: the app must know before the tool starts. The rule is conservative
(when in doubt, a tool uses the state), and ``@app.tool(state=True|False)`` overrides it:

- a tool without a `CallContext` parameter does not use the state;
- a tool with one is read from its source: if every use of that parameter reads an attribute other
  than ``state`` (``call.caller_id``, ``call.time_left``, ``call.session_guid``), it does not;
- anything else uses it: reading ``.state``, passing the context to a function, storing it, returning
  it, setting one of its attributes; also a function whose source cannot be read (defined in a REPL or
  with ``exec``), a lambda, a function wrapped by a decorator (``__wrapped__``: the wrapper is not read)
  and a function whose body names ``locals``, ``vars``, ``eval`` or ``exec``.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

__all__ = ["uses_state"]

# Names that reach a function's local variables without naming them.
_INTROSPECTION = frozenset({"locals", "vars", "eval", "exec"})


def uses_state(fn: Callable[..., Any], context_param: str | None) -> bool:
    """Whether ``fn`` may use ``call.state`` through its `CallContext` parameter ``context_param``.

    Args:
        fn: The function registered as a tool.
        context_param: The name of its `CallContext` parameter, or ``None`` if it has none.
    """
    if context_param is None:
        return False
    function = _source_function(fn)
    if function is None:
        return True
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return True
    node = next((item for item in tree.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if node is None or node.name != function.__name__:
        return True  # a lambda, or source that is not the function's own
    return _touches(node, context_param)


def _source_function(fn: Callable[..., Any]) -> Any:
    """The plain function whose source is the tool's code, or ``None`` when the code is not all in one function."""
    target: Any = fn
    while isinstance(target, functools.partial):
        target = target.func
    if getattr(target, "__wrapped__", None) is not None:
        return None  # the wrapper's code runs too, and it is not the function read
    if inspect.ismethod(target):
        target = target.__func__
    if not inspect.isfunction(target):
        call = getattr(type(target), "__call__", None)  # noqa: B004 - a callable object
        target = call.__func__ if inspect.ismethod(call) else call
        if not inspect.isfunction(target) or getattr(target, "__wrapped__", None) is not None:
            return None
    return target


def _touches(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    parents: dict[ast.AST, ast.AST] = {}
    for statement in function.body:
        for parent in ast.walk(statement):
            for child in ast.iter_child_nodes(parent):
                parents[child] = parent
        for node in ast.walk(statement):
            if not isinstance(node, ast.Name):
                continue
            if node.id in _INTROSPECTION:
                return True
            if node.id != name:
                continue
            use = parents.get(node)
            if not (
                isinstance(use, ast.Attribute)
                and isinstance(use.ctx, ast.Load)
                and use.attr != "state"
                and not use.attr.startswith("_")
            ):
                return True
    return False
