"""The health digest against kmock's Kubernetes emulator: planted problems named, healthy twins not,
degraded sections explained, /health over Slack, and one scheduled post per tick with two replicas."""

from __future__ import annotations

import asyncio
import json
import subprocess
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.core.clock import MovableClock
from tests.support.bot_process import SignedSlack, run_cli
from tests.support.cluster_seed import seed
from tests.support.harness import Bot, past_next_minute
from tests.support.kube import KubeEmulator
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder, text_of_blocks


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]]:
    emulator = KubeEmulator().start()
    objects, expected, healthy = seed(datetime.now(UTC))
    emulator.seed(objects)
    yield emulator, emulator.kubeconfig(tmp_path / "kubeconfig"), expected, healthy
    emulator.stop()


def digest_config(path: Path, cron: str = "0 8 * * 1-5", timeout: str = "20s") -> Path:
    path.write_text(
        textwrap.dedent(
            f"""
            channels: {{incidents: C0INCIDENTS, digest: C0HEALTH}}
            digest: {{cron: "{cron}", timezone: Europe/Berlin, check_timeout: {timeout}}}
            kubernetes: {{clusters: [{{name: emu, context: emu}}]}}
            """
        )
    )
    return path


def run_print(config: Path, kubeconfig: Path, redis_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"CHATOPS_CONFIG": str(config), "KUBECONFIG": str(kubeconfig)} | (
        {"REDIS_URL": redis_url} if redis_url else {}
    )
    return run_cli("digest", "--print", env=env, timeout=120)


