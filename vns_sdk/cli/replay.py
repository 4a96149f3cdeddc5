"""`vns-sdk test PATH` runs scenario files; `vns-sdk replay FILE...` replays recorded transcripts.

Both drive the app in this process through the simulator (or a running app at ``--url``), exactly as VNS
would call it, and exit non-zero when anything differs from what was expected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vns_sdk.cli import _behaviour
from vns_sdk.cli._command import Command
from vns_sdk.cli._errors import CLIError

if TYPE_CHECKING:
    from vns_sdk.testing import ScenarioResult

__all__ = ["COMMANDS", "replay", "test"]

_SUFFIXES = "*.vns.yaml, *.vns.yml or *.vns.json"

AppOption = Annotated[
    str | None,
    typer.Option(
        "--app",
        help="The app to run against (file, folder or module:attr), as a vns_app fixture does under pytest. "
        "\\[default: the scenario's own app:, else pytest's vns_app option, else the app in pyproject.toml]",
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", help="Instead of --app, the base URL of a running app (presents VNS_WEBHOOK_TOKEN).", metavar="URL"
    ),
]


def _check_target(app: str | None, url: str | None) -> None:
    if app is not None and url is not None:
        raise CLIError("pass --app or --url, not both", exit_code=2)
    if url is not None and not url.startswith(("http://", "https://")):
        raise CLIError(f"--url must be an http(s) URL like http://127.0.0.1:8000, got {url!r}", exit_code=2)


def _project_app() -> Any:
    """The app the project names, as the pytest plugin finds it: pytest's ``vns_app`` option, else
    ``[tool.vns-sdk] app``; None outside a project that names one."""
    from vns_sdk._loading import default_app_reference
    from vns_sdk.cli._loading import find_app_spec, load_app

    found = default_app_reference(Path.cwd())
    if found is None:
        return None
    reference, root = found
    return load_app(find_app_spec(reference, cwd=root))


def _step_lines(result: ScenarioResult) -> list[tuple[str, str]]:
    """Each step with its mark: ✓ passed, ✗ failed, - not run (the call never started)."""
    started = bool(result.exchanges)
    lines = []
    for number, step in enumerate(result.scenario.steps, start=1):
        failed = any(problem.startswith(f"step {number}:") for problem in result.problems)
        mark = "✗" if failed else ("✓" if started else "-")
        arguments = json.dumps(step.arguments, ensure_ascii=False)
        about = f"  ({step.description})" if step.description else ""
        lines.append((mark, f"step {number}  {step.tool} {arguments}{about}{'' if started else '  (not run)'}"))
    return lines


def test(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help=f"Scenario files ({_SUFFIXES}) or folders searched for them.", show_default=False, metavar="PATH"
        ),
    ],
    app: AppOption = None,
    url: UrlOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print every request VNS sent and what the app answered.")
    ] = False,
    runs: _behaviour.RunsOption = 1,
    min_pass: _behaviour.MinPassOption = 1.0,
    junit: _behaviour.JunitOption = None,
    max_cost: _behaviour.MaxCostOption = None,
    realtime_url: _behaviour.RealtimeUrlOption = None,
    caller: _behaviour.CallerOption = None,
    judge: _behaviour.JudgeOption = None,
    record: _behaviour.RecordOption = None,
) -> None:
    """Run scenario files: place each call, check every tool reply; exit 1 if any scenario fails.

    Persona scenarios (*.behaviour.yaml) are run --runs times each against the Realtime model, with a
    simulated caller and a judge; each fails below --min-pass.
    """
    from vns_sdk.cli._loading import find_app_spec, load_app, prepare_environment
    from vns_sdk.cli._logging import show_app_logs
    from vns_sdk.testing import format_exchanges
    from vns_sdk.testing._scenario_file import find_scenarios
    from vns_sdk.testing._scenario_run import iter_scenario_results

    _check_target(app, url)
    for path in paths:
        if not path.exists():
            raise CLIError(f"{path}: no such file or folder")
    personas = _behaviour.find_persona_files(paths)
    files = [file for file in find_scenarios(paths) if file not in personas]
    if not files and not personas:
        raise CLIError(f"no scenario files ({_SUFFIXES}) in {', '.join(str(path) for path in paths)}")
    prepare_environment(simulated=url is None)
    given = load_app(find_app_spec(app)) if app is not None else None
    if personas:
        options = _behaviour.BehaviourOptions(runs, min_pass, junit, max_cost, realtime_url, caller, judge, record)
        behaved = _behaviour.run_persona_files(
            personas, options, app=given, url=url, fallback_app=_project_app, optional=bool(files)
        )
        if not files:
            raise typer.Exit(0 if behaved else 1)
    project: list[Any] = []  # loaded on first need: the app of the project, for scenarios that name none

    def default_app() -> Any:
        if given is not None:
            return given
        if not project:
            project.append(_project_app())
        return project[0]

    passed = 0
    # The scenario's own `app:` wins over --app and the project's, as it wins over the vns_app fixture.
    with show_app_logs():
        for result in iter_scenario_results(files, url=url, fallback_app=default_app):
            passed += result.ok
            _print_result(result, verbose=verbose, format_exchanges=format_exchanges)
    failed = len(files) - passed
    if failed:
        summary = f"{passed} passed, {failed} failed."
    else:
        summary = "The scenario passed." if passed == 1 else f"All {passed} scenarios passed."
    typer.secho(summary, fg="green" if not failed else "red", bold=True)
    if failed or (personas and not behaved):
        raise typer.Exit(1)


def _print_result(result: ScenarioResult, *, verbose: bool, format_exchanges: Any) -> None:
    where = f"  ({result.scenario.path})" if result.scenario.path else ""
    verdict = "PASS" if result.ok else "FAIL"
    typer.secho(f"{verdict}  {result.scenario.name}{where}", fg="green" if result.ok else "red", bold=True)
    for mark, line in _step_lines(result):
        typer.echo(f"  {mark} {line}")
    for problem in result.problems:
        typer.secho("\n".join(f"    {text}" for text in problem.splitlines()), fg="red")
    if verbose and result.exchanges:
        typer.echo("\n".join(f"    {text}" for text in format_exchanges(result.exchanges).splitlines()))


def replay(
    files: Annotated[
        list[Path], typer.Argument(help="Transcripts (JSON Lines) recorded by the simulator.", metavar="FILE")
    ],
    app: Annotated[
        str | None,
        typer.Option(
            "--app",
            help="The app to replay against (file, folder or module:attr). \\[default: the app in pyproject.toml]",
        ),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Replay recorded calls against the app and diff every answer; exit 1 if any differs."""
    from vns_sdk.cli._loading import find_app_spec, load_app, prepare_environment
    from vns_sdk.testing import replay as replay_transcripts

    _check_target(app, url)
    for file in files:
        if not file.is_file():
            raise CLIError(f"{file}: no such file")
    target = None
    if url is None:
        prepare_environment(simulated=True)
        target = load_app(find_app_spec(app)) if app is not None else _project_app()
        if target is None:
            raise CLIError(
                "no app to replay against: pass --app (app.py or module:attr) or --url, or run in a project "
                "whose pyproject.toml names its app",
                exit_code=2,
            )
    report = replay_transcripts(files, app=target, url=url)
    typer.echo(report.render())
    if not report.ok:
        raise typer.Exit(1)


COMMANDS = (
    Command(
        name="test",
        function=test,
        panel="Simulate",
        epilog=(
            "Examples:\n\n"
            "  vns-sdk test tests/scenarios\n"
            "  vns-sdk test examples/lookup -v\n"
            "  vns-sdk test booking.vns.yaml --app my_agent.app:app\n"
            "  vns-sdk test tests/scenarios --url http://127.0.0.1:8000"
        ),
    ),
    Command(
        name="replay",
        function=replay,
        panel="Simulate",
        epilog=(
            "Examples:\n\n"
            "  pytest --vns-record transcripts/      # record the test suite's calls\n"
            "  vns-sdk replay transcripts/*.jsonl --app my_agent.app:app\n"
            "  vns-sdk replay call.jsonl --url http://127.0.0.1:8000"
        ),
    ),
)
