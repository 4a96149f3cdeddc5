"""CallState: a mapping whose `diff` says exactly which keys a request changed."""

from __future__ import annotations

import copy
import datetime
import math
import pickle
from typing import Any

import pytest

from vns_sdk.context import CallContext
from vns_sdk.state import CallState
from vns_sdk.state._unsaveable import describe
from vns_sdk.state.base import CallRecord, decode_state, encode_value


def loaded(**values: object) -> CallState:
    """A state as a request sees it right after loading it from a store."""
    return CallState(encoded={key: encode_value(value) for key, value in values.items()})


def test_fresh_load_has_no_diff() -> None:
    state = loaded(name="Ron", visits=3, tags=["a"])
    assert state.diff() == ({}, [])
    assert state.to_dict() == {"name": "Ron", "visits": 3, "tags": ["a"]}


def test_diff_lists_only_changed_and_new_keys_json_encoded() -> None:
    state = loaded(name="Ron", visits=3)
    state["visits"] = 4
    state["city"] = "Denver"
    state["name"] = "Ron"  # same value: not a change
    updates, deleted = state.diff()
    assert updates == {"visits": "4", "city": '"Denver"'}
    assert deleted == []


def test_diff_lists_deleted_keys() -> None:
    state = loaded(a=1, b=2)
    del state["a"]
    assert state.diff() == ({}, ["a"])


def test_deleting_and_restoring_the_same_value_is_no_change() -> None:
    state = loaded(a=1)
    del state["a"]
    state["a"] = 1
    assert state.diff() == ({}, [])


@pytest.mark.parametrize(
    ("start", "mutate", "expected"),
    [
        ([1], lambda value: value.append(2), "[1,2]"),
        ({"x": 1}, lambda value: value.update(y=2), '{"x":1,"y":2}'),
        ({"n": {"deep": []}}, lambda value: value["n"]["deep"].append(True), '{"n":{"deep":[true]}}'),
    ],
)
def test_in_place_mutation_is_part_of_the_diff(start: object, mutate: object, expected: str) -> None:
    state = loaded(value=start)
    mutate(state["value"])  # type: ignore[operator]
    assert state.diff() == ({"value": expected}, [])


def test_mark_saved_starts_the_next_diff_from_here() -> None:
    state = loaded(a=1)
    state["a"] = 2
    state["b"] = [1]
    state.mark_saved()
    assert state.diff() == ({}, [])
    state["b"].append(2)
    del state["a"]
    assert state.diff() == ({"b": "[1,2]"}, ["a"])


def test_state_built_from_data_is_all_new() -> None:
    state = CallState({"a": 1})
    assert state.diff() == ({"a": "1"}, [])


def test_data_overrides_encoded_values() -> None:
    state = CallState({"a": 2}, encoded={"a": "1", "b": "true"})
    assert state.to_dict() == {"a": 2, "b": True}
    assert state.diff() == ({"a": "2"}, [])


def test_encoding_is_compact_and_keeps_unicode() -> None:
    state = CallState({"greeting": "¡Hola, José!", "list": [1, 2]})
    assert state.encoded() == {"greeting": '"¡Hola, José!"', "list": "[1,2]"}
    assert decode_state(state.encoded()) == state.to_dict()


@pytest.mark.parametrize("value", [object(), {1, 2}, math.nan, b"bytes"])
def test_values_that_json_cannot_hold_are_refused_when_diffed(value: object) -> None:
    state = CallState()
    state["bad"] = value
    with pytest.raises(TypeError, match="JSON-serializable"):
        state.diff()


def test_what_can_be_saved_still_is_when_one_value_cannot() -> None:
    state = CallState(encoded={"kept": "1", "gone": "2", "replaced": '"old"'})
    state["new"] = {"ok": True}
    state["replaced"] = {1, 2}
    state["day"] = datetime.date(2026, 3, 20)
    del state["gone"]
    updates, deleted, unsaveable = state.saveable_diff()
    assert updates == {"new": '{"ok":true}'}
    assert deleted == ["gone"]
    assert unsaveable == ["replaced", "day"]
    assert CallState({"a": 1}).saveable_diff() == ({"a": "1"}, [], [])


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (datetime.date(2026, 3, 20), "'day' holds a date"),
        ({"a", "b"}, "'day' holds a set"),
        (object(), "'day' holds an object"),
        ([{"when": datetime.time(9)}], "'day' holds a time at day[0]['when']"),
        ({"ok": 1, (1, 2): "tuple key"}, "'day' holds a tuple as a dict key at day[(1, 2)]"),
        ([1, math.inf], "'day' holds the float inf at day[1]"),
        ("\ud800", "'day' holds text with a lone surrogate"),
    ],
)
def test_a_value_that_cannot_be_held_is_described_by_key_type_and_place(value: object, said: str) -> None:
    assert describe("day", value) == said


