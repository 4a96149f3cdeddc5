"""What a pydantic validation error says, fit to show: field problems, and tool argument problems in plain words.

Both forms leave out pydantic's documentation URLs and the offending input, which could hold anything the
sender sent (a secret included):

- `field_problems`: ``{"field": "a.b", "problem": "Field required"}``, pydantic's own message under the
  dotted wire path, for the app's error answers and for configuration errors (`problem_summary`);
- `argument_problems`: ``{"argument": "items[0].qty", "problem": "must be a whole number"}``, one per
  argument in words the model can repeat to the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = ["argument_problems", "field_problems", "problem_summary"]

_MAX_PROBLEMS = 10
_MAX_PROBLEM_CHARS = 200

_PLAIN_PROBLEMS = {
    "missing": "is required but was not given",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dataclass_type": "must be an object",
    "date_type": "must be a date like 2025-01-31",
    "date_parsing": "must be a date like 2025-01-31",
    "date_from_datetime_parsing": "must be a date like 2025-01-31",
    "datetime_type": "must be a date and time like 2025-01-31T14:30:00",
    "datetime_parsing": "must be a date and time like 2025-01-31T14:30:00",
    "datetime_from_date_parsing": "must be a date and time like 2025-01-31T14:30:00",
    "time_type": "must be a time like 14:30",
    "time_parsing": "must be a time like 14:30",
    "uuid_type": "must be a UUID",
    "uuid_parsing": "must be a UUID",
}

# pydantic says "Input should ...", "String should ...": the argument's name is the subject instead.
_SUBJECT = re.compile(
    r"^(?:Input|String|List|Value|Dictionary|Tuple|Set|Frozenset|Decimal|Object|Data|Date|Datetime|Time) should"
)


def _errors(exc: ValidationError) -> list[ErrorDetails]:
    return exc.errors(include_url=False, include_input=False, include_context=False)


def field_problems(exc: ValidationError) -> list[dict[str, str]]:
    """One ``{"field": ..., "problem": ...}`` per error of ``exc``; the field is a dotted wire path.

    The problem is pydantic's message; a problem with the whole value is under ``"(body)"``.
    """
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "(body)", "problem": error["msg"]}
        for error in _errors(exc)
    ]


def problem_summary(exc: ValidationError) -> str:
    """The field problems of ``exc`` on one line, ``field: problem; field: problem``, for an exception message."""
    return "; ".join(f"{problem['field']}: {problem['problem']}" for problem in field_problems(exc))


def argument_problems(exc: ValidationError, argument: Callable[[tuple[int | str, ...]], str]) -> list[dict[str, str]]:
    """One ``{"argument": ..., "problem": ...}`` per argument that failed (at most ten), in plain words.

    Args:
        exc: The validation error of a tool's arguments.
        argument: Names the argument at an error's location, as the model knows it (its wire path).
    """
    problems: dict[str, list[str]] = {}
    for error in _errors(exc):
        texts = problems.setdefault(argument(error["loc"]), [])
        text = _plain_problem(error)
        if text not in texts:
            texts.append(text)
    # One entry per argument: the members of a union each report, "must be a number or must be text".
    return [{"argument": arg, "problem": " or ".join(texts)} for arg, texts in problems.items()][:_MAX_PROBLEMS]


def _plain_problem(error: ErrorDetails) -> str:
    """What is wrong, in words that follow the argument's name: ``must be a whole number``.

    Common errors have words of their own; others keep pydantic's message without its subject, shortened
    to 200 characters.
    """
    text = _PLAIN_PROBLEMS.get(error["type"])
    if text is None:
        text = error["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            text = text.removeprefix(prefix)
        text = _SUBJECT.sub("should", text, count=1)
    if len(text) > _MAX_PROBLEM_CHARS:
        text = text[: _MAX_PROBLEM_CHARS - 3] + "..."
    return text
