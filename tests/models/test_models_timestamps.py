"""Timestamps in the .NET round-trip form VNS writes: read to the microsecond, written back as read."""

from __future__ import annotations

import copy
import pickle
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from vns_sdk.models import CallEndRequest, CallStartRequest, DotNetDateTime, format_dotnet, parse_dotnet, timestamps


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-20T02:43:39.6521589Z",
        "2026-03-20T02:43:39.652158Z",
        "2026-03-20T02:43:39.65Z",
        "2026-03-20T02:43:39Z",
        "2026-03-20T02:43:39.6521589",
        "2026-03-20T02:43:39.6521589+02:00",
        "2026-03-20T02:43:39.6521589-05:30",
    ],
)
def test_timestamps_dump_back_as_read(text: str) -> None:
    report = CallEndRequest.model_validate({"sessionGuid": "g", "callEnd": text})
    assert report.model_dump(mode="json")["callEnd"] == text
    assert report.model_dump_json(include={"call_end"}) == f'{{"callEnd":"{text}"}}'


def test_seven_digits_are_read_to_the_microsecond() -> None:
    value = parse_dotnet("2026-03-20T02:43:39.6521589Z")
    assert value == datetime(2026, 3, 20, 2, 43, 39, 652158, tzinfo=timezone.utc)
    assert isinstance(value, DotNetDateTime)
    assert (value.extra_ticks, value.fraction_digits) == (9, 7)


def test_more_than_seven_digits_are_cut_to_seven() -> None:
    value = parse_dotnet("2026-03-20T02:43:39.123456789Z")
    assert value is not None and format_dotnet(value) == "2026-03-20T02:43:39.1234567Z"


def test_offsets_are_kept() -> None:
    value = parse_dotnet("2026-03-20T02:43:39+0200")
    assert value is not None and value.utcoffset() == timedelta(hours=2)
    assert parse_dotnet("2026-03-20T02:43:39+00:00") == datetime(2026, 3, 20, 2, 43, 39, tzinfo=timezone.utc)


def test_plain_datetimes_dump_with_seven_digits() -> None:
    utc = datetime(2026, 3, 20, 2, 43, 39, 652158, tzinfo=timezone.utc)
    assert format_dotnet(utc) == "2026-03-20T02:43:39.6521580Z"
    assert format_dotnet(datetime(2026, 3, 20, 2, 43, 39)) == "2026-03-20T02:43:39.0000000"
    minus = datetime(2026, 3, 20, tzinfo=timezone(-timedelta(hours=7)))
    assert format_dotnet(minus) == "2026-03-20T00:00:00.0000000-07:00"
    report = CallEndRequest(session_guid="g", call_end=utc)
    assert report.model_dump(mode="json")["callEnd"] == "2026-03-20T02:43:39.6521580Z"
    assert report.model_dump()["callEnd"] is utc  # Python mode keeps the datetime


def test_other_forms_fall_back_to_pydantic() -> None:
    assert parse_dotnet("yesterday") is None
    request = CallStartRequest.model_validate({"sessionGuid": "g", "callStart": 1773312135})
    assert request.call_start == datetime(2026, 3, 12, 10, 42, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["yesterday", "2026-02-30T10:00:00Z", "2026-03-20T25:00:00Z"])
def test_bad_timestamps_are_rejected(text: str) -> None:
    with pytest.raises(ValidationError, match="callEnd"):
        CallEndRequest.model_validate({"sessionGuid": "g", "callEnd": text})


def test_copies_and_pickles_keep_the_ticks() -> None:
    value = parse_dotnet("2026-03-20T02:43:39.65Z")
    assert value is not None
    for clone in (copy.deepcopy(value), copy.copy(value), pickle.loads(pickle.dumps(value))):
        assert isinstance(clone, DotNetDateTime)
        assert clone == value
        assert format_dotnet(clone) == "2026-03-20T02:43:39.65Z"
    report = CallEndRequest.model_validate({"sessionGuid": "g", "callEnd": "2026-03-20T02:43:39.6521589Z"})
    assert report.model_copy(deep=True).model_dump(mode="json")["callEnd"] == "2026-03-20T02:43:39.6521589Z"


def test_arithmetic_gives_a_plain_seven_digit_timestamp() -> None:
    value = parse_dotnet("2026-03-20T02:43:39Z")
    assert value is not None
    later = value + timedelta(seconds=1)
    assert format_dotnet(later) == "2026-03-20T02:43:40.0000000Z"


def _outcome(parse: Any, text: str) -> object:
    """What reading ``text`` gives, comparable field by field (a ValueError included)."""
    try:
        value = parse(text)
    except ValueError:
        return ValueError
    if value is None:
        return None
    return (value, value.utcoffset(), value.extra_ticks, value.fraction_digits, format_dotnet(value), type(value))


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)), st.integers(0, 9))
def test_the_usual_form_is_read_as_the_pattern_reads_it(moment: datetime, tick: int) -> None:
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond:06d}{tick}Z"
    assert _outcome(parse_dotnet, text) == _outcome(timestamps._read, text)
    assert format_dotnet(parse_dotnet(text)) == text  # type: ignore[arg-type]


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.integers(0, 27),
    st.sampled_from("0123456789-:.,TtZz +\u0663"),
)
def test_forms_one_character_away_are_read_as_the_pattern_reads_them(moment: datetime, at: int, other: str) -> None:
    usual = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond:06d}5Z"
    text = usual[:at] + other + usual[at + 1 :]
    assert _outcome(parse_dotnet, text) == _outcome(timestamps._read, text.strip())
