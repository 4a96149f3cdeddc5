"""The schema each signature produces, pinned: types, docstring styles, aliases, defaults, nesting.

Every schema is also checked against the JSON Schema meta-schema and for the things the Realtime API
(or other consumers) reject: ``$ref``, ``$defs``, ``oneOf``, auto-generated ``title``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import jsonschema
import pytest
from pydantic import BaseModel, Field
from typing_extensions import NotRequired, TypedDict

from vns_sdk.context import CallContext
from vns_sdk.tools import Tool, ToolRouter, end_conversation

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    """Cup size."""

    SMALL = 1
    LARGE = 2


class Address(BaseModel):
    """A postal address."""

    street: str = Field(description="Street and number.")
    zip_code: str | None = Field(None, alias="zipCode")
    title: str = "home"  # a property named "title" is data, not noise


class Line(BaseModel):
    sku: str
    quantity: Annotated[int, Field(ge=1)] = 1


@dataclasses.dataclass
class Slot:
    """A time slot."""

    day: dt.date
    hour: int = 9


class Person(TypedDict):
    name: str
    age: NotRequired[int]


class Cat(BaseModel):
    kind: Literal["cat"] = "cat"
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"] = "dog"
    good: bool


# --- the signatures ----------------------------------------------------------------------------------


def no_params() -> str:
    """Checks that the line works."""
    return "ok"


def scalars(text: str, count: int, ratio: float, flag: bool) -> None:
    """Scalars."""


def defaults(party: int = 2, note: str = "none", flag: bool = False, ratio: float = 0.5) -> None:
    """Defaults."""


def optional_none(note: str | None = None, count: Optional[int] = None, size: Union[str, None] = None) -> None:  # noqa: UP007, UP045
    """Optional, left out."""


def optional_union(value: int | str | None = None) -> None:
    """Several types or nothing."""


def optional_required(note: str | None) -> None:
    """Optional but required: null is a real value here."""


def optional_with_default(count: int | None = 3) -> None:
    """Optional with a default other than None."""


def literals(kind: Literal["table", "bar"], level: Literal[1, 2, 3] = 1, only: Literal["x"] = "x") -> None:
    """Literals."""


def enums(color: Color, size: Size = Size.SMALL) -> None:
    """Enums."""


def collections(tags: list[str], ids: set[int], pair: tuple[int, str], scores: dict[str, float]) -> None:
    """Collections."""


def nested_model(address: Address, lines: list[Line] | None = None) -> None:
    """Nested models."""


def nested_dataclass(slot: Slot, other: Slot | None = None) -> None:
    """Dataclass.

    Args:
        other: Another slot; the parameter's words win over the type's docstring.
    """


def nested_typeddict(person: Person) -> None:
    """TypedDict."""


def constraints(
    count: Annotated[int, Field(ge=1, le=10)],
    code: Annotated[str, Field(min_length=2, max_length=5, pattern=r"^\d+$")],
    price: Annotated[float, Field(gt=0, lt=1000)],
    items: Annotated[list[str], Field(min_length=1, max_length=3)],
) -> None:
    """Constraints."""


def annotated_descriptions(
    a: Annotated[str, "From a bare string."],
    b: Annotated[str, Field(description="From Field.")],
    c: str = Field("x", description="From a Field default."),
    d: str = "y",
) -> None:
    """Descriptions from every source.

    Args:
        a: Loses to the Annotated string.
        b: Loses to Field.
        c: Loses to the Field default.
        d: From the docstring.
    """


def aliases(
    phone_number: Annotated[str, Field(alias="phoneNumber")],
    call_id: Annotated[str | None, Field(alias="callId", description="The call.")] = None,
) -> None:
    """Aliases.

    Args:
        phone_number: The number.
    """


def special_formats(day: dt.date, at: dt.datetime, when: dt.time, ref: uuid.UUID) -> None:
    """Formats."""


def unions(value: int | str, pet: Annotated[Cat | Dog, Field(discriminator="kind")]) -> None:
    """Unions, and a discriminated union (oneOf in pydantic's schema)."""


def anything(payload: Any, extra: dict[str, Any] | None = None) -> None:
    """Any."""


def context_anywhere(name: str, call: CallContext, count: int = 1) -> None:
    """The context is left out wherever it is."""


def optional_context(call: CallContext | None, name: str) -> None:
    """An optional CallContext is still the context."""


def odd_names(json: int, _hidden: str = "h", schema: bool = True, model_name: str = "m") -> None:
    """Names pydantic would refuse as field names."""


def positional_only(first: str, /, second: int = 0) -> None:
    """Positional-only parameters are arguments like any other."""


def google_style(city: str, days: int = 1, units: str = "metric") -> None:
    """Gets the weather forecast for a city,
    for the next few days.

    Use it when the caller asks about the weather.

    Args:
        city: The city, as the caller said it.
        days: How many days,
            from 1 to 7.

    Keyword Args:
        units: metric or imperial.

    Returns:
        The forecast.

    Raises:
        ValueError: Never.
    """


def numpy_style(city: str, days: int = 1) -> None:
    """Gets the weather forecast for a city.

    Parameters
    ----------
    city : str
        The city, as the caller
        said it.
    days : int, optional
        How many days.

    Returns
    -------
    dict
        The forecast.
    """


def sphinx_style(city: str, days: int = 1) -> None:
    """Gets the weather forecast for a city.

    :param city: The city, as the caller said it.
    :type city: str
    :param days: How many days.
    :returns: The forecast.
    """


def args_first(city: str, days: int = 1) -> None:
    """Args:
    city: The city, as the caller said it.
    days: How many days,
        from 1 to 7.
    """


def args_first_then_returns(city: str) -> None:
    """Args:
        city: The city.

    Returns:
        The forecast.
    """


STRING = {"type": "string"}
INTEGER = {"type": "integer"}

CASES: list[tuple[Callable[..., Any], dict[str, Any]]] = [
    (no_params, {"type": "object", "properties": {}}),
    (
        scalars,
        {
            "type": "object",
            "properties": {"text": STRING, "count": INTEGER, "ratio": {"type": "number"}, "flag": {"type": "boolean"}},
            "required": ["text", "count", "ratio", "flag"],
        },
    ),
    (
        defaults,
        {
            "type": "object",
            "properties": {
                "party": {"type": "integer", "default": 2},
                "note": {"type": "string", "default": "none"},
                "flag": {"type": "boolean", "default": False},
                "ratio": {"type": "number", "default": 0.5},
            },
        },
    ),
    (optional_none, {"type": "object", "properties": {"note": STRING, "count": INTEGER, "size": STRING}}),
    (optional_union, {"type": "object", "properties": {"value": {"anyOf": [INTEGER, STRING]}}}),
    (
        optional_required,
        {
            "type": "object",
            "properties": {"note": {"anyOf": [STRING, {"type": "null"}]}},
            "required": ["note"],
        },
    ),
    (
        optional_with_default,
        {"type": "object", "properties": {"count": {"anyOf": [INTEGER, {"type": "null"}], "default": 3}}},
    ),
    (
        literals,
        {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["table", "bar"]},
                "level": {"type": "integer", "default": 1, "enum": [1, 2, 3]},
                "only": {"type": "string", "const": "x", "default": "x"},
            },
            "required": ["kind"],
        },
    ),
    (
        enums,
        {
            "type": "object",
            "properties": {
                "color": {"type": "string", "enum": ["red", "blue"]},
                "size": {"type": "integer", "description": "Cup size.", "enum": [1, 2], "default": 1},
            },
            "required": ["color"],
        },
    ),
    (
        collections,
        {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": STRING},
                "ids": {"type": "array", "items": INTEGER, "uniqueItems": True},
                "pair": {"type": "array", "maxItems": 2, "minItems": 2, "prefixItems": [INTEGER, STRING]},
                "scores": {"type": "object", "additionalProperties": {"type": "number"}},
            },
            "required": ["tags", "ids", "pair", "scores"],
        },
    ),
    (
        nested_model,
        {
            "type": "object",
            "properties": {
                "address": {
                    "type": "object",
                    "description": "A postal address.",
                    "properties": {
                        "street": {"type": "string", "description": "Street and number."},
                        "zipCode": STRING,
                        "title": {"type": "string", "default": "home"},
                    },
                    "required": ["street"],
                },
                "lines": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "sku": STRING,
                            "quantity": {"type": "integer", "default": 1, "minimum": 1},
                        },
                        "required": ["sku"],
                    },
                },
            },
            "required": ["address"],
        },
    ),
    (
        nested_dataclass,
        {
            "type": "object",
            "properties": {
                "slot": {
                    "type": "object",
                    "description": "A time slot.",
                    "properties": {
                        "day": {"type": "string", "format": "date"},
                        "hour": {"type": "integer", "default": 9},
                    },
                    "required": ["day"],
                },
                "other": {
                    "type": "object",
                    "description": "Another slot; the parameter's words win over the type's docstring.",
                    "properties": {
                        "day": {"type": "string", "format": "date"},
                        "hour": {"type": "integer", "default": 9},
                    },
                    "required": ["day"],
                },
            },
            "required": ["slot"],
        },
    ),
    (
        nested_typeddict,
        {
            "type": "object",
            "properties": {
                "person": {
                    "type": "object",
                    "properties": {"name": STRING, "age": INTEGER},
                    "required": ["name"],
                }
            },
            "required": ["person"],
        },
    ),
    (
        constraints,
        {
            "type": "object",
            "properties": {
                "count": {"type": "integer", "maximum": 10, "minimum": 1},
                "code": {"type": "string", "maxLength": 5, "minLength": 2, "pattern": "^\\d+$"},
                "price": {"type": "number", "exclusiveMaximum": 1000, "exclusiveMinimum": 0},
                "items": {"type": "array", "items": STRING, "maxItems": 3, "minItems": 1},
            },
            "required": ["count", "code", "price", "items"],
        },
    ),
    (
        annotated_descriptions,
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "description": "From a bare string."},
                "b": {"type": "string", "description": "From Field."},
                "c": {"type": "string", "description": "From a Field default.", "default": "x"},
                "d": {"type": "string", "description": "From the docstring.", "default": "y"},
            },
            "required": ["a", "b"],
        },
    ),
    (
        aliases,
        {
            "type": "object",
            "properties": {
                "phoneNumber": {"type": "string", "description": "The number."},
                "callId": {"type": "string", "description": "The call."},
            },
            "required": ["phoneNumber"],
        },
    ),
    (
        special_formats,
        {
            "type": "object",
            "properties": {
                "day": {"type": "string", "format": "date"},
                "at": {"type": "string", "format": "date-time"},
                "when": {"type": "string", "format": "time"},
                "ref": {"type": "string", "format": "uuid"},
            },
            "required": ["day", "at", "when", "ref"],
        },
    ),
    (
        unions,
        {
            "type": "object",
            "properties": {
                "value": {"anyOf": [INTEGER, STRING]},
                "pet": {
                    "anyOf": [
                        {
                            "type": "object",
                            "properties": {
                                "kind": {"type": "string", "const": "cat", "default": "cat"},
                                "lives": INTEGER,
                            },
                            "required": ["lives"],
                        },
                        {
                            "type": "object",
                            "properties": {
                                "kind": {"type": "string", "const": "dog", "default": "dog"},
                                "good": {"type": "boolean"},
                            },
                            "required": ["good"],
                        },
                    ]
                },
            },
            "required": ["value", "pet"],
        },
    ),
    (
        anything,
        {
            "type": "object",
            "properties": {"payload": {}, "extra": {"type": "object", "additionalProperties": True}},
            "required": ["payload"],
        },
    ),
    (
        context_anywhere,
        {
            "type": "object",
            "properties": {"name": STRING, "count": {"type": "integer", "default": 1}},
            "required": ["name"],
        },
    ),
    (optional_context, {"type": "object", "properties": {"name": STRING}, "required": ["name"]}),
    (
        odd_names,
        {
            "type": "object",
            "properties": {
                "json": INTEGER,
                "_hidden": {"type": "string", "default": "h"},
                "schema": {"type": "boolean", "default": True},
                "model_name": {"type": "string", "default": "m"},
            },
            "required": ["json"],
        },
    ),
    (
        positional_only,
        {
            "type": "object",
            "properties": {"first": STRING, "second": {"type": "integer", "default": 0}},
            "required": ["first"],
        },
    ),
    (
        google_style,
        {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, as the caller said it."},
                "days": {"type": "integer", "description": "How many days, from 1 to 7.", "default": 1},
                "units": {"type": "string", "description": "metric or imperial.", "default": "metric"},
            },
            "required": ["city"],
        },
    ),
    (
        args_first,
        {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, as the caller said it."},
                "days": {"type": "integer", "description": "How many days, from 1 to 7.", "default": 1},
            },
            "required": ["city"],
        },
    ),
    (
        args_first_then_returns,
        {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city."}},
            "required": ["city"],
        },
    ),
    (
        numpy_style,
        {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, as the caller said it."},
                "days": {"type": "integer", "description": "How many days.", "default": 1},
            },
            "required": ["city"],
        },
    ),
    (
        sphinx_style,
        {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, as the caller said it."},
                "days": {"type": "integer", "description": "How many days.", "default": 1},
            },
            "required": ["city"],
        },
    ),
]


