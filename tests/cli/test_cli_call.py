"""`vns-sdk call`: an interactive simulated call, driven here through the runner's input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result


def test_pick_by_number_and_answer_the_prompts(run: Callable[..., Result], lookup_app: Path) -> None:
    # lookup_name_or_phone is tool 2: name "Ron", phoneNumber skipped; then Enter hangs up.
    result = run("call", "agent/app.py", input="2\nRon\n\n\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Call connected: 3035550123 → 7205550100" in out
    assert "instructions: You look up people." in out
    assert "  2. lookup_name_or_phone — Looks up the name" in out
    assert '→ lookup_name_or_phone {"name": "Ron"}' in out
    assert '"contactName": "Ron Tanner"' in out
    assert "Call ended (CallEnd sent)." in out
    assert '"errorMessage": "Success"' in out


def test_arguments_are_parsed_from_the_schema(run: Callable[..., Result], lookup_app: Path) -> None:
    # book: an enum (exactly as listed: "Monday" is asked again), an int (re-asked after a bad one), a bool (yes).
    result = run("call", "agent/app.py", input="book\nfriday\nMonday\nmonday\nten\n10\nyes\n\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("pick one of: monday, tuesday") == 2
    assert "type a whole number, like 42" in out
    assert '→ book {"day": "monday", "hour": 10, "confirm": true}' in out
    assert '"booked": true' in out


def test_inline_json_arguments_a_tool_error_and_hanging_up_with_end_conversation(
    run: Callable[..., Result], lookup_app: Path
) -> None:
    script = 'book {"day": "tuesday", "hour": 13}\nbook {oops\nnope\n?\nend_conversation {"user_input": "bye"}\n'
    result = run("call", "agent/app.py", input=script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert '"message": "Lunch time. Offer another hour."' in out
    assert "(the model hears an error: tool_error)" in out
    assert "not JSON" in out
    assert "no tool 'nope'; type ? to list them" in out
    assert out.count("Tools the model can call:") == 2
    assert "The model asked to end the conversation: VNS hangs up." in out
    assert "Call ended (CallEnd sent)." in out


def test_a_required_argument_is_asked_again_and_bad_arguments_do_not_end_the_call(
    run: Callable[..., Result], lookup_app: Path
) -> None:
    result = run("call", "agent/app.py", input='book\n\ntuesday\n-1\n\nbook {"day": "friday", "hour": 1}\n\n')
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "day is required" in out
    # Arguments are checked against the schema, as the model's would be: the reason in one line, the call goes on.
    assert "  day: 'friday' is not one of ['monday', 'tuesday']" in out.splitlines()
    assert "Call ended (CallEnd sent)." in out


def test_end_of_input_hangs_up_properly(run: Callable[..., Result], lookup_app: Path) -> None:
    result = run("call", "agent/app.py", input="2\n")
    assert result.exit_code == 0, result.output
    assert "Call ended (CallEnd sent)." in result.stdout


def test_the_caller_can_be_chosen(run: Callable[..., Result], lookup_app: Path) -> None:
    result = run(
        "call", "agent/app.py", "--caller-id", "3032639999", "--called-number", "7206999999", "--outbound", input="\n"
    )
    assert result.exit_code == 0, result.output
    assert "Call connected: 3032639999 → 7206999999" in result.stdout


def test_an_app_without_a_token_can_still_be_called(
    run: Callable[..., Result], write: Callable[[str, str], Path]
) -> None:
    write("bare.py", "from vns_sdk import VNSApp\napp = VNSApp()\n")
    result = run("call", "bare.py", input="\n")
    assert result.exit_code == 0, result.output
    assert "The app offers no tools." in result.stdout


TYPED_APP = """
from typing import Any, Literal

from pydantic import BaseModel

from vns_sdk import CallContext, VNSApp

app = VNSApp(webhook_token="whk-test-token-0123456789abcdef")


class Address(BaseModel):
    street: str
    city: str


