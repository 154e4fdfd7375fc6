"""Carrying out an offer is claimed with SET NX. When Redis applies that SET but its answer never reaches the bot
(a timeout), the operator is told nothing was changed: their next click must then carry the change out, not be
told "already carried out by you" while nothing ran. The bot over HTTP, its Redis reached through a proxy that
holds that one answer back past the client's 2 s socket timeout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_runbooks import (
    buttons_of,
    command_reply,
    emulated_cluster,
    patch_count,
    start_bot,
    wait_reply,
)
from tests.support.bot_process import SignedSlack
from tests.support.kube import KubeEmulator
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder
from tests.support.tcp_proxy import DelayingProxy


class ProxiedRedis(RedisServer):
    """The bot reaches this Redis through ``proxy``."""

    def __init__(self) -> None:
        super().__init__()
        self.proxy: DelayingProxy | None = None

    @property
    def url(self) -> str:
        assert self.proxy is not None
        return f"redis://127.0.0.1:{self.proxy.port}/0"


@pytest.fixture
def proxied() -> Iterator[ProxiedRedis]:
    server = ProxiedRedis().start()
    server.proxy = DelayingProxy(server.port)
    yield server
    server.proxy.close()
    server.cleanup()


def test_a_claim_whose_answer_was_lost_does_not_block_the_change(
    tmp_path: Path, recorder: SlackRecorder, proxied: ProxiedRedis
) -> None:
    with emulated_cluster(tmp_path / "kubeconfig", "emu") as emulator:
        run(tmp_path, recorder, proxied, emulator)


def run(tmp_path: Path, recorder: SlackRecorder, proxied: ProxiedRedis, emulator: KubeEmulator) -> None:
    bot = start_bot(tmp_path, recorder, proxied, "[{name: emu, context: emu}]", str(tmp_path / "kubeconfig"), "lost")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        message = command_reply(slack, recorder, "restart api-gateway production", "Restart:", user="U0OPS")
        (button,) = buttons_of(message, "offer_restart")
        assert proxied.proxy is not None
        proxied.proxy.delay_reply_to(b":done", 3.0)
        since = len(recorder.of("response_url"))
        slack.click("offer_restart", button["value"], user="U0OPS")
        wait_reply(recorder, since, "Nothing was changed")
        assert patch_count(emulator) == 0 and proxied.proxy.delayed == 1

        since = len(recorder.of("response_url"))
        slack.click("offer_restart", button["value"], user="U0OPS")  # the operator tries again
        wait_reply(recorder, since, "restarted `production/api-gateway`")
        assert patch_count(emulator) == 1
    finally:
        slack.close()
        bot.terminate()