def test_digest_print_names_every_problem_and_no_healthy_twin(
    tmp_path: Path, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    _, kubeconfig, expected, healthy = kube
    result = run_print(digest_config(tmp_path / "c.yaml"), kubeconfig)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for refs in expected.values():
        for ref in refs:
            assert ref in out, ref
    for name in healthy:
        assert name not in out, name
    assert "Kubernetes v1.30.4" in out and "OOMKilled (code 137)" in out and "BackOff ×10" in out
    assert "problem(s) need attention" in out
    assert "state store is not configured" in out


def test_forbidden_and_slow_apis_degrade_only_their_section(
    tmp_path: Path, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    emulator, kubeconfig, expected, _ = kube
    emulator.react("v1/persistentvolumeclaims", 403)

    async def slow() -> dict[str, object]:
        await asyncio.sleep(3)  # past the check's 2 s
        return {"items": []}

    emulator.react("autoscaling/v2/horizontalpodautoscalers", slow)
    result = run_print(digest_config(tmp_path / "c.yaml", timeout="2s"), kubeconfig)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "forbidden: the bot's identity may not list persistentvolumeclaims" in out
    assert "timed out reading horizontalpodautoscalers" in out
    assert "db/data-pending" not in out
    for ref in expected["pods"] | expected["nodes"] | expected["certificates"]:
        assert ref in out  # the rest still posts


def test_absent_cert_manager_is_skipped_with_a_note(
    tmp_path: Path, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    emulator, kubeconfig, _, _ = kube
    emulator.react("cert-manager.io/v1/certificates", 404)
    out = run_print(digest_config(tmp_path / "c.yaml"), kubeconfig).stdout
    assert "skipped: cert-manager is not installed" in out and "ingress/cert-notready" not in out


def _bot(
    tmp: Path,
    recorder: SlackRecorder,
    redis: RedisServer,
    config: Path,
    kubeconfig: Path,
    name: str,
    clock: MovableClock | None = None,
) -> Bot:
    return Bot(
        redis_url=redis.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=tmp / f"{name}.log",
        extra_env={"KUBECONFIG": str(kubeconfig)},
        clock=clock,
    ).start()


def test_health_command_over_slack(
    tmp_path: Path,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]],
) -> None:
    _, kubeconfig, expected, healthy = kube
    bot = _bot(tmp_path, recorder, redis_server, digest_config(tmp_path / "c.yaml"), kubeconfig, "health")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        before = len(recorder.of("response_url"))
        resp = slack.command("", command="/health")
        assert resp.status_code == 200 and "Checking 1 cluster" in resp.text
        wait_for(lambda: len(recorder.of("response_url")) > before, timeout=30, what="digest reply")
        reply = recorder.of("response_url")[-1].params
        blocks = reply["blocks"]
        assert len(blocks) <= 50
        text = text_of_blocks(blocks)
        for ref in expected["pods"] | expected["hpas"]:
            assert ref in text
        assert not any(name in text for name in healthy)
        assert "Open incidents" in text
    finally:
        slack.close()
        bot.terminate()


def test_scheduled_digest_posts_once_per_tick_with_two_replicas(
    tmp_path: Path, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    redis = RedisServer().start()
    config = digest_config(tmp_path / "c.yaml", cron="* * * * *")
    clock = MovableClock()
    a = _bot(tmp_path, recorder, redis, config, kube[1], "a", clock)
    b = _bot(tmp_path, recorder, redis, config, kube[1], "b", clock)
    try:

        def posts() -> list[object]:
            return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0HEALTH"]

        def skipped() -> bool:  # the other replica's job for this tick found the tick taken
            lines = (tmp_path / "a.log").read_text().splitlines() + (tmp_path / "b.log").read_text().splitlines()
            return any("health-digest for " in line and "claimed by another replica" in line for line in lines)

        before = len(posts())
        past_next_minute(clock, a, b)
        wait_for(lambda: len(posts()) > before, timeout=30, what="a scheduled digest")
        a.advance(timedelta(seconds=10))  # the replica that lost the claim looks again
        b.wake()
        wait_for(skipped, what="the other replica's turn")
        assert len(posts()) - before == 1
        post = posts()[-1]
        assert "problem(s) need attention" in str(post.params.get("text"))  # type: ignore[attr-defined]
        assert len(json.loads(json.dumps(post.params["blocks"]))) <= 50  # type: ignore[attr-defined]
    finally:
        a.terminate()
        b.terminate()
        redis.cleanup()


def test_two_clusters_checked_concurrently_one_unreachable(
    tmp_path: Path, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    import yaml

    from tests.support.net import free_port

    _, kubeconfig, expected, _ = kube
    doc = yaml.safe_load(kubeconfig.read_text())
    doc["clusters"].append({"name": "gone", "cluster": {"server": f"http://127.0.0.1:{free_port()}"}})
    doc["contexts"].append({"name": "gone", "context": {"cluster": "gone", "user": "bot"}})
    kubeconfig.write_text(yaml.safe_dump(doc))
    config = tmp_path / "c.yaml"
    config.write_text(
        "channels: {incidents: C0INCIDENTS}\n"
        "digest: {check_timeout: 5s}\n"
        "kubernetes: {clusters: [{name: prod, context: emu}, {name: staging, context: gone}]}\n"
    )
    out = run_print(config, kubeconfig).stdout
    assert "prod — Kubernetes v1.30.4" in out
    assert "staging: API server unreachable" in out
    for ref in expected["pods"]:
        assert ref in out


def test_key_metrics_from_prometheus(
    tmp_path: Path, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    from bot.core.settings.config import DEFAULT_PROMQL as DEFAULT_QUERIES
    from tests.support.prometheus import FakePrometheus

    prom = FakePrometheus(
        {
            DEFAULT_QUERIES["request_rate"]: 412.5,
            DEFAULT_QUERIES["error_rate"]: 0.023,
            DEFAULT_QUERIES["latency_p50"]: 0.041,
            DEFAULT_QUERIES["latency_p99"]: 0.85,
            DEFAULT_QUERIES["db_connections"]: 87,
            "sum(my_lag_metric)": 1200,
            DEFAULT_QUERIES["latency_p95"]: "error:parse error at char 3",
        }
    )
    try:
        config = digest_config(tmp_path / "c.yaml")
        config.write_text(
            config.read_text()
            + f"prometheus:\n  url: {prom.url}\n  queries: {{kafka_consumer_lag: 'sum(my_lag_metric)'}}\n"
        )
        out = run_print(config, kube[1]).stdout
        assert "Key metrics" in out
        assert "Request rate: 412.5 req/s" in out
        assert "Error rate: 2.30 % 🔴 above the 1 % target" in out
        assert "Latency p50: 41 ms" in out and "Latency p99: 850 ms" in out
        assert "Latency p95: ⚠️ query failed (parse error at char 3)" in out
        assert "DB connections: 87" in out and "Kafka consumer lag: 1,200 messages" in out
        assert "sum(my_lag_metric)" in prom.queries
        # Without the prometheus setting the section is omitted.
        assert "Key metrics" not in run_print(digest_config(tmp_path / "d.yaml"), kube[1]).stdout
    finally:
        prom.stop()
    # Prometheus down: the section says so, the rest of the digest still prints.
    down = digest_config(tmp_path / "e.yaml")
    down.write_text(down.read_text() + "prometheus: {url: 'http://127.0.0.1:9'}\n")
    out = run_print(down, kube[1]).stdout
    assert "Prometheus at http://127.0.0.1:9 is unreachable" in out and "payments/crashy-7d9f" in out


def pod_lists(emulator: KubeEmulator) -> int:
    return int(emulator.call(lambda: len([r for r in emulator.emulator if r.url.path.rstrip("/") == "/api/v1/pods"])))


def test_health_is_for_responders_and_one_build_serves_six_askers(
    tmp_path: Path,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]],
) -> None:
    emulator, kubeconfig, _, _ = kube
    config = digest_config(tmp_path / "c.yaml")
    config.write_text(config.read_text() + "permissions: {responders: [U0ALICE, U0BOB, U0C, U0D, U0E, U0F]}\n")
    bot = _bot(tmp_path, recorder, redis_server, config, kubeconfig, "six")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        refused = slack.command("", command="/health", user="U0MALLORY")
        assert "Only incident responders may run /health" in refused.text and pod_lists(emulator) == 0
        before = len(recorder.of("response_url"))
        askers = ["U0ALICE", "U0BOB", "U0C", "U0D", "U0E", "U0F"]
        with ThreadPoolExecutor(6) as pool:
            assert all(
                r.status_code == 200 for r in pool.map(lambda u: slack.command("", command="/health", user=u), askers)
            )
        wait_for(lambda: len(recorder.of("response_url")) - before >= 6, timeout=60, what="six digests")
        assert all(
            "problem(s) need attention" in str(c.params.get("text")) for c in recorder.of("response_url")[before:]
        )
        assert pod_lists(emulator) == 1  # one build for six askers
        slack.command("", command="/health", user="U0ALICE")  # within the minute: the same digest, no new read
        wait_for(lambda: len(recorder.of("response_url")) - before >= 7, timeout=30, what="a seventh digest")
        assert pod_lists(emulator) == 1
    finally:
        slack.close()
        bot.terminate()


def exec_kubeconfig(kubeconfig: Path, runs: Path) -> Path:
    """The emulator's kubeconfig with an exec credential plugin that takes 3 s, like ``aws eks get-token``."""
    import yaml

    plugin = kubeconfig.with_name("get-token.sh")
    plugin.write_text(
        "#!/bin/sh\n"
        f"echo run >> {runs}\n"
        "sleep 3\n"
        'echo \'{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", '
        '"status": {"token": "from-the-plugin"}}\'\n'
    )
    plugin.chmod(0o755)
    doc = yaml.safe_load(kubeconfig.read_text())
    doc["users"] = [
        {
            "name": "bot",
            "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}},
        }
    ]
    path = kubeconfig.with_name("exec-kubeconfig")
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_slow_credential_plugin_never_blocks_other_requests(
    tmp_path: Path,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]],
) -> None:
    runs = tmp_path / "plugin-runs"
    kubeconfig = exec_kubeconfig(kube[1], runs)
    bot = _bot(tmp_path, recorder, redis_server, digest_config(tmp_path / "c.yaml"), kubeconfig, "exec")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    fast = SignedSlack(bot.base_url, recorder.response_url)
    fast.http.timeout = httpx.Timeout(2.0)  # Slack gives up after 3 s and retries
    try:
        before = len(recorder.of("response_url"))
        assert slack.command("", command="/health").status_code == 200
        wait_for(runs.exists, timeout=10, what="the plugin started")
        assert "Opened *INC-" in fast.command("open P3 While the plugin runs").text  # answered meanwhile
        wait_for(lambda: len(recorder.of("response_url")) > before, timeout=30, what="the digest")
        # The client is kept: the next use of the cluster does not run the plugin again.
        scale = slack.command("scale api-gateway 2 production", command="/runbook")
        assert scale.status_code == 200
        wait_for(lambda: len(recorder.of("response_url")) > before + 1, timeout=30, what="the runbook's answer")
        assert runs.read_text().count("run") == 1
    finally:
        fast.close()
        slack.close()
        bot.terminate()


