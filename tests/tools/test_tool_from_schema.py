"""`Tool.from_schema`: a tool that runs elsewhere, described by the JSON Schema it comes with.

Its schema is made Realtime-safe by the same rules as a function's, its arguments are checked against the
schema as given, and `invoke_tool` answers it exactly as it answers a function tool.
"""

from __future__ import annotations

from typing import Any

import pytest

from vns_sdk import CallContext, InvalidToolSignature, ToolError, ToolRouter
from vns_sdk.exceptions import ToolArgumentsError
from vns_sdk.tools import Tool, invoke_tool

# As an MCP server built on pydantic writes it: titles, a $ref into $defs, an optional nullable field.
BOOKING = {
    "type": "object",
    "title": "bookArguments",
    "properties": {
        "day": {"type": "string", "title": "Day", "description": "The day, like 2025-01-31."},
        "slot": {"$ref": "#/$defs/Slot"},
        "guests": {"type": "array", "items": {"type": "integer", "minimum": 1}, "title": "Guests"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Note"},
        "kind": {"oneOf": [{"const": "cleaning"}, {"const": "check-up"}]},
    },
    "required": ["day", "slot"],
    "additionalProperties": False,
    "$defs": {
        "Slot": {
            "type": "object",
            "title": "Slot",
            "properties": {"hour": {"type": "integer", "minimum": 8, "maximum": 17}},
            "required": ["hour"],
        }
    },
}


async def echo(arguments: dict[str, Any], call: CallContext | None) -> dict[str, Any]:
    return {"arguments": arguments, "tool": call.tool_name if call else None}


def test_the_schema_is_made_realtime_safe() -> None:
    tool = Tool.from_schema("book", BOOKING, echo, description="Books a visit.")
    assert tool.to_dict() == {
        "type": "function",
        "name": "book",
        "description": "Books a visit.",
        "parameters": {
            "type": "object",
            "properties": {
                "day": {"type": "string", "description": "The day, like 2025-01-31."},
                "slot": {
                    "type": "object",
                    "properties": {"hour": {"type": "integer", "minimum": 8, "maximum": 17}},
                    "required": ["hour"],
                },
                "guests": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                "note": {"type": "string"},
                "kind": {"anyOf": [{"const": "cleaning"}, {"const": "check-up"}]},
            },
            "required": ["day", "slot"],
        },
    }


async def test_valid_arguments_reach_the_handler_with_the_call() -> None:
    router = ToolRouter([Tool.from_schema("book", BOOKING, echo)])
    reply = await invoke_tool(
        router,
        "book",
        # A stray argument is left out (the schema forbids it); a list sent as JSON text is parsed.
        {"day": "2025-01-31", "slot": {"hour": 9}, "guests": "[1, 2]", "stray": True},
        CallContext(session_guid="g-1"),
    )
    assert reply.ok
    assert reply.body == {
        "arguments": {"day": "2025-01-31", "slot": {"hour": 9}, "guests": [1, 2]},
        "tool": "book",
    }


async def test_invalid_arguments_are_answered_in_plain_words() -> None:
    router = ToolRouter([Tool.from_schema("book", BOOKING, echo)])
    reply = await invoke_tool(
        router, "book", {"slot": {"hour": 20}, "guests": [0], "kind": "surgery"}, CallContext(session_guid="g-2")
    )
    assert reply.outcome == "invalid_arguments"
    assert reply.body["problems"] == [
        {"argument": "day", "problem": "is required but was not given"},
        {"argument": "slot.hour", "problem": "must be at most 17"},
        {"argument": "guests[0]", "problem": "must be at least 1"},
        {"argument": "kind", "problem": "does not match any of the allowed forms"},
    ]
    assert "The arguments for book were not valid" in reply.body["message"]


async def test_run_checks_the_arguments_too() -> None:
    tool = Tool.from_schema("book", BOOKING, echo)
    with pytest.raises(ToolArgumentsError) as refused:
        await tool.run({"day": 31, "slot": {"hour": 9}})
    assert refused.value.problems == [{"argument": "day", "problem": "must be text"}]
    assert (await tool.run({"day": "2025-01-31", "slot": {"hour": 9}}))["arguments"]["day"] == "2025-01-31"


async def test_the_handlers_tool_error_and_timeout_are_answered_as_a_functions() -> None:
    async def refuse(arguments: dict[str, Any], call: CallContext | None) -> Any:
        raise ToolError("The book is closed today.")

    router = ToolRouter([Tool.from_schema("book", {"type": "object", "properties": {}}, refuse)])
    reply = await invoke_tool(router, "book", {}, CallContext(session_guid="g-3"))
    assert reply.body == {"error": "tool_error", "message": "The book is closed today."}


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "string"}, "must be an object schema"),
        ({"type": "object", "properties": {"a": {"type": "no-such-type"}}}, "not valid JSON Schema"),
        (
            {
                "type": "object",
                "properties": {"n": {"$ref": "#/$defs/N"}},
                "$defs": {"N": {"properties": {"next": {"$ref": "#/$defs/N"}}}},
            },
            "refers to itself",
        ),
    ],
)
def test_a_schema_that_cannot_be_a_tools_is_refused(schema: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidToolSignature, match=problem):
        Tool.from_schema("bad", schema, echo)


def test_the_name_follows_the_realtime_rule() -> None:
    with pytest.raises(InvalidToolSignature, match="not accepted by the Realtime API"):
        Tool.from_schema("calendar.book", {"type": "object"}, echo)
