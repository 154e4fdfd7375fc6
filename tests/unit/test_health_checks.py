from __future__ import annotations

import json
from datetime import UTC, datetime

from bot import digest as render
from bot.digest import Digest
from runbooks import health
from runbooks.digest import ClusterHealth
from tests.support.cluster_seed import container, pod, seed

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def sections() -> dict[str, health.Section]:
    objects, _, _ = seed(NOW)
    pods = objects["v1/pods"]
    return {
        "nodes": health.check_nodes(objects["v1/nodes"]),
        "pods": health.check_pods(pods),
        "restarts": health.check_restarts(pods, NOW),
        "pvcs": health.check_pvcs(objects["v1/persistentvolumeclaims"]),
        "certificates": health.check_certificates(objects["cert-manager.io/v1/certificates"], NOW),
        "hpas": health.check_hpas(objects["autoscaling/v2/horizontalpodautoscalers"]),
        "events": health.check_events(objects["v1/events"], NOW),
    }


def test_every_problem_named_and_no_healthy_twin_flagged() -> None:
    _, expected, healthy = seed(NOW)
    for key, section in sections().items():
        refs = {f.ref for f in section.findings}
        assert refs == expected[key], (key, refs)
        assert not any(h in ref for ref in refs for h in healthy), (key, refs)


def test_reasons_carry_the_detail() -> None:
    s = sections()
    crashy = next(f for f in s["pods"].findings if f.name == "crashy-7d9f")
    assert "CrashLoopBackOff" in crashy.why and "14 restarts" in crashy.why and "OOMKilled (code 137)" in crashy.why
    assert s["pods"].findings[0].rank == 3  # most severe first
    assert "Unschedulable" in next(f.why for f in s["pods"].findings if f.name == "unschedulable-1")
    assert "expires in 5 days" in next(f.why for f in s["certificates"].findings if f.name == "cert-expiring")
    assert "ScalingActive=False (FailedGetResourceMetric)" in next(
        f.why for f in s["hpas"].findings if f.name == "hpa-stuck"
    )
    backoff = next(f for f in s["events"].findings if "crashy" in f.name)
    assert backoff.why.startswith("BackOff ×10")


def test_message_stays_within_slack_limits_with_5000_problem_pods() -> None:
    pods = [
        pod(f"crash-{i}", f"ns-{i % 40}", containers=[container("app", waiting="CrashLoopBackOff", restarts=i)])
        for i in range(5000)
    ]
    section = health.check_pods(pods)
    assert len(section.findings) == 5000
    cluster = ClusterHealth(
        name="prod", reachable=True, version="v1.30.4", sections=[section, health.check_restarts(pods, NOW)]
    )
    digest = Digest(at=NOW, clusters=[cluster] * 7, incidents=[])
    blocks = [b.to_dict() for b in render.blocks(digest)]  # to_dict() enforces Slack's own limits
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "and 4988 more" in json.dumps(blocks)
    single = [b.to_dict() for b in render.blocks(Digest(at=NOW, clusters=[cluster], incidents=[]))]
    assert "and 4988 more" in json.dumps(single) and len(single) <= 50
    assert "5000 problem(s)" in render.text(Digest(at=NOW, clusters=[cluster], incidents=[]))


def test_all_clear_when_healthy() -> None:
    cluster = ClusterHealth(
        name="prod", reachable=True, version="v1.30.4", sections=[health.check_pods([pod("ok", "a")])]
    )
    digest = Digest(at=NOW, clusters=[cluster], incidents=[])
    assert render.verdict(digest).startswith("🟢 All clear")
    assert "✅ all clear" in render.text(digest)
