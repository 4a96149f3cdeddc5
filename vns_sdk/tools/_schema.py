"""Turn pydantic's JSON Schema into the self-contained schema the Realtime API takes.

pydantic writes a correct schema, but one that several consumers reject or that costs tokens for
nothing. This module rewrites it:

- every ``$ref`` is replaced by the definition it points to, and ``$defs`` is dropped (a recursive
  type cannot be inlined: `RecursiveSchemaError`);
- ``oneOf`` becomes ``anyOf`` (OpenAI answers 400 to ``oneOf``) and ``discriminator`` is dropped;
- auto-generated ``title`` keys are dropped;
- a property whose default is ``None`` means "may be left out": it is shown with its non-null type
  and without ``"default": null``;
- ``type`` then ``description`` come first in each schema, for readability.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["RecursiveSchemaError", "clean_schema", "schema_types"]

# Keywords whose value is one schema, a list of schemas, or a name -> schema map. Everything else
# (default, enum, const, examples, ...) is data and is copied untouched.
_SCHEMA_KEYS = frozenset({"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else"})
_SCHEMA_LIST_KEYS = frozenset({"anyOf", "allOf", "oneOf", "prefixItems"})
_SCHEMA_MAP_KEYS = frozenset({"properties", "patternProperties", "dependentSchemas"})
_DROPPED_KEYS = frozenset({"title", "discriminator", "$defs", "definitions"})
_FIRST_KEYS = ("type", "description")
_NULL = {"type": "null"}


class RecursiveSchemaError(ValueError):
    """A type refers to itself, so its schema cannot be written without ``$ref``."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def clean_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of pydantic's schema rewritten as the module docstring says."""
    defs: Mapping[str, Any] = schema.get("$defs") or schema.get("definitions") or {}
    return _clean(schema, defs, ())


def _clean(node: Mapping[str, Any], defs: Mapping[str, Any], stack: tuple[str, ...]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in stack:
            raise RecursiveSchemaError(name)
        target = _clean(defs[name], defs, (*stack, name))
        siblings = _clean({k: v for k, v in node.items() if k != "$ref"}, defs, stack)
        return _ordered({**target, **siblings})

    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS:
            continue
        if key in _SCHEMA_KEYS and isinstance(value, Mapping):
            out[key] = _clean(value, defs, stack)
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            out["anyOf" if key == "oneOf" else key] = [_clean(item, defs, stack) for item in value]
        elif key in _SCHEMA_MAP_KEYS and isinstance(value, Mapping):
            out[key] = {name: _optional_none(_clean(sub, defs, stack)) for name, sub in value.items()}
        else:
            out[key] = value

    # pydantic before 2.9 wraps a $ref that has siblings in a one-item allOf; merge it.
    all_of = out.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:  # pragma: no cover - older pydantic
        del out["allOf"]
        out = {**all_of[0], **out}
    return _ordered(out)


def _optional_none(prop: dict[str, Any]) -> dict[str, Any]:
    """A property defaulting to ``None`` is optional: show its non-null type, without the default."""
    if "default" not in prop or prop["default"] is not None:
        return prop
    prop = {k: v for k, v in prop.items() if k != "default"}
    any_of = prop.get("anyOf")
    if isinstance(any_of, list) and _NULL in any_of:
        rest = [branch for branch in any_of if branch != _NULL]
        if len(rest) == 1:
            del prop["anyOf"]
            prop = {**rest[0], **prop}
        elif rest:
            prop["anyOf"] = rest
    return _ordered(prop)


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    if not any(key in node for key in _FIRST_KEYS):
        return node
    first = {key: node[key] for key in _FIRST_KEYS if key in node}
    return {**first, **{k: v for k, v in node.items() if k not in first}}


def schema_types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types a (cleaned) schema admits, looking through ``anyOf``/``allOf``; empty means any."""
    types: set[str] = set()
    declared = schema.get("type")
    if isinstance(declared, str):
        types.add(declared)
    elif isinstance(declared, list):
        types.update(t for t in declared if isinstance(t, str))
    if "properties" in schema:
        types.add("object")
    for key in ("anyOf", "allOf"):
        for branch in schema.get(key) or ():
            if isinstance(branch, Mapping):
                types |= schema_types(branch)
    return types
