"""Timestamps as Voice Nexus Service (a .NET service) writes them.

VNS sends round-trip .NET timestamps such as ``2026-03-20T02:43:39.6521589Z``: seven fractional digits
(100-nanosecond ticks), one more than Python's `datetime` holds. `DotNetTimestamp` parses them into a
`DotNetDateTime`, a `datetime` that remembers the seventh digit and how many digits it was written
with, so a payload dumps back to the very same text. Plain `datetime` values dump in the .NET form with
seven digits.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Annotated, Any

from pydantic import PlainSerializer, ValidatorFunctionWrapHandler, WrapValidator
from typing_extensions import TypeAliasType

__all__ = ["DotNetDateTime", "DotNetTimestamp", "format_dotnet", "parse_dotnet"]

# ASCII digits only, as datetime.fromisoformat reads them.
_PATTERN = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|z|[+-]\d{2}:?\d{2})?", re.ASCII
)


class DotNetDateTime(datetime):
    """A `datetime` that keeps what Python's microseconds drop from a .NET timestamp.

    Attributes:
        extra_ticks: The 100-nanosecond digit beyond the microsecond (0 to 9).
        fraction_digits: How many fractional digits the timestamp was written with (0 to 7).

    Comparisons and arithmetic ignore both: they work to the microsecond, like any `datetime`.
    """

    extra_ticks: int = 0
    fraction_digits: int = 7

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # datetime pickles (and deep-copies) from its own fields only: carry ours along.
        plain = datetime(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.microsecond,
            self.tzinfo,
            fold=self.fold,
        )
        return (_rebuild, (plain, self.extra_ticks, self.fraction_digits))


def _rebuild(plain: datetime, extra_ticks: int, fraction_digits: int) -> DotNetDateTime:
    value = DotNetDateTime(
        plain.year,
        plain.month,
        plain.day,
        plain.hour,
        plain.minute,
        plain.second,
        plain.microsecond,
        plain.tzinfo,
        fold=plain.fold,
    )
    value.extra_ticks = extra_ticks
    value.fraction_digits = fraction_digits
    return value


def _zone(text: str | None) -> tzinfo | None:
    if text is None:
        return None
    if text in ("Z", "z"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone.utc if not offset else timezone(sign * offset)


def parse_dotnet(text: str) -> DotNetDateTime | None:
    """Parse a .NET round-trip timestamp (up to seven fractional digits; more are truncated).

    Args:
        text: The timestamp, e.g. ``2026-03-20T02:43:39.6521589Z``.

    Returns:
        The timestamp, or ``None`` when `text` is not in that form.

    Raises:
        ValueError: The text has the form but names an impossible date or time.
    """
    text = text.strip()
    if (  # the form VNS writes (seven digits, UTC), read by datetime's C parser; every other form by the pattern
        len(text) == 28
        and text[27] == "Z"
        and text[19] == "."
        and text[10] == "T"
        and text[4] == text[7] == "-"
        and text[13] == text[16] == ":"
        and "0" <= text[26] <= "9"
    ):
        try:
            fast = DotNetDateTime.fromisoformat(text)
        except ValueError:
            pass  # an impossible date (the reading below says so), or Python 3.10, whose parser reads no "Z"
        else:
            fast.extra_ticks = ord(text[26]) - 48
            fast.fraction_digits = 7
            return fast
    return _read(text)


def _read(text: str) -> DotNetDateTime | None:
    """`parse_dotnet` by the pattern, for every form it accepts."""
    match = _PATTERN.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    fraction = (fraction or "")[:7]
    ticks = fraction.ljust(7, "0")
    # Built in one step (it runs for every timestamp of every webhook); an impossible date raises ValueError.
    value = DotNetDateTime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), int(ticks[:6]), _zone(zone)
    )
    value.extra_ticks = int(ticks[6])
    value.fraction_digits = len(fraction)
    return value


def format_dotnet(value: datetime) -> str:
    """Write a `datetime` as .NET does: ``Z`` for UTC, an offset for other zones, nothing for naive values.

    A `DotNetDateTime` keeps the number of fractional digits it was read with; other values get seven.

    Args:
        value: The timestamp.

    Returns:
        The text, e.g. ``2026-03-20T02:43:39.6521589Z``.
    """
    text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    extra, digits = (value.extra_ticks, value.fraction_digits) if isinstance(value, DotNetDateTime) else (0, 7)
    if digits:
        text += "." + f"{value.microsecond:06d}{extra}"[:digits]
    offset = value.utcoffset()
    if offset is None:
        return text
    if not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = parse_dotnet(value)
        except ValueError:
            parsed = None  # pydantic's own parser gives the readable error
        if parsed is not None:
            return parsed
    return handler(value)


DotNetTimestamp = TypeAliasType(
    "DotNetTimestamp",
    Annotated[
        datetime,
        WrapValidator(_validate),
        PlainSerializer(format_dotnet, return_type=str, when_used="json"),
    ],
)
"""A `datetime` field read and written in the .NET round-trip form (see the module docstring)."""
