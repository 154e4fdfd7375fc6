"""Backups and restores from chat, over the wire: Velero's objects in kmock (the test plays Velero's controller by
moving ``status.phase``), RDS in moto's server (the bot pointed at it by AWS_ENDPOINT_URL), the bot over HTTP.
Restores go through the offer path: operators only, once, re-checked at the click, audited, on the timeline."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import kmock
import pytest
import redis

from bot.core import keys
from tests.support.aws import Moto
from tests.support.bot_process import SignedSlack, ack_text, run_cli
from tests.support.cluster_seed import iso
from tests.support.cluster_seed import seed as cluster_seed
from tests.support.harness import Bot
from tests.support.kube import KubeEmulator, plain
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.replies import buttons_of, replies, reply_text, thread_posts, wait_reply
from tests.support.slack_recorder import SlackRecorder
from tests.support.velero_seed import NS, seed

BACKUPS = "velero.io/v1/backups"
RESTORES = "velero.io/v1/restores"


# Fixtures ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KubeEmulator, Path]]:
    emulator = KubeEmulator().start()
    now = datetime.now(UTC)
    emulator.seed(cluster_seed(now)[0] | seed(now))
    yield emulator, emulator.kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
    emulator.stop()


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = Moto().start()
    rds = server.client("rds")
    for name, retention in (("prod-db", 7), ("legacy-db", 0)):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            Engine="postgres",
            EngineVersion="15.4",
            DBInstanceClass="db.r6g.large",
            AllocatedStorage=100,
            MasterUsername="admin",
            MasterUserPassword="not-a-real-password",
            BackupRetentionPeriod=retention,
        )
    rds.create_db_snapshot(DBInstanceIdentifier="prod-db", DBSnapshotIdentifier="prod-db-before-migration")
    yield server
    server.stop()


CONFIG = """
channels: {incidents: C0INCIDENTS, digest: C0HEALTH}
permissions: {operators: [U0OPS]}
kubernetes: {clusters: [{name: emu, context: emu}], rollout_timeout: 20s}
velero: {namespace: velero}
aws: {region: us-east-1, rds: {instances: [prod-db, legacy-db, ghost-db]}}
"""


def config_file(directory: Path, body: str = CONFIG) -> Path:
    path = directory / "chatops.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def start_bot(
    directory: Path,
    recorder: SlackRecorder,
    redis: RedisServer,
    kubeconfig: Path,
    aws: dict[str, str],
    name: str,
    body: str = CONFIG,
) -> Bot:
    """A bot on the emulated cluster whose AWS is ``aws`` (moto, or a stand-in that denies everything)."""
    return Bot(
        redis_url=redis.url,
        slack_api_url=recorder.api_url,
        config_path=config_file(directory, body),
        log_path=directory / f"{name}.log",
        extra_env={"KUBECONFIG": str(kubeconfig), **aws},
    ).start()


@pytest.fixture(scope="module")
def bot(
    tmp_path_factory: pytest.TempPathFactory,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kube: tuple[KubeEmulator, Path],
    moto: Moto,
) -> Iterator[Bot]:
    proc = start_bot(tmp_path_factory.mktemp("backups"), recorder, redis_server, kube[1], moto.env(), "bot")
    yield proc
    proc.terminate()


# Helpers ----------------------------------------------------------------------------------------------------------
def ask(
    slack: SignedSlack, recorder: SlackRecorder, command: str, text: str, phrase: str, **kwargs: Any
) -> dict[str, Any]:
    since = len(recorder.of("response_url"))
    ack_text(slack.command(text, command=command, **kwargs))
    return wait_reply(recorder, since, phrase)


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    (found,) = buttons_of(message, action_id)
    return found


def double_click(slack: SignedSlack, action_id: str, value: str, user: str = "U0OPS") -> None:
    first = slack.click_body(action_id, value, user=user)
    second = slack.click_body(action_id, value, user=user)
    slack.post(first, "application/x-www-form-urlencoded")
    slack.post(second, "application/x-www-form-urlencoded")


def velero_objects(kube: KubeEmulator, resource: str) -> dict[str, dict[str, Any]]:
    def read() -> dict[str, dict[str, Any]]:
        return {key[2]: plain(obj) for key, obj in kube.emulator.objects.items() if key[0] == resource}

    found: dict[str, dict[str, Any]] = kube.call(read)
    return found


def play_velero(kube: KubeEmulator, resource: str, name: str, **status: Any) -> None:
    """Velero's controller at work: the object's status moves on."""

    def move() -> None:
        obj = plain(kube.emulator.objects[resource, NS, name])
        obj["status"] = {**(obj.get("status") or {}), **status}
        kube.emulator.objects[resource, NS, name] = obj

    kube.call(move)


def kube_requests(kube: KubeEmulator) -> int:
    return int(kube.call(lambda: len(list(kube.emulator))))


# Velero -----------------------------------------------------------------------------------------------------------
def test_backup_list_shows_backups_newest_first_and_each_schedule(slack: SignedSlack, recorder: SlackRecorder) -> None:
    reply = ask(slack, recorder, "/backup", "list", "Velero backups: emu")
    text = reply_text(reply)
    assert reply["response_type"] == "ephemeral"
    listed = text[text.index("*Backups* (7, newest first)") :]
    order = [listed.index(n) for n in ("failing-backup-bad", "daily-backup-20261127020000", "stale-backup-20261124")]
    assert order == sorted(order)  # newest first
    assert "*Completed*" in text and "120/120 items" in text and "production" in text and "expires" in text
    assert "*Failed*" in text and "3 error(s)" in text
    assert "*daily-backup* `0 2 * * *` — last successful daily-backup-20261127020000" in text
    assert "next due" in text

    one = reply_text(ask(slack, recorder, "/backup", "list --schedule=stale-backup", "Velero backups: emu"))
    assert "stale-backup-20261124030000" in one and "daily-backup-2026" not in one


def test_backup_create_is_followed_in_one_reply_until_it_completes(
    slack: SignedSlack, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path], state: redis.Redis
) -> None:
    emulator, _ = kube
    since = len(recorder.of("response_url"))
    ack = ack_text(slack.command("create --namespace=production,staging", command="/backup", user="U0BOB"))
    assert "Creating a Velero backup" in ack
    first = wait_reply(recorder, since, "Backup `production-staging-")
    name = str(first["text"]).split("`")[1]
    created = velero_objects(emulator, BACKUPS)[name]
    assert created["spec"]["includedNamespaces"] == ["production", "staging"]
    assert created["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "chatops-bot"

    play_velero(emulator, BACKUPS, name, phase="InProgress", progress={"totalItems": 40, "itemsBackedUp": 12})
    play_velero(
        emulator,
        BACKUPS,
        name,
        phase="Completed",
        progress={"totalItems": 40, "itemsBackedUp": 40},
        completionTimestamp=iso(datetime.now(UTC)),
        warnings=1,
    )
    final = wait_reply(recorder, since, f"Backup `{name}`: Completed, 40/40 items, 0 error(s), 1 warning(s)")
    assert final["replace_original"] is True and final["response_type"] == "in_channel"
    mine = [r for r in replies(recorder, since) if name in str(r.get("text"))]
    assert len(mine) <= 5  # Slack takes five messages per response_url
    audit = [f for _, f in state.xrange(keys.AUDIT) if f.get("backup") == name]
    assert [(a["kind"], a["actor"], a["result"]) for a in audit] == [("backup-create", "U0BOB", "done")]


def test_a_backup_taken_as_redis_stalls_is_followed_and_its_audit_entry_lands_later(
    tmp_path: Path, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path], moto: Moto
) -> None:
    """Redis stops answering the instant Velero's API takes the Backup: the asker is told of the backup and follows
    it (never "Nothing was changed" about a backup that exists); its audit entry is written once Redis is back."""
    emulator, kubeconfig = kube
    own = RedisServer().start()
    bot = start_bot(tmp_path, recorder, own, kubeconfig, moto.env(), "stall")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    client = redis.Redis.from_url(own.url, decode_responses=True)
    stall = own.stall  # when the POST arrives (once: the emulator is the module's); kmock then stores the Backup
    emulator.call(lambda: emulator.emulator["post", kmock.resource(BACKUPS)] << stall)
    since = len(recorder.of("response_url"))
    try:
        try:
            ack_text(slack.command("create while-redis-stalls --namespace=production", command="/backup", user="U0BOB"))
            wait_reply(recorder, since, "Backup `while-redis-stalls`", timeout=40)  # its calls meet the stall first
            assert own.stalled and "while-redis-stalls" in velero_objects(emulator, BACKUPS)
            assert not [r for r in replies(recorder, since) if "Nothing was changed" in str(r.get("text"))]
        finally:
            own.resume()
        wait_for(
            lambda: [f for _, f in client.xrange(keys.AUDIT) if f.get("backup") == "while-redis-stalls"],
            timeout=30,
            what="the backup's audit entry, written once Redis answers again",
        )
    finally:
        client.close()
        slack.close()
        bot.terminate()
        own.cleanup()


def test_a_failed_backup_reports_its_errors(
    slack: SignedSlack, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path]
) -> None:
    emulator, _ = kube
    since = len(recorder.of("response_url"))
    ack_text(slack.command("create nightly-by-hand --selector=app=payments-api", command="/backup"))
    wait_reply(recorder, since, "Backup `nightly-by-hand`: New")
    spec = velero_objects(emulator, BACKUPS)["nightly-by-hand"]["spec"]
    assert spec["labelSelector"] == {"matchLabels": {"app": "payments-api"}} and spec["includedNamespaces"] == ["*"]
    play_velero(emulator, BACKUPS, "nightly-by-hand", phase="Failed", errors=2, failureReason="bucket access denied")
    wait_reply(recorder, since, "Backup `nightly-by-hand`: Failed, items not counted yet, 2 error(s)")
    assert "bucket access denied" in reply_text(wait_reply(recorder, since, "bucket access denied"))

    again = ask(slack, recorder, "/backup", "create nightly-by-hand", "exists already")
    assert "name yours" in again["text"]


def test_restore_is_offered_operator_only_once_and_followed_in_the_thread(
    slack: SignedSlack, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path], state: redis.Redis
) -> None:
    emulator, _ = kube
    opened = ack_text(slack.command("open P1 Payments data lost after migration", user="U0OPS"))
    number = int(opened.split("*INC-")[1].split("*", maxsplit=1)[0])
    state.set(keys.room("C0WARBAK"), str(number))
    offer = ask(
        slack,
        recorder,
        "/backup",
        "restore daily-backup-20261127020000 --namespace=production",
        "Restore: daily-backup-20261127020000",
        channel="C0WARBAK",
    )
    assert offer["response_type"] == "in_channel"
    assert "*Completed*" in reply_text(offer) and "120/120 items" in reply_text(offer)
    restore = button(offer, "offer_velero-restore")
    assert "daily-backup" not in restore["value"]  # an opaque id
    confirm = restore["confirm"]["text"]["text"]
    assert "restores backup daily-backup-20261127020000 into production of cluster emu" in confirm

    since = len(recorder.of("response_url"))
    slack.click("offer_velero-restore", restore["value"], user="U0MALLORY")
    wait_reply(recorder, since, "Only operators (permissions.operators) may restore backup daily-backup")
    assert velero_objects(emulator, RESTORES) == {}

    double_click(slack, "offer_velero-restore", restore["value"])
    wait_reply(recorder, since, "<@U0OPS> restored `backup daily-backup-20261127020000 into production`")
    wait_reply(recorder, since, "it is not repeated")
    (made,) = velero_objects(emulator, RESTORES).values()
    assert made["spec"] == {"backupName": "daily-backup-20261127020000", "includedNamespaces": ["production"]}
    name = made["metadata"]["name"]

    wait_for(lambda: thread_posts(recorder, f"Restore `{name}`"), what="restore progress in the thread")
    play_velero(emulator, RESTORES, name, phase="InProgress", progress={"totalItems": 120, "itemsRestored": 60})
    play_velero(
        emulator, RESTORES, name, phase="Completed", progress={"totalItems": 120, "itemsRestored": 120}, warnings=4
    )
    wait_for(
        lambda: any("Completed, 120/120 items, 4 warning(s)" in t for t in thread_posts(recorder, name)),
        timeout=20,
        what="restore completed in the thread",
    )
    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert "*restored*" in timeline and "daily-backup-20261127020000" in timeline
    audit = [f for _, f in state.xrange(keys.AUDIT) if f.get("kind") == "velero-restore"]
    assert [(a["actor"], a["result"]) for a in audit] == [("U0MALLORY", "refused: not an operator"), ("U0OPS", "done")]


def test_restores_of_backups_that_did_not_complete_are_refused(
    slack: SignedSlack, recorder: SlackRecorder, kube: tuple[KubeEmulator, Path]
) -> None:
    emulator, _ = kube
    failed = ask(slack, recorder, "/backup", "restore manual-failed", "Restore: manual-failed")
    assert "No restore offered: backup manual-failed is Failed, not Completed" in reply_text(failed)
    assert not [b for b in failed["blocks"] if b["type"] == "actions"]

    partial = ask(slack, recorder, "/backup", "restore manual-partial", "Restore: manual-partial")
    assert "PartiallyFailed (2 error(s)); restore it only on purpose, with --partial" in reply_text(partial)
    stated = ask(slack, recorder, "/backup", "restore manual-partial --partial", "Restore: manual-partial")
    assert "It is PartiallyFailed" in button(stated, "offer_velero-restore")["confirm"]["text"]["text"]

    missing = ask(slack, recorder, "/backup", "restore no-such-backup", "No backup named")
    assert "/backup list" in missing["text"]

    # Re-checked at the click: the backup went away between the offer and the click.
    offer = ask(slack, recorder, "/backup", "restore manual-complete", "Restore: manual-complete")
    value = button(offer, "offer_velero-restore")["value"]

    def expire() -> None:
        del emulator.emulator.objects[BACKUPS, NS, "manual-complete"]

    emulator.call(expire)
    since = len(recorder.of("response_url"))
    slack.click("offer_velero-restore", value, user="U0OPS")
    wait_reply(recorder, since, "Restore refused: backup manual-complete is gone")
    assert not [r for r in velero_objects(emulator, RESTORES).values() if r["spec"]["backupName"] == "manual-complete"]


ALLOWED = CONFIG.replace("rollout_timeout: 20s}", "rollout_timeout: 20s, namespaces: [production, staging]}")
OUTSIDE = "namespace `kube-system` is not one the bot may act in (production, staging)."


def test_kubernetes_namespaces_bounds_backups_restores_renewals_and_the_windows_backup(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, kube: tuple[KubeEmulator, Path], moto: Moto
) -> None:
    """With ``kubernetes.namespaces`` set, nothing outside it is backed up, restored or renewed: the same refusal as
    the runbooks', before any API call; a backup or restore that names no namespace keeps to the allowed ones."""
    emulator, kubeconfig = kube
    proc = start_bot(tmp_path, recorder, redis_server, kubeconfig, moto.env(), "allowed", body=ALLOWED)
    slack = SignedSlack(proc.base_url, recorder.response_url)
    try:
        kube_before, since = kube_requests(emulator), len(recorder.of("response_url"))
        backups_before = set(velero_objects(emulator, BACKUPS))
        for command, text in (
            ("/backup", "create --namespace=kube-system"),
            ("/backup", "create sneaky --namespace=production,kube-system"),
            ("/backup", "restore daily-backup-20261127020000 --namespace=kube-system"),
            ("/cert", "renew kube-system/apiserver-tls"),
        ):
            assert OUTSIDE in ack_text(slack.command(text, command=command, user="U0BOB")), text
        assert kube_requests(emulator) == kube_before and replies(recorder, since) == []

        # The digest's Renew button on a certificate outside the list is refused the same way.
        slack.click("cert_renew", "emu|kube-system/apiserver-tls", user="U0BOB")
        assert OUTSIDE in wait_reply(recorder, since, OUTSIDE)["text"]

        # The window's "Backup critical data" step of a window on kube-system: refused, not ticked.
        start = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%SZ")
        scheduled = ack_text(slack.command(f"schedule {start} 1h DNS upgrade --services=kube-system/coredns",
                                           command="/maintenance", user="U0OPS"))  # fmt: skip
        number = int(scheduled.split("*MW-")[1].split("*")[0])
        slack.click("mw_step", f"{number}:backup", user="U0BOB")
        wait_for(lambda: len([r for r in replies(recorder, since) if OUTSIDE in str(r.get("text"))]) == 2,
                 what="the step refused")  # fmt: skip
        assert set(velero_objects(emulator, BACKUPS)) == backups_before
        assert "checklist 0/5" in ack_text(slack.command("list", command="/maintenance"))

        # Naming no namespace: the allowed ones, not every namespace.
        ack_text(slack.command("create allowed-only", command="/backup", user="U0BOB"))
        wait_reply(recorder, since, "Backup `allowed-only`")
        assert velero_objects(emulator, BACKUPS)["allowed-only"]["spec"]["includedNamespaces"] == [
            "production",
            "staging",
        ]
        offer = ask(slack, recorder, "/backup", "restore daily-backup-20261127020000", "Restore: daily-backup")
        confirm = button(offer, "offer_velero-restore")["confirm"]["text"]["text"]
        assert "into production, staging of cluster emu" in confirm
    finally:
        slack.close()
        proc.terminate()


