"""The seed's lookup agent, shared by the test directories that need it (``from support import ...``).

Pytest puts ``tests/`` on ``sys.path`` (it holds the top conftest and no ``__init__.py``), so every test
directory imports this module by its plain name, as ``tests/testing`` imports ``harness_apps``.

The seed's tools array itself is pinned, written out independently, in ``tests/tools/test_tool_schema.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import Field

from vns_sdk import CallContext, ToolError

__all__ = ["DIRECTORY", "RON", "lookup_tool"]

DIRECTORY = {"Ron Tanner": "+13035551212", "Jane Doe": "+17205550100"}
"""The people the lookup tool knows, by name."""

RON = {"matchType": "name", "contactFound": True, "contactName": "Ron Tanner", "phoneNumber": "+13035551212"}
"""The seed's example reply: Ron looked up by name."""


def lookup_tool(*, require_query: bool = True) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The seed's ``lookup_name_or_phone`` tool; each call counts itself in ``call.state["lookups"]``.

    Args:
        require_query: Without a name or a number, raise a `ToolError` (the model hears it); otherwise
            answer ``{"matchType": "phone", "contactFound": False}``.
    """

    async def lookup_name_or_phone(
        call: CallContext,
        name: str | None = None,
        phone_number: Annotated[str | None, Field(alias="phoneNumber")] = None,
    ) -> dict[str, Any]:
        """Looks up the name of a person from a phone number or looks up the phone number of a person from a name.

        Args:
            name: Name of the person to search for.
            phone_number: Phone number to search, preferably in E.164 format like +13035551212
        """
        call.state["lookups"] = call.state.get("lookups", 0) + 1
        if name:
            found = [(full, number) for full, number in DIRECTORY.items() if name.lower() in full.lower()]
            match_type = "name"
        elif phone_number:
            found = [(full, number) for full, number in DIRECTORY.items() if number == phone_number]
            match_type = "phone"
        elif require_query:
            raise ToolError("Ask the caller for a name or a phone number.")
        else:
            found, match_type = [], "phone"
        if not found:
            return {"matchType": match_type, "contactFound": False}
        full, number = found[0]
        return {"matchType": match_type, "contactFound": True, "contactName": full, "phoneNumber": number}

    return lookup_name_or_phone
