"""The change feed over the wire, against kmock with planted history: ``/changes`` newest first with date tokens and
a Roll back button on the running rollout, the Secret by name only; an alert-opened incident in the rollout's
namespace gets that rollout as its first suspect in its thread, once, with the button; ``--service`` names the
scope of a typed incident (and a bad one changes nothing); the hand-off reviews what changed; the post-mortem's
timeline keeps them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core import keys
from tests.integration.test_alert_hardening import CONFIG, Rig
from tests.integration.test_alerts import alert, group
from tests.support.bot_process import ack_text
from tests.support.changes_seed import SECRET_KEY, SECRET_VALUE, changes_seed
from tests.support.kube import KubeEmulator
from tests.support.net import wait_for
from tests.support.slack_recorder import Call, SlackRecorder, blocks_of, own_recorder, text_of_blocks

CLUSTERS = """
kubernetes:
  clusters: [{name: prod, context: prod}]
changes: {secrets: true}
"""

# Teams instead of the one rotation: web owns production, data owns billing (the seeded changes' namespaces).
TEAMS = (
    CONFIG.replace("oncall: {timezone: UTC, rotation: [U0ALICE, U0BOB], lead: U0LEAD}\n", "")
    + """
default_team: web
teams:
  web: {owns: {namespaces: [production]}, schedules: [{rotation: [U0ALICE, U0BOB]}], lead: U0LEAD}
  data: {owns: {namespaces: [billing]}, schedules: [{rotation: [U0BOB, U0ALICE]}]}
