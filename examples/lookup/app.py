"""The agent of the Voice Nexus Service documentation: look up a name by phone number, or a number by name.

Serve it (the three URLs to give VNS support are under /vns):

    uvicorn --app-dir examples/lookup app:app          # or: vns-sdk dev examples/lookup/app.py

With ``VNS_WEBHOOK_TOKEN`` set, CallStart and CallEnd require it. Without it, this demo starts in insecure
development mode (and says so loudly in the log) so that it runs on a laptop with no setup at all; an
app of your own should not do that: leave ``insecure_dev`` off and set the token.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from vns_sdk import ToolError, VNSApp

__all__ = ["DIRECTORY", "INSTRUCTIONS", "Contact", "app", "create_app", "lookup_name_or_phone"]

# The documentation's instructions, verbatim.
INSTRUCTIONS = (
    "You are a friendly agent. Explain that you can look up a name by a phone number or a phone number by a name. "
    "If the user gives you a phone number or name, call the function lookup_name_or_phone with passing the "
    "appropriate parameter. Read back to the user what was returned and ask them if they wish to look up another "
    "or end the call. The call can be concluded by calling the end_conversation tool."
)


@dataclass(frozen=True)
class Contact:
    """One entry of the directory."""

    name: str
    phone_number: str  # E.164


DIRECTORY = (
    Contact("Ron Tanner", "+13035551212"),
    Contact("Maria Garcia", "+17205550134"),
    Contact("Wei Chen", "+13035550199"),
)


def _digits(phone_number: str) -> str:
    digits = re.sub(r"\D", "", phone_number)
    # A North American number may come with or without its country code.
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _find_by_name(name: str) -> Contact | None:
    wanted = name.strip().lower()
    for contact in DIRECTORY:
        if contact.name.lower() == wanted:
            return contact
    for contact in DIRECTORY:
        if wanted in contact.name.lower().split():
            return contact
    return None


def _find_by_number(phone_number: str) -> Contact | None:
    wanted = _digits(phone_number)
    return next((contact for contact in DIRECTORY if wanted and _digits(contact.phone_number) == wanted), None)


async def lookup_name_or_phone(
    name: str | None = None,
    phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,
) -> dict[str, object]:
    """Looks up the name of a person from a phone number or looks up the phone number of a person from a name.

    Args:
        name: Name of the person to search for.
        phone_number: Phone number to search, preferably in E.164 format like +13035551212
    """
    if name:
        contact, match_type = _find_by_name(name), "name"
    elif phone_number:
        contact, match_type = _find_by_number(phone_number), "phone"
    else:
        raise ToolError("Ask the caller for the name or the phone number to look up.")
    if contact is None:
        return {"matchType": match_type, "contactFound": False}
    return {
        "matchType": match_type,
        "contactFound": True,
        "contactName": contact.name,
        "phoneNumber": contact.phone_number,
    }


def create_app() -> VNSApp:
    """The agent, configured from the environment (``VNS_WEBHOOK_TOKEN``, ``OPENAI_API_KEY``, ...)."""
    secured = os.environ.get("VNS_WEBHOOK_TOKEN") or os.environ.get("VNS_WEBHOOK_BASIC_AUTH")
    app = VNSApp(instructions=INSTRUCTIONS, end_conversation=True, insecure_dev=None if secured else True)
    app.add_tool(lookup_name_or_phone)
    return app


app = create_app()