# RDS --------------------------------------------------------------------------------------------------------------
def test_db_snapshots_lists_manual_and_automated_with_the_restore_window(
    slack: SignedSlack, recorder: SlackRecorder
) -> None:
    reply = ask(slack, recorder, "/db", "snapshots prod-db", "RDS snapshots: prod-db")
    text = reply_text(reply)
    assert "prod-db-before-migration` manual, *available*" in text
    assert "automated, *available*" in text and "rds:prod-db-" in text
    assert "automated backups kept 7 day(s)" in text and "latest restorable" in text and "100 GiB" in text

    absent = ask(slack, recorder, "/db", "snapshots ghost-db", "No RDS instance named")
    assert "ghost-db" in absent["text"]


def test_db_snapshot_is_taken_followed_and_audited(
    slack: SignedSlack, recorder: SlackRecorder, moto: Moto, state: redis.Redis
) -> None:
    since = len(recorder.of("response_url"))
    ack_text(slack.command("snapshot prod-db", command="/db", user="U0BOB"))
    done = wait_reply(recorder, since, ": available")
    snapshot_id = str(done["text"]).split("`")[1]
    assert snapshot_id.startswith(f"manual-prod-db-{datetime.now(UTC):%Y%m%d}")
    found = moto.client("rds").describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"]
    assert found[0]["DBInstanceIdentifier"] == "prod-db" and found[0]["SnapshotType"] == "manual"
    audit = [f for _, f in state.xrange(keys.AUDIT) if f.get("snapshot") == snapshot_id]
    assert [(a["kind"], a["actor"]) for a in audit] == [("db-snapshot", "U0BOB")]


