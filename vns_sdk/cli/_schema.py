"""Read a tool's JSON-schema parameters for people: describe them, and parse what they type into JSON values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Parameter", "parameters_of", "parse_value"]

_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}


@dataclass(frozen=True)
class Parameter:
    """One property of a tool's parameters.

    Attributes:
        name: The wire name the model sends.
        schema: Its JSON schema (``$ref`` resolved, ``null`` alternatives dropped).
        required: Whether the schema requires it.
        nullable: Whether ``null`` is allowed.
        description: What it is for, if the schema says.
    """

    name: str
    schema: Mapping[str, Any]
    required: bool
    nullable: bool
    description: str | None

    @property
    def type_label(self) -> str:
        """A short type for people: ``string``, ``integer``, ``one of: a, b``, ``array of string``."""
        return _label(self.schema)

    @property
    def choices(self) -> list[Any] | None:
        """The allowed values, when the schema lists them."""
        if "enum" in self.schema:
            return list(self.schema["enum"])
        if "const" in self.schema:
            return [self.schema["const"]]
        return None


def _resolve(schema: Any, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(schema, Mapping):
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        merged = {**_resolve(target, root), **{k: v for k, v in schema.items() if k != "$ref"}}
        return merged
    return schema


def _without_null(schema: Mapping[str, Any], root: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """Drop the ``null`` alternative of an optional value (``anyOf: [X, {type: null}]`` or ``type: [X, null]``)."""
    schema = _resolve(schema, root)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            resolved = [_resolve(option, root) for option in options]
            rest = [option for option in resolved if option.get("type") != "null"]
            nullable = len(rest) < len(resolved)
            if len(rest) == 1:
                outer = {k: v for k, v in schema.items() if k != key}
                return {**rest[0], **outer}, nullable
            return {**schema, key: rest}, nullable
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest_types = [item for item in kind if item != "null"]
        return {**schema, "type": rest_types[0] if len(rest_types) == 1 else rest_types}, True
    return schema, False


def parameters_of(schema: Mapping[str, Any]) -> list[Parameter]:
    """The properties of a tool's ``parameters`` schema, in the schema's order.

    Args:
        schema: A JSON schema of ``"type": "object"``.
    """
    required = set(schema.get("required") or ())
    found = []
    for name, raw in (schema.get("properties") or {}).items():
        resolved, nullable = _without_null(raw, schema)
        description = resolved.get("description") or (raw.get("description") if isinstance(raw, Mapping) else None)
        found.append(Parameter(str(name), resolved, name in required, nullable, description))
    return found


def _label(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "one of: " + ", ".join(json.dumps(value) for value in schema["enum"])
    if "const" in schema:
        return f"always {json.dumps(schema['const'])}"
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return " or ".join(_label(option) for option in schema[key])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(str(item) for item in kind)
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        return f"array of {_label(schema['items'])}"
    label = str(kind) if kind else "any JSON value"
    if "minimum" in schema and "maximum" in schema:
        return f"{label} from {schema['minimum']} to {schema['maximum']}"
    bounds = [
        f"{symbol} {schema[key]}"
        for key, symbol in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))
        if key in schema
    ]
    return f"{label} {', '.join(bounds)}" if bounds else label


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [str(item) for item in kind]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return [t for option in schema[key] if isinstance(option, Mapping) for t in _types(option)]
    return []


def parse_value(text: str, parameter: Parameter) -> Any:
    """Turn what a person typed into the JSON value the model would send for this parameter.

    Args:
        text: The typed text (not empty).
        parameter: The parameter it is for.

    Returns:
        The value: an int for ``integer``, a bool for ``boolean`` (yes/no/true/false), parsed JSON for
        objects and arrays, the text itself for strings, one of the choices (exactly as listed) for an enum.

    Raises:
        ValueError: The text does not fit; the message says what would.
    """
    choices = parameter.choices
    if choices is not None:
        # Exactly as typed: the app refuses "Friday" for "friday", so the model must send the value as listed.
        for choice in choices:
            if text == str(choice) or text == json.dumps(choice):
                return choice
        raise ValueError(f"pick one of: {', '.join(str(choice) for choice in choices)}")
    if parameter.nullable and text == "null":
        return None
    types = _types(parameter.schema)
    if not types:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    problems = []
    for kind in types:
        try:
            return _parse_as(kind, text)
        except ValueError as exc:
            problems.append(str(exc))
    raise ValueError("; ".join(problems))


def _parse_as(kind: str, text: str) -> Any:
    if kind == "string":
        return text
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("type a whole number, like 42") from None
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError("type a number, like 4.5") from None
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if kind == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError("type yes or no")
    if kind in ("object", "array"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"type JSON ({exc.msg})") from None
        if not isinstance(value, dict if kind == "object" else list):
            raise ValueError(f"type a JSON {kind}, like {'{}' if kind == 'object' else '[]'}")
        return value
    if kind == "null":
        if text == "null":
            return None
        raise ValueError("type null")
    raise ValueError(f"unsupported type {kind!r}")
