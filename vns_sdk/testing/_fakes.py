"""Wire fakes: the CallStart body VNS sends, with realistic fictional values for what a test leaves out."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from vns_sdk.exceptions import ConfigurationError
from vns_sdk.models.call_start import CallStartRequest
from vns_sdk.testing._checks import validation_problems

__all__ = ["SOFTWARE_VERSION", "call_start_body"]

SOFTWARE_VERSION = "1.0.0.0"
_NAMES = ("John Smith", "Jane Doe", "Maria Garcia", "Wei Chen", "Aisha Khan", "Tom Becker", "Priya Patel")
_AREAS = ("303", "720", "212", "415", "512", "617", "305")


def _phone() -> str:
    # 555-0100..0199 numbers are reserved for fiction; VNS sends 10-digit North American numbers.
    return f"{random.choice(_AREAS)}5550{random.randint(100, 199)}"


def call_start_body(**options: Any) -> dict[str, Any]:
    """The body of a CallStart webhook as VNS sends it, with realistic values for what is not given.

    Args:
        **options: The options of `VNSSimulator.call`, any of them left out or ``None``: ``caller_id``,
            ``called_number`` (default: random fictional numbers), ``caller_id_name`` (default: a random
            name), ``outbound``, ``customer_call_id``, ``session_guid`` (default: a new UUID), ``call_start``
            (default: now), ``software_version`` and ``extra`` (more fields, sent as they are).

    Raises:
        ConfigurationError: A value is not one VNS could send (a number where the wire has text).
    """
    name = options.get("caller_id_name")
    start = (options.get("call_start") or datetime.now(timezone.utc)).astimezone(timezone.utc)
    fields = {
        "session_guid": options.get("session_guid") or str(uuid.uuid4()),
        "called_number": options.get("called_number") or _phone(),
        "caller_id": options.get("caller_id") or _phone(),
        "caller_id_name": name if name is not None else random.choice(_NAMES),
        "outbound_triggered": options.get("outbound", False),
        "software_version": options.get("software_version", SOFTWARE_VERSION),
        # VNS writes CallStart's time to the second.
        "call_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "customer_call_id": options.get("customer_call_id"),
    }
    try:
        request = CallStartRequest.model_validate(fields)
    except ValidationError as exc:
        raise ConfigurationError(
            "The call's CallStart fields are not ones VNS sends: " + "; ".join(validation_problems(exc))
        ) from None
    body = request.model_dump(mode="json")
    body.update(options.get("extra") or {})
    return body
