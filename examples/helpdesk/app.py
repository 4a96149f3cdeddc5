"""A help desk that answers what it can and hands the rest over to a person.

The agent searches a small knowledge base. When it cannot help, or the caller asks for a person, it
calls `escalate_to_human`: the request is recorded as a ticket for the support team, the call's state
notes the hand-over, and the model tells the caller what happens next and ends the call with the
built-in `end_conversation` tool. When VNS reports the end of the call, the ticket gets the call's
figures, so whoever calls back knows how the call went.

Run it:

    VNS_INSECURE_DEV=1 uvicorn --app-dir examples/helpdesk app:app
    vns-sdk dev examples/helpdesk/app.py
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from vns_sdk import CallContext, VNSApp
from vns_sdk.models import CallEndRequest

__all__ = ["ARTICLES", "HandoverQueue", "Ticket", "app", "handovers"]

ARTICLES = {
    "password": "To reset your password, open the sign-in page, choose 'Forgot password' and follow the email.",
    "invoice": "Invoices are in your account under Billing, Invoices. Each can be downloaded as a PDF.",
    "vpn": "If the VPN does not connect, restart the VPN app, then check that your clock is set automatically.",
}


@dataclass
class Ticket:
    """A request for a person to call the customer back."""

    ticket_id: str
    session_guid: str
    caller_id: str | None
    topic: str
    summary: str
    urgency: str
    call_seconds: float | None = None


@dataclass
class HandoverQueue:
    """The support team's queue. A real app would open a ticket in its help-desk system here."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(501))

    def open(self, call: CallContext, topic: str, summary: str, urgency: str) -> Ticket:
        ticket = Ticket(f"HD-{next(self._ids)}", call.session_guid, call.caller_id, topic, summary, urgency)
        self.tickets[ticket.ticket_id] = ticket
        return ticket


handovers = HandoverQueue()

app = VNSApp(
    instructions=(
        "You are the help desk of Northwind IT. Answer questions with search_help_articles and read the "
        "answer to the caller in your own words. If there is no answer, if the caller is upset, or if they "
        "ask for a person, call escalate_to_human, tell the caller what it answers, then call end_conversation."
    ),
    end_conversation=True,  # the built-in tool that lets the model end the call
)


@app.tool
def search_help_articles(query: str) -> dict[str, Any]:
    """Searches the help articles for an answer to the caller's question.

    Args:
        query: A few words describing the problem, for example "reset password".
    """
    words = query.lower().split()
    for key, text in ARTICLES.items():
        if any(key in word for word in words):
            return {"found": True, "article": text}
    return {"found": False, "hint": "No article matches. Offer to hand the caller over to a person."}


@app.tool
async def escalate_to_human(
    call: CallContext,
    topic: Literal["account", "billing", "technical", "other"],
    summary: str,
    urgency: Literal["normal", "urgent"] = "normal",
) -> dict[str, Any]:
    """Hands the caller over to a person on the support team, who will call back.

    Args:
        topic: What the request is about.
        summary: One or two sentences saying what the caller needs, in their words.
        urgency: "urgent" when the caller cannot work at all.
    """
    if "ticket" in call.state:  # the model asked twice: one ticket per call
        ticket_id = call.state["ticket"]
    else:
        ticket_id = handovers.open(call, topic, summary, urgency).ticket_id
        call.state["ticket"] = ticket_id
    call.state["handed_over"] = True
    minutes = 15 if urgency == "urgent" else 60
    return {
        "ticket_id": ticket_id,
        "handover_message": (
            f"I have passed your request to our support team under ticket {ticket_id}. "
            f"Someone will call you back within {minutes} minutes. Thank you for calling Northwind IT."
        ),
        "next_step": "Say the handover_message to the caller, then call end_conversation.",
    }


@app.on_call_end
async def close_handover(call: CallContext, report: CallEndRequest) -> None:
    ticket_id = call.state.get("ticket")
    if ticket_id is None:
        return
    ticket = handovers.tickets.get(ticket_id)
    if ticket is not None and report.call_connected is not None and report.call_end is not None:
        ticket.call_seconds = (report.call_end - report.call_connected).total_seconds()
