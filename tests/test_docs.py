"""The documentation cannot rot: every code block a page shows runs here, and the pages agree with the code.

Code lives in the Markdown itself, so a page reads the same on the site and in the repository; how a
block is run (a program, a file the reader saves, a continuation, a block that cannot run) is said on
the page, see `docs_code`. Every ``docs/*.md`` page and README.md is run, new pages included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs_code import blocks, run_page

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TOKEN = "docs-test-token"

FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```$", re.M | re.S)


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


@pytest.fixture(autouse=True)
def page_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pages' apps read their webhook token from the environment, as a deployed app does.
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.delenv("VNS_INSECURE_DEV", raising=False)
    monkeypatch.delenv("VNS_REDIS_URL", raising=False)


def simulator(app: Any, **kwargs: Any) -> Any:
    from vns_sdk.testing import VNSSimulator

    return VNSSimulator(app, **kwargs)


# -- every block runs, and no page shows anything but code ----------------------------------------------


@pytest.mark.parametrize("page", [*pages(), ROOT / "README.md"], ids=lambda p: str(p.relative_to(ROOT)))
def test_page_code_runs(page: Path, tmp_path: Path) -> None:
    run_page(page, tmp_path)


@pytest.mark.parametrize("page", [*pages(), ROOT / "README.md"], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_shows_an_include_directive(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "--8<--" not in text, f"{page.name} includes a file instead of showing its code"


def test_skipped_blocks_say_why() -> None:
    for page in pages():
        text = page.read_text(encoding="utf-8")
        for marker in re.findall(r"<!--\s*test:\s*skip\b([^>]*)-->", text):
            assert marker.strip(" ()"), f"{page.name}: a skipped block says not why"


def test_example_excerpts_are_the_examples_code() -> None:
    """Blocks quoting an example (skipped: the example's own tests run them) are its code, word for word."""
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (ROOT / "examples").rglob("*")
        if path.suffix in (".py", ".yaml", ".json")
    )
    quoted = [
        block
        for page in pages()
        for block in blocks(page)
        if block.marker == "skip" and "example" in _marker_line(block)
    ]
    assert quoted
    for block in quoted:
        assert block.source.strip() in sources, f"{block.where}: this excerpt is no longer in examples/"


def _marker_line(block: Any) -> str:
    lines = block.page.read_text(encoding="utf-8").splitlines()
    return lines[block.line - 2] if block.line >= 2 else ""


def test_wire_page_shows_the_spec_payloads() -> None:
    shown = [json.loads(block.source) for block in blocks(DOCS / "wire.md") if block.language == "json"]
    fixtures = [json.loads(path.read_text(encoding="utf-8")) for path in (ROOT / "tests/fixtures/spec").glob("*.json")]
    assert len(shown) >= 8
    for payload in shown:
        assert payload in fixtures, f"wire.md shows a payload that tests/fixtures/spec does not hold: {payload}"


def test_the_runner_runs_every_kind_of_block(tmp_path: Path) -> None:
    """A page as others write it: programs, a file and its test, a continuation, a skipped block."""
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nx = 1\n```\n\n<!-- test: continue -->\n```python\nassert x == 1\n```\n\n"
        "```python\nassert 'x' not in globals()\n```\n\n"
        '```python title="lib.py"\nVALUE = 2\n```\n\n'
        '```python title="test_lib.py"\nfrom lib import VALUE\n\ndef test_value():\n    assert VALUE == 2\n```\n\n'
        "<!-- test: skip (needs a phone) -->\n```python\nraise SystemExit\n```\n",
        encoding="utf-8",
    )
    run = run_page(page, tmp_path / "files")
    assert len(run.namespaces) == 3
    broken = tmp_path / "broken.md"
    broken.write_text("intro\n\n```python\n1 / 0\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"broken.md:3: the block fails: ZeroDivisionError"):
        run_page(broken, tmp_path / "other")
    failing = tmp_path / "failing.md"
    failing.write_text('```python title="test_x.py"\ndef test_x():\n    assert False\n```\n', encoding="utf-8")
    with pytest.raises(AssertionError, match="the page's tests fail under pytest"):
        run_page(failing, tmp_path / "third")


