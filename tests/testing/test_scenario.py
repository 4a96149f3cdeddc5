"""Scenarios: a whole call in a file, passing and failing with readable messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vns_sdk.exceptions import ConfigurationError
from vns_sdk.testing import SimulationError, VNSSimulator, load_scenario, run_scenario, run_scenarios

APP_MODULE = """
import sys
sys.path.insert(0, {tests!r})
from harness_apps import build_lookup_app

app = build_lookup_app()
"""

RON = """
name: Ron is found by name
app: agent.py:app
caller:
  caller_id: "3032639999"
  caller_id_name: John Smith
tools: [end_conversation, lookup_name_or_phone, whoami]
steps:
  - tool: lookup_name_or_phone
    arguments: {name: Ron}
    expect: {matchType: name, contactFound: true, contactName: Ron Tanner, phoneNumber: "+13035551212"}
  - tool: whoami
    expect_partial: {callerId: "3032639999", lookups: 1}
  - tool: end_conversation
    arguments: {user_input: bye}
end:
  status: 0
  expect: {status: 0, errorMessage: Success}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "agent.py").write_text(APP_MODULE.format(tests=str(Path(__file__).parent)))
    return tmp_path


def test_a_yaml_scenario_passes(folder: Path) -> None:
    path = folder / "ron.vns.yaml"
    path.write_text(RON)
    scenario = load_scenario(path)
    assert scenario.name == "Ron is found by name"
    assert [step.tool for step in scenario.steps] == ["lookup_name_or_phone", "whoami", "end_conversation"]
    result = run_scenario(path)
    assert result.ok, result.render()
    assert result.render() == f"PASS  Ron is found by name ({path})"
    assert [exchange.kind for exchange in result.exchanges] == ["call_start", "tool", "tool", "tool", "call_end"]
    result.raise_for_failure()


def test_a_json_scenario_runs_against_a_given_app(folder: Path) -> None:
    from harness_apps import build_lookup_app

    path = folder / "outbound.vns.json"
    scenario = {
        "caller": {"outbound": True, "customer_call_id": "order-7"},
        "steps": [{"tool": "whoami", "expect_partial": {"outbound": True, "customerCallId": "order-7"}}],
    }
    path.write_text(json.dumps(scenario))
    result = run_scenario(path, app=build_lookup_app())
    assert result.ok, result.render()
    assert result.scenario.name == "outbound"


def test_a_failing_scenario_says_which_step_and_what_differs(folder: Path) -> None:
    path = folder / "wrong.vns.yaml"
    path.write_text(
        RON.replace("contactName: Ron Tanner", "contactName: Ronald Tanner")
        .replace("lookups: 1", "lookups: 5")
        .replace("tools: [end_conversation, lookup_name_or_phone, whoami]", "tools: [lookup_name_or_phone, transfer]")
    )
    result = run_scenario(path)
    assert not result.ok
    text = result.render()
    assert text.startswith(f"FAIL  Ron is found by name ({path})\n")
    assert (
        "  The call does not offer the tools expected:\n"
        "    missing: transfer\n"
        "    not expected: end_conversation, whoami" in text
    )
    assert '  step 1: lookup_name_or_phone({"name": "Ron"}) did not answer as expected:' in text
    assert '    - contactName: expected "Ronald Tanner", got "Ron Tanner"' in text
    assert "  step 2: whoami({}) did not answer as expected (partial match):" in text
    assert "    - lookups: expected 5, got 1" in text
    with pytest.raises(SimulationError) as caught:
        result.raise_for_failure()
    assert "exchanges:" in str(caught.value) and 'lookup_name_or_phone(name="Ron")' in str(caught.value)


def test_a_step_the_simulator_rejects_is_reported(folder: Path) -> None:
    path = folder / "missing.vns.yaml"
    path.write_text("app: agent.py:app\nsteps:\n  - tool: lookup_customer\n    arguments: {id: 7}\n")
    result = run_scenario(path)
    assert not result.ok
    assert result.problems == [
        'step 1: lookup_customer({"id": 7})\n'
        "  The session offers no tool named 'lookup_customer'; the model can only call: "
        "end_conversation, lookup_name_or_phone, whoami."
    ]


def test_the_call_end_outcome_is_checked(folder: Path) -> None:
    path = folder / "end.vns.yaml"
    path.write_text(
        "app: agent.py:app\nend:\n  status: 2\n  error_message: Caller hung up\n  expect: {errorMessage: Done}\n"
    )
    result = run_scenario(path)
    assert result.problems == [
        'CallEnd was not acknowledged as expected:\n  - errorMessage: expected "Done", got "Success"'
    ]
    assert result.exchanges[-1].request_body["status"] == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps:\n  - tool: a\n    expected: {}\n", "step 1: unknown key(s) expected"),
        ("caller: {phone: 1}\n", "caller: unknown key(s) phone"),
        ("steps: {tool: a}\n", "steps must be a list"),
        ("steps:\n  - arguments: {}\n", "step 1 needs `tool: <name>`"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_malformed_scenario_says_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.vns.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        load_scenario(path)


def test_a_scenario_without_an_app_says_how_to_name_one(tmp_path: Path) -> None:
    path = tmp_path / "noapp.vns.yaml"
    path.write_text("steps: []\n")
    with pytest.raises(ConfigurationError, match="the scenario names no app"):
        run_scenario(path)


def test_run_scenarios_finds_files_and_counts(folder: Path) -> None:
    (folder / "calls").mkdir()
    (folder / "calls" / "a.vns.yaml").write_text(RON.replace("app: agent.py:app", "app: ../agent.py:app"))
    (folder / "calls" / "b.vns.yaml").write_text(
        RON.replace("app: agent.py:app", "app: ../agent.py:app").replace("lookups: 1", "lookups: 2")
    )
    (folder / "calls" / "broken.vns.json").write_text("{")
    (folder / "calls" / "notes.yaml").write_text("not: a scenario")
    report = run_scenarios(folder / "calls")
    assert [result.ok for result in report.results] == [True, False, False]
    assert not report.ok
    text = report.render()
    assert text.endswith("1 passed, 2 failed.")
    assert "not valid JSON" in text


def test_a_simulator_runs_a_scenario_with_its_own_app(folder: Path) -> None:
    from harness_apps import build_lookup_app

    path = folder / "ron.vns.yaml"
    path.write_text(RON.replace("app: agent.py:app\n", ""))
    with VNSSimulator(build_lookup_app()) as vns:
        assert run_scenario(path, simulator=vns).ok


def test_the_simulator_fails_a_test_with_the_scenario_report(folder: Path) -> None:
    from harness_apps import build_lookup_app

    path = folder / "ron.vns.yaml"
    path.write_text(RON.replace("lookups: 1", "lookups: 3"))
    with VNSSimulator(build_lookup_app()) as vns, pytest.raises(SimulationError) as caught:
        vns.run_scenario(path)
    assert str(caught.value).startswith(f"FAIL  Ron is found by name ({path})")
    assert "lookups: expected 3, got 1" in str(caught.value)
