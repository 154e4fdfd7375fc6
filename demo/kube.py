"""kmock's KubernetesEmulator on loopback, driven from a thread, with a kubeconfig pointing at it."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import kmock
import yaml
from kmock._internal.k8s import KubernetesError

from demo.objects import version_info


class Emulator(kmock.KubernetesEmulator):
    """kmock's emulator, answering a create of an existing object 409 Conflict as the API server does (kmock raises
    the conflict outside its error rendering, which a client sees as a 500)."""

    async def _handle(self, request: Any) -> Any:
        try:
            return await super()._handle(request)
        except KubernetesError as exc:
            return await self._render_error(exc)


def plain(value: Any) -> Any:
    """kmock's object views as plain JSON values (its nested mappings are views, not dicts)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class KubeEmulator:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.emulator: Any = None
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self.emulator = Emulator()
            server = kmock.Server(self.emulator)
            await server.__aenter__()
            self.url = str(server.url).rstrip("/")
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()
            await server.__aexit__(None, None, None)

        self._loop.run_until_complete(main())

    def start(self) -> KubeEmulator:
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("kmock did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def call(self, fn: Any) -> Any:
        """Run ``fn()`` on the emulator's loop (kmock's DSL is not thread-safe)."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def seed(self, objects: dict[str, list[dict[str, Any]]], version: str | bytes | None = "v1.30.4") -> None:
        """``version``: what /version answers (a version string, raw bytes, or None: no answer, a 404)."""

        def apply() -> None:
            # The official client asks for "/version/" (with the slash), which kmock's default does not serve.
            if version is not None:
                answer = version if isinstance(version, bytes) else version_info(version)
                self.emulator["get", re.compile(r"^/version/?$")] << answer
            for resource, items in objects.items():
                self.emulator.resources[resource] = {}
                for obj in items:
                    meta = obj["metadata"]
                    self.emulator.objects[resource, meta.get("namespace"), meta["name"]] = obj

        self.call(apply)

    def react(self, resource: str, payload: Any) -> None:
        """E.g. ``react('v1/persistentvolumeclaims', 403)``."""

        def apply() -> None:
            self.emulator[kmock.resource(resource)] << payload

        self.call(apply)

    def kubeconfig(self, path: Path, context: str = "emu") -> Path:
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": context, "cluster": {"server": self.url}}],
                    "users": [{"name": "bot", "user": {"token": "kmock-test-token"}}],
                    "contexts": [{"name": context, "context": {"cluster": context, "user": "bot"}}],
                    "current-context": context,
                }
            )
        )
        return path
