"""The demo platform, as the shell sees it: a process of its own (``python -m demo``, the ``[demo]`` extra) that
says where its Kubernetes API, AWS, Alertmanager and status page listen, and what the bot's environment and config
are to be to reach them. The bot itself is pointed at it as it would be at a real platform."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

NEEDS = ("kmock", "moto")
NAMES = "cluster demo (EKS demo-eks), RDS demo-db, namespace production"


def missing() -> list[str]:
    """The demo platform's libraries that are not installed."""
    return [name for name in NEEDS if importlib.util.find_spec(name) is None]


def wanted(asked: bool | None, config_path: Path, explicit_config: bool) -> bool:
    """``--demo`` asks for it; without the flag, it is used when there is nothing of the user's to read: no
    KUBECONFIG, no ``~/.kube/config`` and no config file."""
    if asked is not None:
        return asked
    if os.environ.get("KUBECONFIG") or Path("~/.kube/config").expanduser().exists():
        return False
    return not (explicit_config or config_path.exists())


def fresh(directory: Path) -> Path:
    """The demo's own state directory, emptied: the platform is seeded anew on each start, so the bot's state of an
    earlier run (its incidents, its posts' ticks) would not match it."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700, parents=True)
    return directory


def point_at(env: dict[str, str]) -> None:
    """The bot's environment for the demo: its AWS and kubeconfig, and none of this machine's own AWS settings that
    would send a call elsewhere (a profile, a session, an endpoint per service)."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name not in env:
            del os.environ[name]
    os.environ.update(env)


class DemoPlatform:
    def __init__(self, directory: Path, log: IO[str]) -> None:
        self.directory = directory
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self._listening: asyncio.Future[dict[str, Any]] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> DemoPlatform:
        loop = asyncio.get_running_loop()
        self._listening = loop.create_future()
        self.process = await asyncio.create_subprocess_exec(
            # -P: the installed demo, not a demo/ of the directory the shell runs in; its own session: Ctrl-C at the
            # prompt is the shell's, and the platform stops when its stdin closes
            sys.executable, "-P", "-m", "demo", str(self.directory.resolve()),  # absolute: it names the process
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=self.log, start_new_session=True,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        assert self._listening is not None
        while line := await self.process.stdout.readline():
            with contextlib.suppress(ValueError):
                message = json.loads(line)
                if isinstance(message, dict) and message.get("event") == "listening" and not self._listening.done():
                    self._listening.set_result(message)
        if self._listening.done():
            code = await self.process.wait()
            if not self._stopping:  # not the shell's own quit
                log.error("the demo platform stopped (exit %s); see its lines above", code)
        else:
            self._listening.set_exception(RuntimeError("the demo platform stopped; see .chatops/shell.log"))
            self._listening.exception()  # said where it is awaited; not again when the shell ends

    async def listening(self) -> dict[str, Any]:
        """``env`` and ``config`` for the bot, and the Alertmanager's address (AWS may still be being seeded: its
        endpoint holds a call until it is)."""
        assert self._listening is not None
        return await asyncio.wait_for(asyncio.shield(self._listening), 60)

    async def webhook(self, http: Any, group: int) -> dict[str, Any] | None:
        """What the demo's Alertmanager would send the bot for its ``group``-th firing group (None: no such)."""
        url = (await self.listening())["alertmanager"]
        async with http.get(f"{url}/-/demo/webhook/{group}") as resp:
            return dict(await resp.json()) if resp.status == 200 else None

    async def stop(self) -> None:
        self._stopping = True
        if self.process is None or self.process.returncode is not None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:  # the platform's whole session: moto's process with it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()
        if self._reader is not None:
            self._reader.cancel()
