"""Runbooks against kmock: rollback history and buttons, operator-only execution once, refusals,
crashloop and high-error-rate diagnosis, readable API errors."""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import kmock
import pytest
import redis

from bot.core import keys
from bot.shell.slack import Event
from tests.integration.test_maintenance import button, latest, message_of, schedule
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.kube import KubeEmulator
from tests.support.maintenance_seed import seed as maintenance_seed
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.replies import buttons_of, replies, wait_reply
from tests.support.runbook_seed import NS, replicaset, seed, template
from tests.support.slack_recorder import SlackRecorder, text_of_blocks

CRASH_LOGS = (
    b"starting payments-api 1.9.0\nloading 2,000,000 ledger rows\njava.lang.OutOfMemoryError: Java heap space\n"
)
GATEWAY_LOGS = b"INFO ok\nERROR upstream timeout calling payments\nINFO ok\nERROR upstream timeout calling payments\nERROR 502 from ledger\n"


@contextlib.contextmanager
def emulated_cluster(kubeconfig: Path, context: str) -> Iterator[KubeEmulator]:
    """kmock seeded with the runbook objects, and a kubeconfig naming it ``context``."""
    emulator = KubeEmulator().start()
    try:
        emulator.seed(seed())
        emulator.kubeconfig(kubeconfig, context=context)
        yield emulator
    finally:
        emulator.stop()


def start_bot(
    tmp_path: Path,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    clusters: str,
    kubeconfig: str,
    name: str,
    *,
    kubernetes: str = "",
    responders: str = "[]",
) -> Bot:
    """A bot whose ``kubernetes.clusters`` is ``clusters`` (YAML flow list), reaching them through ``kubeconfig``."""
    config = tmp_path / f"{name}.yaml"
    config.write_text(
        textwrap.dedent(
            f"""
            channels: {{incidents: C0INCIDENTS}}
            permissions: {{operators: [U0OPS], responders: {responders}}}
            kubernetes: {{clusters: {clusters}, rollout_timeout: 2s{kubernetes}}}
            """
        )
    )
    return Bot(
        redis_url=redis_server.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=tmp_path / f"{name}.log",
        extra_env={"KUBECONFIG": kubeconfig},
    ).start()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[KubeEmulator, Path]]:
    kubeconfig = tmp_path / "kubeconfig"
    with emulated_cluster(kubeconfig, "emu") as emulator:

        def logs() -> None:
            emulator.emulator[kmock.name("payments-api-5c7d9"), kmock.subresource("log")] << CRASH_LOGS
            for i in range(2):
                emulator.emulator[kmock.name(f"api-gateway-h3abc-{i}"), kmock.subresource("log")] << GATEWAY_LOGS

        emulator.call(logs)
        yield emulator, kubeconfig


@pytest.fixture
def bot(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, cluster: tuple[KubeEmulator, Path]
) -> Iterator[Bot]:
    proc = start_bot(tmp_path, recorder, redis_server, "[{name: emu, context: emu}]", str(cluster[1]), "bot")
    yield proc
    proc.terminate()


def progress(recorder: SlackRecorder, thread: str = "1700000000.000001") -> list[str]:
    """The rollout progress reply under the clicked message: its first post, then each edit."""
    posted = [c for c in recorder.of("chat.postMessage") if c.params.get("thread_ts") == thread]
    edits = [c for c in recorder.of("chat.update") if c.params.get("channel") == "C0INCIDENTS"]
    return [str(c.params["text"]) for c in posted + edits if "Rollout of" in str(c.params.get("text"))]


def wait_progress(recorder: SlackRecorder, text: str) -> None:
    wait_for(lambda: text in progress(recorder), what=f"progress {text!r}")


def command_reply(
    slack: SignedSlack, recorder: SlackRecorder, text: str, phrase: str, command: str = "/runbook", **kwargs: Any
) -> dict[str, Any]:
    """Send a slash command and wait for its result (posted later through response_url) containing ``phrase``."""
    since = len(recorder.of("response_url"))
    ack_text(slack.command(text, command=command, **kwargs))
    return wait_reply(recorder, since, phrase)


