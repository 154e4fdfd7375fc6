"""A local Socket Mode endpoint: the bot connects over a real WebSocket, receives envelopes, sends acks."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from aiohttp import WSMsgType, web

from tests.support.net import free_port, wait_for


class SocketModeServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.acks: list[dict[str, Any]] = []
        self.connections = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def start(self) -> SocketModeServer:
        self._thread.start()
        self._started.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/link", self._handle)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._started.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections += 1
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.acks.append(json.loads(msg.data))
        return ws

    def send(self, envelope: dict[str, Any]) -> None:
        async def push() -> None:
            await self._sockets[-1].send_str(json.dumps(envelope))

        asyncio.run_coroutine_threadsafe(push(), self._loop).result(5)

    def wait_connected(self) -> None:
        wait_for(lambda: self._sockets, timeout=20, what="Socket Mode connection")

    def ack_for(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        found = wait_for(
            lambda: next((a for a in self.acks if a.get("envelope_id") == envelope_id), None),
            timeout=timeout,
            what=f"ack of {envelope_id}",
        )
        assert isinstance(found, dict)
        return found

    def stop(self) -> None:
        async def close() -> None:
            for ws in self._sockets:
                await ws.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
