"""What makes a tool worse for the model, found before a caller meets it: `lint_tools`.

The model chooses a tool and fills in its arguments from the name, the description and the parameters'
descriptions alone, so each rule here is about what the model reads. The rules, and why each matters,
are in the docs' Tools page ("Check your tools").
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vns_sdk.tools._docstring import parse_docstring
from vns_sdk.tools._tool import Tool

__all__ = ["MAX_DESCRIPTION", "MAX_ENUM", "MAX_PARAMETER_DESCRIPTION", "ToolProblem", "lint_tools"]

MAX_DESCRIPTION = 1024
"""Characters of a tool's description past which it is reported: the model reads it on every turn."""
MAX_PARAMETER_DESCRIPTION = 300
"""Characters of a parameter's description past which it is reported."""
MAX_ENUM = 20
"""Values of an enum past which it is reported."""


@dataclass(frozen=True)
class ToolProblem:
    """One thing that makes a tool worse for the model.

    Attributes:
        tool: The tool's name.
        rule: The rule broken: ``no-description``, ``unknown-argument-doc``, ``undescribed-parameter``,
            ``long-description``, ``large-enum`` or ``name-collision``.
        message: What is wrong and what to do, in one line.
    """

    tool: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.tool}: {self.message} [{self.rule}]"


def _tools(tools: Any) -> list[Tool]:
    """The tools of an app, a router, a mapping of tools or an iterable of them."""
    found = getattr(tools, "tools", tools)
    if isinstance(found, Mapping):
        found = found.values()
    return [tool for tool in found if isinstance(tool, Tool)]


def lint_tools(tools: Any) -> list[ToolProblem]:
    """Check tools for what makes them worse for the model.

    Args:
        tools: A `VNSApp`, a `ToolRouter`, a mapping of name to `Tool`, or `Tool`s.

    Returns:
        The problems, tool by tool in registration order; empty when there are none.
    """
    checked = _tools(tools)
    problems: list[ToolProblem] = []
    for tool in checked:
        problems.extend(_check(tool))
    problems.extend(_collisions(tool.name for tool in checked))
    return problems


def _check(tool: Tool) -> Iterable[ToolProblem]:
    name = tool.name
    description = (tool.description or "").strip()
    if not description:
        yield ToolProblem(
            name,
            "no-description",
            "no description: the model guesses when to call it from the name alone; write a docstring that says "
            "what the tool does and when to call it",
        )
    elif len(description) > MAX_DESCRIPTION:
        yield ToolProblem(
            name,
            "long-description",
            f"the description is {len(description)} characters (more than {MAX_DESCRIPTION}): the model reads it "
            "on every turn; keep what it needs to choose the tool, move the rest to the instructions",
        )
    yield from _unknown_argument_docs(tool)
    properties: Mapping[str, Any] = tool.parameters.get("properties") or {}
    for parameter, schema in properties.items():
        yield from _check_parameter(name, str(parameter), schema)
    for first, second in _colliding(properties):
        yield ToolProblem(
            name,
            "name-collision",
            f"parameters {first!r} and {second!r} differ only in case: the model mixes them up; rename one",
        )


def _unknown_argument_docs(tool: Tool) -> Iterable[ToolProblem]:
    documented = parse_docstring(inspect.getdoc(tool.fn)).params
    try:
        parameters = set(inspect.signature(tool.fn).parameters)
    except (TypeError, ValueError):  # a callable without a signature: nothing to compare with
        return
    for argument in documented:
        if argument not in parameters:
            known = ", ".join(sorted(parameters)) or "none"
            yield ToolProblem(
                tool.name,
                "unknown-argument-doc",
                f"the docstring's Args: describes {argument!r}, which is not a parameter (the parameters: {known}); "
                "its words reach no one: rename the entry or the parameter",
            )


def _check_parameter(tool: str, parameter: str, schema: Any) -> Iterable[ToolProblem]:
    if not isinstance(schema, Mapping):
        return
    description = _description(schema)
    if not description:
        yield ToolProblem(
            tool,
            "undescribed-parameter",
            f"parameter {parameter!r} has no description: say what it is and its form (add it to the docstring's "
            "Args:, or Field(description=...))",
        )
    elif len(description) > MAX_PARAMETER_DESCRIPTION:
        yield ToolProblem(
            tool,
            "long-description",
            f"the description of parameter {parameter!r} is {len(description)} characters (more than "
            f"{MAX_PARAMETER_DESCRIPTION}); say what it is and its form, briefly",
        )
    for values in _enums(schema):
        if len(values) > MAX_ENUM:
            yield ToolProblem(
                tool,
                "large-enum",
                f"parameter {parameter!r} lists {len(values)} values (more than {MAX_ENUM}): each one is read on "
                "every turn and a long list is chosen from badly; take a string and look it up in the tool",
            )


def _description(schema: Mapping[str, Any]) -> str:
    text = schema.get("description")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key) or ():
            if isinstance(option, Mapping) and option.get("type") != "null":
                found = _description(option)
                if found:
                    return found
    return ""


def _enums(schema: Any) -> Iterable[list[Any]]:
    """Every enum in a schema, nested ones included."""
    if isinstance(schema, Mapping):
        values = schema.get("enum")
        if isinstance(values, list):
            yield values
        for value in schema.values():
            yield from _enums(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _enums(item)


def _colliding(names: Iterable[Any]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    pairs = []
    for name in map(str, names):
        key = name.casefold()
        if key in seen:
            pairs.append((seen[key], name))
        else:
            seen[key] = name
    return pairs


def _collisions(names: Iterable[str]) -> Iterable[ToolProblem]:
    for first, second in _colliding(names):
        yield ToolProblem(
            second,
            "name-collision",
            f"tools {first!r} and {second!r} differ only in case: the model mixes them up; rename one",
        )
