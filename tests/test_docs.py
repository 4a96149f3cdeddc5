"""The documentation cannot rot: every snippet it shows runs here, and the pages agree with the code.

Code in the docs lives in files: ``docs/snippets/*.py``, the examples and the spec fixtures, included by
``pymdownx.snippets``. These tests run the snippets, check what the pages claim about them, and check
that no page carries code that is not included from a tested file.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SNIPPETS = DOCS / "snippets"
TOKEN = "docs-test-token"

INCLUDE_BLOCK = re.compile(r"^--8<--\n(?P<files>(?:[^\n]+\n)+?)--8<--$", re.M)
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```$", re.M | re.S)


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def load_snippet(name: str) -> ModuleType:
    """Import ``docs/snippets/<name>.py`` afresh, under a name no other test uses."""
    path = SNIPPETS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"docs_snippet_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as a real import does: pydantic resolves annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def snippet_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The snippets read their webhook token from the environment, as a deployed app does.
    monkeypatch.setenv("VNS_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.delenv("VNS_INSECURE_DEV", raising=False)
    monkeypatch.delenv("VNS_REDIS_URL", raising=False)
    monkeypatch.syspath_prepend(str(SNIPPETS))
    before = set(sys.modules)
    yield
    # Snippets import each other by plain module names (`from shop import app`): forget them.
    for name in set(sys.modules) - before:
        if Path(getattr(sys.modules.get(name), "__file__", None) or "/").parent == SNIPPETS:
            del sys.modules[name]


def simulator(app: Any, **kwargs: Any) -> Any:
    from vns_sdk.testing import VNSSimulator

    return VNSSimulator(app, **kwargs)


# -- the pages include only what exists, and carry no untested code -------------------------------------


def included() -> list[tuple[Path, str, str | None]]:
    """Every ``(page, file, section)`` a docs page includes."""
    found = []
    for page in pages():
        for block in INCLUDE_BLOCK.finditer(page.read_text(encoding="utf-8")):
            for line in block["files"].splitlines():
                target, _, section = line.strip().partition(":")
                found.append((page, target, section or None))
    return found


def test_pages_include_snippets() -> None:
    assert len(included()) >= 20


@pytest.mark.parametrize(("page", "target", "section"), included(), ids=lambda v: str(v))
def test_every_include_exists(page: Path, target: str, section: str | None) -> None:
    path = ROOT / target
    assert path.is_file(), f"{page.name} includes {target}, which does not exist"
    if section is not None:
        text = path.read_text(encoding="utf-8")
        assert f"--8<-- [start:{section}]" in text, f"{page.name}: {target} has no section {section!r}"
        assert f"--8<-- [end:{section}]" in text, f"{page.name}: {target} does not end section {section!r}"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_code_blocks_are_included_from_tested_files(page: Path) -> None:
    """A Python or JSON block on a page must be an include, not code typed into the page."""
    text = page.read_text(encoding="utf-8")
    if page.name == "observability.md":
        return  # its blocks are written in the page, and run by tests/observe/test_observability_page.py
    for fence in FENCE.finditer(text):
        if fence["lang"] not in ("python", "py", "json", "yaml", "dockerfile", "toml"):
            continue
        body = fence["body"].strip()
        if page.name == "tools.md" and fence["lang"] == "json" and '"name": "opening_hours"' in body:
            continue  # checked against the app by test_tools_page_shows_the_real_schema
        assert INCLUDE_BLOCK.fullmatch(body), f"{page.name}: a {fence['lang']} block is not included from a file"


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


# serverless.py builds a Lambda handler: test_serverless_handler_answers_call_start drives it.
@pytest.mark.parametrize(
    "path", sorted(p for p in SNIPPETS.glob("*.py") if p.stem != "serverless"), ids=lambda p: p.name
)
def test_every_snippet_imports(path: Path) -> None:
    load_snippet(path.stem)


# -- README ------------------------------------------------------------------------------------------------


def ci_command(name: str) -> str:
    match = re.search(rf'^{name}="(.+)"$', (ROOT / ".ci" / "run").read_text(encoding="utf-8"), re.M)
    assert match, f".ci/run defines no {name}"
    return match[1]


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install, test = ci_command("INSTALL_CMD"), ci_command("TEST_CMD")
    assert f"{install} && {test}" in readme, "README.md's test command differs from .ci/run's"


def test_readme_python_blocks_come_from_tested_snippets() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    snippets = "\n".join(path.read_text(encoding="utf-8") for path in SNIPPETS.glob("*.py"))
    blocks = [fence["body"] for fence in FENCE.finditer(readme) if fence["lang"] == "python"]
    assert blocks
    for block in blocks:
        assert block in snippets, f"README.md shows Python that no docs/snippets file holds:\n{block}"


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
    rendered = load_snippet("adapter").rendered()
    page = (DOCS / "wire.md").read_text(encoding="utf-8")
    for form, url in rendered.items():
        assert f"| `{form}` | `{url}` |" in page


def test_tools_page_shows_the_real_schema() -> None:
    page = (DOCS / "tools.md").read_text(encoding="utf-8")
    shown = next(
        json.loads(fence["body"])
        for fence in FENCE.finditer(page)
        if fence["lang"] == "json" and "opening_hours" in fence["body"]
    )
    app = load_snippet("tools").app
    assert app.tools["opening_hours"].to_function_tool().model_dump(mode="json", exclude_none=True) == shown


# -- the snippets do what the pages say -------------------------------------------------------------------


def test_home_page_call() -> None:
    load_snippet("shop_test").test_order_status()


def test_what_the_model_hears() -> None:
    load_snippet("replies").check_replies()


def test_every_way_to_declare_parameters() -> None:
    app = load_snippet("tools").app
    schema = app.tools["place_order"].to_function_tool().parameters
    properties = schema["properties"]
    assert "call" not in properties
    assert properties["pizza"]["enum"] == ["margherita", "funghi", "diavola"]
    assert properties["quantity"]["minimum"] == 1 and properties["quantity"]["maximum"] == 10
    assert "phoneNumber" in properties and "phone_number" not in properties
    assert schema["required"] == ["pizza", "size"]
    assert app.tools["check_oven"].timeout == 2.0
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
        assert call.invoke("opening_hours", day="2026-03-09") == {"open": False}  # a Monday
        assert call.invoke("check_oven") == {"minutes": 20}
        assert call.invoke("cancel_order", order_number=1) == {"cancelled": 1}


def test_routers_and_add_tool() -> None:
    module = load_snippet("routers")
    assert list(module.app.tools) == ["end_conversation", "balance", "pay_now", "store_hours", "store_address"]
    assert list(module.other.tools) == ["store_hours", "balance", "pay_now"]
    assert module.take_payment.__name__ == "take_payment"  # decorators return the function unchanged
    with simulator(module.app) as vns, vns.call() as call:
        assert call.invoke("store_address") == {"result": "12 Main Street"}
        assert call.invoke("pay_now", account_number="7", amount=10) == {"paid": 10.0}


def test_call_start_customization() -> None:
    module = load_snippet("call_start")
    app = module.app
    session = app.build_session()
    assert session.audio.input.turn_detection.type == "semantic_vad"
    assert session.audio.output.speed == 1.1
    assert session.audio.input.format.type == "audio/pcmu"  # the telephony default is kept
    with simulator(app) as vns:
        with vns.call(caller_id="3035550142") as gold:
            assert gold.instructions is not None and gold.instructions.endswith("Ada, a gold client.")
            assert gold.session.audio.output.voice == "cedar"
            assert gold.customer_call_id is not None and gold.customer_call_id.startswith("AC-7-")
            assert gold.invoke("transfer_money", amount=5) == {"transferred": 5.0, "account": "AC-7"}
        with vns.call(caller_id="3035550123") as unknown:
            assert "transfer_money" not in unknown.tools
            assert unknown.max_seconds == 180
        from vns_sdk.testing import SimulationError

        with pytest.raises(SimulationError, match="403"), vns.call(caller_id="3035550199"):
            pass


def test_call_end_report() -> None:
    module = load_snippet("call_end")
    with simulator(module.app) as vns, vns.call(caller_id="3035550142") as call:
        call.invoke("end_conversation", user_input="bye")
        call.end(duration=42)
    saved = module.calls[-1]
    assert saved["caller"] == "3035550142"
    assert saved["answered"] and saved["ok"] and saved["ended_by_agent"]
    assert saved["seconds"] == pytest.approx(42)


def test_call_state_cart() -> None:
    module = load_snippet("state")
    with simulator(module.app) as vns, vns.call(caller_id="3035550111") as call:
        call.invoke("add_to_cart", item="milk")
        assert call.invoke("add_to_cart", item="eggs", quantity=12)["cart"] == [
            {"item": "milk", "quantity": 1},
            {"item": "eggs", "quantity": 12},
        ]
    assert module.orders[-1]["items"][1] == {"item": "eggs", "quantity": 12}


def test_outbound_dial_context_reaches_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    import vns_sdk.client
    from vns_sdk import VNSClient

    module = load_snippet("outbound")
    sent: list[dict[str, Any]] = []

    def vns_api(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"status": 0, "errorMessage": "Success"})

    app = module.app
    # The client app.dial builds from VNS_API_URL/VNS_API_TOKEN, here talking to a fake VNS.
    monkeypatch.setattr(
        vns_sdk.client,
        "VNSClient",
        lambda **options: VNSClient(api_token="api-token", transport=httpx.MockTransport(vns_api)),
    )
    module.remind("Ada", "3035550142", "tomorrow at 9:00")
    assert sent[0]["calledNumber"] == "3035550142" and sent[0]["callerId"] == "7206999999"
    with simulator(app) as vns, vns.call(outbound=True, customer_call_id=sent[0]["customerCallId"]) as call:
        assert call.instructions is not None and call.instructions.endswith("The appointment is tomorrow at 9:00.")
        assert call.invoke("confirm_attendance", coming=True) == {"recorded": True, "patient": "Ada"}


def test_outbound_client(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from vns_sdk import VNSClient

    module = load_snippet("outbound")
    requests: list[httpx.Request] = []

    def vns_api(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"status": 0, "errorMessage": "Success"})

    real = VNSClient
    monkeypatch.setattr(module, "VNSClient", lambda: real(transport=httpx.MockTransport(vns_api)))
    monkeypatch.setenv("VNS_API_TOKEN", "api-token")
    module.call_with_the_client()
    assert json.loads(requests[0].content) == json.loads(
        (ROOT / "tests" / "fixtures" / "spec" / "outbound_request.json").read_text(encoding="utf-8")
    )
    assert requests[0].headers["authorization"] == "Bearer api-token"


def test_security_rotation_accepts_both_tokens() -> None:
    app = load_snippet("security").app
    for token in ("new-token-from-your-vault", "old-token-being-retired"):
        with simulator(app, webhook_token=token) as vns, vns.call() as call:
            assert call.session_guid
    from vns_sdk.testing import SimulationError

    with pytest.raises(SimulationError, match="401"), simulator(app, webhook_token="wrong") as vns, vns.call():
        pass


def test_configuration_settings_object() -> None:
    module = load_snippet("configuration")
    assert module.app.settings.webhook_header == "X-Api-Key"
    with simulator(module.app) as vns, vns.call() as call:
        assert call.exchanges[0].request_headers.get("X-Api-Key") == "s3cret-token"


def test_realtime_endpoint_snippets_answer_each_form() -> None:
    import httpx

    module = load_snippet("realtime_endpoint")

    async def ai_url(app: Any, called_number: str = "7206999999") -> dict[str, Any]:
        body = {"sessionGuid": "g-1", "callerId": "3032639999", "calledNumber": called_number}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://agent.example.com") as http:
            answer = await http.post("/vns/call-start", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        result: dict[str, Any] = answer.json()["VoiceElements_Instructions"]["aiUrl"]
        return result

    azure = asyncio.run(ai_url(module.azure_app))
    assert azure["url"] == "wss://contoso.openai.azure.com/openai/v1/realtime?model=my-realtime-deployment"
    assert list(azure["headers"]) == ["api-key"]
    gateway = asyncio.run(ai_url(module.gateway_app))
    assert gateway["url"] == "wss://llm-gateway.example.com/openai/realtime?model=gpt-realtime"
    assert list(gateway["headers"]) == ["X-Gateway-Key"]
    for number, endpoint in module.ACCOUNTS.items():
        assert asyncio.run(ai_url(module.app, number))["headers"] == dict(endpoint.headers)
    assert "OpenAI-Project" not in asyncio.run(ai_url(module.app, "3035550000"))["headers"]


def test_redis_snippet_builds_redis_stores() -> None:
    from vns_sdk.state import RedisCallStateStore

    module = load_snippet("redis_store")
    assert isinstance(module.explicit.store, RedisCallStateStore)


def test_mounted_in_fastapi() -> None:
    module = load_snippet("mount")
    with simulator(module.api, prefix="/voice/vns", webhook_token=TOKEN) as vns, vns.call() as call:
        assert call.response.voice_elements_instructions.default_tools_url_base.url.endswith("/voice/vns/tools")


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


def test_serverless_handler_answers_call_start() -> None:
    body = (ROOT / "tests" / "fixtures" / "spec" / "call_start_request.json").read_text(encoding="utf-8")
    # Mangum takes the thread's event loop when the handler is built and runs every event on it, as a Lambda
    # process does; here the test owns that loop and closes it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        handler = load_snippet("serverless").handler
        answer = handler(lambda_event("/vns/call-start", body, {"authorization": f"Bearer {TOKEN}"}), None)
        refused = handler(lambda_event("/vns/call-start", body, {}), None)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert answer["statusCode"] == 200
    instructions = json.loads(answer["body"])["VoiceElements_Instructions"]
    assert instructions["defaultToolsUrlBase"]["url"].endswith(".amazonaws.com/vns/tools")
    assert refused["statusCode"] == 401


def test_dockerfile_serves_the_app_module() -> None:
    dockerfile = (SNIPPETS / "Dockerfile").read_text(encoding="utf-8")
    assert 'CMD ["uvicorn", "app:app"' in dockerfile


def test_record_and_replay(tmp_path: Path) -> None:
    transcript = tmp_path / "call.jsonl"
    load_snippet("testing_more").record_and_replay(transcript)
    assert TOKEN not in transcript.read_text(encoding="utf-8")  # the webhook token is redacted


async def test_async_simulated_call() -> None:
    await load_snippet("testing_more").check_async_call()


def test_scenario_file() -> None:
    from vns_sdk.testing import run_scenario

    result = run_scenario(SNIPPETS / "order.vns.yaml")
    assert result.problems == []
    assert [exchange.kind for exchange in result.exchanges] == ["call_start", "tool", "tool", "call_end"]


def test_quickstart_project_passes_its_own_tests() -> None:
    """The quickstart's app.py and test_app.py, run by pytest as the reader runs them."""
    import os
    import subprocess

    env = {key: value for key, value in os.environ.items() if not key.startswith(("VNS_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(SNIPPETS / "quickstart")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


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

    app = load_snippet("shop").app
    page = (DOCS / "lifecycle.md").read_text(encoding="utf-8")
    routes = re.findall(r"^\| `(GET|POST) (/vns/[\w-]+)(?:/\.\.\.)?` \|", page, re.M)
    assert sorted(path for _, path in routes) == ["/vns/call-end", "/vns/call-start", "/vns/health", "/vns/tools"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        for method, path in routes:
            response = await client.request(method, path, json={} if method == "POST" else None)
            assert response.status_code != 404, path  # the route exists (it may refuse an empty request)
            if path == "/vns/health":
                assert response.json()["status"] == "ok"
