"""The app's logs: one structured line per webhook, and a filter that keeps secrets out of them.

Everything goes through the stdlib logger ``vns_sdk.app``, so any logging setup routes it. Each webhook
logs one line such as::

    webhook tools session=9e6a... tool=lookup outcome=ok status=200 latency_ms=0.41

with the same values as ``extra`` fields (``vns_endpoint``, ``vns_session_guid``, ``vns_tool``,
``vns_outcome``, ``vns_status``, ``vns_latency_ms``) for structured handlers.
"""

from __future__ import annotations

import logging
import time
import traceback

from vns_sdk._observe import _events

__all__ = ["SecretRedactor", "log_webhook", "logger", "redactor"]

logger = logging.getLogger("vns_sdk.app")

_MASK = "[redacted]"


class SecretRedactor(logging.Filter):
    """Replaces every registered secret in a record's message and traceback with ``[redacted]``.

    The app never logs its keys or tokens; this filter also covers what a customer's handler may put in
    an exception message.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, *secrets: str | None) -> None:
        """Register secrets to redact (empty values are ignored)."""
        self._secrets.update(secret for secret in secrets if secret and len(secret) >= 4)

    def scrub(self, text: str) -> str:
        """``text`` with every registered secret masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = self.scrub(text)
            if record.exc_text != text:
                # Formatters print exc_text when set; drop the exception itself, whose message holds the secret.
                record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True


redactor = SecretRedactor()
# A logger's filters see only the records logged on it, not its children's: each of the package's loggers
# that can carry a secret gets the filter (a tool's exception text is logged by vns_sdk.tools).
for _name in ("vns_sdk.app", "vns_sdk.tools", "vns_sdk.state", "vns_sdk.mcp", "vns_sdk.observe"):
    logging.getLogger(_name).addFilter(redactor)


def _printable(value: str | None) -> str:
    """A client-supplied value made safe for a one-line log: control characters escaped, length capped."""
    if not value:
        return "-"
    if len(value) <= 128 and value.isprintable() and " " not in value:
        return value  # the usual GUID or tool name: as is
    # Escape line breaks and other control characters so a caller cannot forge extra log lines.
    return ascii(value[:128])[1:-1].replace(" ", "\\x20") + ("..." if len(value) > 128 else "")


def log_webhook(
    endpoint: str,
    started: float,
    status: int,
    outcome: str,
    *,
    session_guid: str | None = None,
    tool: str | None = None,
    level: int = logging.INFO,
) -> None:
    """Log the line of one webhook; ``started`` is the `time.perf_counter()` value at its arrival.

    The webhook's observation, if any, is told the same outcome, call and tool.
    """
    if _events.ACTIVE:
        _events.note_webhook(status, outcome, session_guid, tool)
    if not logger.isEnabledFor(level):
        return
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    logger.log(
        level,
        "webhook %s session=%s tool=%s outcome=%s status=%d latency_ms=%.3f",
        endpoint,
        _printable(session_guid),
        _printable(tool),
        outcome,
        status,
        latency_ms,
        extra={
            "vns_endpoint": endpoint,
            "vns_session_guid": session_guid,
            "vns_tool": tool,
            "vns_outcome": outcome,
            "vns_status": status,
            "vns_latency_ms": latency_ms,
        },
    )