def test_every_page_is_in_the_navigation() -> None:
    import yaml

    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from walk(value)

    listed = set(walk(config["nav"]))
    assert {str(page.relative_to(DOCS)) for page in pages()} <= listed
    assert not [entry for entry in listed if not (DOCS / entry).is_file()], "nav lists missing pages"


# -- README ------------------------------------------------------------------------------------------------


def ci_command(name: str) -> str:
    match = re.search(rf'^{name}="(.+)"$', (ROOT / ".ci" / "run").read_text(encoding="utf-8"), re.M)
    assert match, f".ci/run defines no {name}"
    return match[1]


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install, test = ci_command("INSTALL_CMD"), ci_command("TEST_CMD")
    assert f"{install} && {test}" in readme, "README.md's test command differs from .ci/run's"


# -- the pages say what the code does -------------------------------------------------------------------------


def test_configuration_page_lists_every_setting() -> None:
    from pydantic import AliasChoices

    from vns_sdk.settings import VNSSettings

    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name, field in VNSSettings.model_fields.items():
        variable = f"VNS_{name.upper()}"
        if isinstance(field.validation_alias, AliasChoices):  # a variable of its own name, such as OPENAI_API_KEY
            variable = next(str(choice) for choice in field.validation_alias.choices if str(choice).isupper())
        assert f"`{variable}`" in page, f"configuration.md does not document {variable}"


def test_wire_page_shows_each_adapter_form_as_rendered() -> None:
    from vns_sdk.models import ToolsUrlAdapter

    rendered = {
        form: ToolsUrlAdapter(form).render(
            "https://agent.example.com/vns/tools",
            tool_name="lookup_name_or_phone",
            session_guid="9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1",
            customer_call_id="CallId-001",
        )
        for form in ToolsUrlAdapter.FORMS
    }
    page = (DOCS / "wire.md").read_text(encoding="utf-8")
    for form, url in rendered.items():
        assert f"| `{form}` | `{url}` |" in page


def test_tools_page_shows_the_real_schema(tmp_path: Path) -> None:
    page = (DOCS / "tools.md").read_text(encoding="utf-8")
    shown = next(
        json.loads(fence["body"])
        for fence in FENCE.finditer(page)
        if fence["lang"] == "json" and "opening_hours" in fence["body"]
    )
    app = run_page(DOCS / "tools.md", tmp_path).namespace("def opening_hours")["app"]
    assert app.tools["opening_hours"].to_function_tool().model_dump(mode="json", exclude_none=True) == shown


def test_every_way_to_declare_parameters(tmp_path: Path) -> None:
    app = run_page(DOCS / "tools.md", tmp_path).namespace("def place_order")["app"]
    schema = app.tools["place_order"].to_function_tool().parameters
    properties = schema["properties"]
    assert "call" not in properties
    assert properties["pizza"]["enum"] == ["margherita", "funghi", "diavola"]
    assert properties["quantity"]["minimum"] == 1 and properties["quantity"]["maximum"] == 10
    assert "phoneNumber" in properties and "phone_number" not in properties
    assert schema["required"] == ["pizza", "size"]
    with simulator(app) as vns, vns.call() as call:
        order = call.invoke(
            "place_order",
            pizza="funghi",
            size="large",
            quantity=2,
            delivery_address={"street": "1 Main St", "city": "Denver", "postcode": "80202"},
            phoneNumber="+13035551212",
            extras=["olives"],
        )
        assert order == {"order_number": 1, "pizza": "funghi", "size": "large", "quantity": 2, "delivery": True}


def test_cli_page_documents_every_command_and_only_real_options() -> None:
    import typer.main

    from vns_sdk.cli.main import app

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## `vns-sdk ([\w-]+)`\n(.*?)(?=^## |\Z)", page, re.M | re.S))
    assert set(sections) == set(commands)
    for name, text in sections.items():
        known = {opt for param in commands[name].params for opt in (*param.opts, *param.secondary_opts)}
        # Lines of pytest commands show pytest's options, not the command's.
        own = "\n".join(line for line in text.splitlines() if not line.startswith("pytest"))
        for option in set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", own)) - {"--help"}:
            assert option in known, f"cli.md documents {option} for vns-sdk {name}, which has no such option"


