"""What an unsigned client may cost the bot over the wire: oversized, streamed, non-UTF-8, slow bodies and slow
headers are refused before Bolt, the signature check or Redis see them, and the process does not grow."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.support.bot_process import BotProcess
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def bot(
    redis_server: RedisServer, recorder: SlackRecorder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    """The bot as its own process: what it costs is read from the process (its peak resident memory)."""
    directory = tmp_path_factory.mktemp("limits")
    config = write_config(directory / "chatops.yaml")
    with BotProcess(
        redis_url=redis_server.url, slack_api_url=recorder.api_url, config_path=config, log_path=directory / "bot.log"
    ) as proc:
        yield proc


def peak_rss_mib(bot: BotProcess) -> float:
    assert bot.proc is not None
    for line in Path(f"/proc/{bot.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def connect(bot: BotProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", bot.port), timeout=30)
    sock.settimeout(30)
    return sock


def status_of(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]) if data else 0


def post_head(length: int | None, extra: str = "") -> bytes:
    size = f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
    return (
        f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n{size}{extra}\r\n"
    ).encode()


def send_until_answered(sock: socket.socket, chunk: bytes, limit: int) -> None:
    sent = 0
    try:
        while sent < limit:
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass  # the server answered and closed while we were still sending: what we want


def test_a_32_mib_unsigned_body_is_refused_unread(bot: BotProcess) -> None:
    before = peak_rss_mib(bot)
    with connect(bot) as sock:
        sock.sendall(post_head(32 * MiB))
        send_until_answered(sock, b"x" * (256 * 1024), 32 * MiB)
        assert status_of(sock) == 413
    assert peak_rss_mib(bot) - before < 16, (before, peak_rss_mib(bot))


def test_a_streamed_body_past_the_cap_is_cut_off(bot: BotProcess) -> None:
    before = peak_rss_mib(bot)
    chunk = b"x" * (64 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with connect(bot) as sock:
        sock.sendall(post_head(None))
        send_until_answered(sock, framed, 8 * MiB)
        assert status_of(sock) == 413
    assert peak_rss_mib(bot) - before < 16


def test_a_body_that_is_not_utf8_is_a_400_not_a_500(bot: BotProcess) -> None:
    body = b"payload=%7B%7D&junk=\xff\xfe\xfa"
    with connect(bot) as sock:
        sock.sendall(post_head(len(body), "X-Slack-Request-Timestamp: 1\r\nX-Slack-Signature: v0=00\r\n") + body)
        assert status_of(sock) == 400


def test_slow_bodies_and_slow_headers_are_cut_off(bot: BotProcess) -> None:
    def slow_body() -> int:
        with connect(bot) as sock:
            sock.sendall(post_head(100) + b"x" * 10)  # and then nothing
            return status_of(sock)

    def slow_headers() -> bytes:
        with connect(bot) as sock:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n")  # never finished
            return sock.recv(4096)  # b"": the server closed the connection

    with ThreadPoolExecutor(2) as pool:
        body, headers = pool.submit(slow_body), pool.submit(slow_headers)
        assert body.result() == 408
        assert headers.result() == b""
