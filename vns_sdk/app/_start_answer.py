"""The JSON of a CallStart answer, put together from parts encoded once.

Most of a CallStart answer is the same for every call: the session (the app's template and its tools, over
a kilobyte of JSON) and the ``aiUrl``. Building a `CallStartResponse` on every call and serializing it means
a deep copy of the session and a pass of pydantic over all of it; a CallStart cost several times a tool call
that way. Here the constant parts are encoded once (and again when the registered tools change), and only a
call's own values (its tool token, its ``customerCallId``, ...) are encoded per call. The bytes are exactly
those of ``CallStartResponse(...).model_dump_json(by_alias=True, exclude_unset=True)`` for the same values
(``tests/app/test_start_answer.py`` holds the two to it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vns_sdk._json import dumps

if TYPE_CHECKING:
    from vns_sdk.endpoint import RealtimeEndpoint
    from vns_sdk.models import RealtimeSession
    from vns_sdk.tools import Tool, ToolRouter

__all__ = ["EncodedParts", "encode_ai_url", "encode_answer", "encode_session"]


def encode_session(session: RealtimeSession) -> bytes:
    """A session as the answer carries it (the fields set on it, by their wire names)."""
    return session.model_dump_json(by_alias=True, exclude_unset=True).encode()


def encode_ai_url(endpoint: RealtimeEndpoint, model: str | None) -> bytes:
    """The ``aiUrl`` of ``endpoint`` for a session of ``model``, as the answer carries it.

    Raises:
        ConfigurationError: See `RealtimeEndpoint.ai_url`.
    """
    return endpoint.ai_url(model).model_dump_json(by_alias=True, exclude_unset=True).encode()


def encode_answer(
    *,
    ai_url: bytes,
    max_seconds: int,
    customer_call_id: str | None,
    tools_url: str,
    token: str,
    adapter: str | None,
    session: bytes,
    event_id: str,
) -> bytes:
    """The answer's JSON from its parts; ``ai_url`` and ``session`` are already encoded.

    Raises:
        JSONError: A text value cannot be encoded (a lone surrogate a handler put in ``customer_call_id``).
    """
    return b"".join(
        (
            b'{"VoiceElements_Instructions":{"aiUrl":',
            ai_url,
            b',"maxSeconds":',
            b"%d" % max_seconds,
            b',"customerCallId":',
            dumps(customer_call_id),
            b',"defaultToolsUrlBase":{"url":',
            dumps(tools_url),
            b',"headers":{"Authorization":',
            dumps(f"Bearer {token}"),
            b'}},"defaultToolsUrlAdapter":',
            dumps(adapter),
            b'},"event_id":',
            dumps(event_id),
            b',"type":"session.update","session":',
            session,
            b"}",
        )
    )


class EncodedParts:
    """The parts of the default CallStart answer, encoded once: the session with its tools, and the ``aiUrl``.

    Args:
        template: The session every call starts from (tools excluded).
        tools: The app's tool registry; the session is encoded again when its tools change.
        realtime: The app's Realtime endpoint.
        model: The app's model, for a template that names none.
    """

    __slots__ = ("_ai_url", "_model", "_realtime", "_session", "_template", "_template_tools", "_tools", "_tools_seen")

    def __init__(self, template: RealtimeSession, tools: ToolRouter, realtime: RealtimeEndpoint, model: str) -> None:
        self._template = template
        self._tools = tools
        self._realtime = realtime
        self._model = template.model or model
        self._tools_seen: tuple[Tool, ...] | None = None
        self._template_tools: object = None
        self._session = b""
        self._ai_url: bytes | None = None

    def session(self) -> bytes:
        """The session of a call no handler tailored: the template and the tools registered now."""
        tools = tuple(self._tools)
        # A Tool compares by identity, so a new or replaced tool is seen; the template's own tools (an MCP
        # server offered in the session) are replaced as a list when they change.
        if tools != self._tools_seen or self._template.tools is not self._template_tools:
            self._template_tools = self._template.tools
            session = self._template.model_copy()  # shallow: only read, and its tools replaced
            session.tools = [*(self._template.tools or ()), *(tool.to_function_tool() for tool in tools)]
            self._session = encode_session(session)
            self._tools_seen = tools
        return self._session

    def ai_url(self) -> bytes:
        """The ``aiUrl`` of the app's Realtime endpoint for the session's model."""
        if self._ai_url is None:
            self._ai_url = encode_ai_url(self._realtime, self._model)
        return self._ai_url

    @property
    def model(self) -> str:
        """The model of the default session."""
        return self._model