def deployment_obj(emulator: KubeEmulator, name: str = "api-gateway") -> dict[str, Any]:
    return emulator.call(lambda: dict(emulator.emulator.objects["apps/v1/deployments", NS, name]))


def template_image(emulator: KubeEmulator) -> str:
    return str(deployment_obj(emulator)["spec"]["template"]["spec"]["containers"][0]["image"])


def patch_count(emulator: KubeEmulator) -> int:
    return int(emulator.call(lambda: len([r for r in emulator.emulator if str(r.method).upper().endswith("PATCH")])))


def offers(message: dict[str, Any]) -> dict[int, str]:
    out = {}
    for block in message["blocks"]:
        button = block.get("accessory") or {}
        if button.get("action_id") == "offer_rollback":
            out[int(button["text"]["text"].rsplit(" ", 1)[-1])] = button["value"]
    return out


def test_rollback_history_refusals_and_one_operator_rollback(
    slack: SignedSlack, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    emulator, _ = cluster
    since = len(recorder.of("response_url"))
    assert "Running *rollback* on `production/api-gateway`" in ack_text(
        slack.command("api-gateway production", command="/rollback")
    )
    message = wait_reply(recorder, since, "Rollout history")
    assert message["response_type"] == "in_channel"
    text = text_of_blocks(message["blocks"])
    assert (
        "Revision 3" in text and "current" in text and "deploy 2.4.0" in text and "registry/api-gateway:2.3.9" in text
    )
    buttons = offers(message)
    assert set(buttons) == {1, 2}
    confirm = next(
        b["accessory"]["confirm"] for b in message["blocks"] if (b.get("accessory") or {}).get("value") == buttons[2]
    )
    assert "registry/api-gateway:2.4.1 → registry/api-gateway:2.4.0" in confirm["text"]["text"]
    assert all(len(v) < 40 and "api-gateway" not in v for v in buttons.values())  # opaque ids

    since = len(recorder.of("response_url"))
    slack.click("offer_rollback", buttons[2], user="U0MALLORY")
    wait_reply(recorder, since, "Only operators")
    assert template_image(emulator) == "registry/api-gateway:2.4.1"

    since = len(recorder.of("response_url"))
    slack.click("offer_rollback", "forged-or-expired-id", user="U0OPS")
    wait_reply(recorder, since, "expired or is unknown")

    since = len(recorder.of("response_url"))
    first = slack.click_body("offer_rollback", buttons[2], user="U0OPS")
    second = slack.click_body("offer_rollback", buttons[2], user="U0OPS")
    slack.post(first, "application/x-www-form-urlencoded")
    slack.post(second, "application/x-www-form-urlencoded")  # a double click
    done = wait_reply(recorder, since, "rolled back `production/api-gateway` to revision 2")
    assert "registry/api-gateway:2.4.1 → registry/api-gateway:2.4.0" in done["text"]
    repeat = wait_reply(recorder, since, "it is not repeated")  # carried out (or still being) by the first click
    assert "by <@U0OPS> " in repeat["text"]
    wait_progress(recorder, "Rollout of `production/api-gateway`: rollout complete (3/3 updated, 3/3 available)")
    assert template_image(emulator) == "registry/api-gateway:2.4.0"
    assert patch_count(emulator) == 1
    labels = deployment_obj(emulator)["spec"]["template"]["metadata"]["labels"]
    assert labels.get("pod-template-hash") is None

    # Revision 1 disappears before anyone clicks: refused, nothing patched.
    emulator.call(lambda: emulator.emulator.objects.__delitem__(("apps/v1/replicasets", NS, "api-gateway-h1abc")))
    since = len(recorder.of("response_url"))
    slack.click("offer_rollback", buttons[1], user="U0OPS")
    wait_reply(recorder, since, "revision 1 of production/api-gateway is gone")
    assert template_image(emulator) == "registry/api-gateway:2.4.0"


def test_crashloop_names_the_pod_oom_and_last_logs(slack: SignedSlack, recorder: SlackRecorder) -> None:
    message = command_reply(slack, recorder, "crashloop payments-api production", "Pod CrashLooping")
    assert message["response_type"] == "ephemeral"  # it quotes pod logs: only the person who asked sees them
    text = text_of_blocks(message["blocks"])
    assert "payments-api-5c7d9" in text and "CrashLoopBackOff" in text and "9 restarts" in text
    assert "OOMKilled (exit 137) — memory limit 256Mi" in text
    assert "OutOfMemoryError: Java heap space" in text
    assert "ConfigMap payments-config (last changed" in text
    assert "Secret payments-db (values not read)" in text and "Secret payments-tls (values not read)" in text


def test_high_error_rate_samples_logs_and_offers_rollback(slack: SignedSlack, recorder: SlackRecorder) -> None:
    message = command_reply(
        slack, recorder, "high-error-rate api-gateway production --deps=app=database", "High error rate"
    )
    text = text_of_blocks(message["blocks"])
    assert "6/10 recent log lines match `ERROR`" in text
    assert "ERROR upstream timeout calling payments" in text and "ERROR 502 from ledger" in text
    assert "database-0: Pending, not ready" in text
    assert set(offers(message)) == {1, 2}


def test_forbidden_api_gives_a_readable_message(
    slack: SignedSlack, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    cluster[0].react("v1/pods", 403)
    reply = command_reply(slack, recorder, "crashloop payments-api production", "crashloop* stopped")
    assert "forbidden: the bot may not read workload production/payments-api" in reply["text"]
    assert "RBAC" in reply["text"]


def test_runbook_and_rollback_land_on_the_incident_timeline_and_audit(
    slack: SignedSlack, recorder: SlackRecorder, state: redis.Redis
) -> None:
    opened = ack_text(slack.command("open P1 Gateway errors after 2.4.1", user="U0OPS"))
    number = int(opened.split("*INC-")[1].split("*", maxsplit=1)[0])
    state.set("chan:C0WARINC", str(number))  # the incident's own channel (as incident channels record it)
    buttons = offers(
        command_reply(
            slack,
            recorder,
            "api-gateway production",
            "Rollout history",
            command="/rollback",
            channel="C0WARINC",
            user="U0OPS",
        )
    )
    audited = state.xlen("audit")
    since = len(recorder.of("response_url"))
    slack.click("offer_rollback", buttons[2], user="U0OPS")
    wait_reply(recorder, since, "rolled back `production/api-gateway`")
    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert "*ran runbook rollback*" in timeline and "*rolled back*" in timeline
    assert "registry/api-gateway:2.4.1 → registry/api-gateway:2.4.0" in timeline
    audit = [fields for _, fields in state.xrange("audit")][audited:]
    assert any(a.get("kind") == "rollback" and a.get("result") == "done" and a.get("actor") == "U0OPS" for a in audit)


def test_restart_is_offered_confirmed_operator_only_and_done_once(
    slack: SignedSlack, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path], state: redis.Redis
) -> None:
    emulator, _ = cluster
    message = command_reply(slack, recorder, "restart api-gateway production", "Restart: production/api-gateway")
    text = text_of_blocks(message["blocks"])
    assert "3 wanted" in text and "registry/api-gateway:2.4.1" in text
    (button,) = buttons_of(message, "offer_restart")
    assert "api-gateway" not in button["value"]  # an opaque id, not the target
    assert "Rolling restart of production/api-gateway" in button["confirm"]["text"]["text"]

    since = len(recorder.of("response_url"))
    slack.click("offer_restart", button["value"], user="U0MALLORY")
    wait_reply(recorder, since, "Only operators (permissions.operators) may restart production/api-gateway")
    assert patch_count(emulator) == 0

    since = len(recorder.of("response_url"))
    recorder.fail("chat.postMessage", "not_in_channel")  # the bot may not post in that channel's threads
    try:
        first = slack.click_body("offer_restart", button["value"], user="U0OPS")
        second = slack.click_body("offer_restart", button["value"], user="U0OPS")
        slack.post(first, "application/x-www-form-urlencoded")
        slack.post(second, "application/x-www-form-urlencoded")
        wait_reply(recorder, since, "<@U0OPS> restarted `production/api-gateway` rolling restart of 3 replica(s)")
        repeat = wait_reply(recorder, since, "it is not repeated")
        assert repeat["text"].startswith("This restart ") and "by <@U0OPS> " in repeat["text"]
        # The rollout's final state then comes through the click's response_url instead.
        wait_reply(recorder, since, "Rollout of `production/api-gateway`: rollout complete")
    finally:
        recorder.failures.clear()
    assert patch_count(emulator) == 1
    annotations = deployment_obj(emulator)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"].endswith("Z")
    assert template_image(emulator) == "registry/api-gateway:2.4.1"  # the rest of the template is untouched
    audit = [fields for _, fields in state.xrange("audit")]
    assert [a["result"] for a in audit if a.get("kind") == "restart"] == ["refused: not an operator", "done"]


def test_an_offer_made_before_the_rename_is_carried_out_once_from_its_old_button(
    slack: SignedSlack, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path], state: redis.Redis
) -> None:
    """Offers alive at the upgrade were stored as ``action:{id}`` behind ``runbook_<kind>`` buttons: they still work,
    once."""
    emulator, _ = cluster
    message = command_reply(slack, recorder, "restart api-gateway production", "Restart: production/api-gateway")
    (button,) = buttons_of(message, "offer_restart")
    offer_id = button["value"]
    state.rename(f"offer:{{{offer_id}}}", f"action:{{{offer_id}}}")  # as the version before stored it
    before = patch_count(emulator)
    since = len(recorder.of("response_url"))
    slack.click("runbook_restart", offer_id, user="U0OPS")
    wait_reply(recorder, since, "<@U0OPS> restarted `production/api-gateway`")
    since = len(recorder.of("response_url"))
    slack.click("runbook_restart", offer_id, user="U0OPS")
    wait_reply(recorder, since, "it is not repeated")
    assert patch_count(emulator) == before + 1
    assert state.exists(f"action:{{{offer_id}}}:done") and not state.exists(f"offer:{{{offer_id}}}:done")


