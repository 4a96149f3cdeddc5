"""CallState: a mapping whose `diff` says exactly which keys a request changed."""

from __future__ import annotations

import math

import pytest

from vns_sdk.state import CallState
from vns_sdk.state.base import decode_state, encode_value


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
