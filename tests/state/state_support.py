"""What the call-state tests share: one worker of the app reached over ASGI, as VNS reaches it."""

from __future__ import annotations

from typing import Any

import httpx

from vns_sdk import VNSApp

WEBHOOK_TOKEN = "webhook-token-shared-by-every-worker"
WEBHOOKS = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}


class Worker:
    """One worker process of the app (an app instance of its own), reached over ASGI."""

    def __init__(self, app: VNSApp) -> None:
        self.app = app
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent.test")

    async def call_start(self, guid: str, **fields: Any) -> dict[str, Any]:
        body = {"sessionGuid": guid, "callerId": "3032639999", "calledNumber": "7206999999", **fields}
        response = await self.http.post("/vns/call-start", json=body, headers=WEBHOOKS)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def tool(self, start_answer: dict[str, Any], guid: str, tool: str, **arguments: Any) -> httpx.Response:
        """A tool call as VNS makes it: to the URL and with the headers the CallStart answer gave."""
        base = start_answer["VoiceElements_Instructions"]["defaultToolsUrlBase"]
        body = {"VoiceElements_InvokeTool": {"toolName": tool, "sessionGuid": guid}, **arguments}
        return await self.http.post(base["url"], json=body, headers=base["headers"])

    async def call_end(self, guid: str) -> dict[str, Any]:
        response = await self.http.post("/vns/call-end", json={"sessionGuid": guid, "status": 0}, headers=WEBHOOKS)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def health(self) -> dict[str, Any]:
        found: dict[str, Any] = (await self.http.get("/vns/health")).json()
        return found
