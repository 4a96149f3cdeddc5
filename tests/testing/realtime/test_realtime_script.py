"""`RealtimeScript`: how a chain of steps becomes the model's responses, and which rule a line triggers."""

from __future__ import annotations

import re

import pytest

from vns_sdk.testing.realtime import FunctionCall, RealtimeScript, Say


def test_words_and_a_call_share_a_response_and_the_answer_after_the_output_is_the_next() -> None:
    script = RealtimeScript()
    rule = script.when("Ron").say("Let me check.").call("lookup", name="Ron").say("Found him.").rule
    assert [response.outputs for response in rule.responses] == [
        [Say("Let me check."), FunctionCall("lookup", {"name": "Ron"})],
        [Say("Found him.")],
    ]
    assert all(response.status == "completed" and response.action == "respond" for response in rule.responses)


def test_a_second_call_waits_for_the_first_output_unless_made_together() -> None:
    sequential = RealtimeScript().when("two").call("a").call("b", {"x": 1}).rule
    assert [len(response.outputs) for response in sequential.responses] == [1, 1]
    parallel = RealtimeScript().when("two").call("a").call("b", together=True).rule
    assert [[output.name for output in r.outputs if isinstance(output, FunctionCall)] for r in parallel.responses] == [
        ["a", "b"]
    ]


def test_faults_end_the_current_response_or_replace_one() -> None:
    rule = (
        RealtimeScript()
        .when("x")
        .call("lookup", name="Ron")
        .cancel()
        .incomplete()
        .fail("boom", code="server_error")
        .error("Rate limit reached.", code="rate_limit_exceeded", type="rate_limit_exceeded")
        .drop()
        .rule
    )
    cancelled, incomplete, failed, error, drop = rule.responses
    assert (cancelled.status, cancelled.reason, len(cancelled.outputs)) == ("cancelled", "turn_detected", 1)
    assert (incomplete.status, incomplete.reason, incomplete.outputs) == ("incomplete", "max_output_tokens", [])
    assert failed.status == "failed"
    assert failed.error == {"type": "server_error", "code": "server_error", "message": "boom"}
    assert error.action == "error"
    assert error.error == {
        "type": "rate_limit_exceeded",
        "code": "rate_limit_exceeded",
        "message": "Rate limit reached.",
    }
    assert drop.action == "drop"


def test_wait_delays_the_response_that_follows_and_end_call_says_goodbye_after_the_output() -> None:
    rule = RealtimeScript().when("slow").wait(2.5).say("Sorry for the wait.").rule
    assert [(r.delay, r.outputs) for r in rule.responses] == [(2.5, [Say("Sorry for the wait.")])]
    ending = RealtimeScript().when("bye").end_call("bye now", goodbye="Take care!").rule
    assert [r.outputs for r in ending.responses] == [
        [FunctionCall("end_conversation", {"user_input": "bye now"})],
        [Say("Take care!")],
    ]


def test_rules_are_tried_in_order_words_case_insensitive_patterns_searched() -> None:
    script = RealtimeScript()
    first = script.when("RON").say("a").rule
    second = script.when(re.compile(r"\bbye\b")).say("b").rule
    fallback = script.otherwise().say("c").rule
    assert script.rule_for("is ron there?") is first
    assert script.rule_for("ok bye then") is second
    assert script.rule_for("goodbye") is fallback  # \bbye\b does not match inside "goodbye"
    assert [rule.describe() for rule in script.rules] == ["when 'RON'", "when /\\bbye\\b/", "otherwise"]
    assert RealtimeScript().rule_for("anything") is None


def test_mistakes_in_a_script_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="otherwise"):
        RealtimeScript().when("  ")
    with pytest.raises(ValueError, match="not both"):
        RealtimeScript().when("x").call("f", {"a": 1}, b=2)
    with pytest.raises(ValueError, match="seconds"):
        RealtimeScript().when("x").wait(-1)
