"""Scenarios: a whole call in a short YAML or JSON file, run by pytest and by ``vns-sdk test PATH``.

```yaml
# scenarios/ron.vns.yaml
name: Ron is found by name
app: ../app.py:app            # optional: module:attribute, or a file relative to this one
caller:
  caller_id: "3032639999"
  caller_id_name: John Smith
tools: [end_conversation, lookup_name_or_phone]   # optional: the tools the call must offer
steps:
  - tool: lookup_name_or_phone
    arguments: {name: Ron}
    expect: {matchType: name, contactFound: true, contactName: Ron Tanner, phoneNumber: "+13035551212"}
  - tool: end_conversation
    arguments: {user_input: bye}
    expect_partial: {}
end:
  status: 0
  expect: {status: 0}
```

`expect` is the whole reply; `expect_partial` only the keys that matter (recursively). ``caller`` takes
the arguments of `VNSSimulator.call`; ``end`` those of `SimulatedCall.end`, plus ``expect`` for the
acknowledgement (default: ``{"status": 0}``, partially). pytest collects files named ``*.vns.yaml``,
``*.vns.yml`` and ``*.vns.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from vns_sdk._loading import load_app
from vns_sdk.exceptions import ConfigurationError
from vns_sdk.testing._data_file import as_mapping, only_keys, read_data_file

__all__ = [
    "SCENARIO_SUFFIXES",
    "Scenario",
    "ScenarioStep",
    "find_scenarios",
    "is_scenario_file",
    "load_scenario",
]

SCENARIO_SUFFIXES = (".vns.yaml", ".vns.yml", ".vns.json")
_CALLER_KEYS = {
    "caller_id",
    "caller_id_name",
    "called_number",
    "outbound",
    "customer_call_id",
    "session_guid",
    "software_version",
    "extra",
}
_END_KEYS = {
    "status",
    "error_message",
    "call_referred_out",
    "transfers",
    "outbound_call_result",
    "log_information",
    "connected",
    "duration",
}
_TOP_KEYS = {"name", "description", "app", "caller", "tools", "steps", "end"}
_STEP_KEYS = {"tool", "arguments", "expect", "expect_partial", "description"}


@dataclass
class ScenarioStep:
    """One tool call of a scenario.

    Attributes:
        tool: The tool's name.
        arguments: The arguments the model sends (wire names).
        expect: The whole reply expected, if given.
        expect_partial: The part of the reply that matters, if given.
        description: What the step is about (shown in reports).
    """

    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] | None = None
    expect_partial: dict[str, Any] | None = None
    description: str | None = None


@dataclass
class Scenario:
    """A whole call: who calls, which tools the model calls and what each should answer, how it ends.

    Attributes:
        name: The scenario's name (default: the file's name).
        path: The file it was read from, if any.
        app: The app reference (``module:attribute`` or ``file.py:attribute``), if the file names one.
        caller: Keyword arguments of `VNSSimulator.call`.
        tools: The tool names the call must offer, if given.
        steps: The tool calls, in order.
        end: Keyword arguments of `SimulatedCall.end`.
        end_expect: The CallEnd acknowledgement expected (partially).
        description: What the scenario is about.
    """

    name: str
    path: Path | None = None
    app: str | None = None
    caller: dict[str, Any] = field(default_factory=dict)
    tools: list[str] | None = None
    steps: list[ScenarioStep] = field(default_factory=list)
    end: dict[str, Any] = field(default_factory=dict)
    end_expect: dict[str, Any] = field(default_factory=lambda: {"status": 0})
    description: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: Path | None = None) -> Scenario:
        """Build a scenario from its parsed file.

        Raises:
            ConfigurationError: A key is unknown or a value has the wrong shape (the message says where).
        """
        where = str(path) if path else "scenario"
        only_keys(data, _TOP_KEYS, where)
        caller = dict(as_mapping(data.get("caller"), f"{where}: caller"))
        only_keys(caller, _CALLER_KEYS, f"{where}: caller")
        end = dict(as_mapping(data.get("end"), f"{where}: end"))
        end_expect = end.pop("expect", {"status": 0})
        only_keys(end, _END_KEYS, f"{where}: end")
        steps = []
        raw_steps = data.get("steps") or []
        if not isinstance(raw_steps, list):
            raise ConfigurationError(f"{where}: steps must be a list")
        for index, raw in enumerate(raw_steps, start=1):
            step = as_mapping(raw, f"{where}: step {index}")
            only_keys(step, _STEP_KEYS, f"{where}: step {index}")
            if not isinstance(step.get("tool"), str):
                raise ConfigurationError(f"{where}: step {index} needs `tool: <name>`")
            steps.append(
                ScenarioStep(
                    tool=step["tool"],
                    arguments=dict(as_mapping(step.get("arguments"), f"{where}: step {index}: arguments")),
                    expect=_optional_mapping(step.get("expect"), f"{where}: step {index}: expect"),
                    expect_partial=_optional_mapping(step.get("expect_partial"), f"{where}: step {index}"),
                    description=step.get("description"),
                )
            )
        tools = data.get("tools")
        if tools is not None and not (isinstance(tools, list) and all(isinstance(t, str) for t in tools)):
            raise ConfigurationError(f"{where}: tools must be a list of tool names")
        default_name = path.name.split(".vns.")[0] if path else "scenario"
        return cls(
            name=str(data.get("name") or default_name),
            path=path,
            app=data.get("app"),
            caller=caller,
            tools=tools,
            steps=steps,
            end=end,
            end_expect=dict(as_mapping(end_expect, f"{where}: end: expect")),
            description=data.get("description"),
        )

    def load_app(self) -> Any:
        """Import the app the scenario names (relative to its file).

        Raises:
            ConfigurationError: The scenario names no app, or it cannot be imported.
        """
        if not self.app:
            raise ConfigurationError(f"{self.path or self.name}: the scenario names no app (add `app: module:attr`)")
        return load_app(self.app, base_dir=self.path.parent if self.path else None, isolate=True)


def is_scenario_file(path: str | PathLike[str]) -> bool:
    """Whether a file name is a scenario's (``*.vns.yaml``, ``*.vns.yml``, ``*.vns.json``)."""
    return Path(path).name.endswith(SCENARIO_SUFFIXES)


def find_scenarios(paths: str | PathLike[str] | Iterable[str | PathLike[str]]) -> list[Path]:
    """The scenario files among `paths`, searching directories recursively, sorted per directory."""
    found: list[Path] = []
    for item in [paths] if isinstance(paths, (str, PathLike)) else paths:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_scenario_file(p)))
        else:
            found.append(path)
    return found


def load_scenario(path: str | PathLike[str]) -> Scenario:
    """Read a scenario file (YAML, or JSON for ``.json``).

    Raises:
        ConfigurationError: The file does not parse or is not a scenario.
    """
    return Scenario.from_dict(read_data_file(path), path=Path(path))


def _optional_mapping(value: Any, where: str) -> dict[str, Any] | None:
    return None if value is None else dict(as_mapping(value, where))
