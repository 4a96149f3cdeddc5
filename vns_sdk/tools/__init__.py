"""Tools: plain Python functions become Realtime tool schemas and their handlers.

```python
from vns_sdk.tools import ToolRouter

router = ToolRouter()

@router.tool
def get_hours(day: str) -> dict:
    \"\"\"Tells the caller the opening hours for a day of the week.

    Args:
        day: The day of the week, in English.
    \"\"\"
    return {"open": "9:00", "close": "17:00"}
```

How a function becomes a tool:

- **Name**: the function's name (or ``name=``): 1 to 64 letters, digits, ``_`` or ``-``.
- **Description**: the docstring's summary and long description, without its sections (Args,
  Returns, Raises, ...), or ``description=``. Write it for the model: what the tool does and when to
  call it.
- **Arguments**: one per parameter, except a parameter annotated `CallContext` (at any position),
  which receives the call. Each needs a type annotation; ``*args`` and ``**kwargs`` are refused.
  Descriptions come from ``Annotated[T, Field(description=...)]``, ``Annotated[T, "text"]`` or the
  docstring (Google, NumPy or Sphinx style, detected per docstring), in that order. A wire name comes
  from an alias: ``Annotated[str, Field(alias="phoneNumber")]``.
- **Schema**: pydantic's JSON Schema of the arguments, made self-contained: nested models, dataclasses,
  TypedDicts and enums are inlined (no ``$ref``/``$defs``; a recursive type is refused), ``oneOf``
  becomes ``anyOf``, generated titles are dropped. A parameter with a default is optional and its
  default is stated, except ``None``: ``x: str | None = None`` is shown as an optional string,
  with no ``null`` and no default, as the VNS spec's own tools are written.
- **Validation**: the same pydantic model checks every call's arguments (built once, at
  registration). Objects and lists that arrive as JSON text are parsed first. Arguments the tool does
  not declare are ignored.

`lint_tools` reports what makes a tool worse for the model (no description, a parameter without one,
an ``Args:`` entry for a parameter that does not exist, ...): ``vns-sdk tools --check`` on the command
line, `vns_sdk.testing.check_tools` in a test.
"""

from __future__ import annotations

from vns_sdk.exceptions import ToolArgumentsError
from vns_sdk.tools._builtins import end_conversation
from vns_sdk.tools._invoke import ToolOutcome, ToolReply, invoke_tool
from vns_sdk.tools._lint import ToolProblem, lint_tools
from vns_sdk.tools._results import to_jsonable
from vns_sdk.tools._router import ToolRouter
from vns_sdk.tools._tool import Tool

__all__ = [
    "Tool",
    "ToolArgumentsError",
    "ToolOutcome",
    "ToolProblem",
    "ToolReply",
    "ToolRouter",
    "end_conversation",
    "invoke_tool",
    "lint_tools",
    "to_jsonable",
]