def test_db_restore_creates_a_new_instance_once_and_leaves_the_original(
    slack: SignedSlack, recorder: SlackRecorder, moto: Moto, state: redis.Redis
) -> None:
    rds = moto.client("rds")
    before = rds.describe_db_instances(DBInstanceIdentifier="prod-db")["DBInstances"][0]
    offer = ask(slack, recorder, "/db", "restore prod-db-before-migration --as=prod-db-check", "Database restore")
    restore = button(offer, "offer_rds-restore")
    confirm = restore["confirm"]["text"]["text"]
    assert "A NEW RDS instance prod-db-check (db.r6g.large" in confirm and "prod-db is not touched" in confirm

    since = len(recorder.of("response_url"))
    slack.click("offer_rds-restore", restore["value"], user="U0MALLORY")
    wait_reply(recorder, since, "Only operators (permissions.operators) may restore a snapshot to RDS instance")
    ids = {db["DBInstanceIdentifier"] for db in rds.describe_db_instances()["DBInstances"]}
    assert "prod-db-check" not in ids

    double_click(slack, "offer_rds-restore", restore["value"])
    wait_reply(recorder, since, "<@U0OPS> restored a snapshot to `RDS instance prod-db-check`")
    wait_reply(recorder, since, "it is not repeated")
    wait_for(
        lambda: any("available at" in t for t in thread_posts(recorder, "New RDS instance `prod-db-check`")),
        timeout=20,
        what="the new instance's endpoint",
    )
    made = [db for db in rds.describe_db_instances()["DBInstances"] if db["DBInstanceIdentifier"] == "prod-db-check"]
    assert len(made) == 1 and made[0]["DBInstanceClass"] == "db.r6g.large"
    after = rds.describe_db_instances(DBInstanceIdentifier="prod-db")["DBInstances"][0]
    assert after["DBInstanceStatus"] == before["DBInstanceStatus"] and after["Endpoint"] == before["Endpoint"]
    audit = [f for _, f in state.xrange(keys.AUDIT) if f.get("kind") == "rds-restore"]
    assert [a["result"] for a in audit] == ["refused: not an operator", "done"]

    # Re-checked at the click: the target id was taken between the offer and the click.
    late = button(
        ask(slack, recorder, "/db", "restore prod-db-before-migration --as=prod-db-late", "Database"),
        "offer_rds-restore",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="prod-db-late",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password",
    )
    since = len(recorder.of("response_url"))
    slack.click("offer_rds-restore", late["value"], user="U0OPS")
    wait_reply(recorder, since, "Database restore refused: an instance named prod-db-late exists already")
    late_db = rds.describe_db_instances(DBInstanceIdentifier="prod-db-late")["DBInstances"][0]
    assert late_db["DBInstanceClass"] == "db.t3.micro"  # the one created meanwhile, untouched

    taken = ask(slack, recorder, "/db", "restore prod-db-before-migration --as=legacy-db", "Database restore")
    assert "an instance named legacy-db exists already" in reply_text(taken)
    assert not [b for b in taken["blocks"] if b["type"] == "actions"]
    gone = ask(slack, recorder, "/db", "restore prod-db-yesterday", "No RDS snapshot named")
    assert "/db snapshots" in gone["text"]


