"""The security audit, certificate renewal and the weekly report over the wire: the bot over signed HTTP, kmock seeded
with one planted finding per check and a healthy twin for each (the test plays cert-manager), moto's Cost Explorer
seeded through its static results endpoint, the bot's own Redis for the audit stream and the last audit."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from bot.core import keys
from bot.core.clock import MovableClock
from demo.aws import cost_results as demo_costs
from tests.support.aws import Moto
from tests.support.bot_process import SignedSlack, ack_text, run_cli
from tests.support.cluster_seed import iso
from tests.support.harness import Bot, past_next_minute
from tests.support.kube import KubeEmulator, plain
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.replies import buttons_of, replies, reply_text, thread_posts, wait_reply
from tests.support.security_seed import NS, pod, seed
from tests.support.slack_recorder import SlackRecorder, text_of_blocks
from tests.support.standin import Fault

CERTS = "cert-manager.io/v1/certificates"
REQUESTS = "cert-manager.io/v1/certificaterequests"
OPS, BOB, MALLORY = "U0OPS", "U0BOB", "U0MALLORY"
# Daily cost per service: (each of the 7 days before, each of the last 7 days).
DAILY = {"Amazon EC2": (100.0, 110.0), "Amazon RDS": (20.0, 40.0), "Amazon S3": (10.0, 5.0)}

CONFIG = """
channels: {incidents: C0INCIDENTS, digest: C0HEALTH}
permissions: {operators: [U0OPS]}
oncall: {rotation: [U0ALICE, U0BOB]}
kubernetes: {clusters: [{name: emu, context: emu}], rollout_timeout: 20s}
aws: {region: us-east-1}
security:
  cron: "%(security_cron)s"
  exceptions:
    - {match: "kube-system/*", checks: [privileged], reason: the VPC CNI needs it}
    - {match: "legacy/*", checks: [privileged], reason: agent being replaced, until: 2026-01-01}
reports: {weekly_cron: "%(weekly_cron)s"}
"""


# Fixtures ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """This module's own Redis: the weekly report counts every change and incident of the week it finds there."""
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KubeEmulator, Path]]:
    emulator = KubeEmulator().start()
    emulator.seed(seed(datetime.now(UTC)))
    yield emulator, emulator.kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
    emulator.stop()


def cost_results(end: date) -> dict[str, Any]:
    return demo_costs(end, DAILY)


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = Moto().start()
    seeded = httpx.post(f"{server.url}/moto-api/static/ce/cost-and-usage-results", json=cost_results(date.today()))
    assert seeded.status_code == 201, seeded.text
    yield server
    server.stop()


def config_file(directory: Path, security_cron: str = "0 9 1-7 * 1", weekly_cron: str = "0 9 * * 1") -> Path:
    path = directory / "chatops.yaml"
    path.write_text(textwrap.dedent(CONFIG % {"security_cron": security_cron, "weekly_cron": weekly_cron}))
    return path


def start_bot(
    directory: Path, recorder: SlackRecorder, redis: RedisServer, kubeconfig: Path, aws: dict[str, str], name: str,
    config: Path | None = None, clock: MovableClock | None = None,
) -> Bot:  # fmt: skip
    return Bot(
        redis_url=redis.url,
        slack_api_url=recorder.api_url,
        config_path=config or config_file(directory),
        log_path=directory / f"{name}.log",
        extra_env={"KUBECONFIG": str(kubeconfig), **aws},
        clock=clock,
    ).start()


@pytest.fixture(scope="module")
def bot(
    tmp_path_factory: pytest.TempPathFactory,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kube: tuple[KubeEmulator, Path],
    moto: Moto,
) -> Iterator[Bot]:
    proc = start_bot(tmp_path_factory.mktemp("security"), recorder, redis_server, kube[1], moto.env(), "bot")
    yield proc
    proc.terminate()


# Helpers ----------------------------------------------------------------------------------------------------------
def ask(slack: SignedSlack, recorder: SlackRecorder, command: str, text: str, phrase: str, **kw: Any) -> dict[str, Any]:
    since = len(recorder.of("response_url"))
    ack_text(slack.command(text, command=command, **kw))
    return wait_reply(recorder, since, phrase)


