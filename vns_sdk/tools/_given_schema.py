"""The arguments of a tool whose JSON Schema is given rather than read from a signature (a proxied tool).

An MCP server's tool, for instance, arrives as a name, a description and an input schema. `SchemaArguments`
plays for such a tool the part `FunctionMetadata` plays for a function: the schema the model sees is made
Realtime-safe by the same `clean_schema`, and each call's arguments are checked against the schema as
given (with ``jsonschema``) before the handler runs, so the model hears the same ``invalid_arguments``
answer, in the same words, whichever kind of tool it called. The handler receives the arguments as one
dict, and the call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vns_sdk.exceptions import InvalidToolSignature, ToolArgumentsError
from vns_sdk.tools._schema import RecursiveSchemaError, clean_schema, schema_types

if TYPE_CHECKING:
    from jsonschema import ValidationError as SchemaError

    from vns_sdk.context import CallContext

__all__ = ["SchemaArguments", "schema_arguments"]

_MAX_PROBLEMS = 10
_MAX_PROBLEM_CHARS = 200
_TYPE_WORDS = {
    "string": "must be text",
    "integer": "must be a whole number",
    "number": "must be a number",
    "boolean": "must be true or false",
    "array": "must be a list",
    "object": "must be an object",
    "null": "must be empty (null)",
}


@dataclass(frozen=True, eq=False)
class SchemaArguments:
    """What a call of a tool with a given schema needs: the schema shown, the validator, the JSON-text keys.

    Attributes:
        description: The tool's description, or ``None``.
        parameters: The Realtime-safe schema the model sees (``{"type": "object", "properties": ...}``).
        source_schema: The schema as given, which the arguments are checked against.
        json_keys: Arguments whose values may arrive as JSON text (object and list arguments).
        drop_unknown: Leave out arguments the schema does not declare (it forbids them; the model may add one).
    """

    description: str | None
    parameters: dict[str, Any]
    source_schema: dict[str, Any] = field(repr=False)
    json_keys: frozenset[str]
    drop_unknown: bool
    _validator: Any = field(repr=False, compare=False)
    is_async: bool = field(default=True, init=False)
    context_param: None = field(default=None, init=False)
    """Such a tool asks for no `CallContext` (its handler receives one, to pass along, not as a parameter)."""

    def bind(
        self, tool_name: str, arguments: Mapping[str, Any], call: CallContext | None
    ) -> tuple[list[Any], dict[str, Any]]:
        """Check the model's arguments and return ``([arguments, call], {})`` for the handler.

        Raises:
            ToolArgumentsError: The arguments do not fit the schema.
        """
        values = dict(arguments) if isinstance(arguments, Mapping) else arguments
        if isinstance(values, dict):
            if self.drop_unknown:
                declared = self.source_schema.get("properties") or {}
                values = {key: value for key, value in values.items() if key in declared}
            for key in self.json_keys:
                text = values.get(key)
                if type(text) is str:
                    try:
                        parsed = json.loads(text)
                    except ValueError:
                        continue
                    if isinstance(parsed, (dict, list)):
                        values[key] = parsed
        problems = _problems(self._validator.iter_errors(values), list(self.source_schema.get("properties") or ()))
        if problems:
            raise ToolArgumentsError(tool_name, problems)
        return [values, call], {}


def schema_arguments(tool_name: str, schema: Mapping[str, Any], description: str | None) -> SchemaArguments:
    """Build the `SchemaArguments` of a tool from the JSON Schema of its arguments.

    Raises:
        InvalidToolSignature: The schema is not a valid JSON Schema of an object, or it refers to itself
            (a Realtime tool schema must be self-contained).
    """
    from jsonschema import SchemaError as InvalidSchema
    from jsonschema.validators import validator_for

    source = dict(schema)
    if source.get("type", "object") != "object":
        raise InvalidToolSignature(
            f"Tool {tool_name!r}: its arguments must be an object schema, not {source['type']!r}."
        )
    cls = validator_for(source)
    try:
        cls.check_schema(source)
    except InvalidSchema as exc:
        raise InvalidToolSignature(
            f"Tool {tool_name!r}: its schema is not valid JSON Schema ({exc.message})."
        ) from None
    try:
        cleaned = clean_schema(source)
    except (RecursiveSchemaError, KeyError) as exc:
        raise InvalidToolSignature(
            f"Tool {tool_name!r}: its schema refers to itself or to a missing definition ({exc}); a Realtime tool "
            "schema must be self-contained."
        ) from None
    found = cleaned.get("properties")
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if cleaned.get("required"):
        parameters["required"] = list(cleaned["required"])
    json_keys = frozenset(
        name
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and (types := schema_types(prop)) & {"object", "array"} and "string" not in types
    )
    return SchemaArguments(
        description=description,
        parameters=parameters,
        source_schema=source,
        json_keys=json_keys,
        drop_unknown=source.get("additionalProperties") is False and "properties" in source,
        _validator=cls(source),
    )


def _problems(errors: Any, order: list[str]) -> list[dict[str, str]]:
    """``{"argument", "problem"}`` entries in the words `vns_sdk._problems` uses, without the offending value.

    They come in the order of the schema's properties, as a function tool's come in the order of its parameters.
    """
    problems: dict[str, list[str]] = {}
    for error in errors:
        for argument, text in _describe(error):
            texts = problems.setdefault(argument, [])
            if text not in texts:
                texts.append(text)
        if len(problems) >= _MAX_PROBLEMS:
            break
    position = {name: index for index, name in enumerate(order)}
    ranked = sorted(
        problems.items(), key=lambda item: position.get(re.split(r"[.\[]", item[0], maxsplit=1)[0], len(order))
    )
    return [{"argument": argument, "problem": " or ".join(texts)} for argument, texts in ranked]


def _describe(error: SchemaError) -> list[tuple[str, str]]:
    path = _path(error.absolute_path)
    kind = error.validator
    wanted: Any = error.validator_value
    if kind == "required":
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        missing = [name for name in wanted if name not in instance]
        return [(_join(path, name), "is required but was not given") for name in missing]
    if kind == "type":
        kinds = wanted if isinstance(wanted, list) else [wanted]
        text = " or ".join(_TYPE_WORDS.get(str(name), f"must be of type {name}") for name in kinds)
    elif kind == "enum":
        text = "must be one of " + ", ".join(json.dumps(value) for value in wanted)
    elif kind == "const":
        text = f"must be {json.dumps(wanted)}"
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than"}
        text = f"must be {words.get(str(kind), 'less than')} {wanted}"
    elif kind in ("minLength", "maxLength", "minItems", "maxItems"):
        unit = "characters" if "Length" in str(kind) else "items"
        text = f"must have {'at least' if str(kind).startswith('min') else 'at most'} {wanted} {unit}"
    elif kind == "pattern":
        text = f"must match the pattern {wanted}"
    elif kind == "additionalProperties":
        text = "has fields that are not allowed"
    elif kind in ("anyOf", "oneOf"):
        text = "does not match any of the allowed forms"
    else:
        text = f"is not valid ({kind})"
    if len(text) > _MAX_PROBLEM_CHARS:
        text = text[: _MAX_PROBLEM_CHARS - 3] + "..."
    return [(path or "arguments", text)]


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text = f"{text}[{part}]" if isinstance(part, int) else _join(text, str(part))
    return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
