"""`Tool`: one function, its Realtime schema and its validator, built together at registration."""

from __future__ import annotations

import asyncio
import inspect
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vns_sdk.exceptions import InvalidToolSignature
from vns_sdk.tools._given_schema import SchemaArguments, schema_arguments
from vns_sdk.tools._metadata import FunctionMetadata, inspect_function
from vns_sdk.tools._state_use import uses_state

if TYPE_CHECKING:
    from vns_sdk.context import CallContext
    from vns_sdk.models import FunctionTool

__all__ = ["Tool"]

# The names the Realtime API accepts for a function tool (vns_sdk.models.realtime_tools.TOOL_NAME_PATTERN, which
# this module does not import: registering tools does not need the wire models).
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _TOOL_NAME.match(name):
        raise InvalidToolSignature(
            f"Tool name {name!r} is not accepted by the Realtime API: use 1 to 64 letters, digits, "
            "underscores or hyphens (for example name='lookup_customer')."
        )
    return name


@dataclass(frozen=True, eq=False)
class Tool:
    """A function registered as a Realtime tool: its name, description, JSON Schema and handler.

    Build one with `Tool.from_function` (or let `ToolRouter.tool` do it). The schema and the argument
    validator come from the same signature, once, so they cannot drift apart. A tool that runs elsewhere
    (an MCP server's) is built with `Tool.from_schema` from the JSON Schema it comes with.

    Attributes:
        name: The name the model calls the tool by.
        description: What the tool does, for the model (from the docstring unless overridden).
        parameters: The tool's JSON Schema: ``{"type": "object", "properties": {...}, "required": [...]}``,
            self-contained (no ``$ref``).
        fn: The function itself, unchanged.
        metadata: What a call needs, precomputed from the signature (validator, context parameter, ...) or,
            for a tool built `from_schema`, from its schema.
        timeout: Seconds the tool may run before the model is told it took too long; ``None`` uses the
            app-wide default.
        uses_state: Whether the tool uses ``call.state``. Such tools of one call run one after another,
            each seeing what the one before saved; the others run alongside them without waiting.
    """

    name: str
    description: str | None
    parameters: dict[str, Any]
    fn: Callable[..., Any]
    metadata: FunctionMetadata | SchemaArguments = field(repr=False)
    timeout: float | None = None
    uses_state: bool = True

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.timeout is not None and (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, (int, float))
            or not math.isfinite(self.timeout)
            or self.timeout <= 0
        ):
            raise InvalidToolSignature(
                f"Tool {self.name!r}: timeout must be a positive number of seconds (or None), not {self.timeout!r}."
            )
        if not isinstance(self.uses_state, bool):
            raise InvalidToolSignature(
                f"Tool {self.name!r}: state must be True, False or None, not {self.uses_state!r}."
            )

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        state: bool | None = None,
    ) -> Tool:
        """Build a tool from a function.

        Args:
            fn: A sync or async function. Each parameter becomes an argument of the tool, except one
                annotated `CallContext`, which receives the call.
            name: The tool's name; defaults to the function's name.
            description: What the tool does; defaults to the docstring (summary and long description,
                without the Args/Returns sections).
            timeout: Seconds the tool may run; defaults to the app-wide tool timeout.
            state: Whether the tool uses ``call.state``; by default read from the function (a tool that
                only reads other attributes of its `CallContext`, or has none, does not).

        Returns:
            The tool.

        Raises:
            InvalidToolSignature: The function cannot be a tool (the message says what to change).
        """
        if name is None:
            name = getattr(fn, "__name__", None)
            if not isinstance(name, str) or name == "<lambda>":
                raise InvalidToolSignature(f"{fn!r} has no usable name; pass name='...' when registering it.")
        name = _check_name(name)  # here too, so that the name error comes before any signature error
        metadata = inspect_function(fn, tool_name=name)
        return cls(
            name=name,
            description=description if description is not None else metadata.description,
            parameters=metadata.parameters,
            fn=fn,
            metadata=metadata,
            timeout=timeout,
            uses_state=uses_state(fn, metadata.context_param) if state is None else state,
        )

    @classmethod
    def from_schema(
        cls,
        name: str,
        schema: Mapping[str, Any],
        handler: Callable[[dict[str, Any], CallContext | None], Awaitable[Any]],
        *,
        description: str | None = None,
        timeout: float | None = None,
    ) -> Tool:
        """Build a tool from the JSON Schema of its arguments and an async handler that runs it.

        The schema the model sees is made Realtime-safe as a function's is (no ``$ref``, ``anyOf`` for
        ``oneOf``, no titles); each call's arguments are checked against ``schema`` as given, and the
        model hears the usual ``invalid_arguments`` answer when they do not fit.

        Args:
            name: The name the model calls the tool by.
            schema: The JSON Schema of the arguments (an ``object`` schema).
            handler: ``await handler(arguments, call)``: the checked arguments as one dict, and the call.
            description: What the tool does, for the model.
            timeout: Seconds the tool may run; defaults to the app-wide tool timeout.

        Raises:
            InvalidToolSignature: The name is not accepted, or the schema is not a self-contained JSON
                Schema of an object.
        """
        name = _check_name(name)
        arguments = schema_arguments(name, schema, description)
        return cls(
            name=name,
            description=description,
            parameters=arguments.parameters,
            fn=handler,
            metadata=arguments,
            timeout=timeout,
        )

    def to_function_tool(self) -> FunctionTool:
        """The tool as the Realtime session declares it: ``{"type": "function", name, description, parameters}``."""
        from vns_sdk.models import FunctionTool

        if self.description is None:
            # Left out rather than sent as null: the Realtime API takes no null description.
            return FunctionTool(name=self.name, parameters=self.parameters)
        return FunctionTool(name=self.name, description=self.description, parameters=self.parameters)

    def to_dict(self) -> dict[str, Any]:
        """The tool as a JSON object, in the order the VNS spec shows it."""
        out: dict[str, Any] = {"type": "function", "name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out["parameters"] = self.parameters
        return out

    async def run(self, arguments: Mapping[str, Any], call: CallContext | None = None) -> Any:
        """Validate the arguments and call the function (sync functions in a worker thread).

        This is the raw call: no timeout and no reply building (`invoke_tool` adds those). Use it to
        test a tool with the arguments the model would send.

        Args:
            arguments: The arguments as the model sends them (wire names).
            call: The call, passed to the `CallContext` parameter if the function has one.

        Returns:
            What the function returned.

        Raises:
            ToolArgumentsError: The arguments do not fit the signature.
        """
        args, kwargs = self.metadata.bind(self.name, arguments, call)
        return await self.call(args, kwargs)

    async def call(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call the function with already validated arguments (sync functions in a worker thread)."""
        if self.metadata.is_async:
            return await self.fn(*args, **kwargs)
        result = await asyncio.to_thread(self.fn, *args, **kwargs)
        if inspect.isawaitable(result):
            # A sync wrapper around an async function.
            result = await result
        return result
