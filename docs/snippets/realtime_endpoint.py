"""The Realtime endpoint of the customer's choice: per app, and per call."""

from __future__ import annotations

import os

# --8<-- [start:azure]
from vns_sdk import RealtimeEndpoint, VNSApp

azure_app = VNSApp(
    instructions="You are a friendly agent.",
    model="my-realtime-deployment",  # on Azure, the model is your deployment's name
    realtime=RealtimeEndpoint.azure("contoso", api_key=os.environ.get("AZURE_OPENAI_API_KEY", "azure-key")),
)
# --8<-- [end:azure]

# --8<-- [start:gateway]
gateway_app = VNSApp(
    instructions="You are a friendly agent.",
    realtime=RealtimeEndpoint.gateway(
        "wss://llm-gateway.example.com/openai/realtime",
        {"X-Gateway-Key": os.environ.get("GATEWAY_KEY", "gateway-key")},
    ),
)
# --8<-- [end:gateway]

# --8<-- [start:per-call]
from vns_sdk import CallContext  # noqa: E402 (each section is shown on its own)

# One OpenAI account per client business, chosen by the number that was called.
ACCOUNTS = {
    "7206999999": RealtimeEndpoint.openai(os.environ.get("BAKERY_OPENAI_KEY", "sk-bakery"), project="proj_bakery"),
    "7205551000": RealtimeEndpoint.openai(os.environ.get("DENTIST_OPENAI_KEY", "sk-dentist"), project="proj_dentist"),
}

app = VNSApp(instructions="You answer the phone for our clients.")


@app.on_call_start
async def bill_the_called_business(call: CallContext) -> None:
    account = ACCOUNTS.get(call.called_number or "")
    if account is not None:
        call.realtime = account  # this call only; the next call starts from the app's default again


# --8<-- [end:per-call]

__all__ = ["ACCOUNTS", "app", "azure_app", "gateway_app"]
