"""One short conversation with the real OpenAI Realtime model: a tool call, through the CallStart answer's aiUrl.

It runs only when ``OPENAI_API_KEY`` is set (it costs a few cents) and is skipped otherwise, as in CI:

    OPENAI_API_KEY=sk-... pytest -m openai

``VNS_TEST_REALTIME_MODEL`` picks the model (default ``gpt-realtime``).
"""

from __future__ import annotations

import os

import pytest
from bridge_apps import Ended, build_app

from vns_sdk.realtime import RealtimeBridge

pytestmark = [
    pytest.mark.openai,
    pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="talks to OpenAI: set OPENAI_API_KEY to run it"),
]


async def test_the_model_calls_the_tool_and_reads_back_its_reply(ended: Ended) -> None:
    model = os.environ.get("VNS_TEST_REALTIME_MODEL", "gpt-realtime")
    app = build_app(
        ended,
        openai_api_key=os.environ["OPENAI_API_KEY"],
        model=model,
        instructions=(
            "You answer a phone line. When the caller gives you a name, call lookup_name_or_phone with it and read "
            "back the phone number it returns, digit by digit. Keep every answer short."
        ),
    )
    async with RealtimeBridge(app, response_timeout=45).call(caller_id="3035550123") as call:
        assert call.target is not None and call.target.where == "wss://api.openai.com/v1/realtime"
        turn = await call.say("Hi, could you look up the phone number of Ron Tanner for me?")
        lookup = turn.tool("lookup_name_or_phone")
        assert lookup.ran and lookup.status == 200, turn
        assert "ron" in str((lookup.arguments or {}).get("name", "")).lower()
        assert any(digits in turn.text.replace(" ", "").replace("-", "") for digits in ("1212", "3035551212")), (
            turn.text
        )
    report, state = ended[-1]
    assert report.status == 0 and state["lookups"] >= 1
    assert call.usage.total_tokens > 0