def test_db_restore_default_id_is_legal_and_the_copy_keeps_the_sources_network_never_public(
    slack: SignedSlack, recorder: SlackRecorder, moto: Moto
) -> None:
    """A 46-character instance id cut for ``-restored-<date>`` must not leave ``--``; the copy is made in the
    source's DB subnet group with its VPC security groups (moto, like AWS, gives a restore without them the VPC's
    default group) and the call itself says ``PubliclyAccessible=false``."""
    ec2, rds = moto.client("ec2"), moto.client("rds")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"]
        for i, zone in enumerate("ab")
    ]
    rds.create_db_subnet_group(
        DBSubnetGroupName="ledger-private",
        DBSubnetGroupDescription="private subnets",
        SubnetIds=[s["SubnetId"] for s in subnets],
    )
    groups = [
        ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        for name in ("ledger-db", "ledger-db-admin")
    ]
    source = "payments-ledger-primary-eu-central-1-replica-a"  # 46 characters, a "-" at the 45th
    assert len(source) == 46 and source[44] == "-"
    rds.create_db_instance(
        DBInstanceIdentifier=source,
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=50,
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password",
        DBSubnetGroupName="ledger-private",
        VpcSecurityGroupIds=groups,
        PubliclyAccessible=False,
    )
    rds.create_db_snapshot(DBInstanceIdentifier=source, DBSnapshotIdentifier="ledger-before-migration")

    offer = ask(slack, recorder, "/db", "restore ledger-before-migration", "Database restore")
    restore = button(offer, "offer_rds-restore")
    new_id = restore["text"]["text"].removeprefix("Restore to ")
    assert new_id == f"{source[:44]}-restored-{datetime.now(UTC):%Y%m%d}"
    assert len(new_id) <= 63 and "--" not in new_id and not new_id.endswith("-")
    confirm = restore["confirm"]["text"]["text"]
    assert "Not publicly accessible; subnet group ledger-private, the source's 2 security group(s)" in confirm

    since = len(recorder.of("response_url"))
    calls = len(moto.front.requests)
    slack.click("offer_rds-restore", restore["value"], user="U0OPS")
    wait_reply(recorder, since, f"<@U0OPS> restored a snapshot to `RDS instance {new_id}`")
    (made,) = rds.describe_db_instances(DBInstanceIdentifier=new_id)["DBInstances"]
    assert made["DBSubnetGroup"]["DBSubnetGroupName"] == "ledger-private"
    assert sorted(g["VpcSecurityGroupId"] for g in made["VpcSecurityGroups"]) == sorted(groups)
    assert made["PubliclyAccessible"] is False
    (call,) = [
        parse_qs(r.body.decode())
        for r, _ in moto.front.requests[calls:]
        if b"Action=RestoreDBInstanceFromDBSnapshot" in r.body
    ]
    assert call["PubliclyAccessible"] == ["false"] and call["DBSubnetGroupName"] == ["ledger-private"]
    assert sorted(v[0] for k, v in call.items() if k.startswith("VpcSecurityGroupIds.")) == sorted(groups)


