"""Tool calls: the body VNS sends when the model calls a function, and the tools URL adapter forms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from pydantic import ConfigDict, Field

from vns_sdk.models._base import VNSModel

__all__ = ["ToolInvocation", "ToolsUrlAdapter", "VoiceElementsInvokeTool", "vns_tool_request"]

INVOKE_TOOL_KEY = "VoiceElements_InvokeTool"


class VoiceElementsInvokeTool(VNSModel):
    """Which tool call this is: the `VoiceElements_InvokeTool` wrapper VNS adds to a tool call's body.

    With a tools URL adapter the same values come in the URL instead (see `ToolsUrlAdapter.parse`).

    Attributes:
        tool_name: The name of the tool the model called (wire `toolName`).
        session_guid: The voice session the call belongs to.
        customer_call_id: Your identifier of the call, when you gave one.
    """

    tool_name: str | None = None
    session_guid: str | None = None
    customer_call_id: str | None = None


class ToolInvocation(VNSModel):
    """The body of a tool call: VNS POSTs it to your tools URL when the model calls a function.

    The model's arguments are the body's keys; beside them, with no tools URL adapter, VNS adds the
    `VoiceElements_InvokeTool` wrapper. Only the wire name of the wrapper is recognised, so an argument
    may be called ``invoke_tool``.

    Attributes:
        invoke_tool: The wrapper (wire `VoiceElements_InvokeTool`), absent when an adapter puts its
            values in the URL.
    """

    model_config = ConfigDict(validate_by_name=False)

    invoke_tool: VoiceElementsInvokeTool | None = Field(default=None, alias=INVOKE_TOOL_KEY)

    @property
    def arguments(self) -> dict[str, Any]:
        """The model's arguments: every key of the body but the wrapper."""
        return dict(self.model_extra or {})

    @classmethod
    def build(
        cls,
        tool_name: str,
        arguments: Mapping[str, Any],
        *,
        session_guid: str | None,
        customer_call_id: str | None,
    ) -> ToolInvocation:
        """Build the body VNS sends for a tool call with no adapter.

        Args:
            tool_name: The tool the model called.
            arguments: The model's arguments.
            session_guid: The voice session.
            customer_call_id: Your identifier of the call.

        Returns:
            The tool call, wrapper first.

        Raises:
            ValueError: An argument is named like the wrapper.
        """
        if INVOKE_TOOL_KEY in arguments:
            raise ValueError(f"a tool argument cannot be named {INVOKE_TOOL_KEY!r}")
        wrapper = VoiceElementsInvokeTool(
            tool_name=tool_name, session_guid=session_guid, customer_call_id=customer_call_id
        )
        return cls.model_validate({INVOKE_TOOL_KEY: wrapper, **arguments})

    @staticmethod
    def raw_wrapper(body: Any) -> Mapping[str, Any]:
        """The `VoiceElements_InvokeTool` wrapper of a tool call's JSON body, read as it came, without validation.

        For bodies kept as they were sent (a transcript's), where a malformed body must still be shown.

        Args:
            body: The parsed JSON body, whatever its shape.

        Returns:
            The wrapper's wire fields (``toolName``, ``sessionGuid``, ``customerCallId``), or an empty mapping
            when the body is not an object or holds no wrapper object.
        """
        wrapper = body.get(INVOKE_TOOL_KEY) if isinstance(body, Mapping) else None
        return wrapper if isinstance(wrapper, Mapping) else {}

    @staticmethod
    def raw_arguments(body: Any) -> dict[str, Any]:
        """The model's arguments in a tool call's JSON body, read as it came: every key but the wrapper.

        Args:
            body: The parsed JSON body, whatever its shape.

        Returns:
            The arguments; empty when the body is not an object.
        """
        if not isinstance(body, Mapping):
            return {}
        return {key: value for key, value in body.items() if key != INVOKE_TOOL_KEY}


# Placeholder of the adapter template -> attribute of VoiceElementsInvokeTool.
_PLACEHOLDERS = {"toolname": "tool_name", "sessionguid": "session_guid", "customerCallId": "customer_call_id"}
_ALLOWED = ", ".join(f"<<{name}>>" for name in _PLACEHOLDERS)
_TOKEN = re.compile(r"<<(.*?)>>")


