"""Persona scenarios: a simulated caller with a persona, a goal and a turn limit, and what must come of it.

```yaml
# behaviour/ron.behaviour.yaml
name: A terse caller gets Ron's number
app: ../app.py:app                      # optional: module:attribute, or a file relative to this one
caller: {caller_id: "3032639999"}       # optional: the arguments of RealtimeBridge.call
persona: John, a busy contractor who speaks in short sentences.
goal: Get Ron Tanner's phone number, then end the call.
max_turns: 6
mocks:                                  # optional: tools answered in the app's place
  send_sms: {returns: {sent: true}}     # or {fails: "message"}, or {times_out: true}
expect:
  tools:                                # called at least once each, in any turn
    - lookup_name_or_phone              # a name, or a name with (some of) its arguments
    - {name: lookup_name_or_phone, arguments: {name: Ron Tanner}}
  not_called: [send_sms]
  judge:                                # criteria the whole conversation must meet
    - reads back Ron Tanner's number
  ended: true                           # the agent ends the call (end_conversation)
```

Files named ``*.behaviour.yaml``, ``*.behaviour.yml`` or ``*.behaviour.json`` are persona scenarios;
``vns-sdk test PATH --runs N`` runs each N times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from vns_sdk.exceptions import ConfigurationError
from vns_sdk.testing._data_file import as_list, as_mapping, only_keys, read_data_file
from vns_sdk.testing.behaviour._mocks import ToolMocks

__all__ = [
    "PERSONA_SUFFIXES",
    "ExpectedTool",
    "PersonaScenario",
    "find_persona_scenarios",
    "is_persona_scenario",
    "load_persona_scenario",
]

PERSONA_SUFFIXES = (".behaviour.yaml", ".behaviour.yml", ".behaviour.json")
_TOP = {"name", "description", "app", "caller", "persona", "goal", "max_turns", "mocks", "expect"}
_EXPECT = {"tools", "not_called", "judge", "ended"}


@dataclass(frozen=True)
class ExpectedTool:
    """A tool the agent must call: by name, and with at least these arguments if given."""

    name: str
    arguments: dict[str, Any] | None = None


@dataclass
class PersonaScenario:
    """A call with a simulated caller, and what must come of it.

    Attributes:
        name: The scenario's name (default: the file's).
        persona: Who the caller is.
        goal: What the caller wants from the call.
        max_turns: The most lines the caller says before hanging up.
        path: The file it was read from, if any.
        app: The app reference, if the file names one.
        caller: The arguments of `RealtimeBridge.call` (``caller_id``, ...).
        mocks: The tools answered in the app's place (as in `ToolMocks`).
        tools: The tools the agent must call.
        not_called: The tools it must not call.
        judge: The criteria the conversation must meet, by a judge.
        ended: Whether the agent must end the call itself (None: no expectation).
        description: What the scenario is about.
    """

    name: str
    persona: str
    goal: str
    max_turns: int = 8
    path: Path | None = None
    app: str | None = None
    caller: dict[str, Any] = field(default_factory=dict)
    mocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    tools: list[ExpectedTool] = field(default_factory=list)
    not_called: list[str] = field(default_factory=list)
    judge: list[str] = field(default_factory=list)
    ended: bool | None = None
    description: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: Path | None = None) -> PersonaScenario:
        """Build a scenario from its parsed file.

        Raises:
            ConfigurationError: A key is unknown or missing, or a value has the wrong shape.
        """
        where = str(path) if path else "persona scenario"
        only_keys(data, _TOP, where)
        for key in ("persona", "goal"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise ConfigurationError(f"{where}: `{key}:` is required (a sentence or two)")
        max_turns = data.get("max_turns", 8)
        if not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1:
            raise ConfigurationError(f"{where}: max_turns must be a whole number of at least 1")
        expect = as_mapping(data.get("expect"), f"{where}: expect")
        only_keys(expect, _EXPECT, f"{where}: expect")
        mocks = {
            str(name): dict(as_mapping(how, f"{where}: mocks: {name}"))
            for name, how in as_mapping(data.get("mocks"), f"{where}: mocks").items()
        }
        scenario = cls(
            name=str(data.get("name") or (path.name.split(".behaviour.")[0] if path else "persona scenario")),
            persona=data["persona"].strip(),
            goal=data["goal"].strip(),
            max_turns=max_turns,
            path=path,
            app=data.get("app"),
            caller=dict(as_mapping(data.get("caller"), f"{where}: caller")),
            mocks=mocks,
            tools=[_expected_tool(item, f"{where}: expect: tools") for item in as_list(expect.get("tools"), where)],
            not_called=[str(name) for name in as_list(expect.get("not_called"), where)],
            judge=[str(criterion) for criterion in as_list(expect.get("judge"), where)],
            ended=expect.get("ended"),
            description=data.get("description"),
        )
        scenario.tool_mocks()  # a mock that does not parse fails here, on loading
        return scenario

    def tool_mocks(self) -> ToolMocks:
        """The scenario's mocks as `ToolMocks`.

        Raises:
            ConfigurationError: A mock is not one of ``returns``, ``fails`` or ``times_out``.
        """
        mocks = ToolMocks()
        for name, how in self.mocks.items():
            if set(how) == {"returns"} and isinstance(how["returns"], Mapping):
                mocks.returns(name, dict(how["returns"]))
            elif set(how) == {"fails"}:
                mocks.fails(name, str(how["fails"]))
            elif set(how) == {"times_out"} and how["times_out"] is True:
                mocks.times_out(name)
            else:
                raise ConfigurationError(
                    f"{self.path or self.name}: mocks: {name}: expected one of {{returns: {{...}}}}, "
                    "{fails: message}, {times_out: true}"
                )
        return mocks

    def load_app(self) -> Any:
        """Import the app the scenario names (relative to its file)."""
        from vns_sdk._loading import load_app

        if not self.app:
            raise ConfigurationError(f"{self.path or self.name}: the scenario names no app (add `app: module:attr`)")
        return load_app(self.app, base_dir=self.path.parent if self.path else None, isolate=True)


def is_persona_scenario(path: str | PathLike[str]) -> bool:
    """Whether a file name is a persona scenario's (``*.behaviour.yaml``, ``.yml``, ``.json``)."""
    return Path(path).name.endswith(PERSONA_SUFFIXES)


def find_persona_scenarios(paths: Iterable[str | PathLike[str]]) -> list[Path]:
    """The persona scenario files among `paths` (a file named, or found in a folder recursively)."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_persona_scenario(p)))
        elif is_persona_scenario(path):
            found.append(path)
    return found


def load_persona_scenario(path: str | PathLike[str]) -> PersonaScenario:
    """Read a persona scenario file (YAML, or JSON for ``.json``).

    Raises:
        ConfigurationError: The file does not parse or is not a persona scenario.
    """
    return PersonaScenario.from_dict(read_data_file(path), path=Path(path))


def _expected_tool(item: Any, where: str) -> ExpectedTool:
    if isinstance(item, str):
        return ExpectedTool(item)
    entry = as_mapping(item, where)
    only_keys(entry, {"name", "arguments"}, where)
    if not isinstance(entry.get("name"), str):
        raise ConfigurationError(f"{where}: each tool needs `name:`")
    arguments = entry.get("arguments")
    return ExpectedTool(entry["name"], dict(as_mapping(arguments, where)) if arguments is not None else None)
