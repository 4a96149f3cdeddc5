"""Talk to the shop's agent offline: the scripted Realtime model stands in for OpenAI, the app is real."""

from __future__ import annotations

# --8<-- [start:script]
from vns_sdk.realtime import RealtimeBridge
from vns_sdk.testing.realtime import RealtimeScript, ScriptedRealtimeServer

# What the model says and calls when the caller says something.
script = RealtimeScript()
script.when("A100").say("Let me look. ").call("order_status", order_number="A100").say("It has shipped!")
script.when("A999").call("order_status", order_number="A999").say("I can't find that one. Can you read it again?")
script.otherwise().say("Sorry, could you say that again?")
# --8<-- [end:script]


# --8<-- [start:test]
async def test_order_conversation() -> None:
    from shop import app, call_log

    async with ScriptedRealtimeServer(script) as model:
        # The model's URL instead of the answer's aiUrl; the key, if the answer has none.
        bridge = RealtimeBridge(app, realtime_url=model.url(), api_key="sk-test")
        async with bridge.call(caller_id="3035550123") as call:
            turn = await call.say("Where is my order A100?")
            assert turn.text == "Let me look. It has shipped!"
            lookup = turn.tool("order_status")
            assert lookup.arguments == {"order_number": "A100"}
            assert lookup.output == '{"order_number":"A100","status":"shipped"}'  # what the model heard

            turn = await call.say("And A999?")
            assert "There is no order A999" in (turn.tool("order_status").output or "")
    assert call_log[-1] == {"caller": "3035550123", "order": "A100", "status": 0}  # CallEnd went out
    # --8<-- [end:test]
