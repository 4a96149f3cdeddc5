"""`ToolRouter`: a set of tools, registered with a decorator, that an app (or another router) includes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from vns_sdk.exceptions import InvalidToolSignature
from vns_sdk.tools._tool import Tool

if TYPE_CHECKING:
    from vns_sdk.models import FunctionTool

__all__ = ["ToolDecorator", "ToolRouter"]

F = TypeVar("F", bound=Callable[..., Any])


class ToolDecorator:
    """The type of ``router.tool`` and ``app.tool``: ``@tool`` alone, or ``@tool(name=..., ...)``."""

    __slots__ = ("_router",)

    def __init__(self, router: ToolRouter) -> None:
        self._router = router

    @overload
    def __call__(self, fn: F, /) -> F: ...

    @overload
    def __call__(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        state: bool | None = None,
    ) -> Callable[[F], F]: ...

    def __call__(
        self,
        fn: F | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        state: bool | None = None,
    ) -> F | Callable[[F], F]:
        if isinstance(fn, str):
            raise _positional_name(fn)

        def register(func: F) -> F:
            self._router.add_tool(func, name=name, description=description, timeout=timeout, state=state)
            return func

        if fn is None:
            return register
        return register(fn)


class ToolRouter:
    """A set of tools, in registration order.

    Tools can live in several modules, each with its own router, that the app includes:

    ```python
    from vns_sdk import CallContext, ToolRouter

    router = ToolRouter()

    @router.tool
    async def check_balance(call: CallContext, account: str) -> dict:
        \"\"\"Tells the caller the balance of one of their accounts.

        Args:
            account: The account number the caller gave.
        \"\"\"
        ...

    app.include_router(router)
    ```

    Args:
        tools: Functions (or `Tool`s) to register at once.
    """

    def __init__(self, tools: Iterable[Callable[..., Any] | Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.add_tool(item)

    @property
    def tool(self) -> ToolDecorator:
        """Register a function as a tool: ``@router.tool``, or ``@router.tool(name=..., timeout=..., state=...)``.

        The function is returned unchanged, so it stays callable and testable as plain Python. The tool's
        ``name`` defaults to the function's name, its ``description`` to the docstring, and its ``timeout``
        (seconds the tool may run before the model is told it took too long) to the app-wide tool timeout.
        ``state`` says whether the tool uses ``call.state`` (see `Tool.from_function`); by default it is
        read from the function.

        Raises:
            InvalidToolSignature: The function cannot be a tool, or its name is taken.
        """
        return ToolDecorator(self)

    def add_tool(
        self,
        fn: Callable[..., Any] | Tool,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        state: bool | None = None,
    ) -> Tool:
        """Register a function (or a ready `Tool`) as a tool, without a decorator.

        Args:
            fn: The function, or a `Tool` (the other arguments then override its fields).
            name: The tool's name; defaults to the function's name.
            description: What the tool does; defaults to the docstring.
            timeout: Seconds the tool may run; defaults to the app-wide tool timeout.
            state: Whether the tool uses ``call.state``; by default read from the function.

        Returns:
            The registered tool.

        Raises:
            InvalidToolSignature: The function cannot be a tool, or its name is taken.
        """
        if isinstance(fn, str):
            raise _positional_name(fn)
        if isinstance(fn, Tool):
            tool = fn
            if name is not None or description is not None or timeout is not None or state is not None:
                tool = Tool(
                    name=tool.name if name is None else name,
                    description=tool.description if description is None else description,
                    parameters=tool.parameters,
                    fn=tool.fn,
                    metadata=tool.metadata,
                    timeout=tool.timeout if timeout is None else timeout,
                    uses_state=tool.uses_state if state is None else state,
                )
        else:
            tool = Tool.from_function(fn, name=name, description=description, timeout=timeout, state=state)
        self._add(tool)
        return tool

    def _add(self, tool: Tool) -> None:
        existing = self._tools.get(tool.name)
        if existing is not None:
            raise InvalidToolSignature(
                f"A tool named {tool.name!r} is already registered (from {_origin(existing.fn)}); "
                f"give {_origin(tool.fn)} another name with name='...'."
            )
        self._tools[tool.name] = tool

    def include_router(self, other: ToolRouter) -> None:
        """Add every tool of another router (those it has now; later additions to it are not seen).

        Raises:
            InvalidToolSignature: A tool's name is already taken here.
        """
        for tool in other._tools.values():
            self._add(tool)

    def remove(self, name: str) -> Tool:
        """Unregister a tool and return it.

        Raises:
            KeyError: There is no tool by that name.
        """
        return self._tools.pop(name)

    def get(self, name: str) -> Tool | None:
        """The tool registered under a name, or ``None``."""
        return self._tools.get(name)

    @property
    def tools(self) -> Mapping[str, Tool]:
        """The tools by name, in registration order (read-only view)."""
        return MappingProxyType(self._tools)

    def function_tools(self) -> list[FunctionTool]:
        """The tools as the Realtime session declares them, in registration order."""
        return [tool.to_function_tool() for tool in self._tools.values()]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __repr__(self) -> str:
        return f"ToolRouter({list(self._tools)!r})"


def _positional_name(name: str) -> InvalidToolSignature:
    return InvalidToolSignature(
        f"@tool({name!r}) passes the name where the function goes; write @tool(name={name!r}) to name a tool."
    )


def _origin(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or repr(fn)
    return f"{module}.{qualname}" if module else qualname
