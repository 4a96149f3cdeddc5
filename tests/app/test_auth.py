"""The credentials: webhook tokens (rotation, headers, Basic) and the per-call signed tool tokens."""

from __future__ import annotations

import base64

import pytest

from vns_sdk.app._auth import ToolTokenError, ToolTokens, WebhookAuth


def headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(name.replace("_", "-").encode(), value.encode()) for name, value in values.items()]


def test_webhook_auth_accepts_each_rotated_token_and_nothing_else() -> None:
    auth = WebhookAuth(["new-token", "old-token"])
    assert auth.configured
    assert auth.check(headers(authorization="Bearer new-token"))
    assert auth.check(headers(Authorization="bearer old-token"))
    for wrong in ("Bearer ", "Bearer new", "Bearer new-token2", "new-token", "Basic bmV3LXRva2Vu", ""):
        assert not auth.check(headers(authorization=wrong)), wrong
    assert not auth.check([])
    assert not WebhookAuth([]).configured


def test_webhook_auth_custom_header_and_basic() -> None:
    auth = WebhookAuth(["t0ken"], header="X-Hook-Token", basic=["vns:pa:ss"])
    encoded = base64.b64encode(b"vns:pa:ss").decode()
    assert auth.check(headers(x_hook_token="t0ken"))
    assert not auth.check(headers(authorization="Bearer t0ken"))
    assert auth.check(headers(authorization=f"Basic {encoded}"))
    assert not auth.check(headers(authorization=f"Basic {encoded}x"))


def test_tool_tokens_round_trip_and_expire() -> None:
    now = [1_000_000.0]
    tokens = ToolTokens.derive("secret", clock=lambda: now[0])
    token = tokens.issue("9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1", 420)
    assert "secret" not in token
    assert tokens.verify(token) == "9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1"
    assert tokens.verify(token.encode()) == "9e6a9d8e-6a92-4b3f-9a2c-1c63c1f3a8f1"  # again, from the cache
    now[0] += 419
    assert tokens.verify(token)
    now[0] += 1
    with pytest.raises(ToolTokenError) as expired:
        tokens.verify(token)
    assert expired.value.reason == "expired"
    fresh = ToolTokens.derive("secret", clock=lambda: now[0])  # another worker: no cache
    with pytest.raises(ToolTokenError, match="expired"):
        fresh.verify(token)


def test_a_token_is_signed_once_by_the_worker_that_issued_it(monkeypatch: pytest.MonkeyPatch) -> None:
    signed: list[bytes] = []
    sign = ToolTokens._sign

    def counting(self: ToolTokens, message: bytes) -> bytes:
        signed.append(message)
        return sign(self, message)

    monkeypatch.setattr(ToolTokens, "_sign", counting)
    here, there = ToolTokens.derive("secret"), ToolTokens.derive("secret")
    token = here.issue("guid-1", 60)
    assert here.verify(token) == "guid-1"  # issued here: known good without signing it again
    assert there.verify(token) == "guid-1"  # another worker checks the signature
    assert len(signed) == 2
    signed_part, _, signature = token.rpartition(".")
    altered = f"{signed_part}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"  # one issued here, altered
    with pytest.raises(ToolTokenError, match="bad_signature"):
        here.verify(altered)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "malformed"),
        ("v1.abc", "malformed"),
        ("v2.YQ.1.sig", "malformed"),
        ("v1.YQ.1.a", "malformed"),
        ("v1.YQ.notanumber.c2ln", "bad_signature"),
        ("v1.YQ.99999999999.c2ln", "bad_signature"),
    ],
)
def test_tool_tokens_refuse_what_they_did_not_sign(token: str, reason: str) -> None:
    with pytest.raises(ToolTokenError) as refused:
        ToolTokens.derive("secret").verify(token)
    assert refused.value.reason == reason


def test_tool_token_keys_differ_by_secret_and_are_long_enough() -> None:
    token = ToolTokens.derive("one").issue("guid", 60)
    with pytest.raises(ToolTokenError, match="bad_signature"):
        ToolTokens.derive("two").verify(token)
    with pytest.raises(ValueError, match="16 bytes"):
        ToolTokens(b"short")