def _compile(template: str, value_pattern: str) -> re.Pattern[str]:
    # Literal text must match as written; each placeholder captures one value.
    parts: list[str] = []
    last = 0
    for token in _TOKEN.finditer(template):
        parts.append(re.escape(template[last : token.start()]))
        parts.append(f"(?P<{token[1]}>{value_pattern})")
        last = token.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts))


class ToolsUrlAdapter:
    """A `defaultToolsUrlAdapter`: how VNS puts a tool call's metadata in the URL instead of the body.

    The template is appended to `defaultToolsUrlBase.url`; VNS replaces ``<<toolname>>``,
    ``<<sessionguid>>`` and ``<<customerCallId>>`` with the call's values. It has a path form
    (``/<<toolname>>/<<customerCallId>>``), a query form (``?toolname=<<toolname>>&...``), or both.
    A ``null`` adapter (``None`` where an adapter is accepted) keeps the metadata in the body's
    `VoiceElements_InvokeTool` wrapper. `FORMS` lists the forms the VNS documentation shows.

    Args:
        template: The adapter text.

    Raises:
        ValueError: The template names an unknown placeholder, repeats one, lacks ``<<toolname>>``, or
            starts with neither ``/`` nor ``?``.
    """

    FORMS: ClassVar[tuple[str, ...]] = (
        "/<<sessionguid>>/<<toolname>>/<<customerCallId>>",
        "/<<toolname>>/<<sessionguid>>/<<customerCallId>>",
        "/<<toolname>>",
        "/<<toolname>>/<<customerCallId>>",
        "?toolname=<<toolname>>&sessionguid=<<sessionguid>>&customerCallId=<<customerCallId>>",
        "?toolname=<<toolname>>&sessionguid=<<sessionguid>>",
    )

    __slots__ = ("_path", "_path_pattern", "_query", "_template")

    def __init__(self, template: str) -> None:
        if not isinstance(template, str):
            raise TypeError(f"a tools URL adapter is a string, not {type(template).__name__}")
        self._template = template
        names = _TOKEN.findall(template)
        for name in names:
            if name not in _PLACEHOLDERS:
                raise ValueError(
                    f"unknown placeholder <<{name}>> in tools URL adapter {template!r}; the placeholders are {_ALLOWED}"
                )
        for name in set(names):
            if names.count(name) > 1:
                raise ValueError(f"placeholder <<{name}>> appears more than once in tools URL adapter {template!r}")
        if "<<" in _TOKEN.sub("", template) or ">>" in _TOKEN.sub("", template):
            raise ValueError(
                f"unbalanced '<<' or '>>' in tools URL adapter {template!r}; the placeholders are {_ALLOWED}"
            )
        if "toolname" not in names:
            raise ValueError(f"tools URL adapter {template!r} lacks <<toolname>>")
        if not template.startswith(("/", "?")):
            raise ValueError(f"tools URL adapter {template!r} must start with '/' (path form) or '?' (query form)")
        self._path, _, query = template.partition("?")
        self._path_pattern: re.Pattern[str] | None = None
        if self._path:
            pattern = _compile(self._path, "[^/]*").pattern
            # A null customerCallId at the end may come as an empty segment or not at all; a final '/' is optional.
            tail = re.escape("/") + "(?P<customerCallId>[^/]*)"
            if pattern.endswith(tail):
                pattern = pattern[: -len(tail)] + f"(?:{tail})?"
            self._path_pattern = re.compile(pattern + "/?")
        pairs = parse_qsl(query, keep_blank_values=True)
        for key, _ in pairs:
            if "<<" in key:
                raise ValueError(f"tools URL adapter {template!r} has a placeholder in a query parameter name")
        self._query = [(key, _compile(value, ".*")) for key, value in pairs]

    @property
    def template(self) -> str:
        """The adapter text, as given."""
        return self._template

    def __str__(self) -> str:
        return self._template

    def __repr__(self) -> str:
        return f"ToolsUrlAdapter({self._template!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ToolsUrlAdapter) and other._template == self._template

    def __hash__(self) -> int:
        return hash(self._template)

    def render(self, base_url: str, *, tool_name: str, session_guid: str | None, customer_call_id: str | None) -> str:
        """The URL VNS calls for a tool call: the base URL followed by the filled-in template.

        Values are percent-encoded; a ``None`` value leaves its place empty.

        Args:
            base_url: The `defaultToolsUrlBase.url`.
            tool_name: The tool the model called.
            session_guid: The voice session.
            customer_call_id: Your identifier of the call.

        Returns:
            The URL.
        """
        values = {"toolname": tool_name, "sessionguid": session_guid, "customerCallId": customer_call_id}
        return base_url + _TOKEN.sub(lambda token: quote(values[token[1]] or "", safe=""), self._template)

    def parse_url(self, url: str, *, route: str) -> VoiceElementsInvokeTool:
        """Read a tool call's metadata back from a whole URL (or its path and query): the reverse of `render`.

        Args:
            url: The URL VNS called, or its path and query (``/vns/tools/lookup/CallId-001?x=1``).
            route: The tools route (``/tools``); the adapter's part of the path follows its first occurrence.

        Returns:
            The metadata, as `parse` reads it.

        Raises:
            ValueError: The path does not hold the route, or the URL does not fit the template.
        """
        parts = urlsplit(url)
        _, found, tail = parts.path.partition(route)
        if not found:
            raise ValueError(f"tool call path {parts.path!r} does not hold the tools route {route!r}")
        return self.parse(tail, dict(parse_qsl(parts.query, keep_blank_values=True)))

    def parse(self, path: str, query: Mapping[str, str]) -> VoiceElementsInvokeTool:
        """Read a tool call's metadata back from the URL VNS called.

        Args:
            path: The path after the tools route, still percent-encoded (e.g. ``/9e6a.../lookup/``);
                empty for the query form.
            query: The decoded query parameters.

        Returns:
            The metadata; an empty value (such as an empty last segment) is ``None``.

        Raises:
            ValueError: The path or query does not fit the template, or names no tool.
        """
        found: dict[str, str] = {}
        if self._path_pattern is not None:
            match = self._path_pattern.fullmatch(path)
            if match is None:
                raise ValueError(f"tool call path {path!r} does not fit the tools URL adapter {self._template!r}")
            found.update({name: unquote(value) for name, value in match.groupdict().items() if value is not None})
        elif path not in ("", "/"):
            raise ValueError(f"tool call path {path!r} does not fit the tools URL adapter {self._template!r}")
        for key, pattern in self._query:
            value = query.get(key)
            if value is None:
                if pattern.groupindex.keys() <= {"customerCallId"}:
                    continue
                raise ValueError(f"tool call query lacks {key!r} (tools URL adapter {self._template!r})")
            match = pattern.fullmatch(value)
            if match is None:
                raise ValueError(
                    f"tool call query {key}={value!r} does not fit the tools URL adapter {self._template!r}"
                )
            found.update(match.groupdict())
        if not found.get("toolname"):
            raise ValueError(f"tool call URL names no tool (tools URL adapter {self._template!r})")
        return VoiceElementsInvokeTool(**{_PLACEHOLDERS[name]: value or None for name, value in found.items()})


