"""The drill's pure parts: the scratch copies' names, what verification counts as a problem, what the sweep deletes,
the report and its trend, and the ``dr`` settings (each bad value refused with its reason)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from bot.core.settings.dr import Dr
from bot.dr import model, render
from bot.dr.model import Drill, Restored
from runbooks.kube import drill as kd

NOW = datetime(2026, 12, 1, 10, 0, 5, tzinfo=UTC)
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
REPO = Path(__file__).resolve().parents[4]


def test_scratch_names_are_dns_labels_and_never_the_source() -> None:
    assert model.scratch_name("production", NOW) == "dr-drill-production-20261201-100005"
    long = model.scratch_name("n" * 63, NOW)
    assert len(long) <= 63 and DNS_LABEL.match(long) and long.endswith("-20261201-100005")
    assert DNS_LABEL.match(model.scratch_name("a-" + "b" * 40 + "-c", NOW))
    assert model.mapping(["production", "billing"], NOW) == {
        "production": "dr-drill-production-20261201-100005",
        "billing": "dr-drill-billing-20261201-100005",
    }
    for every in ([], ["*"], ["production", "*"]):
        with pytest.raises(ValueError, match="every namespace"):
            model.mapping(every, NOW)


def test_drill_instance_restore_and_drill_names() -> None:
    assert model.drill_instance("prod-db", NOW) == "prod-db-drill-20261201-100005"
    long = model.drill_instance("a" * 60 + "-x", NOW)
    assert len(long) <= 63 and "--" not in long and not long.endswith("-")
    assert model.restore_name("daily-backup", "dr-20261201-100005") == "daily-backup-dr-20261201-100005"
    retried = model.restore_name("daily-backup", "dr-20261201-100005", "0a1b2c3d")
    assert retried == "daily-backup-dr-20261201-100005-0a1b2c3d"  # each attempt of a tick's drill its own Restore
    assert len(model.restore_name("s" * 63, "dr-20261201-100005-ab12", "0a1b2c3d")) <= 63
    berlin = NOW.astimezone(ZoneInfo("Europe/Berlin"))
    assert model.drill_id(berlin) == "dr-20261201-100005"  # a tick in the digest's zone, named in UTC
    assert model.drill_id(NOW, "ab12") == "dr-20261201-100005-ab12"


def test_verification_names_each_problem() -> None:
    deployments: list[dict[str, Any]] = [
        {"metadata": {"name": "api"}, "spec": {"replicas": 2}, "status": {"availableReplicas": 2}},
        {"metadata": {"name": "worker"}, "spec": {"replicas": 3}, "status": {"availableReplicas": 1}},
        {"metadata": {"name": "new"}, "spec": {}, "status": {}},  # replicas default to 1
        {"metadata": {"name": "off"}, "spec": {"replicas": 0}, "status": {}},
    ]
    assert model.deployment_problems(deployments) == ["Deployment worker 1/3 available", "Deployment new 0/1 available"]
    claims = [{"metadata": {"name": "a"}, "status": {"phase": "Bound"}}, {"metadata": {"name": "b"}}]
    assert model.claim_problems(claims) == ["PVC b Pending"]
    assert model.items_problem(12, 12) is None and model.items_problem(13, 12) is None
    assert model.items_problem(9, 12) == "restored 9/12 items"
    assert model.items_problem(None, 12) == "restored 0/12 items"
    assert model.items_problem(12, None) == "the backup does not say how many items it holds"


def test_the_sweep_takes_what_no_running_attempt_owns_and_anything_too_old() -> None:
    max_age, young, old = timedelta(hours=6), NOW - timedelta(minutes=1), NOW - timedelta(hours=7)
    found = [
        model.Scratch("ended", "dr-1", "a1", young),
        model.Scratch("mine-young", "dr-2", "b2", young),
        model.Scratch("crashed-attempt", "dr-2", "c3", young),  # the same (scheduled) drill id, an earlier attempt
        model.Scratch("mine-stuck", "dr-2", "b2", old),
        model.Scratch("unknown-age", "dr-2", "b2", None),
        model.Scratch("busy", "dr-1", "a1", young, busy=True),  # a Restore still writes into it: not yet
        model.Scratch("busy-for-ever", "dr-1", "a1", old, busy=True),  # until max_age
    ]
    names = [s.name for s in model.leftovers(found, ("dr-2", "b2"), NOW, max_age)]
    assert names == ["ended", "crashed-attempt", "mine-stuck", "unknown-age", "busy-for-ever"]
    every = [s.name for s in model.leftovers(found, None, NOW, max_age)]
    assert every == ["ended", "mine-young", "crashed-attempt", "mine-stuck", "unknown-age", "busy-for-ever"]
    assert model.leftovers([], None, NOW, max_age) == []


def test_only_a_labelled_or_mapped_dr_drill_namespace_that_is_no_source_is_deleted() -> None:
    sources = {"production", "dr-drill-legacy"}
    assert kd.refusal("dr-drill-production-1", labelled=True, mapped=False, sources=sources) is None
    assert kd.refusal("dr-drill-production-1", labelled=False, mapped=True, sources=sources) is None
    assert "not named dr-drill-" in str(kd.refusal("production", labelled=True, mapped=True, sources=sources))
    assert "no drill label" in str(kd.refusal("dr-drill-x", labelled=False, mapped=False, sources=sources))
    assert "source namespace" in str(kd.refusal("dr-drill-legacy", labelled=True, mapped=False, sources=sources))
    assert kd.PREFIX == model.PREFIX


def _drill(*restores: Restored, note: str | None = None, started: datetime = NOW) -> Drill:
    return Drill(id="dr-x", by="U0OPS", started=started, rto_target=1800, restores=list(restores), note=note)


GOOD = Restored(
    kind="velero", name="daily-backup", source="daily-backup-1", namespaces=["production"],
    target=["dr-drill-production-1"], ok=True, items_restored=12, items_total=12, rto=240, rpo=3 * 3600,
    checks=["production/api-gateway /health: 200"], cleaned=True,
)  # fmt: skip
SLOW = Restored(kind="rds", name="prod-db", source="snap", target=["prod-db-drill-1"], ok=True, rto=2400, cleaned=True)
BAD = Restored(kind="rds", name="prod-db", reason="AWS refused it", cleanup="prod-db-drill-1: forbidden")


def test_the_report_says_what_was_restored_how_long_it_took_and_what_failed() -> None:
    assert render.verdict(_drill(GOOD)) == "DR drill dr-x: 1 restore(s) verified, slowest 4m (within 30m RTO)"
    assert render.verdict(_drill(GOOD, SLOW)).endswith("slowest 40m (over 30m RTO)")
    assert render.verdict(_drill(GOOD, BAD)) == (
        "DR drill dr-x: 1 of 2 restore(s) failed; 1 scratch copy left running (the sweep deletes them)"
    )
    assert render.verdict(_drill(note="nothing to restore")) == "DR drill dr-x did not run: nothing to restore"
    assert not _drill().ok and not _drill(GOOD, BAD).ok and _drill(GOOD, SLOW).ok
    assert not _drill(GOOD, SLOW).within_target
    text = "\n".join(render.report_lines(_drill(GOOD, BAD)))
    assert "production → dr-drill-production-1" in text and "restored 12/12 items" in text
    assert "RTO 4m (within 30m target)" in text and "RPO 3h (the data's age)" in text
    assert "failed: AWS refused it" in text and "not cleaned up yet: prod-db-drill-1: forbidden" in text
    assert "cleaned up: the scratch copy was deleted" in text


def test_a_note_or_a_copy_left_running_is_said_but_not_as_did_not_run() -> None:
    listing = _drill(GOOD, note="RDS: AWS refused listing the RDS instances")
    assert render.verdict(listing) == (
        "DR drill dr-x: 1 restore(s) verified, slowest 4m (within 30m RTO); RDS: AWS refused listing the RDS instances"
    )
    assert not listing.ok and render.title(listing) == "DR drill FAILED"
    left = _drill(GOOD, SLOW.model_copy(update={"cleaned": False, "cleanup": "forbidden"}))
    assert left.verified and not left.ok and render.title(left) == "DR drill passed, but cleanup failed"
    assert render.verdict(left).startswith("DR drill dr-x passed, but cleanup failed: 2 restore(s) verified")
    assert render.verdict(left).endswith("; 1 scratch copy left running (the sweep deletes them)")
    unchecked = _drill(GOOD).model_copy(
        update={"unchecked": ["billing/api /health: namespace billing is in no backup"]}
    )
    assert not unchecked.ok and "1 of dr.checks never probed (misconfigured)" in render.verdict(unchecked)
    assert "❌ check billing/api /health: namespace billing is in no backup (misconfigured)" in render.report_lines(
        unchecked
    )


def test_the_trend_and_the_weekly_section() -> None:
    newest_first = [_drill(GOOD, BAD), _drill(GOOD, started=NOW - timedelta(days=7))]
    assert render.trend_line(newest_first) == "RTO trend (last drills, oldest first): 4m ✅ → 4m ❌"
    assert render.trend_line([]) == "No drill has run yet."
    lines = render.weekly_lines(newest_first, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert lines[0].startswith("❌ DR drill dr-x: 1 of 2 restore(s) failed")
    assert "    prod-db: AWS refused it" in lines and lines[-1].startswith("RTO trend")
    quiet = render.weekly_lines(newest_first, NOW + timedelta(days=2), NOW + timedelta(days=9))
    assert quiet[0].startswith("⚠️ No drill ran this week")
    assert render.weekly_lines([], NOW, NOW)[0].startswith("No drill has run yet")


def test_dr_settings_refuse_what_cannot_work() -> None:
    dr = Dr.model_validate({"velero": {"schedules": ["daily-backup"]}, "checks": [{"service": "production/api"}]})
    assert dr.enabled and dr.cron == "0 10 * * 2" and dr.rto_target == timedelta(minutes=30)
    assert (
        dr.max_age == timedelta(hours=6) and dr.checks[0].path == "/health" and dr.checks[0].namespace == "production"
    )
    assert not Dr().enabled and Dr().velero.exclude == ["cronjobs", "jobs", "ingresses"]
    for bad, why in [
        ({"max_age": "10m", "timeout": "20m"}, "max_age must be longer than timeout"),
        ({"timeout": "10s"}, "at least 1m"),
        ({"checks": [{"service": "api"}]}, "is not namespace/name"),
        ({"checks": [{"service": "production/API_GW"}]}, "service"),
        ({"checks": [{"service": "a/b", "path": "/../secret"}]}, "is not a URL path"),
        ({"checks": [{"service": "a/b", "path": "/x?y=1"}]}, "is not a URL path"),
        ({"checks": [{"service": "a/b", "port": 70000}]}, "is not a port number"),
        ({"velero": {"schedules": ["Bad Name"]}}, "schedules"),
        ({"velero": {"exclude": ["Jobs!"]}}, "is not a resource name"),
        ({"cron": "every tuesday"}, "cron"),
        ({"unknown": 1}, "unknown"),
    ]:
        with pytest.raises(ValidationError, match=why):
            Dr.model_validate(bad)


def test_the_documented_dr_section_is_valid() -> None:
    text = (REPO / "docs" / "configuration.md").read_text()
    block = text[text.index("```yaml") + len("```yaml") : text.index("```", text.index("```yaml") + 7)]
    documented = yaml.safe_load(block)["dr"]
    dr = Dr.model_validate(documented)
    assert dr.enabled and dr.rds and dr.checks
