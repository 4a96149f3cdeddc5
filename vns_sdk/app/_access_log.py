"""The app's logs: one structured line per webhook, and the filters that keep every line one line and secret-free.

Everything goes through the stdlib logger ``vns_sdk.app``, so any logging setup routes it. Each webhook
logs one line such as::

    webhook tools session=9e6a... tool=lookup outcome=ok status=200 latency_ms=0.41

with the same values as ``extra`` fields (``vns_endpoint``, ``vns_session_guid``, ``vns_tool``,
``vns_outcome``, ``vns_status``, ``vns_latency_ms``) for structured handlers. Whatever a client sends, a
record of the package's loggers is one line of printable text (`OneLineFilter`, `printable`) and holds no
registered secret (`SecretRedactor`).
"""

from __future__ import annotations

import logging
import reprlib
import time
import traceback

from vns_sdk._observe import _events

__all__ = ["OneLineFilter", "SecretRedactor", "log_webhook", "logger", "printable", "redactor"]

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


def _escaped(text: str) -> str:
    """``text`` with every character that is not printable (line breaks, controls, lone surrogates) escaped."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def _one_line(arg: object) -> object:
    if isinstance(arg, str):
        return _escaped(arg)
    if isinstance(arg, BaseException):
        try:
            return _escaped(str(arg))
        except Exception:  # an exception whose __str__ fails: logging reports that the way it does
            return arg
    return arg


class OneLineFilter(logging.Filter):
    """Keeps every record of the package on one line of printable text, whatever a client put in its values.

    Text arguments (a sessionGuid, a tool name, an exception's message) may come from a request: their line
    breaks and control characters are escaped, so a caller cannot forge log lines, and their lone surrogates
    too, so a handler writing UTF-8 never fails on them. A traceback (``exc_info``) is left as it is.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(_one_line(arg) for arg in args)
        return True


redactor = SecretRedactor()
_one_line_filter = OneLineFilter()
# A logger's filters see only the records logged on it, not its children's: each of the package's loggers
# that can carry a client's value or a secret gets the filters (a tool's exception text is logged by
# vns_sdk.tools). The line is made safe first, so the redactor sees what is printed.
for _name in ("vns_sdk.app", "vns_sdk.tools", "vns_sdk.state", "vns_sdk.mcp", "vns_sdk.observe"):
    logging.getLogger(_name).addFilter(_one_line_filter)
    logging.getLogger(_name).addFilter(redactor)

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 160


def printable(value: object) -> str:
    """A value made safe for a one-line log: any type, control characters escaped, length capped.

    The usual GUID or tool name is returned as is; ``None`` and ``""`` are ``-``; a value that is not text
    (a client may send a number or an object where a name belongs) is shown by a bounded ``repr``.
    """
    if value is None or (isinstance(value, str) and not value):
        return "-"
    text = value if isinstance(value, str) else _repr.repr(value)
    if len(text) <= 128 and text.isprintable() and " " not in text:
        return text
    # Escape line breaks and other control characters so a caller cannot forge extra log lines.
    return ascii(text[:128])[1:-1].replace(" ", "\\x20") + ("..." if len(text) > 128 else "")


def _text(value: object) -> str | None:
    """A client's value as the observation holds it: text as it came, anything else shown as in the log."""
    return value if value is None or isinstance(value, str) else printable(value)


def log_webhook(
    endpoint: str,
    started: float,
    status: int,
    outcome: str,
    *,
    session_guid: object = None,
    tool: object = None,
    level: int = logging.INFO,
) -> None:
    """Log the line of one webhook; ``started`` is the `time.perf_counter()` value at its arrival.

    The webhook's observation, if any, is told the same outcome, call and tool.
    """
    if _events.ACTIVE:
        _events.note_webhook(status, outcome, _text(session_guid), _text(tool))
    if not logger.isEnabledFor(level):
        return
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    logger.log(
        level,
        "webhook %s session=%s tool=%s outcome=%s status=%d latency_ms=%.3f",
        endpoint,
        printable(session_guid),
        printable(tool),
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
