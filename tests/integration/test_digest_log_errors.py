"""The morning digest's "Errors in logs": counted from the listed pods' logs in kmock (bounded per container) or in a
Loki stand-in that evaluates the bot's LogQL over real streams; the default pattern; no log text in the shared
channel unless kubernetes.share_logs; Loki failing (5xx, 429 with Retry-After, slow, down) named in the section while
the rest of the digest is posted."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kmock
import pytest

from bot.core.clock import MovableClock
from tests.support.bot_process import run_cli
from tests.support.cluster_seed import pod, seed
from tests.support.harness import Bot, past_next_minute
from tests.support.kube import KubeEmulator
from tests.support.loki import FakeLoki, nanos
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder, text_of_blocks
from tests.support.standin import Fault

HASH = "5d8f7b9c4"
CHECKOUT = [f"checkout-{HASH}-x2x9z", f"checkout-{HASH}-k7p4q"]
CART = "cart-6c9d8b7f5-wq2hz"
QUIET = "quiet-7b6c5d4f8-m9n8b"
SECRET = "tok_live_hunter2"  # in a matching line: it must never reach the shared channel
CHECKOUT_LOG = (
    "2026-01-05T07:00:00Z INFO started\n"
    f"2026-01-05T07:01:00Z ERROR payment declined for order 1234 {SECRET}\n"
    "2026-01-05T07:02:00Z error: lowercase is not the default pattern\n"
    "2026-01-05T07:03:00Z panic: card vault sealed\n"
)
CART_LOG = "2026-01-05T07:00:00Z FATAL cannot reach redis\n"
QUIET_LOG = "2026-01-05T07:00:00Z INFO ok\n2026-01-05T07:00:01Z WARN slow upstream\n"


def owned(name: str, app: str, template_hash: str) -> dict[str, Any]:
    obj = pod(name, "shop")
    obj["metadata"]["labels"] = {"app": app, "pod-template-hash": template_hash}
    rs = f"{app}-{template_hash}"
    obj["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": f"uid-{rs}", "controller": True}
    ]
    return obj


def deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}", "resourceVersion": "1"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}}, "template": {}},
        "status": {},
    }


class Logs:
    """Pod logs served by kmock as the API server serves them: ``limitBytes`` honoured; each read's query kept."""

    def __init__(self, kube: KubeEmulator) -> None:
        self.kube = kube
        self.reads: list[dict[str, str]] = []
        self.texts: dict[str, str | int] = {}  # a pod's log, or the status its read is answered with

    def serve(self, name: str, text: str | int) -> None:
        def answer(request: Any) -> Any:  # bytes: a plain-text body (kmock answers a str as JSON)
            params = dict(request.params)
            self.reads.append({"pod": name, **params})
            found = self.texts[name]
            if isinstance(found, int):
                return kmock.Response.guess(found)
            limit = int(params.get("limitBytes") or 0)
            return found.encode()[:limit] if limit else found.encode()

        if name not in self.texts:
            self.kube.call(lambda: self.kube.emulator[kmock.name(name), kmock.subresource("log")] << answer)
        self.texts[name] = text


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[KubeEmulator, Path, Logs]]:
    emulator = KubeEmulator().start()
    objects, _, _ = seed(datetime.now(UTC))
    objects["v1/pods"] += [owned(n, "checkout", HASH) for n in CHECKOUT]
    objects["v1/pods"] += [owned(CART, "cart", "6c9d8b7f5"), owned(QUIET, "quiet", "7b6c5d4f8")]
    objects["apps/v1/deployments"] = [deployment("checkout"), deployment("cart"), deployment("quiet")]
    emulator.seed(objects)
    logs = Logs(emulator)
    for name in CHECKOUT:
        logs.serve(name, CHECKOUT_LOG)
    logs.serve(CART, CART_LOG)
    logs.serve(QUIET, QUIET_LOG)
    yield emulator, emulator.kubeconfig(tmp_path / "kubeconfig"), logs
    emulator.stop()


