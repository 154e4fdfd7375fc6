"""The health digest against kmock's Kubernetes emulator: planted problems named, healthy twins not,
degraded sections explained, /health over Slack, and one scheduled post per tick with two replicas."""

from __future__ import annotations

import asyncio
import json
import subprocess
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.bot_process import BotProcess, SignedSlack, run_cli
from tests.support.cluster_seed import seed
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
        await asyncio.sleep(6)
        return {"items": []}

    emulator.react("autoscaling/v2/horizontalpodautoscalers", slow)
    started = time.monotonic()
    result = run_print(digest_config(tmp_path / "c.yaml", timeout="2s"), kubeconfig)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "forbidden: the bot's identity may not list persistentvolumeclaims" in out
    assert "timed out reading horizontalpodautoscalers" in out
    assert "db/data-pending" not in out
    for ref in expected["pods"] | expected["nodes"] | expected["certificates"]:
        assert ref in out  # the rest still posts
    assert time.monotonic() - started < 30


def test_absent_cert_manager_is_skipped_with_a_note(
    tmp_path: Path, kube: tuple[KubeEmulator, Path, dict[str, set[str]], set[str]]
) -> None:
    emulator, kubeconfig, _, _ = kube
    emulator.react("cert-manager.io/v1/certificates", 404)
    out = run_print(digest_config(tmp_path / "c.yaml"), kubeconfig).stdout
    assert "skipped: cert-manager is not installed" in out and "ingress/cert-notready" not in out


def _bot(
    tmp: Path, recorder: SlackRecorder, redis: RedisServer, config: Path, kubeconfig: Path, name: str
) -> BotProcess:
    return BotProcess(
        redis_url=redis.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=tmp / f"{name}.log",
        extra_env={"KUBECONFIG": str(kubeconfig)},
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
    a = _bot(tmp_path, recorder, redis, config, kube[1], "a")
    b = _bot(tmp_path, recorder, redis, config, kube[1], "b")
    try:

        def posts() -> list[object]:
            return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0HEALTH"]

        before = len(posts())
        wait_for(lambda: len(posts()) > before, timeout=75, what="a scheduled digest")
        time.sleep(5)  # both replicas' jobs for this tick have run
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
