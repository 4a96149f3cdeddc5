"""`ToolsUrlAdapter`: each `defaultToolsUrlAdapter` form renders into a URL and parses back."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from vns_sdk.models import ToolInvocation, ToolsUrlAdapter, VoiceElementsInvokeTool, vns_tool_request

BASE = "https://example.com/vns/tools"
GUID = "9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1"


def url_parts(url: str) -> tuple[str, dict[str, str]]:
    """What an ASGI server hands the app: the raw path after the tools route, and the decoded query."""
    assert url.startswith(BASE)
    parts = urlsplit(url)
    return parts.path.removeprefix(urlsplit(BASE).path), dict(parse_qsl(parts.query, keep_blank_values=True))


def test_forms_are_the_six_non_null_spec_forms() -> None:
    assert len(ToolsUrlAdapter.FORMS) == 6
    assert ToolsUrlAdapter.FORMS[0] == "/<<sessionguid>>/<<toolname>>/<<customerCallId>>"
    assert ToolsUrlAdapter.FORMS[-1] == "?toolname=<<toolname>>&sessionguid=<<sessionguid>>"


@pytest.mark.parametrize(
    ("template", "url"),
    [
        ("/<<sessionguid>>/<<toolname>>/<<customerCallId>>", f"{BASE}/{GUID}/lookup/CallId-001"),
        ("/<<toolname>>/<<sessionguid>>/<<customerCallId>>", f"{BASE}/lookup/{GUID}/CallId-001"),
        ("/<<toolname>>", f"{BASE}/lookup"),
        ("/<<toolname>>/<<customerCallId>>", f"{BASE}/lookup/CallId-001"),
        (
            "?toolname=<<toolname>>&sessionguid=<<sessionguid>>&customerCallId=<<customerCallId>>",
            f"{BASE}?toolname=lookup&sessionguid={GUID}&customerCallId=CallId-001",
        ),
        ("?toolname=<<toolname>>&sessionguid=<<sessionguid>>", f"{BASE}?toolname=lookup&sessionguid={GUID}"),
    ],
)
def test_render_each_form(template: str, url: str) -> None:
    adapter = ToolsUrlAdapter(template)
    assert adapter.render(BASE, tool_name="lookup", session_guid=GUID, customer_call_id="CallId-001") == url


@pytest.mark.parametrize("template", ToolsUrlAdapter.FORMS)
@pytest.mark.parametrize("customer_call_id", ["CallId-001", None, "a b/c?d&e=f%g#h", "é 🙂"])
def test_every_form_round_trips(template: str, customer_call_id: str | None) -> None:
    adapter = ToolsUrlAdapter(template)
    url = adapter.render(BASE, tool_name="lookup_name", session_guid=GUID, customer_call_id=customer_call_id)
    path, query = url_parts(url)
    found = adapter.parse(path, query)
    assert found.tool_name == "lookup_name"
    assert found.session_guid == (GUID if "<<sessionguid>>" in template else None)
    assert found.customer_call_id == (customer_call_id if "<<customerCallId>>" in template else None)


def test_a_null_customer_call_id_is_an_empty_segment() -> None:
    adapter = ToolsUrlAdapter("/<<sessionguid>>/<<toolname>>/<<customerCallId>>")
    url = adapter.render(BASE, tool_name="lookup", session_guid=GUID, customer_call_id=None)
    assert url == f"{BASE}/{GUID}/lookup/"
    assert adapter.parse(f"/{GUID}/lookup/", {}) == VoiceElementsInvokeTool(tool_name="lookup", session_guid=GUID)
    # Also without the empty segment, or with a final slash.
    assert adapter.parse(f"/{GUID}/lookup", {}).customer_call_id is None
    assert adapter.parse(f"/{GUID}/lookup/c-1/", {}).customer_call_id == "c-1"


def test_a_null_customer_call_id_in_a_query() -> None:
    adapter = ToolsUrlAdapter(ToolsUrlAdapter.FORMS[4])
    url = adapter.render(BASE, tool_name="lookup", session_guid=GUID, customer_call_id=None)
    assert url.endswith("&customerCallId=")
    assert adapter.parse("", {"toolname": "lookup", "sessionguid": GUID}).customer_call_id is None
    assert (
        adapter.parse("/", {"toolname": "lookup", "sessionguid": GUID, "customerCallId": ""}).customer_call_id is None
    )


def test_extra_query_parameters_are_ignored() -> None:
    adapter = ToolsUrlAdapter("/<<toolname>>")
    assert adapter.parse("/lookup", {"utm": "x"}).tool_name == "lookup"


def test_path_and_query_together_and_literal_text() -> None:
    adapter = ToolsUrlAdapter("/v1/tool-<<toolname>>?sid=<<sessionguid>>&ccid=<<customerCallId>>")
    url = adapter.render(BASE, tool_name="lookup", session_guid="g-1", customer_call_id="c 1")
    assert url == f"{BASE}/v1/tool-lookup?sid=g-1&ccid=c%201"
    path, query = url_parts(url)
    assert adapter.parse(path, query) == VoiceElementsInvokeTool(
        tool_name="lookup", session_guid="g-1", customer_call_id="c 1"
    )


@pytest.mark.parametrize(
    ("template", "path", "query", "message"),
    [
        ("/<<toolname>>", "/a/b", {}, "does not fit"),
        ("/<<toolname>>", "", {}, "does not fit"),
        ("/<<toolname>>/<<sessionguid>>", "//g", {}, "names no tool"),
        ("?toolname=<<toolname>>", "/lookup", {"toolname": "lookup"}, "path '/lookup' does not fit"),
        ("?toolname=<<toolname>>&sessionguid=<<sessionguid>>", "", {"sessionguid": GUID}, "lacks 'toolname'"),
        ("?toolname=<<toolname>>", "", {"toolname": ""}, "names no tool"),
        ("?id=tool-<<toolname>>", "", {"id": "lookup"}, "id='lookup' does not fit"),
    ],
)
def test_parse_rejects_what_does_not_fit(template: str, path: str, query: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ToolsUrlAdapter(template).parse(path, query)


def test_unknown_placeholder_is_named_with_the_allowed_ones() -> None:
    with pytest.raises(ValueError) as info:
        ToolsUrlAdapter("/<<toolname>>/<<callid>>")
    message = str(info.value)
    assert "unknown placeholder <<callid>>" in message
    assert "<<toolname>>, <<sessionguid>>, <<customerCallId>>" in message


def test_placeholders_are_case_sensitive() -> None:
    with pytest.raises(ValueError, match="unknown placeholder <<ToolName>>"):
        ToolsUrlAdapter("/<<ToolName>>")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("<<toolname>>", "must start with '/' \\(path form\\) or '\\?' \\(query form\\)"),
        ("/<<sessionguid>>", "lacks <<toolname>>"),
        ("/<<toolname>>/<<toolname>>", "<<toolname>> appears more than once"),
        ("/<<toolname>>/<<sessionguid", "unbalanced"),
        ("/<<toolname>>/sessionguid>>", "unbalanced"),
        ("?<<toolname>>=1", "placeholder in a query parameter name"),
    ],
)
def test_malformed_templates_are_rejected(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ToolsUrlAdapter(template)


def test_template_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="not NoneType"):
        ToolsUrlAdapter(None)  # type: ignore[arg-type]


def test_adapter_value_semantics() -> None:
    adapter = ToolsUrlAdapter("/<<toolname>>")
    assert adapter.template == str(adapter) == "/<<toolname>>"
    assert repr(adapter) == "ToolsUrlAdapter('/<<toolname>>')"
    assert adapter == ToolsUrlAdapter("/<<toolname>>")
    assert adapter != ToolsUrlAdapter("?toolname=<<toolname>>")
    assert adapter != "/<<toolname>>"
    assert len({adapter, ToolsUrlAdapter("/<<toolname>>")}) == 1


def test_vns_tool_request_without_adapter_wraps_the_metadata() -> None:
    url, body = vns_tool_request(
        BASE, None, tool_name="lookup", arguments={"name": "Ron"}, session_guid=GUID, customer_call_id=None
    )
    assert url == BASE
    assert body == {
        "VoiceElements_InvokeTool": {"toolName": "lookup", "sessionGuid": GUID, "customerCallId": None},
        "name": "Ron",
    }
    assert ToolInvocation.model_validate(body).arguments == {"name": "Ron"}


@pytest.mark.parametrize("adapter", ["/<<toolname>>", ToolsUrlAdapter("/<<toolname>>")])
def test_vns_tool_request_with_an_adapter_puts_the_metadata_in_the_url(adapter: str | ToolsUrlAdapter) -> None:
    url, body = vns_tool_request(
        BASE, adapter, tool_name="lookup", arguments={"name": "Ron"}, session_guid=GUID, customer_call_id="c"
    )
    assert url == f"{BASE}/lookup"
    assert body == {"name": "Ron"}


@pytest.mark.parametrize("template", ToolsUrlAdapter.FORMS)
def test_parse_url_reads_the_metadata_back_from_the_url_or_its_path(template: str) -> None:
    adapter = ToolsUrlAdapter(template)
    url = adapter.render(BASE, tool_name="lookup", session_guid=GUID, customer_call_id="a b/c")
    parts = urlsplit(url)
    for seen in (url, parts.path + (f"?{parts.query}" if parts.query else "")):
        found = adapter.parse_url(seen, route="/tools")
        assert found.tool_name == "lookup"
        assert found.session_guid == (GUID if "<<sessionguid>>" in template else None)
        assert found.customer_call_id == ("a b/c" if "<<customerCallId>>" in template else None)


def test_parse_url_refuses_a_path_without_the_route_or_off_the_template() -> None:
    adapter = ToolsUrlAdapter("/<<toolname>>")
    with pytest.raises(ValueError, match="does not hold the tools route '/tools'"):
        adapter.parse_url("/vns/call-end", route="/tools")
    with pytest.raises(ValueError, match="does not fit"):
        adapter.parse_url("/vns/tools/lookup/extra/segments", route="/tools")


def test_raw_wrapper_and_arguments_read_a_body_as_it_came() -> None:
    body = {"VoiceElements_InvokeTool": {"toolName": 5, "odd": True}, "name": "Ron", "invoke_tool": 1}
    assert ToolInvocation.raw_wrapper(body) == {"toolName": 5, "odd": True}
    assert ToolInvocation.raw_arguments(body) == {"name": "Ron", "invoke_tool": 1}
    for malformed in ("text", None, ["VoiceElements_InvokeTool"], {"VoiceElements_InvokeTool": "lookup"}):
        assert ToolInvocation.raw_wrapper(malformed) == {}
    assert ToolInvocation.raw_arguments("text") == {}
    assert ToolInvocation.raw_arguments({"VoiceElements_InvokeTool": "lookup"}) == {}