def vns_tool_request(
    base_url: str,
    adapter: ToolsUrlAdapter | str | None,
    *,
    tool_name: str,
    arguments: Mapping[str, Any],
    session_guid: str | None,
    customer_call_id: str | None,
) -> tuple[str, dict[str, Any]]:
    """The URL and JSON body of the request VNS sends for a tool call.

    Without an adapter the metadata goes in the body's `VoiceElements_InvokeTool` wrapper; with one it goes
    in the URL and the body holds the arguments alone.

    Args:
        base_url: The `defaultToolsUrlBase.url`.
        adapter: The `defaultToolsUrlAdapter`, or ``None``.
        tool_name: The tool the model called.
        arguments: The model's arguments.
        session_guid: The voice session.
        customer_call_id: Your identifier of the call.

    Returns:
        The URL and the body.
    """
    if adapter is None:
        invocation = ToolInvocation.build(
            tool_name, arguments, session_guid=session_guid, customer_call_id=customer_call_id
        )
        return base_url, invocation.model_dump(mode="json", exclude_none=False)
    if isinstance(adapter, str):
        adapter = ToolsUrlAdapter(adapter)
    url = adapter.render(base_url, tool_name=tool_name, session_guid=session_guid, customer_call_id=customer_call_id)
    return url, dict(arguments)