def objects(kube: KubeEmulator, resource: str) -> dict[str, dict[str, Any]]:
    def read() -> dict[str, dict[str, Any]]:
        return {key[2]: plain(obj) for key, obj in kube.emulator.objects.items() if key[0] == resource}

    found: dict[str, dict[str, Any]] = kube.call(read)
    return found


def put(kube: KubeEmulator, resource: str, obj: dict[str, Any]) -> None:
    meta = obj["metadata"]
    kube.call(lambda: kube.emulator.objects.__setitem__((resource, meta.get("namespace"), meta["name"]), obj))


def remove(kube: KubeEmulator, resource: str, namespace: str, name: str) -> None:
    kube.call(lambda: kube.emulator.objects.__delitem__((resource, namespace, name)))


def status_patches(kube: KubeEmulator, name: str) -> int:
    def count() -> int:
        return sum(1 for r in kube.emulator if r.method.upper() == "PATCH" and r.url.path.endswith(f"/{name}/status"))

    return int(kube.call(count))


# The audit --------------------------------------------------------------------------------------------------------
PLANTED = [
    "`shop/Pod/priv-init` — init container setup: privileged",
    "`legacy/Pod/old-agent` — agent: privileged",  # its exception expired: counted again
    "`shop/Pod/root-pod` — app: runAsUser 0 (set on the pod)",
    "`shop/Pod/uses-default` — uses the default ServiceAccount, its token mounted",
    "`shop/storefront` — LoadBalancer open to 0.0.0.0/0",
    "`shop/admin` — NodePort 30080",
    "`shop/anon-view` — RoleBinding grants ClusterRole view to system:anonymous",
    "`shop/Pod/host-net` — hostNetwork",
]
TWINS = ["calm-init", "root-overridden", "internal-api", "team-edit", "discovery"]


def test_the_audit_finds_each_planted_finding_and_none_of_the_twins_then_says_what_is_new_and_fixed(
    slack: SignedSlack, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path], state: redis.Redis
) -> None:
    emulator, _ = kube
    state.delete(keys.security_last("emu"))
    reply = ask(slack, recorder, "/security", "audit", "Security audit", user=BOB)
    text = reply_text(reply)
    assert reply["response_type"] == "in_channel"
    for finding in PLANTED:
        assert finding in text, finding
    for twin in TWINS:
        assert twin not in text, twin
    assert "root-overridden" not in text  # runAsUser 1000 on the container wins over the pod's 0
    # Most severe first: the privileged init container (high) before the NodePort (low).
    assert text.index("priv-init") < text.index("NodePort 30080")
    # Accepted, named with the reason; the expired exception says so.
    assert "`kube-system/DaemonSet/aws-node` — cni: privileged: the VPC CNI needs it" in text
    assert "the exception for `legacy/*` expired on 2026-01-01" in text
    assert "Accepted (1)" in text
    assert "Since the last audit" not in text  # the first audit: nothing to compare with

    # Fix one finding, plant a new one, audit again.
    remove(emulator, "v1/pods", NS, "host-net")
    put(emulator, "v1/pods", pod("debug-shell", {"hostPID": True}))
    again = reply_text(ask(slack, recorder, "/security", "audit --cluster=emu", "Since the last audit"))
    assert "🆕 🔴 `shop/Pod/debug-shell` — hostPID" in again
    assert "fixed: shop/Pod/host-net — hostNetwork" in again
    assert "1 new, 1 fixed since the last audit" in again
    stored = json.loads(state.get(keys.security_last("emu")) or "{}")
    assert "host|shop/Pod/debug-shell|hostPID" in stored["keys"]


def test_bad_audit_words_and_an_unknown_cluster_change_nothing(
    slack: SignedSlack, recorder: SlackRecorder, state: redis.Redis
) -> None:
    before = state.get(keys.security_last("emu"))
    assert "not a /security command" in ack_text(slack.command("scan", command="/security"))
    assert "not a configured cluster" in ack_text(slack.command("audit --cluster=nope", command="/security"))
    assert state.get(keys.security_last("emu")) == before


def test_audit_print_lists_every_finding_as_a_whole_process(kube: tuple[KubeEmulator, Path], tmp_path: Path) -> None:
    done = run_cli("audit", "--print", env={"KUBECONFIG": str(kube[1]), "CHATOPS_CONFIG": str(config_file(tmp_path))})
    assert done.returncode == 0, done.stderr
    assert "[high] shop/Pod/priv-init — init container setup: privileged" in done.stdout
    assert "[low] shop/admin — NodePort 30080" in done.stdout
    assert "accepted: kube-system/DaemonSet/aws-node" in done.stdout