def test_configuration_page_lists_every_app_argument() -> None:
    import inspect

    from vns_sdk import VNSApp

    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name in list(inspect.signature(VNSApp.__init__).parameters)[1:]:
        assert f"`{name}`" in page, f"configuration.md does not document VNSApp({name}=...)"


async def test_lifecycle_page_routes_exist() -> None:
    import httpx

    from vns_sdk import VNSApp

    app = VNSApp(instructions="You are a friendly agent.")
    page = (DOCS / "lifecycle.md").read_text(encoding="utf-8")
    routes = re.findall(r"^\| `(GET|POST) (/vns/[\w-]+)(?:/\.\.\.)?` \|", page, re.M)
    assert sorted(path for _, path in routes) == ["/vns/call-end", "/vns/call-start", "/vns/health", "/vns/tools"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        for method, path in routes:
            response = await client.request(method, path, json={} if method == "POST" else None)
            assert response.status_code != 404, path  # the route exists (it may refuse an empty request)
            if path == "/vns/health":
                assert response.json()["status"] == "ok"


def test_serverless_handler_answers_call_start(tmp_path: Path) -> None:
    body = (ROOT / "tests" / "fixtures" / "spec" / "call_start_request.json").read_text(encoding="utf-8")
    # Mangum runs each event on the thread's current event loop, as a Lambda process does; the test owns it.
    import asyncio

    handler = run_page(DOCS / "deployment.md", tmp_path).namespace("Mangum(app")["handler"]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        answer = handler(lambda_event("/vns/call-start", body, {"authorization": f"Bearer {TOKEN}"}), None)
        refused = handler(lambda_event("/vns/call-start", body, {}), None)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert answer["statusCode"] == 200
    instructions = json.loads(answer["body"])["VoiceElements_Instructions"]
    assert instructions["defaultToolsUrlBase"]["url"].endswith(".amazonaws.com/vns/tools")
    assert refused["statusCode"] == 401


def lambda_event(path: str, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as AWS Lambda hands it to the handler."""
    host = "abc123.execute-api.us-east-1.amazonaws.com"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": host, "x-forwarded-proto": "https"} | headers,
        "requestContext": {
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "stage": "$default",
            "domainName": host,
            "requestId": "request-1",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def test_outbound_dial_context_reaches_the_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    import vns_sdk.client
    from vns_sdk import VNSClient

    page = run_page(DOCS / "outbound.md", tmp_path)
    module = page.namespace("def remind")
    sent: list[dict[str, Any]] = []

    def vns_api(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"status": 0, "errorMessage": "Success"})

    # The client app.dial builds from VNS_API_URL/VNS_API_TOKEN, here talking to a fake VNS.
    monkeypatch.setattr(
        vns_sdk.client,
        "VNSClient",
        lambda **options: VNSClient(api_token="api-token", transport=httpx.MockTransport(vns_api)),
    )
    module["remind"]("Ada", "3035550142", "tomorrow at 9:00")
    assert sent[0]["calledNumber"] == "3035550142" and sent[0]["callerId"] == "7206999999"
    app = module["app"]
    with simulator(app) as vns, vns.call(outbound=True, customer_call_id=sent[0]["customerCallId"]) as call:
        assert call.instructions is not None and call.instructions.endswith("The appointment is tomorrow at 9:00.")
        assert call.invoke("confirm_attendance", coming=True) == {"recorded": True, "patient": "Ada"}

    requests: list[httpx.Request] = []
    real = VNSClient

    def recorded(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"status": 0, "errorMessage": "Success"})

    client_block = page.namespace("def call_with_the_client")
    client_block["VNSClient"] = lambda: real(transport=httpx.MockTransport(recorded))
    monkeypatch.setenv("VNS_API_TOKEN", "api-token")
    client_block["call_with_the_client"]()
    assert json.loads(requests[0].content) == json.loads(
        (ROOT / "tests" / "fixtures" / "spec" / "outbound_request.json").read_text(encoding="utf-8")
    )