# Bad input and failing dependencies --------------------------------------------------------------------------------
HOSTILE = [
    ("/backup", "list --schedule=$(x)"),
    ("/backup", "list --schedule=../etc"),
    ("/backup", "create ../../etc"),
    ("/backup", "create --namespace=$(x)"),
    ("/backup", "create --namespace=production,../kube-system"),
    ("/backup", "create --selector=app=$(x)"),
    ("/backup", "create " + "a" * 300),
    ("/backup", "create Nightly"),
    ("/backup", "restore ../daily"),
    ("/backup", "restore daily --namespace=" + "n" * 300),
    ("/backup", "restore DAILY-BACKUP"),
    ("/backup", "list --cluster=../emu"),
    ("/db", "snapshots $(x)"),
    ("/db", "snapshots ../prod-db"),
    ("/db", "snapshot " + "p" * 300),
    ("/db", "snapshot prod--db"),
    ("/db", "restore ../snap"),
    ("/db", "restore prod-db-before-migration --as=$(x)"),
    ("/db", "restore prod-db-before-migration --as=" + "q" * 300),
]


def test_hostile_names_are_refused_before_any_api_call(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, kube: tuple[KubeEmulator, Path], moto: Moto
) -> None:
    emulator, kubeconfig = kube
    proc = start_bot(tmp_path, recorder, redis_server, kubeconfig, moto.env(), "hostile")
    slack = SignedSlack(proc.base_url, recorder.response_url)
    try:
        with moto.denied() as denying:  # any AWS call would be counted here
            kube_before, since = kube_requests(emulator), len(recorder.of("response_url"))
            for command, text in HOSTILE:
                ack = ack_text(slack.command(text, command=command))
                assert any(
                    word in ack for word in ("is not a", "not an RDS", "is not a label selector", "not a configured")
                ), (text, ack)
            assert kube_requests(emulator) == kube_before
            assert denying.calls == 0
            assert replies(recorder, since) == []  # nothing was started in the background
    finally:
        slack.close()
        proc.terminate()


