from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.digest import render, text
from bot.digest.model import Digest, DigestPart
from bot.shell import blockkit
from runbooks.checklist import checks as health
from runbooks.checklist.model import ClusterHealth
from tests.support.cluster_seed import container, pod

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


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
    for clusters in (1, 5, 7, 200):
        digest = Digest(at=NOW, clusters=[cluster] * clusters, incidents=[])
        parts = [[b.to_dict() for b in part] for part in render.messages(digest)]  # to_dict(): slack_sdk's limits
        for part in parts:
            blockkit.check_message("", part)  # what Slack refuses: 50 blocks, ~12,000 characters of block text
        assert "and 4988 more" in json.dumps(parts[0])
        assert len(parts) <= render.MESSAGES
    assert "the rest is cut" in json.dumps([b.to_dict() for b in render.messages(digest)[-1]])
    assert "5000 problem(s)" in text.text(Digest(at=NOW, clusters=[cluster], incidents=[]))


def test_all_clear_when_healthy() -> None:
    cluster = ClusterHealth(
        name="prod", reachable=True, version="v1.30.4", sections=[health.check_pods([pod("ok", "a")])]
    )
    digest = Digest(at=NOW, clusters=[cluster], incidents=[])
    assert render.verdict(digest).startswith("🟢 All clear")
    assert "✅ all clear" in text.text(digest)


def test_alerts_firing_and_renew_buttons() -> None:
    from runbooks.checklist.model import ClusterHealth, Finding, Section

    certs = Section(
        key="certificates",
        title="Certificates (cert-manager)",
        findings=[Finding(namespace="shop", name="api-tls", why="expires in 5 days", rank=2)],
    )
    cluster = ClusterHealth(name="prod", reachable=True, sections=[certs])
    firing = DigestPart(key="alerts", title="Alerts firing", lines=["• *HighErrorRate* (critical): 2 firing"])
    digest = Digest(at=NOW, clusters=[cluster], incidents=[], parts=[firing])
    blocks = [b.to_dict() for b in render.blocks(digest)]
    (button,) = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["value"] == "prod|shop/api-tls" and button["action_id"].startswith("cert_renew")
    assert "Alerts firing" in json.dumps(blocks) and "Alerts firing\n  • HighErrorRate" in text.text(digest)
    assert "Alerts firing" not in text.text(Digest(at=NOW, clusters=[cluster], incidents=[]))  # not connected
