"""`vns-sdk test` on persona scenarios (``*.behaviour.yaml``): N runs each, a pass-rate table, JUnit, a budget.

The options live here, beside the code that uses them; `vns_sdk.cli.replay.test` takes them and hands
the persona scenario files it finds to `run_persona_files`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vns_sdk.cli._errors import CLIError

if TYPE_CHECKING:
    from vns_sdk.testing.behaviour import RunResult, ScenarioRuns

__all__ = [
    "BehaviourOptions",
    "CallerOption",
    "JudgeOption",
    "JunitOption",
    "MaxCostOption",
    "MinPassOption",
    "RealtimeUrlOption",
    "RecordOption",
    "RunsOption",
    "find_persona_files",
    "run_persona_files",
]

_PANEL = "Persona scenarios (*.behaviour.yaml)"
RunsOption = Annotated[
    int, typer.Option("--runs", min=1, help="Run each persona scenario N times.", metavar="N", rich_help_panel=_PANEL)
]
MinPassOption = Annotated[
    float,
    typer.Option(
        "--min-pass",
        min=0.0,
        max=1.0,
        help="Fail when a scenario's pass rate is below this (0 to 1).",
        metavar="RATE",
        rich_help_panel=_PANEL,
    ),
]
JunitOption = Annotated[
    Path | None,
    typer.Option("--junit", help="Write JUnit XML: one testcase per run.", metavar="FILE", rich_help_panel=_PANEL),
]
MaxCostOption = Annotated[
    float | None,
    typer.Option(
        "--max-cost",
        min=0.0,
        help="Stop before the estimated cost (US dollars) passes this.",
        metavar="USD",
        rich_help_panel=_PANEL,
    ),
]
RealtimeUrlOption = Annotated[
    str | None,
    typer.Option(
        "--realtime-url",
        help="Connect to this Realtime endpoint instead of the CallStart answer's aiUrl (a scripted model).",
        metavar="URL",
        rich_help_panel=_PANEL,
    ),
]
CallerOption = Annotated[
    str | None,
    typer.Option(
        "--caller",
        help="Who plays the caller: module:attr or file.py:attr naming a Caller. \\[default: OpenAICaller()]",
        metavar="REF",
        rich_help_panel=_PANEL,
    ),
]
JudgeOption = Annotated[
    str | None,
    typer.Option(
        "--judge",
        help="Who judges: module:attr or file.py:attr naming a Judge. \\[default: OpenAIJudge()]",
        metavar="REF",
        rich_help_panel=_PANEL,
    ),
]
RecordOption = Annotated[
    Path | None,
    typer.Option(
        "--record", help="Save each run's conversation as a transcript here.", metavar="DIR", rich_help_panel=_PANEL
    ),
]


@dataclass(frozen=True)
class BehaviourOptions:
    """The persona scenario options of ``vns-sdk test``."""

    runs: int = 1
    min_pass: float = 1.0
    junit: Path | None = None
    max_cost: float | None = None
    realtime_url: str | None = None
    caller: str | None = None
    judge: str | None = None
    record: Path | None = None


def _load(reference: str) -> Any:
    from vns_sdk._loading import load_app
    from vns_sdk.testing.behaviour import Caller, Judge

    found = load_app(reference, isolate=True)
    # A class or a factory gives a fresh one; an instance is used as it is.
    if isinstance(found, type) or (callable(found) and not isinstance(found, (Caller, Judge))):
        return found()
    return found


def _unplayable(options: BehaviourOptions) -> str | None:
    """Why no caller or judge can be had (no key for the default ones), or None."""
    needs_key = [name for name, given in (("--caller", options.caller), ("--judge", options.judge)) if given is None]
    if needs_key and not os.environ.get("OPENAI_API_KEY"):
        return (
            "persona scenarios need a model to play the caller and to judge: set OPENAI_API_KEY, or pass "
            f"{' and '.join(needs_key)} module:attr"
        )
    return None


def _players(options: BehaviourOptions) -> tuple[Any, Any]:
    from vns_sdk.testing.behaviour import Caller, Judge, OpenAICaller, OpenAIJudge

    caller = _load(options.caller) if options.caller else OpenAICaller()
    judge = _load(options.judge) if options.judge else OpenAIJudge()
    if not isinstance(caller, Caller):
        raise CLIError(f"--caller {options.caller}: not a Caller (it needs an async next_line method)", exit_code=2)
    if not isinstance(judge, Judge):
        raise CLIError(f"--judge {options.judge}: not a Judge (it needs an async judge method)", exit_code=2)
    return caller, judge


def _progress(result: RunResult, runs: int) -> None:
    if result.stopped is not None:
        mark, colour = "STOP", "yellow"
    else:
        mark, colour = ("PASS", "green") if result.passed else ("FAIL", "red")
    about = result.stopped or "; ".join(result.problems)
    typer.secho(
        f"{mark}  {result.scenario.name}  run {result.number}/{runs}  ${result.spend.dollars:.4f}"
        + (f"  {about}" if about else ""),
        fg=colour,
    )


def _table(all_runs: list[ScenarioRuns], min_pass: float) -> bool:
    """Print the pass rates and the reasons of failures; True if every scenario reached `min_pass`."""
    width = max([len(runs.scenario.name) for runs in all_runs] + [8])
    typer.echo(f"\n{'scenario':<{width}}  passed  rate    cost")
    ok = True
    for runs in all_runs:
        good = runs.ran > 0 and runs.rate >= min_pass
        ok = ok and good
        stopped = len(runs.results) - runs.ran
        note = f"  ({stopped} stopped by the budget)" if stopped else ""
        counts = f"{runs.passed:>2}/{runs.ran:<3}  {runs.rate:>4.0%}"
        line = f"{runs.scenario.name:<{width}}  {counts}  ${runs.dollars:.4f}{note}"
        typer.secho(line, fg="green" if good else "red")
        for reason, times in runs.reasons():
            typer.echo(f"  {times}× {reason}")
    return ok


def find_persona_files(paths: list[Path]) -> list[Path]:
    """The persona scenario files among `paths` (named, or in the folders)."""
    from vns_sdk.testing.behaviour._persona import find_persona_scenarios

    return find_persona_scenarios(paths)


def run_persona_files(
    files: list[Path],
    options: BehaviourOptions,
    *,
    app: Any,
    url: str | None,
    fallback_app: Callable[[], Any],
    optional: bool = False,
) -> bool:
    """Run the persona scenarios, print progress and the table; True if every one reached ``--min-pass``.

    Args:
        files: The persona scenario files.
        options: The command's options.
        app: The app given with ``--app`` (a scenario's own ``app:`` wins), or None.
        url: The base URL of a running app, instead.
        fallback_app: The project's app, for a scenario that names none when ``--app`` is not given.
        optional: Other scenarios run too: with no model to play the caller, skip these with a note
            instead of failing.
    """
    from vns_sdk.testing.behaviour import Budget, load_persona_scenario, run_persona_scenarios, write_junit

    unplayable = _unplayable(options)
    if unplayable is not None:
        if not optional:
            raise CLIError(unplayable, exit_code=2)
        typer.secho(f"{len(files)} persona scenario(s) skipped: {unplayable}.", fg="yellow")
        return True
    caller, judge = _players(options)
    scenarios = []
    for file in files:
        scenario = load_persona_scenario(file)
        target = scenario.load_app() if scenario.app and url is None else app
        if target is None and url is None:
            target = fallback_app()
        if target is None and url is None:
            raise CLIError(f"{file}: no app: add `app: module:attr` to the file, or pass --app or --url", exit_code=2)
        scenarios.append((scenario, target))
    budget = Budget(options.max_cost)
    all_runs = asyncio.run(
        run_persona_scenarios(
            scenarios,
            runs=options.runs,
            caller=caller,
            judge=judge,
            budget=budget,
            on_result=lambda result: _progress(result, options.runs),
            url=url,
            realtime_url=options.realtime_url,
            record=options.record,
        )
    )
    ok = _table(all_runs, options.min_pass)
    typer.echo(budget.spend.summary())
    if options.max_cost is not None and any(result.stopped for runs in all_runs for result in runs.results):
        typer.secho(f"Stopped at the budget of ${options.max_cost:.2f}: some runs were not completed.", fg="yellow")
        ok = False
    if options.junit is not None:
        typer.echo(f"JUnit XML: {write_junit(all_runs, options.junit)}")
    if options.record is not None:
        typer.echo(f"Transcripts (vns-sdk replay FILE --app APP): {options.record}")
    return ok
