"""Redaction: keys and tokens never reach a transcript, a report or a failure message; prose is left alone."""

from __future__ import annotations

from vns_sdk._redaction import redact, redact_headers


def test_redaction_rules() -> None:
    assert redact_headers({"Authorization": "Bearer abc", "X-Api-Key": "k", "Content-Type": "application/json"}) == {
        "Authorization": "Bearer <redacted>",
        "X-Api-Key": "<redacted>",
        "Content-Type": "application/json",
    }
    assert redact(
        {
            "note": "key sk-proj-abcdefghijk and Bearer xyz.123",
            "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
            "url": "https://x.test/tools?token=s3cret&tool=a",
            "headers": {"Token": "plain", "Authorization": "Basic dXNlcjpwYXNz"},
            "count": 3,
        }
    ) == {
        "note": "key sk-<redacted> and Bearer <redacted>",
        "jwt": "<redacted>",
        "url": "https://x.test/tools?token=<redacted>&tool=a",
        "headers": {"Token": "<redacted>", "Authorization": "Basic <redacted>"},
        "count": 3,
    }


def test_redaction_leaves_prose_alone() -> None:
    prose = ["The tool token is not valid.", "Basic information here", "the bearer of news", "token=abc"]
    assert redact(prose) == prose
    assert redact(["Bearer abcdefghijklmnop", "bearer abc.def"]) == ["Bearer <redacted>", "bearer <redacted>"]


def test_the_authorization_of_an_mcp_server_is_redacted_whole() -> None:
    # An OAuth token has no scheme and may look like anything: the field name says it is a credential.
    tool = {"type": "mcp", "server_label": "calendar", "authorization": "ya29.opaque", "headers": {"X-Key": "k"}}
    assert redact({"session": {"tools": [tool]}}) == {
        "session": {
            "tools": [
                {
                    "type": "mcp",
                    "server_label": "calendar",
                    "authorization": "<redacted>",
                    "headers": {"X-Key": "<redacted>"},
                }
            ]
        }
    }
