from __future__ import annotations

from datetime import UTC, datetime

from runbooks.checklist import checks as health
from runbooks.checklist.model import Section
from tests.support.cluster_seed import seed

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def sections() -> dict[str, Section]:
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