"""
)

recorder = pytest.fixture(scope="module", name="recorder")(own_recorder)


@pytest.fixture
def rig(tmp_path: Path, recorder: SlackRecorder, request: pytest.FixtureRequest) -> Iterator[Rig]:
    emulator = KubeEmulator().start()
    emulator.seed(changes_seed())
    kubeconfig = emulator.kubeconfig(tmp_path / "kubeconfig", context="prod")
    base = TEAMS if request.node.get_closest_marker("teams") else CONFIG
    made = Rig(tmp_path, recorder, extra=CLUSTERS, env={"KUBECONFIG": str(kubeconfig)}, base=base)
    made.emulator = emulator  # type: ignore[attr-defined]
    yield made
    made.close()
    emulator.stop()


def answers(recorder: SlackRecorder, marker: str) -> list[Call]:
    return [c for c in recorder.of("response_url") if marker in str(c.params.get("text"))]


def thread_changes(recorder: SlackRecorder) -> list[Call]:
    return [c for c in recorder.of("chat.postMessage") if c.params.get("thread_ts")
            and "What changed" in text_of_blocks(blocks_of(c))]  # fmt: skip


def buttons_of(call: Call) -> list[dict[str, Any]]:
    return [e for b in blocks_of(call) if b["type"] == "actions" for e in b["elements"]]  # type: ignore[index]


def no_secret(calls: list[Any]) -> None:
    shown = json.dumps([c.params for c in calls], default=str)
    assert SECRET_KEY not in shown and SECRET_VALUE not in shown


def test_changes_lists_newest_first_with_date_tokens_and_a_roll_back_button(rig: Rig, recorder: SlackRecorder) -> None:
    ack = ack_text(rig.slack.command("--since=2h", command="/changes", user="U0BOB"))
    assert "Reading what changed" in ack
    (reply,) = wait_for(lambda: answers(recorder, "change(s) in the whole cluster"), what="the /changes answer")
    text = text_of_blocks(blocks_of(reply))
    lines = [line for line in text.splitlines() if line.startswith("<!date^")]
    expected = ["api-gateway", "node ip-10-0-3-7", "payments-config", "payments-stripe", "ledger-settings"]
    order = [next((w for w in expected if w in line), line) for line in lines]
    assert order == expected, text
    assert "2.4.1 → 2.4.2 (rev 4)" in lines[0] and "by argocd" in lines[0]
    (button,) = buttons_of(reply)
    assert button["text"]["text"] == "Roll back production/api-gateway to rev 3" and button["style"] == "danger"
    assert "2.4.2 → registry/api-gateway:2.4.1 (revision 4 → 3)" in button["confirm"]["text"]["text"]
    assert len(button["value"]) < 40  # only the offer's opaque id
    no_secret(recorder.calls)

    assert rig.slack.click(button["action_id"], button["value"], user="U0OPS").status_code == 200
    wait_for(lambda: answers(recorder, "rolled back `production/api-gateway` to revision 3"), what="the roll-back")

    narrowed = ack_text(rig.slack.command("production/api-gateway --since=1h", command="/changes", user="U0BOB"))
    assert "Reading" in narrowed
    (one,) = wait_for(lambda: answers(recorder, "in production/api-gateway"), what="the narrowed answer")
    narrow = text_of_blocks(blocks_of(one))
    assert "ledger-settings" not in narrow and "rev 4" in narrow
    assert "rollback through chatops-bot" in narrow and "by <@U0OPS>" in narrow, narrow  # the bot's own change


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("--since=forever", "is not a duration"),
        ("--since=90d", "between 1m and 30d"),
        ("Prod_NS", "is not a valid namespace name"),
        ("--cluster=stage", "is not a configured cluster"),
        ("a b", "Name one namespace or workload"),
    ],
)
def test_bad_changes_words_are_refused_plainly(rig: Rig, recorder: SlackRecorder, words: str, said: str) -> None:
    assert said in ack_text(rig.slack.command(words, command="/changes", user="U0BOB"))
    rig.bot.settled()
    assert not answers(recorder, "change(s)")  # refused in the acknowledgement: nothing was read


def test_an_alert_in_the_rollouts_namespace_gets_it_as_its_first_suspect_once(
    rig: Rig, recorder: SlackRecorder
) -> None:
    item = alert(
        "HighErrorRate", "api-gateway-1", severity="critical", namespace="production", pod="api-gateway-7d9f8b6c5-x2k4p"
    )
    payload = group("HighErrorRate", [item], **{k: v for k, v in item["labels"].items() if k != "alertname"})
    number = int(str(rig.send(payload)["incident"]).removeprefix("INC-"))
    (posted,) = wait_for(lambda: thread_changes(recorder), what="the incident's changes")
    shown = text_of_blocks(blocks_of(posted))
    assert "scope: production/api-gateway" in shown  # the workload its pod is named after
    lines = [line for line in shown.splitlines() if line.startswith("<!date^")]
    # seeded 10 minutes before the bot's real clock reads the feed: a loaded machine may tick a second past it
    assert "production/api-gateway" in lines[0] and re.search(r"— 10m(?: [1-9]s)? before INC-", lines[0]), lines
    assert "node ip-10-0-3-7" in lines[-1] or "ledger-settings" in lines[-1]
    (button,) = buttons_of(posted)
    assert button["text"]["text"].startswith("Roll back production/api-gateway")
    thread = str(posted.params["thread_ts"])
    clicked = rig.slack.click(button["action_id"], button["value"], user="U0OPS", message_ts=posted.reply_ts,
                              thread_ts=thread)  # fmt: skip
    assert clicked.status_code == 200
    followed = wait_for(lambda: [c for c in recorder.of("chat.postMessage")
                                 if "Rollout of `production/api-gateway`" in str(c.params.get("text"))],
                        what="the roll-back followed")  # fmt: skip
    assert followed[0].params.get("thread_ts") == thread  # in the incident's thread, not under the reply
    for _ in range(3):  # Alertmanager re-sends the group: nothing more is posted
        rig.send(payload)
    rig.bot.settled()
    assert len(thread_changes(recorder)) == 1
    kept = json.loads(str(rig.state.get(keys.incident_changes(number))))
    assert kept[0]["kind"] == "changed" and "api-gateway" in kept[0]["text"]
    no_secret(recorder.calls)


def test_a_typed_incident_names_its_service_and_a_bad_one_changes_nothing(rig: Rig, recorder: SlackRecorder) -> None:
    refused = ack_text(rig.slack.command("open P2 Ledger slow --service=Billing/Ledger", user="U0BOB"))
    assert "is not a valid namespace name" in refused and rig.incidents() == 0
    ack_text(rig.slack.command("open P2 Ledger slow --service=billing", user="U0BOB"))
    (posted,) = wait_for(lambda: thread_changes(recorder), what="the incident's changes")
    text = text_of_blocks(blocks_of(posted))
    assert "scope: billing" in text and "--service" not in rig.doc(1)["title"]
    first = next(line for line in text.splitlines() if line.startswith("<!date^"))
    assert "billing/ledger-settings" in first


@pytest.mark.teams
def test_an_incidents_what_changed_is_grouped_by_the_team_owning_each_namespace(
    rig: Rig, recorder: SlackRecorder
) -> None:
    opened = ack_text(rig.slack.command("open P2 Ledger slow --service=billing", user="U0BOB"))
    assert "team *data*" in opened  # billing is data's
    (posted,) = wait_for(lambda: thread_changes(recorder), what="the incident's changes")
    lines = text_of_blocks(blocks_of(posted)).splitlines()
    data, web = lines.index("*data* (1)"), next(i for i, ln in enumerate(lines) if ln.startswith("*web (and what no"))
    assert data < web  # the other teams first, the default team (with what nobody owns) last
    assert "billing/ledger-settings" in lines[data + 1]
    assert all("billing/" not in ln for ln in lines[web:])
    assert any("production/api-gateway" in ln for ln in lines[web:])


def test_the_handoff_reviews_the_changes_since_the_last_one(rig: Rig, recorder: SlackRecorder) -> None:
    ack_text(rig.slack.command("handoff", command="/oncall", user="U0ALICE"))
    (checklist,) = wait_for(lambda: [c for c in recorder.of("chat.postMessage")
                                     if c.params.get("text") == "On-call hand-off checklist"], what="the checklist")  # fmt: skip
    text = text_of_blocks(blocks_of(checklist))
    assert "Review recent changes/deployments" in text
    review = text[text.index("Review recent changes/deployments") :].split("☐")[0]
    assert "*prod*: " in review and "rollout(s)" in review and "2.4.1 → 2.4.2 (rev 4)" in review, review
    now = datetime.now(UTC)  # since the previous hand-off (Monday 09:00 UTC; the one before, within its 15 min)
    since = (now - timedelta(days=now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    since -= timedelta(days=7) if since > now or now - since < timedelta(minutes=15) else timedelta(0)
    if since < now - timedelta(hours=1, minutes=5):  # the seed's ConfigMap of billing changed an hour ago
        assert "billing 1" in review and "production 2" in review, review
    no_secret([checklist])
