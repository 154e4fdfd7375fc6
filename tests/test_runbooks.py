"""Runbooks against kmock: rollback history and buttons, operator-only execution once, refusals,
crashloop and high-error-rate diagnosis, readable API errors."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest

from tests.support.bot_process import BotProcess, SignedSlack, ack_text
from tests.support.kube import KubeEmulator
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.runbook_seed import NS, seed
from tests.support.slack_recorder import SlackRecorder, text_of_blocks

CRASH_LOGS = (
    b"starting payments-api 1.9.0\nloading 2,000,000 ledger rows\njava.lang.OutOfMemoryError: Java heap space\n"
)
GATEWAY_LOGS = b"INFO ok\nERROR upstream timeout calling payments\nINFO ok\nERROR upstream timeout calling payments\nERROR 502 from ledger\n"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[KubeEmulator, Path]]:
    emulator = KubeEmulator().start()
    emulator.seed(seed())

    def logs() -> None:
        emulator.emulator[kmock.name("payments-api-5c7d9"), kmock.subresource("log")] << CRASH_LOGS
        for i in range(2):
            emulator.emulator[kmock.name(f"api-gateway-h3abc-{i}"), kmock.subresource("log")] << GATEWAY_LOGS

    emulator.call(logs)
    yield emulator, emulator.kubeconfig(tmp_path / "kubeconfig")
    emulator.stop()


@pytest.fixture
def bot(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, cluster: tuple[KubeEmulator, Path]
) -> Iterator[BotProcess]:
    config = tmp_path / "c.yaml"
    config.write_text(
        textwrap.dedent(
            """
            channels: {incidents: C0INCIDENTS}
            permissions: {operators: [U0OPS]}
            kubernetes: {clusters: [{name: emu, context: emu}], rollout_timeout: 2s}
            """
        )
    )
    proc = BotProcess(
        redis_url=redis_server.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=tmp_path / "bot.log",
        extra_env={"KUBECONFIG": str(cluster[1])},
    ).start()
    yield proc
    proc.terminate()


def replies(recorder: SlackRecorder, since: int) -> list[dict[str, Any]]:
    return [c.params for c in recorder.of("response_url")[since:]]


def wait_reply(recorder: SlackRecorder, since: int, phrase: str, timeout: float = 20) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        for r in replies(recorder, since):
            if phrase in str(r.get("text")) or phrase in text_of_blocks(r.get("blocks") or []):
                return r
        return None

    result = wait_for(found, timeout=timeout, what=phrase)
    assert isinstance(result, dict)
    return result


def progress(recorder: SlackRecorder, thread: str = "1700000000.000001") -> list[str]:
    """The rollout progress reply under the clicked message: its first post, then each edit."""
    posted = [c for c in recorder.of("chat.postMessage") if c.params.get("thread_ts") == thread]
    edits = [c for c in recorder.of("chat.update") if c.params.get("channel") == "C0INCIDENTS"]
    return [str(c.params["text"]) for c in posted + edits if "Rollout of" in str(c.params.get("text"))]


def wait_progress(recorder: SlackRecorder, text: str) -> None:
    wait_for(lambda: text in progress(recorder), what=f"progress {text!r}")


def template_image(emulator: KubeEmulator) -> str:
    obj = emulator.call(lambda: dict(emulator.emulator.objects["apps/v1/deployments", NS, "api-gateway"]))
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def offers(message: dict[str, Any]) -> dict[int, str]:
    out = {}
    for block in message["blocks"]:
        button = block.get("accessory") or {}
        if button.get("action_id") == "runbook_rollback":
            out[int(button["text"]["text"].rsplit(" ", 1)[-1])] = button["value"]
    return out


def test_rollback_history_refusals_and_one_operator_rollback(
    bot: BotProcess, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    emulator, _ = cluster
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        since = len(recorder.of("response_url"))
        assert "Running *rollback* on `production/api-gateway`" in ack_text(
            slack.command("api-gateway production", command="/rollback")
        )
        message = wait_reply(recorder, since, "Rollout history")
        assert message["response_type"] == "in_channel"
        text = text_of_blocks(message["blocks"])
        assert (
            "Revision 3" in text
            and "current" in text
            and "deploy 2.4.0" in text
            and "registry/api-gateway:2.3.9" in text
        )
        buttons = offers(message)
        assert set(buttons) == {1, 2}
        confirm = next(
            b["accessory"]["confirm"]
            for b in message["blocks"]
            if (b.get("accessory") or {}).get("value") == buttons[2]
        )
        assert "registry/api-gateway:2.4.1 → registry/api-gateway:2.4.0" in confirm["text"]["text"]
        assert all(len(v) < 40 and "api-gateway" not in v for v in buttons.values())  # opaque ids

        since = len(recorder.of("response_url"))
        slack.click("runbook_rollback", buttons[2], user="U0MALLORY")
        wait_reply(recorder, since, "Only operators")
        assert template_image(emulator) == "registry/api-gateway:2.4.1"

        since = len(recorder.of("response_url"))
        slack.click("runbook_rollback", "forged-or-expired-id", user="U0OPS")
        wait_reply(recorder, since, "expired or is unknown")

        since = len(recorder.of("response_url"))
        first = slack.click_body("runbook_rollback", buttons[2], user="U0OPS")
        second = slack.click_body("runbook_rollback", buttons[2], user="U0OPS")
        slack.post(first, "application/x-www-form-urlencoded")
        slack.post(second, "application/x-www-form-urlencoded")  # a double click
        done = wait_reply(recorder, since, "rolled back `production/api-gateway` to revision 2")
        assert "registry/api-gateway:2.4.1 → registry/api-gateway:2.4.0" in done["text"]
        wait_reply(recorder, since, "already carried out by <@U0OPS>")
        wait_progress(recorder, "Rollout of `production/api-gateway`: rollout complete (3/3 updated, 3/3 available)")
        assert template_image(emulator) == "registry/api-gateway:2.4.0"
        patches = emulator.call(lambda: [r for r in emulator.emulator if str(r.method).upper().endswith("PATCH")])
        assert len(patches) == 1
        labels = emulator.call(lambda: dict(emulator.emulator.objects["apps/v1/deployments", NS, "api-gateway"]))[
            "spec"
        ]["template"]["metadata"]["labels"]
        assert labels.get("pod-template-hash") is None

        # Revision 1 disappears before anyone clicks: refused, nothing patched.
        emulator.call(lambda: emulator.emulator.objects.__delitem__(("apps/v1/replicasets", NS, "api-gateway-h1abc")))
        since = len(recorder.of("response_url"))
        slack.click("runbook_rollback", buttons[1], user="U0OPS")
        wait_reply(recorder, since, "revision 1 of production/api-gateway is gone")
        assert template_image(emulator) == "registry/api-gateway:2.4.0"
    finally:
        slack.close()


def test_crashloop_names_the_pod_oom_and_last_logs(bot: BotProcess, recorder: SlackRecorder) -> None:
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        since = len(recorder.of("response_url"))
        ack_text(slack.command("crashloop payments-api production", command="/runbook"))
        message = wait_reply(recorder, since, "Pod CrashLooping")
        text = text_of_blocks(message["blocks"])
        assert "payments-api-5c7d9" in text and "CrashLoopBackOff" in text and "9 restarts" in text
        assert "OOMKilled (exit 137) — memory limit 256Mi" in text
        assert "OutOfMemoryError: Java heap space" in text
        assert "ConfigMap payments-config (last changed" in text
        assert "Secret payments-db (values not read)" in text and "Secret payments-tls (values not read)" in text
    finally:
        slack.close()


def test_high_error_rate_samples_logs_and_offers_rollback(bot: BotProcess, recorder: SlackRecorder) -> None:
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        since = len(recorder.of("response_url"))
        ack_text(slack.command("high-error-rate api-gateway production --deps=app=database", command="/runbook"))
        message = wait_reply(recorder, since, "High error rate")
        text = text_of_blocks(message["blocks"])
        assert "6/10 recent log lines match `ERROR`" in text
        assert "ERROR upstream timeout calling payments" in text and "ERROR 502 from ledger" in text
        assert "database-0: Pending, not ready" in text
        assert set(offers(message)) == {1, 2}
    finally:
        slack.close()


def test_forbidden_api_gives_a_readable_message(
    bot: BotProcess, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    cluster[0].react("v1/pods", 403)
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        since = len(recorder.of("response_url"))
        ack_text(slack.command("crashloop payments-api production", command="/runbook"))
        reply = wait_reply(recorder, since, "crashloop* stopped")
        assert "forbidden: the bot may not read workload production/payments-api" in reply["text"]
        assert "RBAC" in reply["text"]
    finally:
        slack.close()


def test_runbook_and_rollback_land_on_the_incident_timeline_and_audit(
    bot: BotProcess, recorder: SlackRecorder, redis_server: RedisServer
) -> None:
    import redis as redis_client

    slack = SignedSlack(bot.base_url, recorder.response_url)
    r = redis_client.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        opened = ack_text(slack.command("open P1 Gateway errors after 2.4.1", user="U0OPS"))
        number = int(opened.split("*INC-")[1].split("*", maxsplit=1)[0])
        r.set("chan:C0WARINC", str(number))  # the incident's own channel (as incident channels record it)
        since = len(recorder.of("response_url"))
        ack_text(slack.command("api-gateway production", command="/rollback", channel="C0WARINC", user="U0OPS"))
        buttons = offers(wait_reply(recorder, since, "Rollout history"))
        audited = r.xlen("audit")
        since = len(recorder.of("response_url"))
        slack.click("runbook_rollback", buttons[2], user="U0OPS")
        wait_reply(recorder, since, "rolled back `production/api-gateway`")
        timeline = ack_text(slack.command(f"timeline INC-{number}"))
        assert "*ran runbook rollback*" in timeline and "*rolled back*" in timeline
        assert "registry/api-gateway:2.4.1 → registry/api-gateway:2.4.0" in timeline
        audit = [fields for _, fields in r.xrange("audit")][audited:]
        assert any(
            a.get("kind") == "rollback" and a.get("result") == "done" and a.get("actor") == "U0OPS" for a in audit
        )
    finally:
        r.close()
        slack.close()


def deployment_obj(emulator: KubeEmulator, name: str = "api-gateway") -> dict[str, Any]:
    return emulator.call(lambda: dict(emulator.emulator.objects["apps/v1/deployments", NS, name]))


def buttons_of(message: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    return [
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("action_id") == action_id
    ]


def patch_count(emulator: KubeEmulator) -> int:
    return int(emulator.call(lambda: len([r for r in emulator.emulator if str(r.method).upper().endswith("PATCH")])))


def test_restart_is_offered_confirmed_operator_only_and_done_once(
    bot: BotProcess, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path], redis_server: RedisServer
) -> None:
    import redis as redis_client

    emulator, _ = cluster
    slack = SignedSlack(bot.base_url, recorder.response_url)
    r = redis_client.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        since = len(recorder.of("response_url"))
        ack_text(slack.command("restart api-gateway production", command="/runbook"))
        message = wait_reply(recorder, since, "Restart: production/api-gateway")
        text = text_of_blocks(message["blocks"])
        assert "3 wanted" in text and "registry/api-gateway:2.4.1" in text
        (button,) = buttons_of(message, "runbook_restart")
        assert "api-gateway" not in button["value"]  # an opaque id, not the target
        assert "Rolling restart of production/api-gateway" in button["confirm"]["text"]["text"]

        since = len(recorder.of("response_url"))
        slack.click("runbook_restart", button["value"], user="U0MALLORY")
        wait_reply(recorder, since, "Only operators (permissions.operators) may restart production/api-gateway")
        assert patch_count(emulator) == 0

        since = len(recorder.of("response_url"))
        recorder.fail("chat.postMessage", "not_in_channel")  # the bot may not post in that channel's threads
        try:
            first = slack.click_body("runbook_restart", button["value"], user="U0OPS")
            second = slack.click_body("runbook_restart", button["value"], user="U0OPS")
            slack.post(first, "application/x-www-form-urlencoded")
            slack.post(second, "application/x-www-form-urlencoded")
            wait_reply(recorder, since, "<@U0OPS> restarted `production/api-gateway` rolling restart of 3 replica(s)")
            wait_reply(recorder, since, "This restart was already carried out by <@U0OPS>")
            # The rollout's final state then comes through the click's response_url instead.
            wait_reply(recorder, since, "Rollout of `production/api-gateway`: rollout complete")
        finally:
            recorder.failures.clear()
        assert patch_count(emulator) == 1
        annotations = deployment_obj(emulator)["spec"]["template"]["metadata"]["annotations"]
        assert annotations["kubectl.kubernetes.io/restartedAt"].endswith("Z")
        # The rest of the template is untouched.
        assert deployment_obj(emulator)["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.4.1")
        audit = [fields for _, fields in r.xrange("audit")]
        assert [a["result"] for a in audit if a.get("kind") == "restart"] == ["refused: not an operator", "done"]
    finally:
        r.close()
        slack.close()


def test_scale_offers_the_change_names_the_autoscaler_and_refuses_what_does_nothing(
    bot: BotProcess, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    emulator, _ = cluster
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "api-gateway", "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api-gateway"},
            "minReplicas": 2,
            "maxReplicas": 10,
        },
    }
    emulator.seed({"autoscaling/v2/horizontalpodautoscalers": [hpa]})
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        for bad, why in (("-1", "greater than or equal to 0"), ("many", "valid integer"), ("100000", "less than")):
            reply = ack_text(slack.command(f"scale api-gateway {bad} production", command="/runbook"))
            assert why in reply and "Usage: `/runbook scale <deployment> <replicas> [namespace]`" in reply, reply
        assert "not a valid deployment name" in ack_text(
            slack.command("scale Api_Gateway 5 production", command="/runbook")
        )

        since = len(recorder.of("response_url"))
        ack_text(slack.command("scale api-gateway 5 production", command="/runbook"))
        message = wait_reply(recorder, since, "Scale: production/api-gateway")
        assert "api-gateway (2–10) manages the replica count" in text_of_blocks(message["blocks"])
        (button,) = buttons_of(message, "runbook_scale")
        assert button["text"]["text"] == "Scale 3 → 5"
        assert "may change it back" in button["confirm"]["text"]["text"]

        since = len(recorder.of("response_url"))
        slack.click("runbook_scale", button["value"], user="U0OPS", message_ts="1700000099.000001")
        wait_reply(recorder, since, "<@U0OPS> scaled `production/api-gateway` from 3 to 5 replica(s)")
        assert deployment_obj(emulator)["spec"]["replicas"] == 5
        # Progress in the clicked message's thread: one reply, edited until the rollout timeout (2 s here).
        first = "Rollout of `production/api-gateway`: 3/5 updated, 3/5 available"
        final = "Rollout of `production/api-gateway`: still rolling out after 2 s (3/5 updated, 3/5 available)"
        wait_for(
            lambda: any(t.startswith(final) for t in progress(recorder, "1700000099.000001")), what="final progress"
        )
        replies = [c for c in recorder.of("chat.postMessage") if c.params.get("thread_ts") == "1700000099.000001"]
        assert [c.params["text"] for c in replies] == [first]
        edits = [c for c in recorder.of("chat.update") if c.params.get("ts") == replies[0].reply_ts]
        assert edits and edits[-1].params["text"].startswith(final)

        since = len(recorder.of("response_url"))
        ack_text(slack.command("scale api-gateway 5 production", command="/runbook"))
        message = wait_reply(recorder, since, "Scale: production/api-gateway")
        assert not buttons_of(message, "runbook_scale")
        assert "No scaling offered: production/api-gateway already has 5 replica(s)" in text_of_blocks(
            message["blocks"]
        )
    finally:
        slack.close()


def test_crashloop_offers_a_restart_and_a_refused_patch_changes_nothing(
    bot: BotProcess, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    emulator, _ = cluster
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        since = len(recorder.of("response_url"))
        ack_text(slack.command("crashloop payments-api production", command="/runbook"))
        message = wait_reply(recorder, since, "Pod CrashLooping")
        (button,) = buttons_of(message, "runbook_restart")
        assert button["text"]["text"] == "Restart payments-api (rolling)"

        # The API refuses the patch (RBAC): a readable reason naming the permission, and the offer is
        # not used up. (kmock stores a patch whatever status a reaction answers, so the object itself
        # is not checked here; the count of patches sent is.)
        emulator.call(lambda: emulator.emulator["patch", kmock.resource("apps/v1/deployments")] << 403)
        since = len(recorder.of("response_url"))
        slack.click("runbook_restart", button["value"], user="U0OPS")
        reply = wait_reply(recorder, since, "Restart failed")
        assert "forbidden: the bot may not change deployment production/payments-api" in reply["text"]
        assert "grant it get and patch on deployments" in reply["text"]
        assert patch_count(emulator) == 1

        # Paused meanwhile: refused with the reason when clicked (the plan is made again at click time),
        # and no patch is sent.
        (paused,) = [d for d in seed()["apps/v1/deployments"] if d["metadata"]["name"] == "payments-api"]
        paused["spec"]["paused"] = True
        emulator.call(
            lambda: emulator.emulator.objects.__setitem__(("apps/v1/deployments", NS, "payments-api"), paused)
        )
        since = len(recorder.of("response_url"))
        slack.click("runbook_restart", button["value"], user="U0OPS")
        wait_reply(recorder, since, "Restart refused: production/payments-api is paused; resume it before restarting")
        assert patch_count(emulator) == 1
    finally:
        slack.close()


def test_cluster_option_acts_on_the_named_cluster_only(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, cluster: tuple[KubeEmulator, Path]
) -> None:
    first, first_config = cluster
    second = KubeEmulator().start()
    try:
        second.seed(seed())
        second_config = second.kubeconfig(tmp_path / "kubeconfig-eu", context="emu-eu")
        config = tmp_path / "two.yaml"
        config.write_text(
            "channels: {incidents: C0INCIDENTS}\n"
            "permissions: {operators: [U0OPS]}\n"
            "kubernetes: {clusters: [{name: us, context: emu}, {name: eu, context: emu-eu}], rollout_timeout: 1s}\n"
        )
        bot = BotProcess(
            redis_url=redis_server.url,
            slack_api_url=recorder.api_url,
            config_path=config,
            log_path=tmp_path / "bot2.log",
            extra_env={"KUBECONFIG": f"{first_config}:{second_config}"},
        ).start()
        slack = SignedSlack(bot.base_url, recorder.response_url)
        try:
            refused = ack_text(slack.command("scale api-gateway 4 production --cluster=$(evil)", command="/runbook"))
            assert "is not a configured cluster. Configured: `us`, `eu`." in refused

            since = len(recorder.of("response_url"))
            assert "in cluster `eu`" in ack_text(
                slack.command("scale api-gateway 4 production --cluster=eu", command="/runbook")
            )
            message = wait_reply(recorder, since, "Scale: production/api-gateway")
            assert "Cluster: `eu`" in text_of_blocks(message["blocks"])
            (button,) = buttons_of(message, "runbook_scale")
            slack.click("runbook_scale", button["value"], user="U0OPS")
            wait_reply(recorder, since, "scaled `production/api-gateway` in cluster `eu` from 3 to 4 replica(s)")
            assert deployment_obj(second)["spec"]["replicas"] == 4
            assert deployment_obj(first)["spec"]["replicas"] == 3
            assert patch_count(first) == 0
        finally:
            slack.close()
            bot.terminate()
    finally:
        second.stop()