@pytest.mark.parametrize("version", [None, b"<html>not the version</html>"], ids=["404", "garbage"])
def test_a_version_the_client_cannot_read_is_shown_unknown(tmp_path: Path, version: bytes | None) -> None:
    """Reachability is "the lists answered": a /version that is missing or not the version document is no outage."""
    emulator = KubeEmulator().start()
    try:
        objects, expected, _ = seed(datetime.now(UTC))
        emulator.seed(objects, version=version)
        out = run_print(digest_config(tmp_path / "c.yaml"), emulator.kubeconfig(tmp_path / "kubeconfig")).stdout
    finally:
        emulator.stop()
    assert "Kubernetes version unknown" in out and "unreachable" not in out
    for ref in expected["pods"]:
        assert ref in out


def test_a_kubeconfig_that_cannot_be_read_is_named_in_the_digest(tmp_path: Path) -> None:
    """Not one cluster down but the way to all of them: one line named "kubernetes", and the rest of the digest."""
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nclusters: [\n")
    done = run_print(digest_config(tmp_path / "c.yaml"), broken)
    assert done.returncode == 0, done.stderr
    assert "🔴 kubernetes: The kubeconfig (KUBECONFIG) cannot be used for cluster emu" in done.stdout
    assert str(broken) not in done.stdout and "Error" not in done.stdout  # no path, no parser's exception name


def test_credentials_never_reach_the_digest_and_prometheus_auth_comes_from_the_environment(
    tmp_path: Path, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    from tests.support.prometheus import FakePrometheus

    refused = digest_config(tmp_path / "r.yaml")
    refused.write_text(refused.read_text() + "prometheus: {url: 'http://scraper:hunter2@127.0.0.1:9'}\n")
    result = run_print(refused, kube[1])
    assert result.returncode == 2 and "set PROMETHEUS_AUTH instead" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout

    prom = FakePrometheus({})
    try:
        config = digest_config(tmp_path / "c.yaml")
        config.write_text(config.read_text() + f"prometheus: {{url: '{prom.url}'}}\n")
        env = {"CHATOPS_CONFIG": str(config), "KUBECONFIG": str(kube[1]), "PROMETHEUS_AUTH": "Basic scraper:hunter2"}
        assert run_cli("digest", "--print", env=env, timeout=120).returncode == 0
        assert set(prom.authorizations) == {"Basic c2NyYXBlcjpodW50ZXIy"}  # base64("scraper:hunter2")
    finally:
        prom.stop()


def test_a_large_digest_is_a_post_and_thread_replies_slack_takes(
    tmp_path: Path, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    """Five clusters with hundreds of crash-looping pods: about 30,000 characters of digest. Slack refuses a message
    past about 12,000 (the stand-in too, failing the test), so the post is the start and its thread the rest."""
    from tests.support.cluster_seed import container, pod

    emulator, kubeconfig, _, _ = kube
    objects, _, _ = seed(datetime.now(UTC))
    crashing = container("app", waiting="CrashLoopBackOff", restarts=40)
    objects["v1/pods"] += [pod(f"worker-{i:03d}-7d9f", f"team-{i % 30}", containers=[crashing]) for i in range(400)]
    emulator.seed(objects)
    clusters = ", ".join(f"{{name: prod-{i}, context: emu}}" for i in range(5))
    config = digest_config(tmp_path / "c.yaml", cron="* * * * *")
    config.write_text(config.read_text().replace("clusters: [{name: emu, context: emu}]", f"clusters: [{clusters}]"))
    redis = RedisServer().start()
    clock = MovableClock()
    bot = _bot(tmp_path, recorder, redis, config, kubeconfig, "large", clock)
    try:

        def posts() -> list[object]:
            return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0HEALTH"]

        before = len(posts())
        past_next_minute(clock, bot)
        wait_for(lambda: len(posts()) - before >= 2, timeout=60, what="the digest and a thread reply")
        bot.settled()
        parent, *replies = posts()[before:]
        assert not parent.params.get("thread_ts") and parent.reply_ts  # type: ignore[attr-defined]
        assert replies and all(r.params["thread_ts"] == parent.reply_ts for r in replies)  # type: ignore[attr-defined]
        shown = "".join(text_of_blocks(json.loads(json.dumps(c.params["blocks"]))) for c in posts()[before:])  # type: ignore[attr-defined]
        assert all(f"prod-{i}" in shown for i in range(5)), "every cluster is in the post or its thread"
        assert not [c for c in posts()[before:] if c.error]  # type: ignore[attr-defined]
    finally:
        bot.terminate()
        redis.cleanup()


def test_key_metrics_of_every_result_type(
    tmp_path: Path, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    """A scalar, a string, a vector of several series (each shown by the labels that tell it apart, the largest
    first, bounded), and a range vector (said, not crashed on)."""
    from tests.support.prometheus import FakePrometheus

    def sample(value: float, **labels: str) -> dict[str, object]:
        return {"metric": labels, "value": [1700000000.0, str(value)]}

    at = 1700000000.0
    prom = FakePrometheus(
        {
            "scalar(sum(rate(http_requests_total[5m])))": {"resultType": "scalar", "result": [at, "412.5"]},
            "0.5": {"resultType": "scalar", "result": [at, "0.5"]},
            "p95_by_service": {
                "resultType": "vector",
                "result": [sample(i / 10, __name__="x", job="api", service=f"svc-{i}") for i in range(7)],
            },
            "p99_by_instance": {
                "resultType": "vector",
                "result": [sample(0.1, job="api", instance="a:9090"), sample(0.2, job="api", instance="b:9090")],
            },
            '"87"': {"resultType": "string", "result": [at, "87"]},
            "kafka_consumergroup_lag[5m]": {
                "resultType": "matrix",
                "result": [{"metric": {"group": "g"}, "values": [[at, "1"], [at + 15, "2"]]}],
            },
        }
    )
    try:
        config = digest_config(tmp_path / "c.yaml")
        config.write_text(
            config.read_text()
            + f"prometheus:\n  url: {prom.url}\n  queries:\n"
            + "    request_rate: 'scalar(sum(rate(http_requests_total[5m])))'\n"
            + "    error_rate: '0.5'\n"
            + "    latency_p95: p95_by_service\n"
            + "    latency_p99: p99_by_instance\n"
            + "    db_connections: '\"87\"'\n"
            + "    kafka_consumer_lag: 'kafka_consumergroup_lag[5m]'\n"
        )
        result = run_print(config, kube[1])
    finally:
        prom.stop()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "not subscriptable" not in out
    assert "Request rate: 412.5 req/s" in out
    assert "Error rate: 50.00 % 🔴 above the 1 % target" in out
    assert "Latency p95, 7 series:" in out
    shown = [line.strip() for line in out.splitlines() if 'service="svc-' in line]
    assert shown == [f'◦ {{service="svc-{i}"}}: {i * 100} ms' for i in (6, 5, 4, 3, 2)]  # the largest five
    assert "…and 2 more series" in out and "job=" not in out and "__name__" not in out
    assert '◦ {instance="b:9090"}: 200 ms' in out and '◦ {instance="a:9090"}: 100 ms' in out
    assert "DB connections: 87" in out
    assert "Kafka consumer lag: ⚠️ query failed (a range vector (matrix) answered" in out
    assert "Latency p50: no data" in out


def test_alertmanager_behind_auth_in_health_and_digest_print(
    tmp_path: Path,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]],
) -> None:
    """ALERTMANAGER_AUTH (as PROMETHEUS_AUTH: Basic or Bearer) on every read of Alertmanager: /health, /alerts and
    ``digest --print``, which shows "Alerts firing" as /health does. Credentials in the URL stay refused."""
    import base64

    from tests.support.statuspage import (
        ALERTMANAGER_PASSWORD,
        ALERTMANAGER_TOKEN,
        ALERTMANAGER_USER,
        AlertmanagerStandIn,
    )

    refused = digest_config(tmp_path / "r.yaml")
    refused.write_text(refused.read_text() + f"alerts: {{alertmanager_url: 'http://u:{ALERTMANAGER_PASSWORD}@h:9'}}\n")
    result = run_print(refused, kube[1])
    assert result.returncode == 2 and "set ALERTMANAGER_AUTH instead" in result.stderr
    assert ALERTMANAGER_PASSWORD not in result.stderr + result.stdout

    am = AlertmanagerStandIn()
    am.alerts = [
        {"labels": {"alertname": "HighErrorRate", "severity": "critical", "namespace": "checkout"}},
        {"labels": {"alertname": "HighErrorRate", "severity": "critical", "namespace": "payments"}},
    ]
    config = digest_config(tmp_path / "c.yaml")
    config.write_text(config.read_text() + f"alerts: {{alertmanager_url: '{am.url}'}}\n")
    firing = "HighErrorRate* (critical): 2 firing — checkout, payments"
    try:
        am.authorization = f"Bearer {ALERTMANAGER_TOKEN}"
        env = {"CHATOPS_CONFIG": str(config), "KUBECONFIG": str(kube[1]), "ALERTMANAGER_AUTH": am.authorization}
        printed = run_cli("digest", "--print", env=env, timeout=120)
        assert printed.returncode == 0, printed.stderr
        assert "Alerts firing" in printed.stdout and firing.replace("*", "") in printed.stdout
        assert ALERTMANAGER_TOKEN not in printed.stdout + printed.stderr

        basic = f"{ALERTMANAGER_USER}:{ALERTMANAGER_PASSWORD}"
        am.authorization = "Basic " + base64.b64encode(basic.encode()).decode()
        bot = Bot(
            redis_url=redis_server.url,
            slack_api_url=recorder.api_url,
            config_path=config,
            log_path=tmp_path / "am-auth.log",
            extra_env={"KUBECONFIG": str(kube[1]), "ALERTMANAGER_AUTH": f"Basic {basic}"},
        ).start()
        slack = SignedSlack(bot.base_url, recorder.response_url)
        try:

            def answer(command: str, title: str) -> str:
                before = len(recorder.of("response_url"))
                assert slack.command("", command=command).status_code == 200
                reply = wait_for(lambda: next((c.params for c in recorder.of("response_url")[before:]
                                               if title in str(c.params.get("text"))), None), timeout=30, what=command)  # fmt: skip
                return text_of_blocks(reply["blocks"])

            assert firing in answer("/health", "problem(s) need attention")
            assert firing in answer("/alerts", "Alerts firing now")
        finally:
            slack.close()
            bot.terminate()
        assert set(am.authorizations) == {f"Bearer {ALERTMANAGER_TOKEN}", am.authorization}
        log = (tmp_path / "am-auth.log").read_text()
        assert ALERTMANAGER_PASSWORD not in log and am.authorization.partition(" ")[2] not in log
    finally:
        am.stop()