# Certificates -----------------------------------------------------------------------------------------------------
def test_cert_list_shows_the_expiring_ones_first(slack: SignedSlack, recorder: SlackRecorder) -> None:
    text = reply_text(ask(slack, recorder, "/cert", "list", "Certificates in emu"))
    assert text.index("shop/broken-tls") < text.index("shop/api-tls") < text.index("shop/web-tls")
    assert "ClusterIssuer letsencrypt" in text and "secret `api-tls`" in text and "renews" in text


def play_cert_manager(kube: KubeEmulator, name: str, revision: int, days: int) -> None:
    """cert-manager at work: a new certificate issued, the Issuing condition gone."""
    cert = objects(kube, CERTS)[name]
    cert["status"] = {
        **cert["status"],
        "revision": revision,
        "notAfter": iso(datetime.now(UTC) + timedelta(days=days)),
        "conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}],
    }
    put(kube, CERTS, cert)


def test_renewal_is_offered_operator_only_once_and_followed_until_cert_manager_issues_it(
    slack: SignedSlack, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path], state: redis.Redis
) -> None:
    emulator, _ = kube
    offer = ask(slack, recorder, "/cert", "renew shop/api-tls", "Renew: shop/api-tls", user=BOB)
    (renew,) = buttons_of(offer, "offer_cert-renew")
    assert "api-tls" not in renew["value"]  # an opaque id
    assert "like `cmctl renew`" in renew["confirm"]["text"]["text"]

    since = len(recorder.of("response_url"))
    slack.click("offer_cert-renew", renew["value"], user=MALLORY)
    wait_reply(recorder, since, "Only operators (permissions.operators) may renew certificate shop/api-tls")
    assert status_patches(emulator, "api-tls") == 0

    first = slack.click_body("offer_cert-renew", renew["value"], user=OPS)
    second = slack.click_body("offer_cert-renew", renew["value"], user=OPS)
    slack.post(first, "application/x-www-form-urlencoded")
    slack.post(second, "application/x-www-form-urlencoded")
    wait_reply(recorder, since, "<@U0OPS> triggered the renewal of `certificate shop/api-tls` (revision 1")
    wait_reply(recorder, since, "it is not repeated")
    assert status_patches(emulator, "api-tls") == 1
    conditions = {c["type"]: c for c in objects(emulator, CERTS)["api-tls"]["status"]["conditions"]}
    assert conditions["Issuing"]["status"] == "True" and conditions["Issuing"]["reason"] == "ManuallyTriggered"
    assert conditions["Ready"]["status"] == "True"  # every other condition kept

    wait_for(lambda: thread_posts(recorder, "Renewal of certificate `shop/api-tls`"), what="renewal progress")
    play_cert_manager(emulator, "api-tls", revision=2, days=90)
    wait_for(
        lambda: any("issued: revision 2, valid until" in t for t in thread_posts(recorder, "api-tls")),
        timeout=20,
        what="the renewal issued",
    )
    audit = [f for _, f in state.xrange(keys.AUDIT) if f.get("kind") == "cert-renew"]
    assert [(a["actor"], a["result"], a["operator"]) for a in audit] == [
        (MALLORY, "refused: not an operator", "no"),
        (OPS, "done", "yes"),
    ]


def test_a_failed_certificate_request_is_reported(
    slack: SignedSlack, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path]
) -> None:
    emulator, _ = kube
    offer = ask(slack, recorder, "/cert", "renew shop/broken-tls", "Renew: shop/broken-tls")
    (renew,) = buttons_of(offer, "offer_cert-renew")
    since = len(recorder.of("response_url"))
    slack.click("offer_cert-renew", renew["value"], user=OPS)
    wait_reply(recorder, since, "triggered the renewal of `certificate shop/broken-tls`")
    put(
        emulator,
        REQUESTS,
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "CertificateRequest",
            "metadata": {
                "name": "broken-tls-4",
                "namespace": NS,
                "annotations": {"cert-manager.io/certificate-name": "broken-tls", "cert-manager.io/certificate-revision": "4"},
            },
            "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Failed",
                                       "message": "ACME order failed: DNS challenge timed out"}]},
        },
    )  # fmt: skip
    wait_for(
        lambda: any("failed: the CertificateRequest says Failed: ACME order failed" in t
                    for t in thread_posts(recorder, "broken-tls")),
        timeout=20,
        what="the failed request named",
    )  # fmt: skip

    # While cert-manager is still issuing, a second renewal is not offered.
    again = reply_text(ask(slack, recorder, "/cert", "renew shop/broken-tls", "Renew: shop/broken-tls"))
    assert "No renewal offered: cert-manager is issuing it already" in again


