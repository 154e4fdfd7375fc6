"""Disaster-recovery drills over the wire (the fixtures and helpers: tests.support.dr_kube): the bot over signed HTTP, Velero's objects in kmock behind a front that
serves Namespaces and the service proxy (the test plays Velero's controller: it restores into the scratch namespaces
the Restore maps to and moves the Restore's status), RDS in moto's server behind a front recording every call."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis

from bot.core import keys
from bot.core.clock import MovableClock
from bot.dr.store import Running
from runbooks import cron
from tests.support import dr_kube as dk
from tests.support.aws import Moto
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.dr_kube import ATTEMPT, DRILL_LABEL, NETWORK, DrillCluster, drill, names, namespace
from tests.support.dr_seed import ITEMS, LATEST, NS, SCHEDULE, SOURCE, schedule
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.replies import reply_text, wait_reply
from tests.support.slack_recorder import SlackRecorder, text_of_blocks

bot_fixture, cluster_fixture, fresh_fixture, kube_fixture, moto_fixture = (  # the fixtures of tests.support.dr_kube
    dk.bot_fixture, dk.cluster_fixture, dk.fresh_fixture, dk.kubeconfig_fixture, dk.moto_fixture,
)  # fmt: skip


# A drill ----------------------------------------------------------------------------------------------------------
def test_a_drill_restores_into_scratch_copies_verifies_them_reports_and_deletes_them(
    slack: SignedSlack, recorder: SlackRecorder, cluster: DrillCluster, moto: Moto, state: redis.Redis
) -> None:
    before, posted = names(cluster), len(dk.digest_posts(recorder))
    ack, since = drill(slack, recorder)
    assert "DR drill dr-" in ack and "started" in ack
    restore = cluster.new_restore(before)
    (scratch,) = cluster.scratch()
    assert scratch.startswith("dr-drill-production-")
    assert restore["spec"]["backupName"] == LATEST  # the latest Completed one, not the newer Failed one
    assert restore["spec"]["includedNamespaces"] == [SOURCE]
    assert restore["spec"]["namespaceMapping"] == {SOURCE: scratch}
    drill_id = restore["metadata"]["labels"][DRILL_LABEL]
    attempt = restore["metadata"]["labels"][ATTEMPT]
    assert restore["metadata"]["name"] == f"daily-backup-{drill_id}-{attempt}"  # one Restore per attempt
    assert cluster.namespaces[scratch]["metadata"]["labels"][DRILL_LABEL] == drill_id
    assert cluster.namespaces[scratch]["metadata"]["labels"][ATTEMPT] == attempt
    # nothing restored acts on production: no CronJobs, Jobs, Ingresses; egress denied (but DNS) before the Restore
    assert restore["spec"]["excludedResources"] == ["cronjobs", "jobs", "ingresses"]
    made = cluster.kmock_writes()
    isolated = made.index(f"POST /apis/networking.k8s.io/v1/namespaces/{scratch}/networkpolicies")
    assert isolated < made.index("POST /apis/velero.io/v1/namespaces/velero/restores")
    policy = cluster.object("networking.k8s.io/v1/networkpolicies", scratch, "dr-drill-deny-egress")
    assert policy["spec"]["podSelector"] == {} and policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["egress"] == [{"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]

    cluster.restore_into(restore)
    cluster.complete(restore, ITEMS, ITEMS)
    reply = wait_reply(recorder, since, f"DR drill {drill_id}: 2 restore(s) verified")
    text = reply_text(reply)
    assert reply["response_type"] == "in_channel"
    assert f"{SOURCE} → {scratch}" in text and f"restored {ITEMS}/{ITEMS} items" in text
    assert "RTO" in text and "within 30m target" in text and "RPO 3h" in text
    assert "check production/api-gateway /health: 200" in text
    assert text.count("cleaned up: the scratch copy was deleted") == 2
    assert (
        cluster.probes() and cluster.probes()[-1] == f"/api/v1/namespaces/{scratch}/services/api-gateway/proxy/health"
    )
    assert scratch not in cluster.namespaces and cluster.scratch() == []
    policies = f"POST /apis/networking.k8s.io/v1/namespaces/{scratch}/networkpolicies"
    assert set(cluster.writes(f"/namespaces/{scratch}")) == {policies, f"DELETE /api/v1/namespaces/{scratch}"}
    wait_for(lambda: len(dk.digest_posts(recorder)) > posted, what="the report in channels.digest")
    assert state.llen(keys.DR_REPORTS) == 1 and state.get(keys.DR_LOCK) is None

    # RDS: the newest snapshot, private (stated on the call), in the source's network; deleted without a snapshot
    (restored,) = [c for c in dk.rds_calls(moto, "RestoreDBInstanceFromDBSnapshot") if drill_id in str(c)]
    new_id = restored["DBInstanceIdentifier"][0]
    assert (
        new_id.startswith("prod-db-drill-") and f"RDS instance prod-db* from `prod-db-nightly` into `{new_id}`" in text
    )
    assert restored["DBSnapshotIdentifier"] == [NETWORK["snapshot"]] and restored["PubliclyAccessible"] == ["false"]
    assert restored["DBSubnetGroupName"] == [NETWORK["subnet_group"]]
    assert restored["VpcSecurityGroupIds.VpcSecurityGroupId.1"] == [NETWORK["security_group"]]
    (deleted,) = dk.deletes(moto, new_id)
    assert deleted["SkipFinalSnapshot"] == ["true"]
    dk.source_untouched(cluster, moto)


@pytest.mark.parametrize(
    ("play", "why"),
    [
        ("short", f"restored 9/{ITEMS} items"),
        ("partial", "ended PartiallyFailed (2 error(s), 0 warning(s)): restore of 2 PVCs failed"),
        ("pending", "not ready after 20m: dr-drill-production-"),
    ],
)
def test_a_restore_that_fails_verification_is_reported_failed_with_why_and_still_deleted(
    play: str, why: str, slack: SignedSlack, recorder: SlackRecorder, cluster: DrillCluster, moto: Moto, bot: Bot
) -> None:
    before = names(cluster)
    _, since = drill(slack, recorder)
    restore = cluster.new_restore(before)
    (scratch,) = cluster.scratch()
    cluster.restore_into(restore, claim="Pending" if play == "pending" else "Bound")
    if play == "short":
        cluster.complete(restore, 9, ITEMS)
    elif play == "partial":
        cluster.complete(restore, ITEMS, ITEMS, "PartiallyFailed", errors=2, failureReason="restore of 2 PVCs failed")
    else:
        cluster.complete(restore, ITEMS, ITEMS)
        bot.advance(timedelta(minutes=21))  # the PVC never binds: the drill's deadline passes on the bot's clock
    reply = wait_reply(recorder, since, "1 of 2 restore(s) failed", timeout=30)
    text = reply_text(reply)
    assert "DR drill FAILED" in text and why in text
    if play == "pending":
        assert "PVC data Pending" in text
    assert scratch not in cluster.namespaces and cluster.scratch() == []  # deleted all the same
    dk.source_untouched(cluster, moto)


def test_a_second_drill_meanwhile_is_told_whose_is_running_and_starts_nothing(
    slack: SignedSlack, recorder: SlackRecorder, cluster: DrillCluster, state: redis.Redis
) -> None:
    before = names(cluster)
    _, since = drill(slack, recorder, user="U0OPS")
    restore = cluster.new_restore(before)
    second, _ = drill(slack, recorder, user="U0OPS2")
    assert "A DR drill is running already" in second and "started by <@U0OPS>" in second
    assert "Nothing was started" in second
    cluster.restore_into(restore)
    cluster.complete(restore, ITEMS, ITEMS)
    wait_reply(recorder, since, "2 restore(s) verified")
    assert len(names(cluster)) == len(before) + 1 and state.llen(keys.DR_REPORTS) == 1


def test_a_non_operator_is_refused_and_bad_input_starts_nothing(
    slack: SignedSlack, recorder: SlackRecorder, cluster: DrillCluster, state: redis.Redis, bot: Bot
) -> None:
    before = names(cluster)
    refused, _ = drill(slack, recorder, user="U0BOB")
    assert "Only operators (permissions.operators) may start a DR drill" in refused
    extra, _ = drill(slack, recorder, text="drill --now")
    assert "takes nothing after it" in extra
    unknown, _ = drill(slack, recorder, text="restore-everything")
    assert "is not a /dr command" in unknown and "/dr drill" in unknown
    bot.settled()
    assert state.get(keys.DR_LOCK) is None and names(cluster) == before and cluster.scratch() == []


def test_dr_last_shows_the_last_report_and_the_trend(
    slack: SignedSlack, recorder: SlackRecorder, cluster: DrillCluster
) -> None:
    empty, _ = drill(slack, recorder, user="U0BOB", text="last")
    assert "No DR drill has run yet" in empty
    for restored in (ITEMS, 5):
        before = names(cluster)
        _, since = drill(slack, recorder)
        restore = cluster.new_restore(before)
        cluster.restore_into(restore)
        cluster.complete(restore, restored, ITEMS)
        wait_reply(recorder, since, "DR drill dr-")
    shown = ack_text(slack.command("last", command="/dr", user="U0BOB"))  # responders may read it
    assert "DR drill FAILED" in shown and f"restored 5/{ITEMS} items" in shown
    assert "RTO trend (last drills, oldest first):" in shown and "✅ →" in shown and shown.rstrip().endswith("❌")


def test_the_weekly_report_has_the_drill_and_its_trend(
    slack: SignedSlack, recorder: SlackRecorder, cluster: DrillCluster
) -> None:
    before = names(cluster)
    _, since = drill(slack, recorder)
    dk.play_passing(cluster, before)
    wait_reply(recorder, since, "2 restore(s) verified")
    since = len(recorder.of("response_url"))
    ack_text(slack.command("weekly", command="/report", user="U0BOB"))
    text = reply_text(wait_reply(recorder, since, "Disaster-recovery drill", timeout=30))
    section = text[text.index("Disaster-recovery drill") :]
    assert "✅ DR drill dr-" in section and "2 restore(s) verified" in section
    assert "RTO trend (last drills, oldest first):" in section


# Failing dependencies ---------------------------------------------------------------------------------------------
def test_no_velero_and_aws_refusing_are_named_and_nothing_is_created(
    slack: SignedSlack, recorder: SlackRecorder, cluster: DrillCluster, moto: Moto
) -> None:
    cluster.without.add("/apis/velero.io/")
    before, restores = names(cluster), len(dk.rds_calls(moto, "RestoreDBInstanceFromDBSnapshot"))
    with moto.denied():
        _, since = drill(slack, recorder)
        reply = wait_reply(recorder, since, "2 of 2 restore(s) failed")
    text = reply_text(reply)
    assert "Velero is not installed in cluster `emu` (no velero.io/v1 API)" in text
    assert "AWS refused reading prod-db and its snapshots: access denied" in text
    assert "DescribeDBInstances" in text
    assert cluster.scratch() == [] and names(cluster) == before
    assert len(dk.rds_calls(moto, "RestoreDBInstanceFromDBSnapshot")) == restores


# Leftovers and the schedule ---------------------------------------------------------------------------------------
def test_what_a_killed_drill_left_is_deleted_on_the_next_start_and_a_stuck_one_after_max_age(
    tmp_path: Path,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kubeconfig: Path,
    cluster: DrillCluster,
    moto: Moto,
    state: redis.Redis,
    bot: Bot,
) -> None:
    now = bot.clock()
    rds = moto.client("rds")
    rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier="prod-db-drill-20260101-1000",
        DBSnapshotIdentifier="prod-db-weekly",
        Tags=[
            {"Key": "chatops-dr-drill", "Value": "dr-killed"},
            {"Key": "chatops-dr-drill-started", "Value": now.isoformat()},
        ],
    )
    cluster.namespaces["dr-drill-production-killed"] = namespace("dr-drill-production-killed", "dr-killed", now)
    old = now - timedelta(hours=7)
    cluster.namespaces["dr-drill-production-stuck"] = namespace("dr-drill-production-stuck", "dr-stuck", old)
    young = namespace("dr-drill-production-young", "dr-stuck", now, attempt="t0k3n")  # the running attempt's
    cluster.namespaces["dr-drill-production-young"] = young
    cluster.namespaces["dr-drill-lookalike"] = namespace("dr-drill-lookalike")  # not labelled: never the bot's
    state.set(keys.DR_LOCK, Running("dr-stuck", "U0OPS", old, "t0k3n").dump(), ex=120)  # a drill still holding it

    restarted = dk.start_bot(tmp_path, recorder, redis_server.url, kubeconfig, moto, name="dr-restarted")
    try:
        wait_for(lambda: "dr-drill-production-killed" not in cluster.namespaces, what="the killed drill's namespace")
        wait_for(lambda: "dr-drill-production-stuck" not in cluster.namespaces, what="the stuck drill's old namespace")
        wait_for(lambda: dk.deletes(moto, "prod-db-drill-20260101-1000"), what="the killed drill's instance deleted")
        restarted.settled()
    finally:
        restarted.terminate()
    assert "dr-drill-production-young" in cluster.namespaces  # the running drill's own, young: spared
    assert "dr-drill-lookalike" in cluster.namespaces and SOURCE in cluster.namespaces
    (deleted,) = dk.deletes(moto, "prod-db-drill-20260101-1000")
    assert deleted["SkipFinalSnapshot"] == ["true"]
    state.delete(keys.DR_LOCK)  # the stuck drill ends: the next sweep takes its young namespace too
    bot.advance(timedelta(minutes=6))
    wait_for(lambda: "dr-drill-production-young" not in cluster.namespaces, what="the ended drill's namespace")
    dk.source_untouched(cluster, moto)
    del cluster.namespaces["dr-drill-lookalike"]


def test_the_scheduled_drill_runs_once_across_two_replicas_and_posts_its_report(
    tmp_path: Path,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kubeconfig: Path,
    cluster: DrillCluster,
    moto: Moto,
    state: redis.Redis,
) -> None:
    clock = MovableClock()
    pair = [
        dk.start_bot(tmp_path, recorder, redis_server.url, kubeconfig, moto, name=f"dr-replica-{i}", cron="0 10 * * 2",
                  clock=clock)
        for i in (1, 2)
    ]  # fmt: skip
    try:
        before, posted = names(cluster), len(dk.digest_posts(recorder))
        for replica in pair:
            replica.ticked()
        tick = cron.trigger("0 10 * * 2", ZoneInfo("UTC")).get_next_fire_time(None, clock())
        clock.advance(tick - clock() + timedelta(seconds=1))
        for replica in pair:
            replica.wake()
        restore = dk.play_passing(cluster, before)
        wait_for(lambda: len(dk.digest_posts(recorder)) > posted, timeout=30, what="the scheduled drill's report")
        for replica in pair:
            replica.ticked()
        (report,) = dk.digest_posts(recorder)[posted:]
        assert "2 restore(s) verified" in report["text"] and "the weekly schedule" in text_of_blocks(report["blocks"])
        assert len(names(cluster)) == len(before) + 1  # one drill, however many replicas
        assert restore["metadata"]["labels"][DRILL_LABEL] == f"dr-{tick.astimezone(UTC):%Y%m%d-%H%M%S}"
        assert state.llen(keys.DR_REPORTS) == 1
        assert state.get(keys.dr_tick(tick.isoformat())) == "done"
    finally:
        for replica in pair:
            replica.terminate()


def test_the_sweep_goes_on_past_a_failing_delete_takes_mapped_namespaces_and_spares_what_is_not_a_drills(
    cluster: DrillCluster, moto: Moto, bot: Bot
) -> None:
    bot.settled()  # no sweep at work (the start-up one) while the leftovers are laid out
    now = bot.clock()
    gone: dict[str, Any] = {"drill": "dr-gone", "started": now, "attempt": "0ld"}
    legacy = schedule(SCHEDULE, [SOURCE, "dr-drill-legacy"], now)  # a source namespace named like a scratch one
    cluster.put("velero.io/v1/schedules", legacy)
    made = {
        "dr-drill-production-fails": namespace("dr-drill-production-fails", **gone),  # its DELETE answered 500
        "dr-drill-production-ending": namespace("dr-drill-production-ending", **gone, terminating=True),
        "labelled-elsewhere": namespace("labelled-elsewhere", **gone),  # labelled, but not dr-drill-…
        "dr-drill-legacy": namespace("dr-drill-legacy", **gone),  # labelled, but a Schedule's source
        "dr-drill-production-busy": namespace("dr-drill-production-busy"),  # Velero made it; its Restore goes on
        "dr-drill-production-gone": namespace("dr-drill-production-gone", **gone),
        "dr-drill-production-remade": namespace("dr-drill-production-remade"),  # Velero made it again, unlabelled
    }
    cluster.namespaces.update(made)
    cluster.failing["dr-drill-production-fails"] = 500
    cluster.leftover_restore("daily-backup-dr-gone-0ld", "dr-gone", "0ld", {SOURCE: "dr-drill-production-remade"})
    busy = {SOURCE: "dr-drill-production-busy"}
    cluster.leftover_restore("daily-backup-dr-gone-busy", "dr-gone", "0ld", busy, phase="InProgress")
    rds = moto.client("rds")
    tags = [{"Key": "chatops-dr-drill", "Value": "dr-gone"}, {"Key": "chatops-dr-drill-started", "Value": "x"}]
    rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier="prod-db-copy", DBSnapshotIdentifier="prod-db-weekly", Tags=tags
    )  # tagged, but not named <id>-drill-<stamp>
    try:
        bot.advance(timedelta(minutes=6))
        wait_for(lambda: "dr-drill-production-remade" not in cluster.namespaces, what="the namespace Velero remade")
        bot.settled()
        assert "dr-drill-production-gone" not in cluster.namespaces  # after the failing one: the sweep went on
        assert "dr-drill-production-fails" in cluster.namespaces and cluster.deletes("dr-drill-production-fails")
        assert cluster.deletes("dr-drill-production-ending") == 0  # Terminating already: left to the API server
        for spared in ("labelled-elsewhere", "dr-drill-legacy", "dr-drill-production-busy"):
            assert spared in cluster.namespaces and cluster.deletes(spared) == 0, spared
        assert dk.deletes(moto, "prod-db-copy") == []
        cluster.move("daily-backup-dr-gone-busy", phase="Completed")  # its Restore ended: the next sweep takes it
        bot.advance(timedelta(minutes=6))
        wait_for(lambda: "dr-drill-production-busy" not in cluster.namespaces, what="the ended Restore's namespace")
    finally:
        cluster.failing.clear()
        cluster.put("velero.io/v1/schedules", schedule(SCHEDULE, [SOURCE], now))
        for name in made:
            cluster.namespaces.pop(name, None)
        for name in ("daily-backup-dr-gone-0ld", "daily-backup-dr-gone-busy"):
            cluster.remove("velero.io/v1/restores", NS, name)
        rds.delete_db_instance(DBInstanceIdentifier="prod-db-copy", SkipFinalSnapshot=True)
    dk.source_untouched(cluster, moto)


def test_a_timed_out_restore_is_waited_for_before_its_namespace_is_deleted(
    slack: SignedSlack, recorder: SlackRecorder, cluster: DrillCluster, bot: Bot
) -> None:
    before = names(cluster)
    _, since = drill(slack, recorder)
    restore = cluster.new_restore(before)
    name = restore["metadata"]["name"]
    (scratch,) = cluster.scratch()
    cluster.move(name, phase="InProgress", progress={"totalItems": ITEMS, "itemsRestored": 3})
    bot.advance(timedelta(minutes=21))  # past dr.timeout: the drill fails, but Velero is still restoring
    read = cluster.reads(f"/restores/{name}")
    wait_for(lambda: cluster.reads(f"/restores/{name}") >= read + 3, what="the drill waiting for its Restore")
    assert scratch in cluster.namespaces and cluster.deletes(scratch) == 0  # Velero would make it again
    cluster.move(name, phase="PartiallyFailed")
    text = reply_text(wait_reply(recorder, since, "1 of 2 restore(s) failed", timeout=30))
    assert f"Restore {name} was still InProgress after 20m" in text
    assert "cleaned up: the scratch copy was deleted" in text and scratch not in cluster.namespaces


def test_a_copy_left_running_fails_the_report_as_cleanup_failed(
    slack: SignedSlack, recorder: SlackRecorder, cluster: DrillCluster, bot: Bot
) -> None:
    before = names(cluster)
    cluster.failing["dr-drill-production-"] = 403
    try:
        _, since = drill(slack, recorder)
        dk.play_passing(cluster, before)
        text = reply_text(wait_reply(recorder, since, "passed, but cleanup failed", timeout=30))
        assert "DR drill passed, but cleanup failed" in text and "1 scratch copy left running" in text
        assert "not cleaned up yet: forbidden" in text
    finally:
        cluster.failing.clear()
    (left,) = cluster.scratch()
    bot.advance(timedelta(minutes=6))  # the sweep takes it once the delete is allowed
    wait_for(lambda: left not in cluster.namespaces, what="the copy left by the drill")


def test_a_scheduled_drill_retried_after_a_crash_makes_its_own_restore_and_sweeps_the_crashed_attempts_copy(
    tmp_path: Path,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kubeconfig: Path,
    cluster: DrillCluster,
    moto: Moto,
    state: redis.Redis,
) -> None:
    clock = MovableClock()
    replica = dk.start_bot(tmp_path, recorder, redis_server.url, kubeconfig, moto, name="dr-retry", cron="0 10 * * 2",
                        clock=clock)  # fmt: skip
    crashed = "dr-drill-production-crashed"
    try:
        replica.ticked()
        replica.settled()
        tick = cron.trigger("0 10 * * 2", ZoneInfo("UTC")).get_next_fire_time(None, clock())
        tick_id = f"dr-{tick.astimezone(UTC):%Y%m%d-%H%M%S}"
        # the first attempt of this tick's drill died mid-way: its Restore and scratch namespace are left, its lock
        # lapsed, its claim on the tick too (another replica retries the tick)
        old = f"{SCHEDULE}-{tick_id}-deadbeef"
        cluster.leftover_restore(old, tick_id, "deadbeef", {SOURCE: crashed})
        cluster.namespaces[crashed] = namespace(crashed, tick_id, tick, attempt="deadbeef")  # young
        before, posted = names(cluster), len(dk.digest_posts(recorder))
        clock.advance(tick - clock() + timedelta(seconds=1))
        replica.wake()
        restore = cluster.new_restore(before)
        labels = restore["metadata"]["labels"]
        assert labels[DRILL_LABEL] == tick_id and labels[ATTEMPT] != "deadbeef"  # the tick's id, a new attempt
        assert restore["metadata"]["name"] == f"{SCHEDULE}-{tick_id}-{labels[ATTEMPT]}" != old  # no 409 on a retry
        clock.advance(timedelta(minutes=6))  # a sweep while this attempt runs: the crashed one's copy is not its own
        replica.wake()
        wait_for(lambda: crashed not in cluster.namespaces, what="the crashed attempt's scratch namespace")
        assert tick_id in str(state.get(keys.DR_LOCK)) and len(cluster.scratch()) == 1  # the running one's kept
        cluster.restore_into(restore)
        cluster.complete(restore, ITEMS, ITEMS)
        wait_for(lambda: len(dk.digest_posts(recorder)) > posted, timeout=30, what="the retried drill's report")
        (report,) = dk.digest_posts(recorder)[posted:]
        assert f"DR drill {tick_id}: 2 restore(s) verified" in report["text"]
    finally:
        replica.terminate()
        cluster.namespaces.pop(crashed, None)
        cluster.remove("velero.io/v1/restores", NS, f"{SCHEDULE}-{tick_id}-deadbeef")
