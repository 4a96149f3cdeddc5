"""Tool results become JSON: every supported type, through `to_jsonable` and through `invoke_tool`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
from collections import OrderedDict, deque
from decimal import Decimal
from ipaddress import IPv4Address
from pathlib import PurePosixPath
from typing import Annotated, Any, NamedTuple

import pytest
from pydantic import BaseModel, Field

from vns_sdk.context import CallContext
from vns_sdk.tools import ToolRouter, invoke_tool, to_jsonable


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Contact(BaseModel):
    contact_found: Annotated[bool, Field(alias="contactFound")]
    when: dt.date


@dataclasses.dataclass
class Slot:
    start: dt.datetime
    tags: frozenset[str]
    contact: Contact | None = None


class Name(str):
    pass


class Count(int):
    pass


class Ratio(float):
    pass


class Tags(list[str]):
    pass


class Point(NamedTuple):
    x: int
    y: int


UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (7, 7),
        (True, True),
        (None, None),
        (1.5, 1.5),
        (math.nan, None),
        (math.inf, None),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
        (
            {1: "one", False: "no", None: "nothing", 2.5: "half", Color.RED: "r"},
            {"1": "one", "false": "no", "null": "nothing", "2.5": "half", "red": "r"},
        ),
        ((1, "two"), [1, "two"]),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
        ({1, "a"}, None),  # unsortable: order is not pinned, checked below
        (
            Contact.model_validate({"contactFound": True, "when": "2025-01-31"}),
            {"contactFound": True, "when": "2025-01-31"},
        ),
        (
            Slot(start=dt.datetime(2025, 1, 31, 14, 30, tzinfo=UTC), tags=frozenset({"x"}), contact=None),
            {"start": "2025-01-31T14:30:00+00:00", "tags": ["x"], "contact": None},
        ),
        (dt.datetime(2025, 1, 31, 14, 30, 5), "2025-01-31T14:30:05"),
        (dt.date(2025, 1, 31), "2025-01-31"),
        (dt.time(9, 15), "09:15:00"),
        (dt.timedelta(minutes=1, seconds=30), 90.0),
        (uuid.UUID("12345678-1234-5678-1234-567812345678"), "12345678-1234-5678-1234-567812345678"),
        (Decimal("12.50"), "12.50"),
        (Color.RED, "red"),
        (Level.HIGH, 3),
        (Name("Ron"), "Ron"),
        (Count(3), 3),
        (Ratio(0.25), 0.25),
        (Ratio("nan"), None),
        (Tags(["a"]), ["a"]),
        (Point(1, 2), [1, 2]),
        (deque([1, 2]), [1, 2]),
        (OrderedDict(b=1, a=2), {"b": 1, "a": 2}),
        (PurePosixPath("/tmp/x"), "/tmp/x"),
        (IPv4Address("10.0.0.1"), "10.0.0.1"),
        (b"bytes", "bytes"),
    ],
)
def test_to_jsonable(value: Any, expected: Any) -> None:
    converted = to_jsonable(value)
    if expected is None and isinstance(value, set):
        assert sorted(converted, key=str) == [1, "a"]
    else:
        assert converted == expected
    assert type(converted) in (dict, list, str, int, float, bool, type(None))
    json.dumps(converted, allow_nan=False)


def test_plain_values_come_back_as_they_are() -> None:
    value = {"a": [1, 2.5, "x", None, {"b": True}]}
    assert to_jsonable(value) == value


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError, match="A tool result of type object cannot be turned into JSON"):
        to_jsonable(object())


router = ToolRouter()


@router.tool
async def echo(kind: str) -> Any:
    """Returns a value of the requested kind."""
    values: dict[str, Any] = {
        "dict": {"contactFound": True, "name": "Ron Tanner", "phoneNumber": "+13035551212"},
        "dict_with_date": {"when": dt.date(2025, 1, 31)},
        "nan_dict": {"x": math.nan},
        "model": Contact.model_validate({"contactFound": False, "when": "2025-02-01"}),
        "dataclass": Slot(start=dt.datetime(2025, 1, 31, 9, 0), tags=frozenset()),
        "list": [Color.RED, Decimal("1.10")],
        "none": None,
        "uuid": uuid.UUID(int=1),
    }
    return values[kind]


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("dict", {"contactFound": True, "name": "Ron Tanner", "phoneNumber": "+13035551212"}),
        ("dict_with_date", {"when": "2025-01-31"}),
        ("nan_dict", {"x": None}),
        ("model", {"contactFound": False, "when": "2025-02-01"}),
        ("dataclass", {"start": "2025-01-31T09:00:00", "tags": [], "contact": None}),
        ("list", {"result": ["red", "1.10"]}),
        ("none", {"result": None}),
        ("uuid", {"result": "00000000-0000-0000-0000-000000000001"}),
    ],
)
async def test_invoke_encodes_results(kind: str, body: dict[str, Any]) -> None:
    reply = await invoke_tool(router, "echo", {"kind": kind}, CallContext(session_guid="g"))
    assert reply.outcome == "ok"
    assert reply.body == body
    json.dumps(reply.body, allow_nan=False)


async def test_a_plain_dict_result_is_sent_as_is() -> None:
    local = ToolRouter()
    result = {"contactFound": True, "nested": {"list": [1, 2.0, None]}}

    @local.tool
    async def plain() -> dict[str, Any]:
        """Plain."""
        return result

    reply = await invoke_tool(local, "plain", {}, CallContext(session_guid="g"))
    assert reply.body is result
