"""The pytest plugin, driven as a user drives it (pytester): fixtures, markers, scenario files, messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = str(Path(__file__).parent)

AGENT = f"""
import sys
sys.path.insert(0, {TESTS!r})
from harness_apps import build_lookup_app

app = build_lookup_app()
"""

NO_APP = (
    "the vns fixtures need your app: define a `vns_app` fixture returning it, set `vns_app = module:attr` in your "
    'pytest configuration, or `[tool.vns-sdk] app = "module:attr"` in pyproject.toml '
    "(a scenario file may name its own: `app: app.py:app`)"
)

CONFTEST = """
import pytest

@pytest.fixture
def vns_app():
    from agent import app
    return app
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-o", "asyncio_default_fixture_loop_scope=function", *args)


def reported(result: pytest.RunResult) -> list[str]:
    """What pytest printed about the failures and errors: the lines between their heading and the summary.

    The ``____ test name ____`` lines are left out; everything else is kept, so a test can say that a
    mistake is reported in one line and nothing else (no traceback, no chained "During handling of the
    above exception").
    """
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if line.strip("= ") in ("ERRORS", "FAILURES"))
    end = next(i for i, line in enumerate(lines) if "short test summary info" in line)
    kept = [line for line in lines[start + 1 : end] if line.strip() and not line.startswith("_")]
    return [line for line in kept if line.strip("= ") not in ("ERRORS", "FAILURES")]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(agent=AGENT)
    pytester.syspathinsert()
    return pytester


def test_vns_fixture_drives_the_app_of_a_vns_app_fixture(project: pytest.Pytester) -> None:
    project.makeconftest(CONFTEST)
    project.makepyfile(
        test_calls="""
        import pytest

        def test_lookup(vns):
            with vns.call(caller_id="3032639999") as call:
                assert call.invoke("lookup_name_or_phone", name="Ron")["contactFound"]

        def test_started_call(vns_call):
            assert vns_call.invoke("whoami")["outbound"] is False

        @pytest.mark.vns_call(outbound=True, customer_call_id="order-9", caller_id="7205551212")
        def test_marked_call(vns_call):
            assert vns_call.invoke("whoami") == {
                "callerId": "7205551212", "outbound": True, "customerCallId": "order-9", "lookups": 0,
            }

        async def test_async(vns):
            async with vns.acall() as call:
                assert (await call.invoke("lookup_name_or_phone", name="Jane"))["contactFound"]

        def test_the_call_is_ended_at_teardown(vns, vns_call):
            vns_call.invoke("whoami")
            assert not vns_call.ended
        """
    )
    result = run(project, "-p", "asyncio", "--strict-markers", "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=5)


@pytest.mark.parametrize(
    ("file", "config"),
    [
        ("pytest.ini", "[pytest]\nvns_app = agent.py:app\n"),
        # Without the ini option: the table the vns-sdk commands read, so a project names its app once.
        ("pyproject.toml", '[tool.vns-sdk]\napp = "agent.py:app"\n'),
    ],
)
def test_the_configuration_names_the_app(project: pytest.Pytester, file: str, config: str) -> None:
    (project.path / file).write_text(config)
    project.makepyfile(
        test_calls="""
        def test_lookup(vns_call):
            vns_call.assert_reply("lookup_name_or_phone", name="Ron", expect={"contactFound": True}, partial=True)
        """
    )
    (project.path / "ron.vns.yaml").write_text(
        "steps:\n  - tool: lookup_name_or_phone\n    arguments: {name: Ron}\n    expect_partial: {contactFound: true}\n"
    )
    run(project).assert_outcomes(passed=2)


def test_the_ini_option_wins_over_pyproject(project: pytest.Pytester) -> None:
    project.makepyprojecttoml(
        '[tool.vns-sdk]\napp = "nowhere.py:app"\n\n[tool.pytest.ini_options]\nvns_app = "agent.py:app"\n'
    )
    project.makepyfile(test_calls="def test_whoami(vns_call):\n    vns_call.invoke('whoami')\n")
    run(project).assert_outcomes(passed=1)


def test_a_wrong_app_reference_is_one_line(project: pytest.Pytester) -> None:
    project.makepyprojecttoml('[tool.vns-sdk]\napp = "agent.py:nope"\n')
    project.makepyfile(test_calls="def test_whoami(vns_call):\n    vns_call.invoke('whoami')\n")
    result = run(project)
    result.assert_outcomes(errors=1)
    assert reported(result) == ["AppLoadError: module 'agent' has no attribute 'nope'; it defines: app"]


def test_a_failing_reply_reads_well(project: pytest.Pytester) -> None:
    project.makeconftest(CONFTEST)
    project.makepyfile(
        test_calls="""
        def test_lookup(vns_call):
            vns_call.assert_reply(
                "lookup_name_or_phone",
                name="Ron",
                expect={"contactFound": True, "contactName": "Ronald Tanner", "phoneNumber": "+13035551212"},
                partial=True,
            )
        """
    )
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            ">       vns_call.assert_reply(",
            "E       vns_sdk.testing.SimulationError: "
            'lookup_name_or_phone({"name": "Ron"}) did not partly match the reply expected:',
            'E         - contactName: expected "Ronald Tanner", got "Ron Tanner"',
            'E         expected (partial): {"contactFound": true, "contactName": "Ronald Tanner", *}',
            'E         got:      {"matchType": "name", "contactFound": true, "contactName": "Ron Tanner", *}',
        ]
    )
    # The traceback stops at the test's line: nothing from the harness or its event loop.
    assert "site-packages" not in result.stdout.str() and "vns_sdk/testing/core.py" not in result.stdout.str()


