"""``kubernetes.impersonate`` and what a change from chat may leave behind: a drain reads before it writes (one the
cluster refuses the pods changes nothing), a refusal after a write is said partway and the offer stays used, an AWS
change needs a mapped clicker too, and a user group Slack does not answer for refuses the click rather than guess its
members. A real bot, kmock, moto and the Slack stand-in; the fixtures and helpers are test_impersonation's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import kmock
import pytest
import redis

from bot.core.errors import DependencyError
from bot.core.permissions import Access
from bot.core.settings.config import Permissions
from bot.core.settings.impersonate import Impersonate
from bot.core.slack import build_client
from bot.operations.impersonate import Identity, identity_of
from tests.integration import test_impersonation as base
from tests.integration.test_impersonation import IMPERSONATE, audited, click, forbid, received
from tests.integration.test_maintenance import latest, message_of, schedule, unique_action_ids
from tests.integration.test_runbooks import command_reply
from tests.support import kube as objects
from tests.support.aws import Moto
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.kube import KubeEmulator
from tests.support.maintenance_seed import seed as maintenance_seed
from tests.support.replies import buttons_of
from tests.support.slack_recorder import SlackRecorder

# test_impersonation's fixtures, as pytest finds them here: a state store and a Slack stand-in of the module's own
emulator, sre, bot_with, redis_server, recorder = (
    base.emulator,
    base.sre,
    base.bot_with,
    base.redis_server,
    base.recorder,
)


def with_nodes(emulator: KubeEmulator) -> None:
    """node-a (an application pod, a DaemonSet pod, a pod a PDB protects) and node-b; evictions answered as the API
    does (kmock does not serve the subresource): ledger-0's refused by its budget."""
    emulator.seed(maintenance_seed(datetime.now(UTC), {"node-a": "v1.29.3-eks-1", "node-b": "v1.29.3-eks-1"}))

    def evictions() -> None:
        emulator.emulator["post", kmock.name("ledger-0"), kmock.subresource("eviction")] << 429
        emulator.emulator["post", kmock.subresource("eviction")] << {"kind": "Status", "status": "Success", "code": 201}

    emulator.call(evictions)


@contextmanager
def window(slack: SignedSlack, recorder: SlackRecorder) -> Iterator[list[dict[str, Any]]]:
    """A started maintenance window on emu's two nodes: the buttons of its message (cordon, drain each); done at the
    end (the state store is the session's: no other test's incident is opened during it)."""
    number = schedule(slack, "2h Kernel patching --cluster=emu --nodes=node-a,node-b")
    message_of(recorder, number)
    slack.click("mw_start", str(number), user="U0OPS")
    try:
        yield unique_action_ids(latest(recorder, number, "In progress"))
    finally:
        ack_text(slack.command(f"done MW-{number}", command="/maintenance", user="U0OPS"))


def unschedulable(emulator: KubeEmulator, node: str) -> bool:
    found = emulator.call(lambda: emulator.emulator.objects["v1/nodes", None, node])
    return bool(objects.plain(found)["spec"].get("unschedulable"))


def test_a_drain_reads_before_it_writes_and_a_refusal_after_a_write_is_said_partway(
    bot_with: Callable[[str], SignedSlack], recorder: SlackRecorder, emulator: KubeEmulator, state: redis.Redis
) -> None:
    with_nodes(emulator)  # ops@acme.io may patch node-a, neither node-b nor list pods; slack:U0SRE may do all
    forbid(emulator, "ops@acme.io", "pods is forbidden", "get", kmock.resource("v1/pods"))
    forbid(emulator, "ops@acme.io", "nodes is forbidden", "patch", kmock.resource("v1/nodes"), kmock.name("node-b"))
    slack = bot_with(f", impersonate: {IMPERSONATE}")
    with window(slack, recorder) as buttons:
        drain = next(b for b in buttons if b["text"]["text"] == "Drain node-a")
        (cordon,) = [b for b in buttons if b["action_id"] == "offer_cordon"]
        clicked, audit_from = len(received(emulator)), state.xlen("audit")
        reply = click(slack, recorder, drain["action_id"], drain["value"], "U0OPS", "refused")
        assert reply["text"] == (
            "Drain refused: the cluster's RBAC refused ops@acme.io: they may not drain node node-a (bind them to a Role "
            "that allows it). Nothing was changed."
        )
        assert [s[0] for s in received(emulator)[clicked:]] == ["GET", "GET"]  # the node, its pods: no write
        assert not unschedulable(emulator, "node-a")

        clicked = len(received(emulator))
        reply = click(slack, recorder, "offer_cordon", cordon["value"], "U0OPS", "refused")
        assert reply["text"] == (
            "Cordon refused: the cluster's RBAC refused ops@acme.io: they may not cordon node(s) node-a, node-b (bind "
            "them to a Role that allows it), partway: already made, and not undone: patched nodes/node-a. Check "
            "`node(s) node-a, node-b` and run the command again if needed."
        )
        patches = [s[1] for s in received(emulator)[clicked:] if s[0] == "PATCH"]
        assert patches == ["/api/v1/nodes/node-a", "/api/v1/nodes/node-b"]  # node-b's refused (kmock keeps it anyway)
        again = click(slack, recorder, "offer_cordon", cordon["value"], "U0SRE", "it is not repeated")
        assert again["text"].startswith("This cordon was carried out partway by <@U0OPS>")  # the offer stays used
        assert [s[1] for s in received(emulator)[clicked:] if s[0] == "PATCH"] == patches

        done = click(slack, recorder, drain["action_id"], drain["value"], "U0SRE", "<@U0SRE> drained `node node-a`")
        assert "evicted 1 pod(s)" in done["text"] and "blocked by PDB ledger-pdb: production/ledger-0" in done["text"]
        assert unschedulable(emulator, "node-a")
        entries = [(e["kind"], e["result"], e.get("done")) for e in audited(state, audit_from, "drain", "cordon")]
        assert entries == [
            ("drain", "refused by the cluster: 403", None),
            ("cordon", "partial: refused by the cluster: 403", "patched nodes/node-a"),
            ("drain", "done", entries[-1][2]),
        ]


