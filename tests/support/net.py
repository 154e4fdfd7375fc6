from __future__ import annotations

import socket
import time
from collections.abc import Callable


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_pair(offset: int) -> int:
    """A free port whose ``port + offset`` is free too (a Redis Cluster node's bus port, before Redis 7)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port + offset > 65535:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as second:
                try:
                    second.bind(("127.0.0.1", port + offset))
                except OSError:
                    continue
                return port
    raise RuntimeError(f"no free port pair {offset} apart")


def wait_for(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.02, what: str = "") -> object:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except Exception as exc:
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout}s waiting for {what or condition}" + (f": {last_error!r}" if last_error else "")
    )


def serve_forever(handle: Callable[..., object], port_queue: object, method: str = "*") -> None:
    """Serve ``handle`` (an aiohttp handler) on a free loopback port until the process ends; report the port."""
    import asyncio

    from aiohttp import web

    async def main() -> None:
        app = web.Application()
        app.router.add_route(method, "/{tail:.*}", handle)  # type: ignore[arg-type]
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_queue.put(site._server.sockets[0].getsockname()[1])  # type: ignore[attr-defined,union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())