def config(
    path: Path,
    log_errors: str = "{namespaces: [shop]}",
    *,
    share: bool = False,
    extra: str = "",
    cron: str = "0 8 * * *",
) -> Path:
    path.write_text(
        textwrap.dedent(
            f"""
            channels: {{incidents: C0INCIDENTS, digest: C0HEALTH}}
            digest: {{cron: "{cron}", timezone: UTC, check_timeout: 2s, log_errors: {log_errors}}}
            kubernetes: {{clusters: [{{name: emu, context: emu}}], share_logs: {str(share).lower()}}}
            """
        )
        + extra
    )
    return path


def printed(cfg: Path, kubeconfig: Path, **env: str) -> str:
    result = run_cli("digest", "--print", env={"CHATOPS_CONFIG": str(cfg), "KUBECONFIG": str(kubeconfig), **env},
                     timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def plain(text: str) -> str:
    """Text without mrkdwn's bold and code marks (``digest --print`` drops them; Slack posts keep them)."""
    return text.replace("*", "").replace("`", "")


def section(out: str) -> str:
    """The "Errors in logs" part of a digest, plain."""
    start = out.index("Errors in logs")
    return plain(out[start : start + 2000])


# Pod logs ----------------------------------------------------------------------------------------------------------
def test_print_counts_error_lines_per_workload_with_the_default_pattern_and_no_log_text(
    tmp_path: Path, cluster: tuple[KubeEmulator, Path, Logs]
) -> None:
    _, kubeconfig, logs = cluster
    out = printed(config(tmp_path / "c.yaml"), kubeconfig)
    part = section(out)
    # ERROR and panic on each checkout pod (the lowercase "error:" is not the default pattern), FATAL on cart.
    assert "emu: 5 error lines in 2 workloads (4 pods' logs of the last 24 h read)" in part
    assert "shop/checkout: 4 lines in 2 pods" in part and "shop/cart: 1 lines in 1 pods" in part
    assert "shop/quiet" not in part
    assert "counts only: sample lines are left out unless kubernetes.share_logs" in part
    assert SECRET not in out and "card vault" not in out and "cannot reach redis" not in out
    assert "payments/crashy-7d9f" in out  # the rest of the digest
    assert {r["pod"] for r in logs.reads} == {*CHECKOUT, CART, QUIET}  # only the listed namespace's pods
    assert all(r["sinceSeconds"] == "86400" and r["limitBytes"] == "262144" for r in logs.reads)


def test_share_logs_shows_each_workloads_newest_matching_line(
    tmp_path: Path, cluster: tuple[KubeEmulator, Path, Logs]
) -> None:
    part = section(printed(config(tmp_path / "c.yaml", share=True), cluster[1]))
    assert "panic: card vault sealed" in part and "2026-01-05T07:00:00Z FATAL cannot reach redis" in part
    assert "counts only" not in part


def test_listed_workloads_read_only_their_pods_and_an_unknown_one_is_named(
    tmp_path: Path, cluster: tuple[KubeEmulator, Path, Logs]
) -> None:
    _, kubeconfig, logs = cluster
    cfg = config(tmp_path / "c.yaml", "{workloads: [shop/checkout, shop/ghost], pattern: 'ERROR|error:'}")
    part = section(printed(cfg, kubeconfig))
    assert "shop/checkout: 4 lines in 2 pods" in part  # ERROR and the lowercase error: line, on each pod
    assert "shop/cart" not in part and "no Deployment, StatefulSet or DaemonSet shop/ghost" in part
    assert {r["pod"] for r in logs.reads} == set(CHECKOUT)


def test_max_bytes_bounds_each_containers_read(tmp_path: Path, cluster: tuple[KubeEmulator, Path, Logs]) -> None:
    _, kubeconfig, logs = cluster
    filler = "".join(f"2026-01-05T07:00:{i % 60:02d}Z INFO request served in 12 ms by worker {i}\n" for i in range(60))
    logs.serve(QUIET, "2026-01-05T06:59:59Z ERROR early\n" + filler + "2026-01-05T07:10:00Z ERROR late\n")
    part = section(printed(config(tmp_path / "c.yaml", "{namespaces: [shop], max_bytes: 1024}"), kubeconfig))
    assert "shop/quiet: 1 lines in 1 pods (log cut at digest.log_errors.max_bytes)" in part  # "late" was not read
    assert {r["limitBytes"] for r in logs.reads} == {"1024"}


def test_a_forbidden_log_read_is_counted_not_fatal(tmp_path: Path, cluster: tuple[KubeEmulator, Path, Logs]) -> None:
    _, kubeconfig, logs = cluster
    logs.serve(CART, 403)
    part = section(printed(config(tmp_path / "c.yaml"), kubeconfig))
    assert "shop/checkout: 4 lines in 2 pods" in part and "_1 container logs could not be read_" in part


def test_the_scheduled_post_has_counts_and_no_log_text(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, cluster: tuple[KubeEmulator, Path, Logs]
) -> None:
    _, kubeconfig, _ = cluster
    posted = scheduled(tmp_path, recorder, redis_server, config(tmp_path / "c.yaml", cron="* * * * *"), kubeconfig)
    assert "emu: 5 error lines in 2 workloads" in posted and "shop/checkout: 4 lines in 2 pods" in posted
    assert SECRET not in posted and "card vault" not in posted and "cannot reach redis" not in posted


def scheduled(tmp: Path, recorder: SlackRecorder, redis: RedisServer, cfg: Path, kubeconfig: Path, **env: str) -> str:
    """The text of the next scheduled digest posted to C0HEALTH (the post and its thread)."""
    clock = MovableClock()
    bot = Bot(redis_url=redis.url, slack_api_url=recorder.api_url, config_path=cfg, log_path=tmp / "bot.log",
              extra_env={"KUBECONFIG": str(kubeconfig), **env}, clock=clock).start()  # fmt: skip
    try:

        def posts() -> list[Any]:
            return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0HEALTH"]

        before = len(posts())
        past_next_minute(clock, bot)
        wait_for(lambda: len(posts()) > before, timeout=60, what="the scheduled digest")
        bot.settled()
        calls = posts()[before:]
        assert not [c for c in calls if c.error]
        return plain("\n".join(f"{c.params.get('text')}\n{text_of_blocks(json.loads(json.dumps(c.params['blocks'])))}"
                              for c in calls))  # fmt: skip
    finally:
        bot.terminate()


# Loki --------------------------------------------------------------------------------------------------------------
@pytest.fixture
def loki() -> Iterator[FakeLoki]:
    stand_in = FakeLoki()
    now = datetime.now(UTC)
    for name in CHECKOUT:
        stand_in.push({"namespace": "shop", "pod": name, "app": "checkout"}, [
            (now - timedelta(hours=30), "ERROR from yesterday's yesterday"),  # outside the 24 h
            (now - timedelta(hours=2), f"ERROR payment declined {SECRET}"),
            (now - timedelta(hours=1), "panic: card vault sealed"),
            (now - timedelta(minutes=50), "error: lowercase, not the default pattern"),
        ])  # fmt: skip
    stand_in.push({"namespace": "shop", "pod": CART, "app": "cart"}, [(now - timedelta(hours=3), "FATAL no redis")])
    stand_in.push({"namespace": "other", "pod": "x-5d8f7b9c4-x2x9z"}, [(now - timedelta(hours=1), "ERROR elsewhere")])
    yield stand_in
    stand_in.stop()


def loki_config(path: Path, loki: FakeLoki, *, share: bool = False, cron: str = "0 8 * * *", more: str = "") -> Path:
    return config(path, share=share, cron=cron, extra=f"loki: {{url: '{loki.url}', org_id: acme{more}}}\n")


def test_loki_counts_the_last_24_h_per_workload_with_auth_and_tenant(
    tmp_path: Path, cluster: tuple[KubeEmulator, Path, Logs], loki: FakeLoki
) -> None:
    _, kubeconfig, logs = cluster
    before = nanos(datetime.now(UTC))
    out = printed(loki_config(tmp_path / "c.yaml", loki), kubeconfig, LOKI_AUTH="Bearer loki-token")
    part = section(out)
    assert "Loki: 5 error lines in 2 workloads (counted in Loki)" in part
    assert "shop/checkout: 4 lines in 2 series" in part and "shop/cart: 1 lines in 1 series" in part
    assert "other/" not in part and SECRET not in out and "card vault" not in out
    assert "payments/crashy-7d9f" in out and not logs.reads  # no pod log read when Loki counts
    (query,) = loki.queries  # counts only: no lines asked for without share_logs
    assert query.path == "/loki/api/v1/query"
    assert query.param("query") == (
        'sum by (namespace, pod) (count_over_time({namespace="shop"} |~ "ERROR|FATAL|panic" [24h]))'
    )
    assert before <= int(query.param("time")) <= nanos(datetime.now(UTC))
    assert query.headers["Authorization"] == "Bearer loki-token" and query.headers["X-Scope-OrgID"] == "acme"


def test_loki_samples_only_with_share_logs_and_by_another_label(
    tmp_path: Path, cluster: tuple[KubeEmulator, Path, Logs], loki: FakeLoki
) -> None:
    part = section(printed(loki_config(tmp_path / "c.yaml", loki, share=True, more=", label: app"), cluster[1]))
    assert "shop/checkout: 4 lines in 1 series" in part  # both pods' streams carry app=checkout
    assert "panic: card vault sealed" in part and "FATAL no redis" in part
    ranged = [q for q in loki.queries if q.path == "/loki/api/v1/query_range"]
    assert len(ranged) == 1 and ranged[0].param("direction") == "backward"


@pytest.mark.parametrize(
    ("faults", "said"),
    [
        ([Fault(503, body=b"no healthy upstream")] * 2, "Loki did not answer the query (HTTP 503: no healthy upstream)"),
        ([Fault(429, {"Retry-After": "30"}, body=b"too many outstanding requests")],
         "Loki is limiting the bot's queries (HTTP 429: too many outstanding requests)"),
        ([Fault(401, body=b"no org id")], "Loki refused the bot's credentials (HTTP 401: no org id; check LOKI_AUTH"),
        ([Fault(0, delay=3.5)], "Loki did not answer within 2 s"),
    ],
)  # fmt: skip
def test_loki_failing_is_named_and_the_rest_of_the_digest_prints(
    tmp_path: Path, cluster: tuple[KubeEmulator, Path, Logs], loki: FakeLoki, faults: list[Fault], said: str
) -> None:
    loki.fail(*faults)
    out = printed(loki_config(tmp_path / "c.yaml", loki), cluster[1])
    assert f"⚠️ {said}" in section(out) and "error lines not counted" in section(out)
    assert "payments/crashy-7d9f" in out and "node-notready" in out


def test_loki_answering_429_with_a_short_retry_after_or_one_5xx_is_asked_again(
    tmp_path: Path, cluster: tuple[KubeEmulator, Path, Logs], loki: FakeLoki
) -> None:
    loki.fail(Fault(429, {"Retry-After": "1"}, body=b"too many outstanding requests"))
    assert "Loki: 5 error lines" in section(printed(loki_config(tmp_path / "a.yaml", loki), cluster[1]))
    loki.fail(Fault(502))
    assert "Loki: 5 error lines" in section(printed(loki_config(tmp_path / "b.yaml", loki), cluster[1]))
    assert [status for _, status in loki.requests] == [429, 200, 502, 200]


def test_loki_down_the_scheduled_post_names_it_and_posts_the_rest(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, cluster: tuple[KubeEmulator, Path, Logs]
) -> None:
    cfg = config(tmp_path / "c.yaml", cron="* * * * *", extra="loki: {url: 'http://127.0.0.1:9'}\n")
    posted = scheduled(tmp_path, recorder, redis_server, cfg, cluster[1])
    assert "⚠️ Loki is unreachable (ClientConnectorError): error lines not counted" in posted
    assert "payments/crashy-7d9f" in posted and "127.0.0.1:9" not in posted