def test_access_denied_names_the_missing_permission(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, kube: tuple[KubeEmulator, Path], moto: Moto
) -> None:
    proc = start_bot(tmp_path, recorder, redis_server, kube[1], moto.env(), "denied")
    slack = SignedSlack(proc.base_url, recorder.response_url)
    try:
        with moto.denied():
            reply = ask(slack, recorder, "/db", "snapshots prod-db", "access denied")
        assert "may not call rds:DescribeDBInstances" in reply["text"] and "deploy/iam-policy.json" in reply["text"]
    finally:
        slack.close()
        proc.terminate()

    env = {"CHATOPS_CONFIG": str(config_file(tmp_path)), "KUBECONFIG": str(kube[1]), **moto.env()}
    with moto.denied():
        result = run_cli("digest", "--print", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "may not call rds:DescribeDBInstances and rds:DescribeDBSnapshots" in result.stdout
    assert "Backups (Velero)" in result.stdout and "schedule/stale-backup" in result.stdout  # the rest posts


# The morning verdict ---------------------------------------------------------------------------------------------
def test_digest_names_stale_failed_and_unavailable_and_not_the_healthy_schedule(
    tmp_path: Path, kube: tuple[KubeEmulator, Path], moto: Moto
) -> None:
    env = {"CHATOPS_CONFIG": str(config_file(tmp_path)), "KUBECONFIG": str(kube[1]), **moto.env()}
    result = run_cli("digest", "--print", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    velero = out[out.index("Backups (Velero)") : out.index("AWS (us-east-1)")]
    assert "schedule/stale-backup" in velero and "more than 1.5 × its 24 h interval" in velero
    assert "schedule/failing-backup" in velero and "failing-backup-bad Failed (3 error(s)" in velero
    assert "last good backup failing-backup-good, 7 h old" in velero
    assert "backupstoragelocation/secondary" in velero and "bucket not found" in velero
    assert "daily-backup" not in velero and "backupstoragelocation/default" not in velero
    rds = out[out.index("AWS (us-east-1)") :]
    assert "rds/legacy-db" in rds and "automated backups are off (retention 0 days)" in rds
    assert "rds/ghost-db" in rds and "no such instance" in rds
    assert "rds/prod-db" not in rds


def test_digest_skips_velero_where_it_is_not_installed(tmp_path: Path, moto: Moto) -> None:
    emulator = KubeEmulator().start()
    try:
        emulator.seed(cluster_seed(datetime.now(UTC))[0])  # no velero.io objects: its lists answer 404
        kubeconfig = emulator.kubeconfig(tmp_path / "kubeconfig")
        env = {"CHATOPS_CONFIG": str(config_file(tmp_path)), "KUBECONFIG": str(kubeconfig), **moto.env()}
        result = run_cli("digest", "--print", env=env, timeout=120)
    finally:
        emulator.stop()
    assert result.returncode == 0, result.stderr
    assert "skipped: Velero is not installed" in result.stdout
