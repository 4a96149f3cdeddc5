"""Assertions on tool replies, with failure messages that say what differs, key by key."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from vns_sdk.exceptions import SimulationError

__all__ = ["assert_matches", "check_reply", "differences"]


def differences(
    actual: Any,
    expected: Any,
    *,
    partial: bool = False,
    path: str = "",
    labels: tuple[str, str] = ("expected", "got"),
) -> list[str]:
    """Where `actual` differs from `expected`, one line per difference (empty when they match).

    Args:
        actual: The value obtained.
        expected: The value wanted.
        partial: Only the keys of `expected`'s objects matter (recursively); extra keys in `actual` are fine.
            Lists must have the same length either way, and are compared item by item.
        path: The location of these values, prefixed to each line.
        labels: The words for the expected and the actual value in each line.
    """
    want_word, got_word = labels
    where = path or "(whole reply)"
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        lines: list[str] = []
        for key, want in expected.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in actual:
                lines.append(f"{sub}: {want_word} {_show(want)}, {got_word} nothing")
            else:
                lines.extend(differences(actual[key], want, partial=partial, path=sub, labels=labels))
        if not partial:
            for key in actual:
                if key not in expected:
                    sub = f"{path}.{key}" if path else str(key)
                    lines.append(f"{sub}: {want_word} nothing, {got_word} {_show(actual[key])}")
        return lines
    if _is_list(expected) and _is_list(actual):
        if len(actual) != len(expected):
            wanted, got = _names(expected), _names(actual)
            if wanted is not None and got is not None:
                # Lists of named things (tools): say which names came or went, not two walls of JSON.
                gone = ", ".join(name for name in wanted if name not in got) or "none"
                added = ", ".join(name for name in got if name not in wanted) or "none"
                return [
                    f"{where}: {want_word} {len(expected)} items, {got_word} {len(actual)} "
                    f"(missing: {gone}; added: {added})"
                ]
            return [
                f"{where}: {want_word} {len(expected)} items {_show(expected, 200)}, "
                f"{got_word} {len(actual)} {_show(actual, 200)}"
            ]
        lines = []
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            lines.extend(differences(got, want, partial=partial, path=f"{path}[{index}]", labels=labels))
        return lines
    if actual != expected or isinstance(actual, bool) != isinstance(expected, bool):
        return [f"{where}: {want_word} {_show(expected)}, {got_word} {_show(actual)}"]
    return []


def assert_matches(actual: Any, expected: Any, *, partial: bool = False, what: str = "the reply") -> None:
    """Assert that a reply is the one expected, listing every difference when it is not.

    Args:
        actual: The reply obtained.
        expected: The reply wanted (or, with ``partial=True``, the part of it that matters).
        partial: Compare only the keys present in `expected`.
        what: What produced the reply, for the message (for example ``lookup({"name": "Ron"})``).

    Raises:
        SimulationError: (an `AssertionError`) with the differences, the expected and the actual reply.
    """
    __tracebackhide__ = True
    lines = differences(actual, expected, partial=partial)
    if lines:
        kind = "partly match" if partial else "match"
        raise SimulationError(
            f"{what} did not {kind} the reply expected:\n"
            + "\n".join(f"  - {line}" for line in lines)
            + f"\n  expected{' (partial)' if partial else ''}: {_show(expected)}"
            + f"\n  got:      {_show(actual)}",
            body=actual,
        )


def check_reply(
    tool: str, arguments: Mapping[str, Any], reply: Any, *, expect: Mapping[str, Any], partial: bool = False
) -> None:
    """Check a tool's reply against the one expected (what ``assert_reply`` checks, sync or async).

    Raises:
        SimulationError: The reply differs; the message shows the call, what was expected and what came back.
    """
    __tracebackhide__ = True
    assert_matches(reply, expect, partial=partial, what=f"{tool}({_show(arguments, limit=None)})")


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _names(items: Sequence[Any]) -> list[str] | None:
    if items and all(isinstance(item, Mapping) and isinstance(item.get("name"), str) for item in items):
        return [item["name"] for item in items]
    return None


def _show(value: Any, limit: int | None = 600) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."