def test_bad_cert_input_and_a_missing_certificate(slack: SignedSlack, recorder: SlackRecorder) -> None:
    assert "<namespace>/<name>" in ack_text(slack.command("renew api-tls", command="/cert"))
    assert "not a valid namespace" in ack_text(slack.command("renew Shop/x", command="/cert"))
    missing = ask(slack, recorder, "/cert", "renew shop/nope", "No certificate")
    assert "`shop/nope`" in missing["text"] and "/cert list" in missing["text"]


def test_the_digest_renew_button_leads_to_the_offer(
    slack: SignedSlack, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path]
) -> None:
    emulator, _ = kube
    cert = objects(emulator, CERTS)["web-tls"]
    cert["status"]["notAfter"] = iso(datetime.now(UTC) + timedelta(days=4))
    put(emulator, CERTS, cert)
    digest = ask(slack, recorder, "/health", "", "Morning health digest", user=BOB)
    renew = [
        e for b in digest["blocks"] if b["type"] == "actions" for e in b["elements"] if e["value"].endswith("web-tls")
    ]
    assert renew and renew[0]["action_id"].startswith("cert_renew")
    since = len(recorder.of("response_url"))
    slack.click(renew[0]["action_id"], renew[0]["value"], user=BOB)
    offer = wait_reply(recorder, since, "Renew: shop/web-tls")
    assert offer["response_type"] == "ephemeral" and buttons_of(offer, "offer_cert-renew")


# The weekly report ------------------------------------------------------------------------------------------------
def test_weekly_report_cost_access_and_reliability_with_cost_explorer_asked_once_a_day(
    slack: SignedSlack, recorder: SlackRecorder, state: redis.Redis
) -> None:
    opened = ack_text(slack.command("open P2 Checkout latency", user=BOB))
    number = int(opened.split("*INC-")[1].split("*", maxsplit=1)[0])
    wait_for(lambda: state.hget(keys.escalation(number), "sent:1"), what="the primary paged")
    # Someone who was not an operator when they acted (the stream keeps what the bot saw then).
    state.xadd(keys.AUDIT, {"kind": "rollback", "actor": "U0EVE", "target": "shop/api", "result": "done",
                            "operator": "no"})  # fmt: skip

    report = reply_text(ask(slack, recorder, "/report", "weekly", "Weekly report", user=BOB))
    assert "Last 7 days *$1,085.00*, the 7 before $910.00: +$175.00 (+19 %)" in report
    assert "Top services: Amazon EC2 $770.00, Amazon RDS $280.00, Amazon S3 $35.00" in report
    assert "🚨 *Anomaly*: Amazon RDS: +$140.00 (+100 %)" in report
    assert "Down: Amazon S3: −$35.00 (-50 %)" in report
    assert "🚩 *Not an operator*: <@U0EVE> rollback shop/api" in report
    assert "cert-renew" in report and "<@U0MALLORY> ×1" in report
    assert "Operators who acted: <@U0OPS>" in report
    assert "*P2*: 1" in report and "Pages sent: 1" in report
    cached = state.get(keys.report_cost(date.today().isoformat()))
    assert cached and "Amazon RDS" in cached

    # Asked again the same day: the cached answer is used, not a second (billed) request.
    doctored = json.loads(cached)
    doctored["Amazon S3"] = dict.fromkeys(doctored["Amazon S3"], 1000.0)
    state.set(keys.report_cost(date.today().isoformat()), json.dumps(doctored))
    second = reply_text(ask(slack, recorder, "/report", "weekly", "Weekly report", user=BOB))
    assert "Amazon S3 $7,000.00" in second


