"""The tool linter: what makes a tool worse for the model is reported, rule by rule; a good tool passes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

from vns_sdk import CallContext, ToolRouter, VNSApp
from vns_sdk.testing import VNSSimulator, check_tools
from vns_sdk.tools import Tool, lint_tools


def rules(tools: Any) -> list[tuple[str, str]]:
    return [(problem.tool, problem.rule) for problem in lint_tools(tools)]


def test_a_well_described_tool_passes() -> None:
    router = ToolRouter()

    @router.tool
    async def book(call: CallContext, day: Literal["monday", "tuesday"], hour: int) -> dict[str, Any]:
        """Books an appointment.

        Args:
            day: The day of the week.
            hour: The hour it starts, 0 to 23.
        """
        return {}

    assert lint_tools(router) == []
    check_tools(router)


def test_the_built_in_tool_passes() -> None:
    assert lint_tools(VNSApp(instructions="Hi.", webhook_token="t", end_conversation=True)) == []


def test_no_description() -> None:
    def ping() -> str:
        return "pong"

    assert rules([Tool.from_function(ping)]) == [("ping", "no-description")]


def test_an_args_entry_for_a_parameter_that_does_not_exist() -> None:
    def lookup(call: CallContext, name: str) -> str:
        """Looks a person up.

        Args:
            call: The call (the context parameter may be described: it exists).
            nme: The person's name.
        """
        return name

    problems = lint_tools([Tool.from_function(lookup)])
    assert [(problem.rule, problem.tool) for problem in problems] == [
        ("unknown-argument-doc", "lookup"),
        ("undescribed-parameter", "lookup"),  # `name` got no words: they went to `nme`
    ]
    assert "'nme', which is not a parameter (the parameters: call, name)" in problems[0].message


def test_parameters_without_descriptions() -> None:
    def book(day: str, hour: Annotated[int, Field(description="The hour.")], note: str | None = None) -> str:
        """Books."""
        return day

    problems = lint_tools([Tool.from_function(book)])
    assert [problem.message.split(" has")[0] for problem in problems] == ["parameter 'day'", "parameter 'note'"]


def test_descriptions_past_a_sensible_length() -> None:
    def chatty(topic: Annotated[str, Field(description="word " * 100)]) -> str:
        return topic

    tool = Tool.from_function(chatty, description="A tool. " * 200)
    assert rules([tool]) == [("chatty", "long-description"), ("chatty", "long-description")]


def test_an_enum_too_large() -> None:
    Airport = Literal[tuple(f"A{index:02}" for index in range(30))]  # type: ignore[valid-type]

    def fly(to: Airport) -> str:  # type: ignore[valid-type]
        """Books a flight.

        Args:
            to: Where to.
        """
        return str(to)

    [problem] = lint_tools([Tool.from_function(fly)])
    assert problem.rule == "large-enum" and "lists 30 values (more than 20)" in problem.message


def test_names_that_collide_without_case() -> None:
    def first(a: int, A: int) -> int:
        """One.

        Args:
            a: A.
            A: Also a.
        """
        return a

    def second() -> int:
        """Two."""
        return 2

    tools = [Tool.from_function(first, name="Lookup"), Tool.from_function(second, name="lookup")]
    assert rules(tools) == [("Lookup", "name-collision"), ("lookup", "name-collision")]


def test_check_tools_fails_with_one_line_per_problem() -> None:
    def ping(x: int) -> int:
        return x

    with pytest.raises(AssertionError) as failed:
        check_tools([Tool.from_function(ping)])
    assert str(failed.value).splitlines() == [
        "2 tool problems:",
        "  ping: no description: the model guesses when to call it from the name alone; write a docstring that "
        "says what the tool does and when to call it [no-description]",
        "  ping: parameter 'x' has no description: say what it is and its form (add it to the docstring's Args:, "
        "or Field(description=...)) [undescribed-parameter]",
    ]


def test_a_tool_without_a_docstring_sends_no_null_description() -> None:
    app = VNSApp(instructions="Hi.", webhook_token="t")

    @app.tool
    def ping() -> str:
        return "pong"

    assert "description" not in app.tools["ping"].to_function_tool().model_dump(mode="json", exclude_unset=True)
    with VNSSimulator(app) as vns, vns.call() as call:
        [sent] = call.exchanges[0].response_body["session"]["tools"]
    assert sent == {"type": "function", "name": "ping", "parameters": {"type": "object", "properties": {}}}
