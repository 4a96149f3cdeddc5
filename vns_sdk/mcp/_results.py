"""What the model hears from an MCP tool's result: the JSON object a tool of the app would have answered.

- structured content (an object) is the answer as it is;
- otherwise the text is: ``{"result": "..."}``, or the object itself when the text is a JSON object;
- links to resources are listed under ``links``; images, audio and binary resources cannot be spoken,
  so they are only mentioned under ``note``;
- a result marked ``isError`` raises `ToolError` with the server's text (servers write it for a model),
  which the model hears as any tool's own error.
"""

from __future__ import annotations

import json
import re
from typing import Any

import mcp_types as types

from vns_sdk.exceptions import ToolError

__all__ = ["result_body"]

_MAX_ERROR_CHARS = 500
# Lines that point a developer to documentation say nothing the caller can use.
_DEVELOPER_LINE = re.compile(r"^\s*For further information visit https?://\S+\s*$", re.MULTILINE)


def result_body(tool_name: str, result: types.CallToolResult) -> dict[str, Any]:
    """The JSON object the model hears for ``result``.

    Raises:
        ToolError: The server marked the result as an error; the message is its text.
    """
    if result.is_error:
        raise ToolError(_error_text(tool_name, result))
    if isinstance(result.structured_content, dict):
        return result.structured_content
    texts: list[str] = []
    links: list[dict[str, str]] = []
    unspoken: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            texts.append(block.text)
        elif isinstance(block, types.ResourceLink):
            link = {"name": block.name, "uri": str(block.uri)}
            if block.description:
                link["description"] = block.description
            links.append(link)
        elif isinstance(block, types.EmbeddedResource) and isinstance(block.resource, types.TextResourceContents):
            texts.append(block.resource.text)
        else:
            unspoken.append(_kind(block))
    body: dict[str, Any] = _text_body(texts)
    if links:
        body["links"] = links
    if unspoken:
        body["note"] = f"The tool also returned {', '.join(unspoken)}, which cannot be spoken to the caller."
    return body


def _text_body(texts: list[str]) -> dict[str, Any]:
    if not texts:
        return {"result": None}
    if len(texts) == 1:
        try:
            parsed = json.loads(texts[0])
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return {"result": "\n\n".join(texts)}


def _kind(block: Any) -> str:
    if isinstance(block, types.ImageContent):
        return "an image"
    if isinstance(block, types.AudioContent):
        return "audio"
    return "a file"


def _error_text(tool_name: str, result: types.CallToolResult) -> str:
    parts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    text = _DEVELOPER_LINE.sub("", "\n".join(parts)).strip()
    if not text and isinstance(result.structured_content, dict):
        text = json.dumps(result.structured_content, ensure_ascii=False)
    if not text:
        return f"The tool {tool_name} could not do what was asked. Tell the caller it did not work this time."
    if len(text) > _MAX_ERROR_CHARS:
        text = text[: _MAX_ERROR_CHARS - 3] + "..."
    return text
