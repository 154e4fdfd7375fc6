"""The Slack stand-in of the shell (``bot.shell.slack.SlackStandIn``), served for the tests from a thread of its own,
with what they ask of it: every call recorded, faults on demand, waiting for calls.

``RecorderProcess`` serves the same stand-in from a process of its own for the benchmarks (a load generator's GIL is
not shared with it) and keeps no calls.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Iterator
from typing import Any

from bot.shell.slack import Call, Identity, SlackStandIn, _blocks
from tests.support.net import wait_for

__all__ = ["REFUSED", "Call", "RecorderProcess", "SlackRecorder", "blocks_of", "own_recorder", "text_of_blocks"]

# Every Block Kit refusal of every stand-in in this process (tests/conftest.py fails the test that caused one).
REFUSED: list[Call] = []

TEST_IDENTITY = Identity(team="T111", team_name="Test", bot_user="UBOT", bot_id="BBOT", ts_base=1700000000)


class Loop:
    """An event loop in a daemon thread, for stand-ins the synchronous tests talk to."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class SlackRecorder(SlackStandIn):
    """The stand-in as the tests use it: lenient about edits of messages it never saw (the tests click messages
    they made up), and knowing which response URLs it handed out (the logs are scanned for them)."""

    def __init__(self) -> None:
        super().__init__(identity=TEST_IDENTITY, strict=False)
        self.user_tz = "Europe/Berlin"
        self.emails: dict[str, str] = {}  # user → the email users.info shows (Slack's profile.email, users:read.email)
        self.issued_tokens: set[str] = set()
        self._loop: Loop | None = None

    def start(self) -> SlackRecorder:  # type: ignore[override]
        self._loop = Loop("slack-stand-in")
        self._loop.run(super().start())
        return self

    def stop(self) -> None:  # type: ignore[override]
        if self._loop is not None:
            self.clear_faults()
            self._loop.run(super().stop())
            self._loop.close()

    def response_url(self, token: str, user: str = "?", channel: str = "?", message_ts: str | None = None) -> str:
        """A response_url that leads here; its token is remembered so logs can be scanned for it."""
        self.issued_tokens.add(token)
        return super().response_url(token, user, channel, message_ts)

    def answer(self, call: Call) -> dict[str, Any]:
        answered = super().answer(call)
        email = self.emails.get(str(call.params.get("user"))) if call.method == "users.info" else None
        if email is not None and answered.get("ok"):
            answered["user"] = {**answered["user"], "profile": {"email": email}}
        return answered

    def _refused(self, call: Call) -> dict[str, Any] | None:
        answer = super()._refused(call)
        if answer is not None:
            REFUSED.append(call)
        return answer

    def wait_for_calls(self, method: str, count: int, timeout: float = 10.0) -> list[Call]:
        wait_for(lambda: len(self.of(method)) >= count, timeout=timeout, what=f"{count} {method} call(s)")
        return self.of(method)


def own_recorder() -> Iterator[SlackRecorder]:
    """A module's own stand-in (``recorder = pytest.fixture(scope="module", name="recorder")(own_recorder)``), for
    modules whose bots each have a Redis of their own: their INC numbers restart, so they must not share the
    session's."""
    rec = SlackRecorder().start()
    yield rec
    rec.stop()


def blocks_of(call: Call) -> list[dict[str, Any]]:
    return _blocks(call.params)


def text_of_blocks(blocks: list[dict[str, Any]]) -> str:
    """All visible text of a message's blocks, for assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
                out.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


class RecorderProcess:
    """The stand-in in a process of its own, keeping no calls (a long benchmark should not grow its memory)."""

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._port = self._ctx.Queue()
        self._proc = self._ctx.Process(target=_serve, args=(self._port,), daemon=True)
        self.port = 0

    def start(self) -> RecorderProcess:
        self._proc.start()
        self.port = int(self._port.get(timeout=20))
        return self

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, token: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{token}"

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.join(timeout=10)


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        return None


def _serve(port_queue: Any) -> None:
    async def main() -> None:
        stand_in = SlackStandIn(identity=TEST_IDENTITY, strict=False)
        stand_in.calls = _Discard()
        stand_in.messages = _Forget()
        await stand_in.start()
        port_queue.put(int(stand_in.url.rsplit(":", 1)[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


class _Forget(dict):  # type: ignore[type-arg]
    def __setitem__(self, key: Any, value: Any) -> None:
        return None