def test_a_cycle_is_described() -> None:
    cycle: list[object] = [1]
    cycle.append(cycle)
    assert describe("loop", cycle) == "'loop' holds a reference to itself (a cycle) at loop[1]"


def test_keys_must_be_strings() -> None:
    state = CallState()
    with pytest.raises(TypeError, match="keys must be strings"):
        state[1] = "x"  # type: ignore[index]


def test_mapping_protocol() -> None:
    state = loaded(a=1)
    state["b"] = 2
    assert list(state) == ["a", "b"]
    assert len(state) == 2
    assert "a" in state and "z" not in state
    assert state.get("z", "default") == "default"
    assert repr(state) == "CallState({'a': 1, 'b': 2})"


# --- values are decoded when first read ------------------------------------------------------------


def test_values_never_read_are_left_as_stored() -> None:
    # Written by some other writer, with spaces: untouched, it is not rewritten.
    state = CallState(encoded={"profile": '{"id": 7, "vip": true}', "visits": "3"})
    assert "profile" in state and len(state) == 2 and list(state) == ["profile", "visits"]
    state["visits"] = 4
    assert state.diff() == ({"visits": "4"}, [])
    assert state.encoded() == {"profile": '{"id": 7, "vip": true}', "visits": "4"}
    assert state["profile"] == {"id": 7, "vip": True}


@pytest.mark.parametrize(
    "mutate",
    [
        lambda state: state.get("cart").append("b"),
        lambda state: next(iter(state.values())).append("b"),
        lambda state: dict(state.items())["cart"].append("b"),
        lambda state: state.setdefault("cart", []).append("b"),
        lambda state: state.to_dict()["cart"].append("b"),
    ],
)
def test_in_place_mutation_is_seen_whichever_way_the_value_was_read(mutate: Any) -> None:
    state = loaded(cart=["a"], other={"k": 1})
    mutate(state)
    assert state.diff() == ({"cart": '["a","b"]'}, [])


def test_mark_saved_keeps_the_encoding_of_values_never_read() -> None:
    state = loaded(a=[1], b={"x": True})
    state["a"].append(2)
    state.mark_saved()
    assert state.diff() == ({}, [])
    assert state.encoded() == {"a": "[1,2]", "b": '{"x":true}'}
    state["b"]["y"] = None
    assert state.diff() == ({"b": '{"x":true,"y":null}'}, [])


def test_clear_pop_and_equality() -> None:
    state = loaded(a=1, b=[2], c="three")
    assert state == {"a": 1, "b": [2], "c": "three"}
    assert state.pop("b") == [2]
    assert state.diff() == ({}, ["b"])
    state.clear()
    assert len(state) == 0 and state.to_dict() == {}
    assert state.diff() == ({}, ["a", "b", "c"])


def test_copies_and_pickles_of_a_loaded_state_still_decode() -> None:
    state = loaded(cart=["a"], name="Ron")
    for twin in (copy.copy(state), copy.deepcopy(state), pickle.loads(pickle.dumps(state))):
        assert twin.to_dict() == {"cart": ["a"], "name": "Ron"}
        twin["cart"].append("b")
        assert twin.diff() == ({"cart": '["a","b"]'}, [])


def test_encode_value_gives_compact_json_and_refuses_cycles() -> None:
    assert encode_value({"a": [1, 2.5, None, True], "é": "ü"}) == '{"a":[1,2.5,null,true],"é":"ü"}'
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(TypeError, match="JSON-serializable"):
        encode_value(cyclic)


def test_a_context_from_a_record_carries_every_field() -> None:
    record = CallRecord(
        session_guid="guid-1",
        customer_call_id="ccid-1",
        caller_id="3035551212",
        caller_id_name="Ron",
        called_number="7205551212",
        outbound=True,
        max_seconds=120,
        started_at=1.0,
    )
    state = loaded(a=1)
    call = CallContext.from_record(record, state, tool_name="lookup", deadline=5.0)
    assert vars(call) == {
        "session_guid": "guid-1",
        "customer_call_id": "ccid-1",
        "caller_id": "3035551212",
        "caller_id_name": "Ron",
        "called_number": "7205551212",
        "outbound": True,
        "state": state,
        "tool_name": "lookup",
        "session": None,
        "max_seconds": 120,
        "request": None,
        "report": None,
        "deadline": 5.0,
        "realtime": None,
        "state_available": True,
    }
