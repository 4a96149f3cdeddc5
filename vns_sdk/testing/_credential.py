"""The throwaway webhook token of an app that is only simulated: the command line and pytest give the same one.

An app with no webhook credential refuses to be built, as it should when it serves VNS. A simulated call
needs none (the simulator presents whatever the app expects), so a fresh project can be tried and tested
before it has secrets. Reading the environment here costs no import: the pytest plugin calls this at the
start of every run.
"""

from __future__ import annotations

import os
import secrets

__all__ = ["STAND_IN_PREFIX", "has_webhook_credential", "stand_in_webhook_token"]

STAND_IN_PREFIX = "simulated-"
_TRUE = {"1", "true", "t", "yes", "y", "on"}


def _setting(name: str) -> str:
    # Settings are read without regard to case, as VNSSettings reads them.
    for key, value in os.environ.items():
        if key.upper() == name:
            return value.strip()
    return ""


def has_webhook_credential() -> bool:
    """Whether the environment gives an app a webhook credential (a token, Basic auth) or insecure dev mode."""
    credentials = (_setting("VNS_WEBHOOK_TOKEN"), _setting("VNS_WEBHOOK_BASIC_AUTH"))
    if any(part.strip() for value in credentials for part in value.split(",")):
        return True
    return _setting("VNS_INSECURE_DEV").lower() in _TRUE


def stand_in_webhook_token() -> str | None:
    """Set ``VNS_WEBHOOK_TOKEN`` to a throwaway token when the environment holds no webhook credential.

    Returns:
        The token set, or None when the environment already had a credential.
    """
    if has_webhook_credential():
        return None
    token = f"{STAND_IN_PREFIX}{secrets.token_urlsafe(24)}"
    os.environ["VNS_WEBHOOK_TOKEN"] = token
    return token
