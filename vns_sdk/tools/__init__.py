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
"""

from __future__ import annotations

from vns_sdk.tools.builtins import end_conversation
from vns_sdk.tools.errors import ToolArgumentsError
from vns_sdk.tools.invoke import ToolOutcome, ToolReply, invoke_tool, to_jsonable
from vns_sdk.tools.router import ToolRouter
from vns_sdk.tools.tool import Tool

__all__ = [
    "Tool",
    "ToolArgumentsError",
    "ToolOutcome",
    "ToolReply",
    "ToolRouter",
    "end_conversation",
    "invoke_tool",
    "to_jsonable",
]
