"""`check_tools`: a test fails when a tool reads badly to the model (what `vns-sdk tools --check` reports)."""

from __future__ import annotations

from typing import Any

from vns_sdk.tools import lint_tools

__all__ = ["check_tools"]


def check_tools(app: Any) -> None:
    """Fail when any tool of the app has something that makes it worse for the model.

    ```python
    def test_the_tools_read_well(vns):
        check_tools(vns.app)
    ```

    Args:
        app: A `VNSApp`, a `ToolRouter`, a mapping of name to `Tool`, or `Tool`s.

    Raises:
        AssertionError: One line per problem (see `vns_sdk.tools.lint_tools` and the Tools page for the rules).
    """
    __tracebackhide__ = True
    problems = lint_tools(app)
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        raise AssertionError(f"{len(problems)} tool problem{'s' if len(problems) != 1 else ''}:\n{lines}")