def test_a_missing_tool_reads_well(project: pytest.Pytester) -> None:
    project.makeconftest(CONFTEST)
    project.makepyfile(
        test_calls="""
        def test_lookup(vns_call):
            vns_call.invoke("lookup_person", name="Ron")
        """
    )
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       vns_sdk.testing.SimulationError: The session offers no tool named 'lookup_person'; the "
            "model can only call: end_conversation, lookup_name_or_phone, whoami.",
        ]
    )


def test_without_an_app_the_fixture_says_how_to_name_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_calls="def test_lookup(vns):\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    assert reported(result) == [NO_APP]


def test_scenario_files_are_collected_as_tests(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nvns_app = agent.py:app\n")
    scenarios = project.mkdir("scenarios")
    (scenarios / "ron.vns.yaml").write_text(
        "name: Ron by name\nsteps:\n  - tool: lookup_name_or_phone\n    arguments: {name: Ron}\n"
        "    expect_partial: {contactName: Ron Tanner}\n"
    )
    (scenarios / "jane.vns.json").write_text(
        '{"name": "Jane by number", "steps": [{"tool": "lookup_name_or_phone", '
        '"arguments": {"phoneNumber": "+17205550100"}, "expect_partial": {"contactName": "Janet Doe"}}]}'
    )
    (scenarios / "own-app.vns.yaml").write_text("app: ../agent.py:app\nsteps:\n  - tool: whoami\n")
    result = run(project, "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*scenarios/jane.vns.json::Jane by number FAILED*",
            "*scenarios/own-app.vns.yaml::own-app PASSED*",
            "*scenarios/ron.vns.yaml::Ron by name PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "FAIL  Jane by number (*jane.vns.json)",
            '  step 1: lookup_name_or_phone({"phoneNumber": "+17205550100"}) '
            "did not answer as expected (partial match):",
            '    - contactName: expected "Janet Doe", got "Jane Doe"',
            "  exchanges:",
            "    CallStart POST /vns/call-start  -> 200*",
        ]
    )