@app.tool
async def order(
    call: CallContext,
    quantity: int,
    price: float,
    tags: list[str],
    address: Address,
    note: str | None = None,
    rush: bool | None = None,
    size: Literal[1, 2, 3] = 1,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    \"\"\"Places an order.\"\"\"
    return {"quantity": quantity, "price": price, "tags": tags, "city": address.city, "note": note,
            "rush": rush, "size": size, "extra": extra}
"""


def test_every_json_type_is_prompted_and_parsed(run: Callable[..., Result], write: Callable[[str, str], Path]) -> None:
    write("typed.py", TYPED_APP)
    answers = [
        "order",
        "3",  # quantity
        "2.50",  # price
        "[oops",  # tags: not JSON, asked again
        '{"a": 1}',  # tags: not an array, asked again
        '["gift", "fragile"]',
        '{"street": "1 Main St", "city": "Denver"}',
        '""',  # note: the empty string, typed as ""
        "maybe",  # rush: not yes/no, asked again
        "no",
        "4",  # size: not a choice
        "2",
        "{}",
        "",  # hang up
    ]
    result = run("call", "typed.py", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "size (one of: 1, 2, 3; optional, Enter to skip, default 1)" in out
    assert "tags (array of string; required)" in out
    assert "type JSON" in out
    assert "type a JSON array, like []" in out
    assert "type yes or no" in out
    assert "pick one of: 1, 2, 3" in out
    sent = (
        '→ order {"quantity": 3, "price": 2.5, "tags": ["gift", "fragile"], '
        '"address": {"street": "1 Main St", "city": "Denver"}, "note": "", "rush": false, "size": 2, "extra": {}}'
    )
    assert sent in out
    assert '"city": "Denver"' in out


def test_the_tools_table_reads_hand_written_schemas(
    run: Callable[..., Result], write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tools given in `session=` are offered as written: optional values as anyOf-null, $ref, type lists, bounds.
    write(
        "handwritten.py",
        """
        from vns_sdk import VNSApp

        PARAMETERS = {
            "type": "object",
            "$defs": {"Day": {"type": "string", "enum": ["mon", "tue"], "description": "A weekday."}},
            "properties": {
                "day": {"$ref": "#/$defs/Day"},
                "count": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 9}, {"type": "null"}]},
                "code": {"type": ["string", "null"]},
                "either": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "fixed": {"const": "x"},
                "weight": {"type": "number", "exclusiveMinimum": 0},
                "anything": {},
            },
            "required": ["day"],
        }
        app = VNSApp(
            webhook_token="whk-test-token-0123456789abcdef",
            session={"tools": [{"type": "function", "name": "plan", "parameters": PARAMETERS}]},
        )
        """,
    )
    monkeypatch.setenv("COLUMNS", "200")
    result = run("tools", "handwritten.py")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert 'day: one of: "mon", "tue", required' in out
    assert "A weekday." in out
    assert "count: integer from 1 to 9, optional" in out
    assert "code: string, optional" in out
    assert "either: integer or string, optional" in out
    assert 'fixed: always "x", optional' in out
    assert "anything: any JSON value, optional" in out
    assert "weight: number > 0, optional" in out


def test_each_answer_is_checked_against_the_schema_as_the_models_would_be(
    run: Callable[..., Result], write: Callable[[str, str], Path]
) -> None:
    write(
        "hours.py",
        """
        from typing import Annotated, Literal

        from pydantic import Field

        from vns_sdk import VNSApp

        app = VNSApp(webhook_token="whk-test-token-0123456789abcdef")


        @app.tool
        def book(day: Literal["monday", "friday"], hour: Annotated[int, Field(ge=0, le=23)]) -> dict:
            \"\"\"Books an hour.

            Args:
                day: The day.
                hour: The hour, 0 to 23.
            \"\"\"
            return {"day": day, "hour": hour}
        """,
    )
    result = run("call", "hours.py", input="book\nFriday\nfriday\n50\n11\n\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # "Friday" is refused as the app refuses it, and 50 is asked again with the schema's reason, in one line.
    assert any(line.endswith("pick one of: monday, friday") for line in lines)
    assert any(line.endswith("hour: 50 is greater than the maximum of 23") for line in lines)
    assert "schema:" not in result.stdout and "✗" not in result.stdout
    assert '→ book {"day": "friday", "hour": 11}' in result.stdout

    inline = run("call", "hours.py", input='book {"day": "Friday", "hour": 50}\n\n')
    assert inline.exit_code == 0, inline.output
    assert "  day: 'Friday' is not one of ['monday', 'friday']" in inline.stdout.splitlines()
    assert "  hour: 50 is greater than the maximum of 23" in inline.stdout.splitlines()
    assert "schema:" not in inline.stdout and "→ book" not in inline.stdout


def test_a_simulated_call_says_quietly_that_no_openai_key_is_needed_and_shows_the_apps_log_lines(
    run: Callable[..., Result], write: Callable[[str, str], Path]
) -> None:
    write(
        "logged.py",
        """
        import logging

        from vns_sdk import CallContext, CallEndRequest, VNSApp

        logger = logging.getLogger("logged")
        app = VNSApp(webhook_token="whk-test-token-0123456789abcdef")


        @app.on_call_end
        def log_call(call: CallContext, report: CallEndRequest) -> None:
            logger.info("call from %s ended with status %s", call.caller_id, report.status)
        """,
    )
    result = run("call", "logged.py", input="\n")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "vns_sdk.app: No OpenAI API key, and none is needed here: a simulated call opens no Realtime session.",
        "logged: call from 3035550123 ended with status 0",
    ]
