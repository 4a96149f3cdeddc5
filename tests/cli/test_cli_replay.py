"""`vns-sdk test` (scenario files) and `vns-sdk replay` (recorded transcripts)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Writer = Callable[[str, str], Path]
REPO = Path(__file__).resolve().parents[2]

PASSING = """
name: Ron is found
app: ../agent/app.py:app
steps:
  - tool: lookup_name_or_phone
    arguments: {name: Ron}
    expect: {matchType: name, contactFound: true, contactName: Ron Tanner, phoneNumber: "+13035551212"}
  - tool: end_conversation
    arguments: {user_input: bye}
"""

FAILING = """
name: Nobody is found
app: ../agent/app.py:app
steps:
  - tool: lookup_name_or_phone
    arguments: {name: Zed}
    expect: {contactFound: false}
  - tool: lookup_name_or_phone
    arguments: {name: Ron}
    expect_partial: {contactName: Somebody Else}
"""


def test_a_folder_of_scenarios(run: Callable[..., Result], lookup_app: Path, write: Writer) -> None:
    write("scenarios/ron.vns.yaml", PASSING)
    write("scenarios/deeper/ron-again.vns.yaml", PASSING.replace("Ron is found", "Ron again").replace("..", "../.."))
    write("scenarios/notes.txt", "not a scenario")
    result = run("test", "scenarios")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "PASS  Ron is found  (scenarios/ron.vns.yaml)" in out
    assert "PASS  Ron again" in out
    assert '  ✓ step 1  lookup_name_or_phone {"name": "Ron"}' in out
    assert '  ✓ step 2  end_conversation {"user_input": "bye"}' in out
    assert out.rstrip().endswith("All 2 scenarios passed.")
    assert "CallStart" not in out  # the exchanges only with -v


def test_verbose_prints_every_exchange(run: Callable[..., Result], lookup_app: Path, write: Writer) -> None:
    write("scenarios/ron.vns.yaml", PASSING)
    result = run("test", "scenarios/ron.vns.yaml", "-v")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "CallStart POST /vns/call-start  -> 200" in out
    assert "Tool      POST /vns/tools  -> 200" in out
    assert 'lookup_name_or_phone(name="Ron")' in out
    assert "CallEnd   POST /vns/call-end  -> 200" in out


def test_a_failing_step_fails_the_run(run: Callable[..., Result], lookup_app: Path, write: Writer) -> None:
    write("scenarios/a-ron.vns.yaml", PASSING)
    write("scenarios/b-nobody.vns.yaml", FAILING)
    result = run("test", "scenarios")
    assert result.exit_code == 1
    out = result.stdout
    assert "FAIL  Nobody is found" in out
    assert '  ✓ step 1  lookup_name_or_phone {"name": "Zed"}' in out
    assert '  ✗ step 2  lookup_name_or_phone {"name": "Ron"}' in out
    assert "Somebody Else" in out
    assert out.rstrip().endswith("1 passed, 1 failed.")


def test_an_app_for_scenarios_that_name_none(run: Callable[..., Result], lookup_app: Path, write: Writer) -> None:
    write("plain.vns.yaml", PASSING.replace("app: ../agent/app.py:app\n", ""))
    unnamed = run("test", "plain.vns.yaml")
    assert unnamed.exit_code == 1
    assert "names no app" in unnamed.stdout
    assert run("test", "plain.vns.yaml", "--app", "agent/app.py").exit_code == 0
    # In a project, its app.
    write("pyproject.toml", '[tool.vns-sdk]\napp = "agent/app.py"\n')
    assert run("test", "plain.vns.yaml").exit_code == 0


def test_a_broken_scenario_file_fails_with_its_reason(
    run: Callable[..., Result], lookup_app: Path, write: Writer
) -> None:
    write("broken.vns.yaml", "name: [unclosed\n")
    result = run("test", "broken.vns.yaml")
    assert result.exit_code == 1
    assert "FAIL  broken" in result.stdout
    assert "not valid YAML" in result.stdout


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["missing"], "error: missing: no such file or folder\n", 1),
        (["empty"], "error: no scenario files (*.vns.yaml, *.vns.yml or *.vns.json) in empty\n", 1),
        (["empty", "--app", "a.py", "--url", "http://x"], "error: pass --app or --url, not both\n", 2),
        (["empty", "--url", "localhost:8000"], "error: --url must be an http(s) URL", 2),
    ],
)
def test_test_mistakes(run: Callable[..., Result], tmp_path: Path, args: list[str], message: str, code: int) -> None:
    (tmp_path / "empty").mkdir()
    result = run("test", *args)
    assert result.exit_code == code
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_an_unreachable_url_is_one_line(run: Callable[..., Result], write: Writer) -> None:
    write("ron.vns.yaml", PASSING)
    result = run("test", "ron.vns.yaml", "--url", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: could not reach (http://127.0.0.1:9/vns/call-start)")


@pytest.mark.skipif(not (REPO / "examples/lookup/scenarios").is_dir(), reason="needs the lookup example")
def test_the_lookup_example(run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = run("test", "examples/lookup", "-v")
    assert result.exit_code == 0, result.output
    assert "scenarios passed." in result.stdout


@pytest.fixture
def transcript(lookup_app: Path, tmp_path: Path) -> Path:
    """A call to the lookup app, recorded by the simulator."""
    from vns_sdk.testing import VNSSimulator, load_app

    path = tmp_path / "call.jsonl"
    with VNSSimulator(load_app(str(lookup_app)), record=path) as simulator, simulator.call() as call:
        call.invoke("lookup_name_or_phone", name="Ron")
        call.invoke("book", day="monday", hour=9)
    return path


def test_replay_matches(run: Callable[..., Result], transcript: Path) -> None:
    result = run("replay", str(transcript), "--app", "agent/app.py")
    assert result.exit_code == 0, result.output
    assert "All 4 exchanges answered as recorded." in result.stdout


def test_replay_shows_what_changed(
    run: Callable[..., Result], transcript: Path, write: Writer, lookup_source: str
) -> None:
    changed = lookup_source.replace(
        'PEOPLE = {"Ron Tanner": "+13035551212"}', 'PEOPLE = {"Ron Tanner": "+13035550000"}'
    )
    assert changed != lookup_source
    write("changed/app.py", changed)
    result = run("replay", str(transcript), "--app", "changed/app.py")
    assert result.exit_code == 1
    assert "DIFF" in result.stdout
    assert "+13035550000" in result.stdout
    assert "1 of 4 exchanges did not answer as recorded." in result.stdout


def test_replay_with_the_project_app(run: Callable[..., Result], transcript: Path, write: Writer) -> None:
    write("pyproject.toml", '[tool.vns-sdk]\napp = "agent/app.py"\n')
    assert run("replay", str(transcript)).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["nope.jsonl", "--app", "agent/app.py"], "error: nope.jsonl: no such file\n", 1),
        (["call.jsonl"], "error: no app to replay against: pass --app", 2),
        (["call.jsonl", "--app", "agent/app.py", "--url", "http://x"], "error: pass --app or --url, not both\n", 2),
    ],
)
def test_replay_mistakes(
    run: Callable[..., Result], transcript: Path, args: list[str], message: str, code: int
) -> None:
    result = run("replay", *args)
    assert result.exit_code == code
    assert result.stderr.startswith(message)


def test_steps_of_a_call_that_never_started_are_not_run(run: Callable[..., Result], write: Writer) -> None:
    write(
        "agent/app.py",
        """
        from vns_sdk import CallContext, VNSApp

        app = VNSApp(webhook_token="whk-test-token-0123456789abcdef")

        @app.on_call_start
        async def closed(call: CallContext) -> None:
            call.refuse("We are closed.")
        """,
    )
    write("scenarios/ron.vns.yaml", PASSING)
    result = run("test", "scenarios")
    assert result.exit_code == 1
    assert '  - step 1  lookup_name_or_phone {"name": "Ron"}  (not run)' in result.stdout
    assert "HTTP 403" in result.stdout
    assert "✓" not in result.stdout