def _walk(node: Any) -> Any:
    """Every dict key in a schema, at any depth (property names included)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


@pytest.mark.parametrize(("fn", "expected"), CASES, ids=[fn.__name__ for fn, _ in CASES])
def test_schema_is_pinned(fn: Callable[..., Any], expected: dict[str, Any]) -> None:
    assert Tool.from_function(fn).parameters == expected


@pytest.mark.parametrize("fn", [fn for fn, _ in CASES], ids=[fn.__name__ for fn, _ in CASES])
def test_schema_is_valid_and_self_contained(fn: Callable[..., Any]) -> None:
    schema = Tool.from_function(fn).parameters
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert list(schema)[:2] == ["type", "properties"]
    assert schema.get("required", ["x"]) != [], "an empty required list is left out"
    keys = {key for key, _ in _walk(schema) if key not in schema["properties"]}
    keys -= {"title"} if fn is nested_model else set()  # Address has a property named "title"
    assert not keys & {"$ref", "$defs", "definitions", "oneOf", "title", "discriminator"}
    json.dumps(schema, allow_nan=False)  # plain JSON


def test_titles_are_dropped_but_a_property_named_title_is_kept() -> None:
    address = Tool.from_function(nested_model).parameters["properties"]["address"]
    assert "title" not in address
    assert address["properties"]["title"] == {"type": "string", "default": "home"}


def test_description_is_summary_and_long_description_without_sections() -> None:
    tool = Tool.from_function(google_style)
    assert tool.description == (
        "Gets the weather forecast for a city, for the next few days.\n\nUse it when the caller asks about the weather."
    )
    assert Tool.from_function(numpy_style).description == "Gets the weather forecast for a city."
    assert Tool.from_function(sphinx_style).description == "Gets the weather forecast for a city."
    assert Tool.from_function(args_first).description is None


def test_list_items_keep_their_lines() -> None:
    def menu() -> None:
        """Reads the menu to the caller.

        Offer, in this order:

        - the soup of the day,
          then
        - the specials.
        """

    assert Tool.from_function(menu).description == (
        "Reads the menu to the caller.\n\nOffer, in this order:\n\n- the soup of the day, then\n- the specials."
    )


def test_no_docstring_means_no_description() -> None:
    def quiet(x: int) -> int:
        return x

    tool = Tool.from_function(quiet)
    assert tool.description is None
    assert tool.to_dict() == {"type": "function", "name": "quiet", "parameters": tool.parameters}


def test_overrides_win_over_the_function() -> None:
    tool = Tool.from_function(no_params, name="ping-line", description="Pings.")
    assert (tool.name, tool.description) == ("ping-line", "Pings.")


def test_schema_accepts_what_the_validator_accepts() -> None:
    # The same arguments pass the JSON Schema the model sees and the validator the handler gets.
    tool = Tool.from_function(nested_model)
    arguments = {"address": {"street": "1 Main St", "zipCode": "80202"}, "lines": [{"sku": "A1", "quantity": 2}]}
    jsonschema.validate(arguments, tool.parameters)
    args, kwargs = tool.metadata.bind(tool.name, arguments, None)
    assert kwargs["address"].zip_code == "80202"
    assert kwargs["lines"][0].quantity == 2


# --- the seed's tools --------------------------------------------------------------------------------


def lookup_name_or_phone(
    call: CallContext,
    name: str | None = None,
    phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,
) -> dict[str, Any]:
    """Looks up the name of a person from a phone number or looks up the phone number of a person from a name.

    Args:
        name: Name of the person to search for.
        phone_number: Phone number to search, preferably in E.164 format like +13035551212
    """
    return {}


def test_seed_tools_are_reproduced_exactly() -> None:
    seed = json.loads((SPEC / "call_start_response.json").read_text())["session"]["tools"]
    router = ToolRouter([end_conversation, lookup_name_or_phone])
    assert [tool.to_dict() for tool in router] == seed
    dumped = [tool.model_dump(mode="json", exclude_none=True) for tool in router.function_tools()]
    assert dumped == seed
