"""The public names: `vns_sdk.__all__` and `vns_sdk.models.__all__` are what they declare."""

from __future__ import annotations

import importlib

import pytest

import vns_sdk

TOP_LEVEL_CONTRACT = {"VNSApp", "ToolRouter", "CallContext", "ToolError", "VNSClient", "AsyncVNSClient"}

MODELS_CONTRACT = {
    "CallStartRequest",
    "CallStartResponse",
    "VoiceElementsInstructions",
    "EndpointConfig",
    "SessionUpdate",
    "RealtimeSession",
    "FunctionTool",
    "McpTool",
    "ToolInvocation",
    "ToolsUrlAdapter",
    "CallEndRequest",
    "CallEndResponse",
    "OutboundCallRequest",
    "OutboundCallResponse",
}


def test_top_level_exports_the_contract_names() -> None:
    assert not TOP_LEVEL_CONTRACT - set(vns_sdk.__all__), "missing from vns_sdk.__all__"


@pytest.mark.parametrize("name", sorted(set(vns_sdk.__all__)))
def test_every_top_level_name_resolves(name: str) -> None:
    value = getattr(vns_sdk, name)
    assert value is not None
    if name != "__version__":
        # Exported objects come from the package itself, not from a dependency.
        assert value.__module__.startswith("vns_sdk."), (name, value.__module__)


def test_top_level_all_has_no_duplicates_and_matches_dir() -> None:
    assert len(vns_sdk.__all__) == len(set(vns_sdk.__all__))
    assert set(vns_sdk.__all__) <= set(dir(vns_sdk))


def test_unknown_top_level_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        vns_sdk.no_such_name  # noqa: B018


def test_version_is_a_string() -> None:
    assert isinstance(vns_sdk.__version__, str)
    assert vns_sdk.__version__[0].isdigit()


def test_models_exports_the_contract_names() -> None:
    models = importlib.import_module("vns_sdk.models")
    assert not MODELS_CONTRACT - set(models.__all__), "missing from vns_sdk.models.__all__"


def test_every_models_name_resolves() -> None:
    models = importlib.import_module("vns_sdk.models")
    assert len(models.__all__) == len(set(models.__all__))
    for name in models.__all__:
        value = getattr(models, name)
        assert value.__module__.startswith("vns_sdk.models"), (name, value.__module__)


@pytest.mark.parametrize(
    "module", ["vns_sdk.tools", "vns_sdk.app", "vns_sdk.client", "vns_sdk.testing", "vns_sdk.state", "vns_sdk.context"]
)
def test_every_public_module_all_resolves(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__all__, f"{module}.__all__ is empty"
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{module}.{name}"
