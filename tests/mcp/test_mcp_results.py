"""What the model hears from an MCP tool result of each kind the protocol defines."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest

from vns_sdk import ToolError
from vns_sdk.mcp._results import result_body


def text(value: str) -> types.TextContent:
    return types.TextContent(type="text", text=value)


def result(*content: Any, structured: dict[str, Any] | None = None, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=list(content), structured_content=structured, is_error=error)


def test_structured_content_wins_over_its_text_copy() -> None:
    assert result_body("t", result(text('{"a": 1}'), structured={"a": 1, "b": [2]})) == {"a": 1, "b": [2]}


@pytest.mark.parametrize(
    ("content", "body"),
    [
        ([text("Open 9 to 5.")], {"result": "Open 9 to 5."}),
        ([text('{"city": "Denver"}')], {"city": "Denver"}),
        ([text("[1, 2]")], {"result": "[1, 2]"}),
        ([text("First."), text("Second.")], {"result": "First.\n\nSecond."}),
        ([], {"result": None}),
    ],
)
def test_text_is_a_result(content: list[Any], body: dict[str, Any]) -> None:
    assert result_body("t", result(*content)) == body


def test_links_are_listed_and_what_cannot_be_spoken_is_mentioned() -> None:
    body = result_body(
        "t",
        result(
            text("Here is your invoice."),
            types.ResourceLink(
                type="resource_link", name="invoice", uri="https://files.example/i/42", description="PDF"
            ),
            types.ImageContent(type="image", data="aGk=", mime_type="image/png"),
            types.EmbeddedResource(
                type="resource", resource=types.TextResourceContents(uri="memo://1", text="Paid in full.")
            ),
            types.AudioContent(type="audio", data="aGk=", mime_type="audio/wav"),
        ),
    )
    assert body == {
        "result": "Here is your invoice.\n\nPaid in full.",
        "links": [{"name": "invoice", "uri": "https://files.example/i/42", "description": "PDF"}],
        "note": "The tool also returned an image, audio, which cannot be spoken to the caller.",
    }


def test_an_error_result_is_the_servers_text_without_developer_links() -> None:
    with pytest.raises(ToolError) as raised:
        result_body(
            "book",
            result(
                text(
                    "1 validation error for bookArguments\nday\n  Field required\n"
                    "    For further information visit https://errors.pydantic.dev/2.11/v/missing"
                ),
                error=True,
            ),
        )
    assert raised.value.message == "1 validation error for bookArguments\nday\n  Field required"


def test_an_error_result_without_text_still_says_something() -> None:
    with pytest.raises(ToolError, match="The tool book could not do what was asked"):
        result_body("book", result(error=True))
    with pytest.raises(ToolError) as raised:
        result_body("book", result(text("x" * 2000), error=True))
    assert len(raised.value.message) == 500