def test_an_aws_change_needs_an_identity_too_and_is_made_with_the_bots_credentials(
    bot_with: Callable[..., SignedSlack], recorder: SlackRecorder, state: redis.Redis
) -> None:
    moto = Moto().start()
    try:
        rds = moto.client("rds")
        rds.create_db_instance(DBInstanceIdentifier="prod-db", Engine="postgres", DBInstanceClass="db.t3.micro",
                               AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="not-a-real-password")  # fmt: skip
        rds.create_db_snapshot(DBInstanceIdentifier="prod-db", DBSnapshotIdentifier="prod-db-snap")
        slack = bot_with(f", impersonate: {IMPERSONATE}", moto)
        offer = command_reply(slack, recorder, "restore prod-db-snap --as=prod-db-copy", "Database", command="/db")
        (restore,) = buttons_of(offer, "offer_rds-restore")
        audit_from = state.xlen("audit")
        reply = click(slack, recorder, "offer_rds-restore", restore["value"], "U0NOID", "has no Kubernetes identity")
        assert reply["text"].startswith("Database restore refused: <@U0NOID> has no Kubernetes identity")
        assert len(rds.describe_db_instances()["DBInstances"]) == 1  # prod-db alone
        done = "<@U0OPS> restored a snapshot to `RDS instance prod-db-copy`"
        click(slack, recorder, "offer_rds-restore", restore["value"], "U0OPS", done)  # never taken: given to them
        assert len(rds.describe_db_instances()["DBInstances"]) == 2
        entries = audited(state, audit_from, "rds-restore")
        assert [e["result"].split(":")[0] for e in entries] == ["refused", "done"] and "as" not in entries[1]
    finally:
        moto.stop()


def test_a_user_group_slack_does_not_answer_for_refuses_the_click_never_guessed(
    bot_with: Callable[[str], SignedSlack], recorder: SlackRecorder, emulator: KubeEmulator, state: redis.Redis
) -> None:
    slack = bot_with(f", impersonate: {IMPERSONATE}")
    message = command_reply(slack, recorder, "restart api-gateway production", "Restart: production/api-gateway")
    (button,) = buttons_of(message, "offer_restart")
    clicked, audit_from = len(received(emulator)), state.xlen("audit")
    recorder.fail("usergroups.users.list", "internal_error")  # U0OPS has a user of their own; S0SRE is unknown now
    reply = click(slack, recorder, "offer_restart", button["value"], "U0OPS", "could not read user group")
    assert reply["text"] == (
        ":warning: Restart not carried out: could not read user group S0SRE from Slack (SlackApiError), so whom to "
        "make it as in the cluster is not known. Nothing was changed."
    )
    assert received(emulator)[clicked:] == []
    (failed,) = audited(state, audit_from, "restart")
    assert failed["result"] == "failed: could not read user group S0SRE from Slack (SlackApiError)"
    recorder.clear_faults()  # never taken: once Slack answers, the click is carried out
    click(slack, recorder, "offer_restart", button["value"], "U0SRE", "<@U0SRE> restarted `production/api-gateway`")

    settings = Impersonate.model_validate({"groups": {"S0SRE": ["sre"]}})  # and past the cache (ttl 0), likewise

    async def expired() -> None:
        access = Access(build_client("xoxb-test", recorder.api_url), Permissions(), ttl_seconds=0)
        assert await identity_of(settings, access, "U0SRE") == Identity("slack:U0SRE", ("sre",))
        recorder.fail("usergroups.users.list", "internal_error")
        with pytest.raises(DependencyError, match="could not read user group S0SRE from Slack"):
            await identity_of(settings, access, "U0SRE")
        assert await access.in_group("U0SRE", "S0SRE")  # not for an identity: the last members read, as before

    asyncio.run(expired())