def test_concurrent_weekly_reports_on_two_replicas_make_one_cost_explorer_call(
    tmp_path: Path, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path], moto: Moto
) -> None:
    """Cost Explorer bills each request: five ``/report weekly`` at once, on two replicas, while the first call is
    still being answered (a slow Cost Explorer), are one ``GetCostAndUsage`` of the day, and all five reports have
    its cost."""
    redis_server = RedisServer().start()
    a = start_bot(tmp_path, recorder, redis_server, kube[1], moto.env(), "a")
    b = start_bot(tmp_path, recorder, redis_server, kube[1], moto.env(), "b")
    slacks = [SignedSlack(bot.base_url, recorder.response_url) for bot in (a, b)]

    def cost_calls() -> int:
        return sum(1 for r, _ in moto.front.requests if "GetCostAndUsage" in r.headers.get("X-Amz-Target", ""))

    try:
        before, since = cost_calls(), len(recorder.of("response_url"))
        moto.front.fail(Fault(status=0, delay=2.0))  # the first call is answered after 2 s
        for i in range(5):
            ack_text(slacks[i % 2].command("weekly", command="/report", user=BOB))

        def weeklies() -> list[dict[str, Any]] | None:
            found = [r for r in replies(recorder, since) if "Weekly report" in reply_text(r)]
            return found if len(found) == 5 else None

        reports = wait_for(weeklies, timeout=30, what="five weekly reports")
        assert all("Last 7 days *$1,085.00*" in reply_text(r) for r in reports)
        assert cost_calls() - before == 1
    finally:
        moto.front.faults.clear()
        for slack in slacks:
            slack.close()
        a.terminate()
        b.terminate()
        redis_server.cleanup()


def test_access_denied_names_the_permission_and_the_rest_is_posted(
    tmp_path: Path, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path], moto: Moto
) -> None:
    redis_server = RedisServer().start()
    proc = start_bot(tmp_path, recorder, redis_server, kube[1], moto.env(), "denied")
    slack = SignedSlack(proc.base_url, recorder.response_url)
    try:
        with moto.denied() as denying:
            report = reply_text(ask(slack, recorder, "/report", "weekly", "Weekly report"))
        assert "may not call ce:GetCostAndUsage" in report and "deploy/iam-policy.json" in report
        assert "Access audit" in report and "Reliability" in report and "No incidents this week" in report
        assert denying.calls >= 1
    finally:
        slack.close()
        proc.terminate()
        redis_server.cleanup()


def test_scheduled_audit_and_weekly_report_post_once_per_tick_with_two_replicas(
    tmp_path: Path, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path], moto: Moto
) -> None:
    redis_server = RedisServer().start()
    config = config_file(tmp_path, security_cron="* * * * *", weekly_cron="* * * * *")
    clock = MovableClock()
    a = start_bot(tmp_path, recorder, redis_server, kube[1], moto.env(), "a", config, clock)
    b = start_bot(tmp_path, recorder, redis_server, kube[1], moto.env(), "b", config, clock)
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:

        def posts(title: str) -> list[str]:
            return [
                text_of_blocks(c.params.get("blocks") or [])
                for c in recorder.of("chat.postMessage")
                if c.params.get("channel") == "C0HEALTH" and title in str(c.params.get("text"))
            ]

        audits, weeklies = len(posts("Security audit")), len(posts("Weekly report"))
        past_next_minute(clock, a, b)
        wait_for(lambda: len(posts("Security audit")) > audits and len(posts("Weekly report")) > weeklies,
                 timeout=30, what="the scheduled audit and weekly report")  # fmt: skip
        a.advance(timedelta(seconds=10))  # the replica that lost a claim looks again
        b.wake()
        ticks = wait_for(
            lambda: (s := client.keys("security:tick:*")) and (w := client.keys("report:tick:*")) and (s, w),
            what="both claims",
        )
        logs = [tmp_path / "a.log", tmp_path / "b.log"]

        def skipped(job: str) -> bool:
            lines = [line for p in logs for line in p.read_text().splitlines()]
            return any(f"{job} for " in line and "claimed by another replica" in line for line in lines)

        # The other replica's jobs for this tick have fired and found the claims taken.
        wait_for(lambda: skipped("security-audit") and skipped("weekly-report"), what="the other replica's turn")
        assert len(posts("Security audit")) - audits == len(ticks[0]) == 1
        assert len(posts("Weekly report")) - weeklies == len(ticks[1]) == 1
    finally:
        client.close()
        a.terminate()
        b.terminate()
        redis_server.cleanup()