def test_a_scenario_without_an_app_fails_with_advice(pytester: pytest.Pytester) -> None:
    pytester.makefile(".vns.yaml", orphan="steps: []\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert reported(result) == [NO_APP]


def test_vns_record_writes_a_transcript_per_test(project: pytest.Pytester) -> None:
    project.makeconftest(CONFTEST)
    project.makepyfile(test_calls="def test_lookup(vns_call):\n    vns_call.invoke('whoami')\n")
    run(project, "--vns-record", "transcripts").assert_outcomes(passed=1)
    files = list((project.path / "transcripts").iterdir())
    assert [file.name for file in files] == ["test_calls.py_test_lookup.jsonl"]
    assert len(files[0].read_text().splitlines()) == 3


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys; import vns_sdk.testing.plugin; "
        "heavy = {'httpx', 'jsonschema', 'yaml', 'vns_sdk.app', 'vns_sdk.models', 'anyio', 'starlette'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_name_loads() -> None:
    import vns_sdk.testing as testing

    for name in testing.__all__:
        assert getattr(testing, name) is not None, name
    assert sorted(testing.__all__) == testing.__all__ == dir(testing)


# -- every mistake is one line -------------------------------------------------------------------------


def test_a_scenario_file_that_does_not_parse_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".vns.yaml", broken="steps:\n  - tool: lookup\n    arguments: [1, 2]\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    [line] = reported(result)
    assert line.startswith("ConfigurationError: ") and "broken.vns.yaml" in line and "arguments" in line


def test_a_scenario_naming_a_missing_app_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".vns.yaml", lost="app: nowhere.py:app\nsteps: []\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    [line] = reported(result)
    assert line.startswith("AppLoadError: nowhere.py: no such file")


def test_an_app_refusing_its_settings_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agent="from vns_sdk import VNSApp\n\napp = VNSApp(instructions='Hi.', max_seconds=-5)\n")
    pytester.makepyprojecttoml('[tool.vns-sdk]\napp = "agent.py:app"\n')
    pytester.makepyfile(test_calls="def test_whoami(vns_call):\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    [line] = reported(result)
    assert line.startswith("ConfigurationError: invalid VNSApp setting: max_seconds")


def test_a_wrong_vns_call_marker_is_one_line(project: pytest.Pytester) -> None:
    project.makeconftest(CONFTEST)
    project.makepyfile(
        test_calls="""
        import pytest

        @pytest.mark.vns_call(caller="3035550123")
        def test_marked(vns_call):
            pass
        """
    )
    result = run(project)
    result.assert_outcomes(errors=1)
    [line] = reported(result)
    assert line.startswith("@pytest.mark.vns_call takes keyword options only, among: call_start, called_number,")
    assert line.endswith("(not caller)")


# -- scenarios find the app as the tests do, and as `vns-sdk test` does -----------------------------------

NO_TOKEN_APP = """
from vns_sdk import CallContext, VNSApp

app = VNSApp(instructions="You look people up.")  # no webhook token: the environment has none


@app.tool
async def greet(call: CallContext, name: str) -> dict:
    \"\"\"Greets someone.

    Args:
        name: Who.
    \"\"\"
    return {"hello": name}
"""

SCENARIOS = {
    "hello.vns.yaml": "steps:\n  - tool: greet\n    arguments: {name: Ada}\n    expect: {hello: Ada}\n",
    "wrong.vns.yaml": "steps:\n  - tool: greet\n    arguments: {name: Ada}\n    expect: {hello: Bob}\n",
}


def _cli_test(folder: Path, *args: str) -> tuple[int, str]:
    """`vns-sdk test` in `folder`, in a process of its own (as a user runs it), with no VNS setting set."""
    import os

    env = {key: value for key, value in os.environ.items() if not key.startswith(("VNS_", "PYTEST_"))}
    done = subprocess.run(
        [sys.executable, "-c", "from vns_sdk.cli import main; main()", "test", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("file", "config"),
    [
        ("pyproject.toml", '[tool.vns-sdk]\napp = "agent.py:app"\n'),
        ("pytest.ini", "[pytest]\nvns_app = agent.py:app\n"),
        ("pyproject.toml", '[tool.pytest.ini_options]\nvns_app = "agent.py:app"\n'),
    ],
)
def test_an_app_without_a_token_gives_the_same_results_under_pytest_and_vns_sdk_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, file: str, config: str
) -> None:
    monkeypatch.delenv("VNS_WEBHOOK_TOKEN", raising=False)
    pytester.makepyfile(agent=NO_TOKEN_APP)
    (pytester.path / file).write_text(config)
    for name, text in SCENARIOS.items():
        (pytester.path / name).write_text(text)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*hello.vns.yaml::hello PASSED*", "*wrong.vns.yaml::wrong FAILED*"])
    code, output = _cli_test(pytester.path, ".")
    assert code == 1, output
    assert "PASS  hello" in output and "FAIL  wrong" in output and "1 passed, 1 failed." in output
    assert "VNS_WEBHOOK_TOKEN" not in os.environ  # the run's throwaway token is gone with the run


def test_a_scenario_runs_on_the_vns_app_fixture_of_a_conftest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VNS_WEBHOOK_TOKEN", raising=False)
    pytester.makepyfile(agent=NO_TOKEN_APP)
    pytester.syspathinsert()
    # The project names another app: the fixture wins, as it does for the tests.
    pytester.makepyprojecttoml('[tool.vns-sdk]\napp = "nowhere.py:app"\n')
    pytester.makeconftest(CONFTEST)
    (pytester.path / "hello.vns.yaml").write_text(SCENARIOS["hello.vns.yaml"])
    run(pytester).assert_outcomes(passed=1)
    # `vns-sdk test` has no fixtures: --app says the same.
    code, output = _cli_test(pytester.path, ".", "--app", "agent.py:app")
    assert code == 0, output


def test_a_vns_app_fixture_returning_no_app_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef vns_app():\n    return None\n")
    pytester.makepyfile(test_calls="def test_whoami(vns):\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    assert reported(result) == [
        "ConfigurationError: VNSSimulator needs either an app (VNSSimulator(app)) or a URL (url=...)."
    ]