def test_scale_offers_the_change_names_the_autoscaler_and_refuses_what_does_nothing(
    slack: SignedSlack, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
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
    for bad, why in (("-1", "greater than or equal to 0"), ("many", "valid integer"), ("100000", "less than")):
        reply = ack_text(slack.command(f"scale api-gateway {bad} production", command="/runbook"))
        assert why in reply and "Usage: `/runbook scale <deployment> <replicas> [namespace]`" in reply, reply
    assert "not a valid deployment name" in ack_text(
        slack.command("scale Api_Gateway 5 production", command="/runbook")
    )

    message = command_reply(slack, recorder, "scale api-gateway 5 production", "Scale: production/api-gateway")
    assert "api-gateway (2–10) manages the replica count" in text_of_blocks(message["blocks"])
    (button,) = buttons_of(message, "offer_scale")
    assert button["text"]["text"] == "Scale 3 → 5"
    assert "may change it back" in button["confirm"]["text"]["text"]

    since = len(recorder.of("response_url"))
    slack.click("offer_scale", button["value"], user="U0OPS", message_ts="1700000099.000001")
    wait_reply(recorder, since, "<@U0OPS> scaled `production/api-gateway` from 3 to 5 replica(s)")
    assert deployment_obj(emulator)["spec"]["replicas"] == 5
    # Progress in the clicked message's thread: one reply, edited until the rollout timeout (2 s here).
    first = "Rollout of `production/api-gateway`: 3/5 updated, 3/5 available"
    final = "Rollout of `production/api-gateway`: still rolling out after 2 s (3/5 updated, 3/5 available)"
    wait_for(lambda: any(t.startswith(final) for t in progress(recorder, "1700000099.000001")), what="final progress")
    replies = [c for c in recorder.of("chat.postMessage") if c.params.get("thread_ts") == "1700000099.000001"]
    assert [c.params["text"] for c in replies] == [first]
    edits = [c for c in recorder.of("chat.update") if c.params.get("ts") == replies[0].reply_ts]
    assert edits and edits[-1].params["text"].startswith(final)

    message = command_reply(slack, recorder, "scale api-gateway 5 production", "Scale: production/api-gateway")
    assert not buttons_of(message, "offer_scale")
    assert "No scaling offered: production/api-gateway already has 5 replica(s)" in text_of_blocks(message["blocks"])


def test_crashloop_offers_a_restart_and_a_refused_patch_changes_nothing(
    slack: SignedSlack, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    emulator, _ = cluster
    message = command_reply(slack, recorder, "crashloop payments-api production", "Pod CrashLooping")
    (button,) = buttons_of(message, "offer_restart")
    assert button["text"]["text"] == "Restart payments-api (rolling)"

    # The API refuses the patch (RBAC): a readable reason naming the permission, and the offer is
    # not used up. (kmock stores a patch whatever status a reaction answers, so the object itself
    # is not checked here; the count of patches sent is.)
    emulator.call(lambda: emulator.emulator["patch", kmock.resource("apps/v1/deployments")] << 403)
    since = len(recorder.of("response_url"))
    slack.click("offer_restart", button["value"], user="U0OPS")
    reply = wait_reply(recorder, since, "Restart failed")
    assert "forbidden: the bot may not change deployment production/payments-api" in reply["text"]
    assert "grant it get and patch on deployments" in reply["text"]
    assert patch_count(emulator) == 1

    # Paused meanwhile: refused with the reason when clicked (the plan is made again at click time),
    # and no patch is sent.
    (paused,) = [d for d in seed()["apps/v1/deployments"] if d["metadata"]["name"] == "payments-api"]
    paused["spec"]["paused"] = True
    emulator.call(lambda: emulator.emulator.objects.__setitem__(("apps/v1/deployments", NS, "payments-api"), paused))
    since = len(recorder.of("response_url"))
    slack.click("offer_restart", button["value"], user="U0OPS")
    wait_reply(recorder, since, "Restart refused: production/payments-api is paused; resume it before restarting")
    assert patch_count(emulator) == 1


def test_cluster_option_acts_on_the_named_cluster_only(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, cluster: tuple[KubeEmulator, Path]
) -> None:
    first, first_config = cluster
    second_config = tmp_path / "kubeconfig-eu"
    with emulated_cluster(second_config, "emu-eu") as second:
        clusters = "[{name: us, context: emu}, {name: eu, context: emu-eu}]"
        bot = start_bot(tmp_path, recorder, redis_server, clusters, f"{first_config}:{second_config}", "two")
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
            (button,) = buttons_of(message, "offer_scale")
            slack.click("offer_scale", button["value"], user="U0OPS")
            wait_reply(recorder, since, "scaled `production/api-gateway` in cluster `eu` from 3 to 4 replica(s)")
            assert deployment_obj(second)["spec"]["replicas"] == 4
            assert deployment_obj(first)["spec"]["replicas"] == 3
            assert patch_count(first) == 0
        finally:
            slack.close()
            bot.terminate()


def test_a_hostile_pattern_cannot_freeze_the_bot(slack: SignedSlack, recorder: SlackRecorder, bot: Bot) -> None:
    """``(.|.)*Q`` backtracks 2^n steps on an n-character line with Python's re, holding the GIL: RE2 is linear."""
    since = len(recorder.of("response_url"))
    ack_text(slack.command("high-error-rate api-gateway production --pattern=(.|.)*Q", command="/runbook"))
    assert httpx.get(f"{bot.base_url}/healthz", timeout=2).status_code == 200  # the event loop is not held
    message = wait_reply(recorder, since, "High error rate")
    assert "0/10 recent log lines match `(.|.)*Q`" in text_of_blocks(message["blocks"])
    refused = ack_text(slack.command(r"high-error-rate api-gateway production --pattern=(a)\1", command="/runbook"))
    assert "not a regular expression RE2 accepts" in refused


def test_runbooks_need_a_responder_and_logs_are_shared_only_when_configured(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, cluster: tuple[KubeEmulator, Path]
) -> None:
    bot = start_bot(
        tmp_path,
        recorder,
        redis_server,
        "[{name: emu, context: emu}]",
        str(cluster[1]),
        "shared",
        kubernetes=", share_logs: true",
        responders="[U0OPS]",
    )
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        refused = ack_text(slack.command("crashloop payments-api production", command="/runbook", user="U0MALLORY"))
        assert "Only incident responders may run runbooks" in refused
        message = command_reply(slack, recorder, "crashloop payments-api production", "Pod CrashLooping", user="U0OPS")
        assert message["response_type"] == "in_channel"
    finally:
        slack.close()
        bot.terminate()


def test_a_rollback_offered_before_a_new_rollout_is_refused(
    slack: SignedSlack, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    """Offered at revision 3 (2.4.1 → 2.4.0); then 2.4.2 ships as revision 4: the click must not replace 2.4.2."""
    emulator, _ = cluster
    buttons = offers(command_reply(slack, recorder, "api-gateway production", "Rollout history", command="/rollback"))
    (shipped,) = [d for d in seed()["apps/v1/deployments"] if d["metadata"]["name"] == "api-gateway"]
    shipped["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "4"
    shipped["spec"]["template"] = template("registry/api-gateway:2.4.2")
    rs4 = replicaset(4, "registry/api-gateway:2.4.2", "deploy 2.4.2", datetime.now(UTC))

    def ship() -> None:
        emulator.emulator.objects["apps/v1/deployments", NS, "api-gateway"] = shipped
        emulator.emulator.objects["apps/v1/replicasets", NS, rs4["metadata"]["name"]] = rs4

    emulator.call(ship)
    since = len(recorder.of("response_url"))
    slack.click("offer_rollback", buttons[2], user="U0OPS")
    reply = wait_reply(recorder, since, "Roll-back refused")
    assert "changed since this was offered: now registry/api-gateway:2.4.2 (revision 4)" in reply["text"]
    assert template_image(emulator) == "registry/api-gateway:2.4.2" and patch_count(emulator) == 0

    # Offered again on the new state, the reply and the audit describe what really changes.
    buttons = offers(command_reply(slack, recorder, "api-gateway production", "Rollout history", command="/rollback"))
    since = len(recorder.of("response_url"))
    slack.click("offer_rollback", buttons[2], user="U0OPS")
    done = wait_reply(recorder, since, "rolled back `production/api-gateway` to revision 2")
    assert "registry/api-gateway:2.4.2 → registry/api-gateway:2.4.0" in done["text"]


def test_a_change_made_is_reported_made_when_redis_stalls_after_it(
    tmp_path: Path, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    """Redis stops answering the instant the API accepts the patch: the operator is told the change was made, and
    its audit entry and timeline note land once Redis is back (never "Nothing was changed")."""
    emulator, kubeconfig = cluster
    own = RedisServer().start()
    bot = start_bot(tmp_path, recorder, own, "[{name: emu, context: emu}]", str(kubeconfig), "stall")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    client = redis.Redis.from_url(own.url, decode_responses=True)
    try:
        number = int(ack_text(slack.command("open P1 Gateway 500s", user="U0OPS")).split("*INC-")[1].split("*")[0])
        client.set("chan:C0STALL", str(number))
        message = command_reply(
            slack, recorder, "restart api-gateway production", "Restart:", channel="C0STALL", user="U0OPS"
        )
        (button,) = buttons_of(message, "offer_restart")
        bot.settled()  # the report's own records are written: what stalls below is the click's alone
        # when the PATCH arrives, Redis stalls; kmock then applies it as usual
        emulator.call(lambda: emulator.emulator["patch", kmock.resource("apps/v1/deployments")] << own.stall)
        since = len(recorder.of("response_url"))
        slack.click("offer_restart", button["value"], user="U0OPS")
        try:
            done = wait_reply(recorder, since, "restarted `production/api-gateway`")
            assert own.stalled and not [
                r for r in replies(recorder, since) if "Nothing was changed" in str(r.get("text"))
            ]
        finally:
            own.resume()
        assert done["response_type"] == "in_channel" and patch_count(emulator) == 1
        wait_for(
            lambda: any(f.get("kind") == "restart" and f.get("result") == "done" for _, f in client.xrange("audit")),
            timeout=30,
            what="the audit entry, written once Redis answers again",
        )
        wait_for(
            lambda: "*restarted*" in ack_text(slack.command(f"timeline INC-{number}")),
            timeout=30,
            what="the timeline note",
        )
    finally:
        client.close()
        slack.close()
        bot.terminate()
        own.cleanup()


def test_a_report_posted_as_redis_stalls_is_not_said_undone_and_its_records_land_later(
    tmp_path: Path, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    """Redis stops answering the instant the runbook's report reaches Slack: the asker has the report and is never
    told "Nothing was changed"; its timeline note and audit entry are kept and land once Redis answers again."""
    _, kubeconfig = cluster
    own = RedisServer().start()
    bot = start_bot(tmp_path, recorder, own, "[{name: emu, context: emu}]", str(kubeconfig), "stall-report")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    client = redis.Redis.from_url(own.url, decode_responses=True)

    def stall_at_the_report(event: Event) -> None:  # on the stand-in's thread, before Slack answers the post
        said = f"{event.message.text} {text_of_blocks(event.message.blocks)}" if event.message else ""
        if "Rollout history" in said:
            own.stall()

    try:
        number = int(ack_text(slack.command("open P1 Gateway 500s", user="U0OPS")).split("*INC-")[1].split("*")[0])
        client.set("chan:C0STALLR", str(number))
        bot.settled()
        listener, recorder.listener = recorder.listener, stall_at_the_report
        since = len(recorder.of("response_url"))
        try:
            ack_text(slack.command("api-gateway production", command="/rollback", channel="C0STALLR", user="U0OPS"))
            wait_reply(recorder, since, "Rollout history")
            wait_for(
                lambda: "not written yet" in bot.log_path.read_text(errors="replace"),
                what="the bot finding Redis away after the report",
            )
        finally:
            recorder.listener = listener
            own.resume()
        wait_for(
            lambda: any(f.get("kind") == "runbook" for _, f in client.xrange("audit")),
            timeout=30,
            what="the report's audit entry, written once Redis answers again",
        )
        wait_for(
            lambda: "ran runbook rollback" in ack_text(slack.command(f"timeline INC-{number}")),
            timeout=30,
            what="the report's timeline note",
        )
        bot.settled()
        assert not [r for r in replies(recorder, since) if "Nothing was changed" in str(r.get("text"))]
    finally:
        client.close()
        slack.close()
        bot.terminate()
        own.cleanup()


def test_a_change_made_partway_as_redis_stalls_is_said_partway_and_audited_later(
    tmp_path: Path, recorder: SlackRecorder, cluster: tuple[KubeEmulator, Path]
) -> None:
    """A cordon of two nodes: Redis stops answering as node-a's PATCH arrives, and the API refuses node-b's. The
    operator is told what was made ("partway … patched nodes/node-a"), never "Nothing was changed"; its audit entry
    lands once Redis is back."""
    emulator, kubeconfig = cluster
    emulator.seed(maintenance_seed(datetime.now(UTC), {"node-a": "v1.29.3-eks-1", "node-b": "v1.29.3-eks-1"}))
    own = RedisServer().start()
    client = redis.Redis.from_url(own.url, decode_responses=True)
    client.set(keys.MW_SEQ, 9000)  # window numbers of its own: the session's recorder finds messages by number
    bot = start_bot(tmp_path, recorder, own, "[{name: emu, context: emu}]", str(kubeconfig), "partway")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    refused = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "nodes is forbidden", "code": 403}
    try:
        number = schedule(slack, "2h Kernel patching --nodes=node-a,node-b", user="U0OPS")
        message_of(recorder, number)
        slack.click("mw_start", str(number), user="U0OPS")
        cordon = button(latest(recorder, number, "In progress"), "offer_cordon")
        bot.settled()

        def faults() -> None:
            emulator.emulator["patch", kmock.resource("v1/nodes"), kmock.name("node-a")] << own.stall
            emulator.emulator["patch", kmock.resource("v1/nodes"), kmock.name("node-b")] << 403 << refused

        emulator.call(faults)
        since = len(recorder.of("response_url"))
        slack.click("offer_cordon", cordon["value"], user="U0OPS")
        try:
            said = str(wait_reply(recorder, since, "partway", timeout=30)["text"])
            assert own.stalled and "already made, and not undone: patched nodes/node-a" in said
            assert not [r for r in replies(recorder, since) if "Nothing was changed" in str(r.get("text"))]
        finally:
            own.resume()
        wait_for(
            lambda: [f for _, f in client.xrange("audit") if f.get("kind") == "cordon"],
            timeout=30,
            what="the cordon's audit entry, written once Redis answers again",
        )
        (entry,) = [f for _, f in client.xrange("audit") if f.get("kind") == "cordon"]
        assert entry["result"].startswith("partial: failed: 403") and entry["done"] == "patched nodes/node-a"
    finally:
        client.close()
        slack.close()
        bot.terminate()
        own.cleanup()


NEEDS_A_CLUSTER = [
    ("/rollback", "api-gateway production"),
    ("/runbook", "crashloop payments-api production"),
    ("/backup", "list"),
    ("/cert", "list"),
    ("/security", "audit"),
]


def test_without_a_kubeconfig_every_cluster_command_says_which_configuration_is_missing(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer
) -> None:
    """No cluster around (not in a pod, no kubeconfig; the shell on a laptop): each command that needs one says what
    to configure, the same way, instead of "Something went wrong"; a listed cluster whose kubeconfig context is
    missing is named with it."""
    missing = tmp_path / "no-kubeconfig"
    bot = start_bot(tmp_path, recorder, redis_server, "[]", str(missing), "nokube")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        for command, text in NEEDS_A_CLUSTER:
            reply = command_reply(slack, recorder, text, "No Kubernetes configuration", command=command)
            said = str(reply["text"])
            assert "KUBECONFIG" in said and "service account" in said, (command, said)
            assert reply["response_type"] == "ephemeral" and str(missing) not in said, (command, said)
        assert "Something went wrong" not in "".join(str(c.params.get("text")) for c in recorder.of("response_url"))
    finally:
        slack.close()
        bot.terminate()

    other = tmp_path / "kubeconfig-other"
    other.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: staging\n"
        "clusters: [{name: staging, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: bot, user: {token: t}}]\n"
        "contexts: [{name: staging, context: {cluster: staging, user: bot}}]\n"
    )
    bot = start_bot(tmp_path, recorder, redis_server, "[{name: prod, context: eks-prod}]", str(other), "nocontext")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        for command, text in NEEDS_A_CLUSTER[:3]:
            reply = command_reply(slack, recorder, text, "has no context `eks-prod`", command=command)
            assert "cluster `prod` of kubernetes.clusters" in str(reply["text"]), (command, reply["text"])
    finally:
        slack.close()
        bot.terminate()
