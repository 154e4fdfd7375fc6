"""Maintenance windows and EKS upgrades over the wire: the bot over signed HTTP, kmock clusters (nodes, pods, a
PodDisruptionBudget, Deployments), moto with a stand-in for the EKS API it does not serve, a local server for the
smoke tests, and a throwaway Redis for the two-replica reminder test."""

from __future__ import annotations

import itertools
import json
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import kmock
import pytest
import redis
import yaml

from bot.core.clock import MovableClock
from bot.shell.slack import Event
from tests.support.aws import Moto
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.eks import AddonState, EksStandIn
from tests.support.harness import Bot
from tests.support.kube import KubeEmulator, plain
from tests.support.maintenance_seed import seed
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.replies import buttons_of, replies, reply_text, thread_posts, wait_reply
from tests.support.slack_recorder import Call, SlackRecorder, blocks_of, text_of_blocks
from tests.support.standin import Reply, Request, StandIn

ROLE = "arn:aws:iam::123456789012:role/eks"
OPS, BOB = "U0OPS", "U0BOB"
MW = __import__("re").compile(r"\*MW-(\d+)\*")
LONE_SEQ = itertools.count(800, 50)  # the windows of each bot of its own (``lone``), apart from every other's


# Servers ----------------------------------------------------------------------------------------------------------
class SmokeTarget(StandIn):
    """/health answers 200, /fail 500, /slow only after 3 s."""

    def __init__(self) -> None:
        super().__init__()
        self.start()

    def handle(self, request: Request) -> Reply:
        if request.path == "/slow":
            time.sleep(3)  # the bot gives up waiting after its 1 s, as it should
        return Reply(500 if request.path == "/fail" else 200, b"ok")


class NodesOnly(StandIn):
    """The second cluster's API, as far as the EKS checks read it: its nodes (kmock runs once per process)."""

    def __init__(self, nodes: list[dict[str, Any]]) -> None:
        super().__init__()
        self.nodes = {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": nodes}
        self.start()

    def handle(self, request: Request) -> Reply:
        return Reply(200, self.nodes) if request.path == "/api/v1/nodes" else Reply(404, {})


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KubeEmulator, NodesOnly, Path]]:
    now = datetime.now(UTC)
    prod = KubeEmulator().start()
    prod.seed(seed(now, {"node-a": "v1.29.3-eks-1", "node-b": "v1.26.15-eks-1"}))
    stage = NodesOnly(seed(now, {"stage-1": "v1.29.3-eks-1"})["v1/nodes"])

    def evictions() -> None:  # kmock does not serve the eviction subresource: the test answers as the API does
        prod.emulator["post", kmock.name("ledger-0"), kmock.subresource("eviction")] << 429
        prod.emulator["post", kmock.subresource("eviction")] << {"kind": "Status", "status": "Success", "code": 201}

    prod.call(evictions)
    path = tmp_path_factory.mktemp("kube") / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": n, "cluster": {"server": e.url}} for n, e in (("prod", prod), ("stage", stage))],
                "users": [{"name": "bot", "user": {"token": "kmock-test-token"}}],
                "contexts": [{"name": n, "context": {"cluster": n, "user": "bot"}} for n in ("prod", "stage")],
                "current-context": "prod",
            }
        )
    )
    yield prod, stage, path
    prod.stop()
    stage.stop()


@pytest.fixture(scope="module")
def aws() -> Iterator[tuple[Moto, EksStandIn]]:
    moto = Moto().start()
    eks = moto.client("eks")
    for name, groups in (("eks-prod", {"general": "1.29", "skewed": "1.28"}), ("eks-stage", {"workers": "1.29"})):
        eks.create_cluster(name=name, version="1.29", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-1"]})
        for group, version in groups.items():
            eks.create_nodegroup(
                clusterName=name, nodegroupName=group, nodeRole=ROLE, subnets=["subnet-1"], version=version
            )
    stand_in = EksStandIn(moto.url)
    stand_in.addons = {
        "eks-prod": {"vpc-cni": AddonState("v1.15.0-eksbuild.1"), "coredns": AddonState("v1.11.1-eksbuild.4")},
        "eks-stage": {"vpc-cni": AddonState("v1.16.0-eksbuild.1")},
    }
    stand_in.versions = {
        "vpc-cni": [
            ("v1.18.0-eksbuild.1", ["1.29", "1.30"], ["1.30"]),
            ("v1.16.0-eksbuild.1", ["1.29", "1.30"], ["1.29"]),
            ("v1.15.0-eksbuild.1", ["1.28", "1.29"], []),
        ],
        "coredns": [("v1.11.1-eksbuild.4", ["1.29", "1.30"], ["1.29", "1.30"])],
    }
    stand_in.insights = {
        "eks-prod": [
            {
                "id": "i-1",
                "name": "Deprecated APIs removed in Kubernetes v1.30",
                "category": "UPGRADE_READINESS",
                "insightStatus": {"status": "ERROR", "reason": "flowcontrol v1beta2 still in use"},
            }
        ]
    }
    yield moto, stand_in
    stand_in.stop()
    moto.stop()


@pytest.fixture(scope="module")
def smoke_target() -> Iterator[SmokeTarget]:
    target = SmokeTarget()
    yield target
    target.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, smoke_target: SmokeTarget) -> Path:
    path = tmp_path_factory.mktemp("maintenance") / "chatops.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            channels: {{incidents: C0INCIDENTS, stakeholders: C0STATUS, digest: C0HEALTH}}
            oncall: {{timezone: Europe/Berlin, rotation: [U0ALICE], lead: U0LEAD}}
            permissions: {{operators: [U0OPS]}}
            kubernetes:
              clusters: [{{name: prod, context: prod}}, {{name: stage, context: stage}}]
              rollout_timeout: 4s
            maintenance:
              smoke_tests:
                - {{name: api-health, url: "{smoke_target.url}/health"}}
                - {{name: payments, url: "{smoke_target.url}/fail"}}
                - {{name: slow, url: "{smoke_target.url}/slow", timeout: 1s}}
            aws:
              region: us-east-1
              eks: {{clusters: {{prod: {{name: eks-prod}}, stage: {{name: eks-stage}}}}}}
            """
        )
    )
    return path


def env_for(clusters: tuple[KubeEmulator, NodesOnly, Path], aws: tuple[Moto, EksStandIn]) -> dict[str, str]:
    return {"KUBECONFIG": str(clusters[2]), **aws[0].env(), "AWS_ENDPOINT_URL_EKS": aws[1].url}


@pytest.fixture(scope="module")
def bot(
    tmp_path_factory: pytest.TempPathFactory,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    clusters: tuple[KubeEmulator, NodesOnly, Path],
    aws: tuple[Moto, EksStandIn],
    config: Path,
) -> Iterator[Bot]:
    proc = Bot(
        redis_url=redis_server.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=tmp_path_factory.mktemp("mw-bot") / "bot.log",
        extra_env=env_for(clusters, aws),
    ).start()  # its clock is moved on by the last test only
    yield proc
    proc.terminate()


# Helpers ----------------------------------------------------------------------------------------------------------
def start_of(delta: timedelta, now: datetime | None = None) -> tuple[str, str]:
    """A start ``delta`` from ``now`` (the bot's clock; default the real time), as the command's date and UTC time."""
    moment = (now or datetime.now(UTC)) + delta
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%SZ")


def schedule(
    slack: SignedSlack, text: str, delta: timedelta = timedelta(days=3), user: str = OPS, now: datetime | None = None
) -> int:
    day, clock = start_of(delta, now)
    ack = ack_text(slack.command(f"schedule {day} {clock} {text}", command="/maintenance", user=user))
    match = MW.search(ack)
    assert match, ack
    return int(match.group(1))


def posts(recorder: SlackRecorder, channel: str, phrase: str) -> list[Call]:
    return [
        c
        for c in recorder.of("chat.postMessage")
        if c.params.get("channel") == channel and phrase in f"{c.params.get('text')} {text_of_blocks(blocks_of(c))}"
    ]


def message_of(recorder: SlackRecorder, number: int) -> Call:
    """The window's message in the incidents channel (its first post)."""
    found = wait_for(lambda: posts(recorder, "C0INCIDENTS", f"MW-{number}: "), what=f"MW-{number} announced")
    assert isinstance(found, list)
    return next(c for c in found if "thread_ts" not in c.params)


def latest(recorder: SlackRecorder, number: int, phrase: str = "") -> list[dict[str, Any]]:
    """The window message's blocks as last edited (waiting for an edit containing ``phrase``)."""
    ts = message_of(recorder, number).reply_ts

    def edited() -> list[dict[str, Any]] | None:
        edits = [c for c in recorder.of("chat.update") if c.params.get("ts") == ts]
        if edits and phrase in text_of_blocks(blocks_of(edits[-1])):
            return blocks_of(edits[-1])
        return None

    found = wait_for(edited, timeout=15, what=f"MW-{number} edited to show {phrase!r}")
    assert isinstance(found, list)
    return found


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    (found,) = buttons_of({"blocks": blocks}, action_id)
    return found


def unique_action_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The buttons of every actions block, once it is checked that no action_id repeats within its block (Slack
    answers ``invalid_blocks`` otherwise)."""
    found = []
    for block in blocks:
        if block["type"] == "actions":
            ids = [e["action_id"] for e in block["elements"]]
            assert len(ids) == len(set(ids)), ids
            found += block["elements"]
    return found


def click(
    slack: SignedSlack, recorder: SlackRecorder, action: str, value: str, phrase: str, user: str = OPS
) -> dict[str, Any]:
    since = len(recorder.of("response_url"))
    slack.click(action, value, user=user)
    return wait_reply(recorder, since, phrase)


def kube_writes(emulator: KubeEmulator, method: str, fragment: str) -> int:
    return int(
        emulator.call(
            lambda: len(
                [r for r in emulator.emulator if str(r.method).upper().endswith(method) and fragment in str(r.url)]
            )
        )
    )


def progress(recorder: SlackRecorder, phrase: str) -> list[Call]:
    """A reply being edited as something progresses (ThreadSink edits its first post)."""
    return [c for c in recorder.of("chat.update") if phrase in str(c.params.get("text"))]


def thread_of(recorder: SlackRecorder, number: int, phrase: str, timeout: float = 20) -> list[Call]:
    ts = message_of(recorder, number).reply_ts

    def found() -> list[Call]:
        return [c for c in posts(recorder, "C0INCIDENTS", phrase) if c.params.get("thread_ts") == ts]

    result = wait_for(found, timeout=timeout, what=f"{phrase!r} in the thread of MW-{number}")
    assert isinstance(result, list)
    return result


# Windows ----------------------------------------------------------------------------------------------------------
def test_a_window_is_announced_listed_and_bad_input_refused(
    slack: SignedSlack, recorder: SlackRecorder, state: redis.Redis
) -> None:
    number = schedule(
        slack, "2h Postgres minor upgrade --cluster=prod --nodes=node-a --services=production/api-gateway"
    )
    announced = message_of(recorder, number)
    text = text_of_blocks(blocks_of(announced))
    assert "Postgres minor upgrade" in text and "Scheduled" in text and "node-a" in text and "<@U0OPS>" in text
    assert "⬜ Change plan reviewed" in text and "⬜ Verify rollback readiness" in text
    wait_for(lambda: posts(recorder, "C0STATUS", f"MW-{number}: Postgres"), what="the stakeholders' copy")
    listing = ack_text(slack.command("list", command="/maintenance", user=BOB))
    assert f"*MW-{number}* Postgres minor upgrade" in listing and "checklist 0/5" in listing

    refused = ack_text(slack.command("schedule 2030-01-01 10:00 2h x", command="/maintenance", user=BOB))
    assert "Only operators" in refused
    seq = state.get("mw:seq")
    day, clock = start_of(timedelta(days=2))
    for text, rule in [
        ("schedule tomorrow-ish 2h x", "is not a start time"),
        ("schedule 2020-01-01 10:00 2h x", "in the past"),
        ("schedule 0001-01-01 00:00 2h x", "within a year from now"),  # east of UTC: before year 1 in UTC
        ("schedule 9999-12-31 23:59 2h x", "within a year from now"),
        ("schedule 9999-12-31 23:59-05:00 2h x", "within a year from now"),
        (f"schedule {day} {clock} 0m x", "is not a duration"),
        (f"schedule {day} {clock} 400d x", "at most 7d"),
        ("schedule 2027-03-28 02:30 1h x", "does not exist in Europe/Berlin"),
        ("schedule 2027-10-31 02:30 1h x", "happens twice in Europe/Berlin"),
        (f"schedule {day} {clock} 1h x --nodes=$(reboot)", "is not a valid node name"),
        (f"schedule {day} {clock} 1h x --nodes=../etc", "is not a valid node name"),
        (f"schedule {day} {clock} 1h x --services=../etc", "`..` is not a valid namespace name"),
        (f"schedule {day} {clock} 1h x --services=api-gateway", "is not `namespace/deployment`"),
        (f"schedule {day} {clock} 1h x --services=Prod/API", "is not a valid namespace name"),
        (f"schedule {day} {clock} 1h x --cluster=../prod", "is not a configured cluster"),
        (f"schedule {day} {clock} 1h " + "t" * 300, "keep it to 150"),
        ("start MW-x", "Name the window"),
        ("explode", "is not a /maintenance command"),
    ]:
        assert rule in ack_text(slack.command(text, command="/maintenance", user=OPS)), text
    assert state.get("mw:seq") == seq  # nothing stored


def test_a_form_slack_will_not_open_falls_back_to_the_command(slack: SignedSlack, recorder: SlackRecorder) -> None:
    recorder.fail("views.open", "expired_trigger_id")
    try:
        before = len(recorder.of("response_url"))
        assert slack.command("schedule", command="/maintenance", user=OPS).status_code == 200
        wait_for(lambda: len(recorder.of("response_url")) > before, what="fallback reply")
        assert "/maintenance schedule <YYYY-MM-DD>" in recorder.of("response_url")[-1].params["text"]
    finally:
        recorder.failures.clear()


def test_the_form_schedules_and_says_what_is_wrong(slack: SignedSlack, recorder: SlackRecorder) -> None:
    before = len(recorder.of("views.open"))
    ack_text(slack.command("schedule", command="/maintenance", user=OPS))
    (opened,) = recorder.wait_for_calls("views.open", before + 1)[before:]
    view = opened.params["view"]
    assert (json.loads(view) if isinstance(view, str) else view)["callback_id"] == "mw_schedule"
    moment = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin")) + timedelta(days=4)

    def submit(duration: str) -> Any:
        values = {
            "title": {"value": {"type": "plain_text_input", "value": "Kafka broker restarts"}},
            "date": {"value": {"type": "datepicker", "selected_date": moment.strftime("%Y-%m-%d")}},
            "time": {"value": {"type": "timepicker", "selected_time": "09:30"}},
            "duration": {"value": {"type": "plain_text_input", "value": duration}},
            "cluster": {"value": {"type": "plain_text_input", "value": None}},
            "nodes": {"value": {"type": "plain_text_input", "value": None}},
            "services": {"value": {"type": "plain_text_input", "value": "kafka/brokers"}},
        }
        payload = {
            "type": "view_submission",
            "team": {"id": "T111", "domain": "test-domain"},
            "user": {"id": OPS, "username": "ops", "name": "ops", "team_id": "T111"},
            "api_app_id": "A111",
            "token": "verification_token",
            "trigger_id": f"{uuid.uuid4().int % 10**13}.111.mw",
            "view": {"id": "V222", "type": "modal", "callback_id": "mw_schedule", "state": {"values": values}},
        }
        return slack.post("payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded")

    wrong = submit("soon")
    assert wrong.json()["response_action"] == "errors" and "is not a duration" in wrong.json()["errors"]["duration"]
    assert submit("90m").status_code == 200
    wait_for(lambda: posts(recorder, "C0INCIDENTS", ": Kafka broker restarts"), what="the form's window announced")


def test_reminders_go_out_once_across_replicas_and_restarts(
    tmp_path: Path,
    recorder: SlackRecorder,
    clusters: tuple[KubeEmulator, NodesOnly, Path],
    aws: tuple[Moto, EksStandIn],
    config: Path,
) -> None:
    own = RedisServer().start()  # only these two replicas: every replica of this store restarts below
    store = redis.Redis.from_url(own.url, decode_responses=True)
    # Numbered apart from the module's shared store: the Slack stand-in is shared too, and another test's MW-2 must
    # not find this one's message.
    store.set("mw:seq", 900)
    clock = MovableClock()  # the replicas' one clock, before and after the restart

    def replicas(tag: str) -> list[Bot]:
        return [
            Bot(
                redis_url=own.url,
                slack_api_url=recorder.api_url,
                config_path=config,
                log_path=tmp_path / f"{tag}-{i}.log",
                extra_env=env_for(clusters, aws),
                clock=clock,
            ).start()
            for i in range(2)
        ]

    def advance(bots: list[Bot], step: timedelta) -> None:
        for bot in bots:
            bot.ticked()
        clock.advance(step)
        for bot in bots:
            bot.wake()

    def settled(number: int) -> bool:
        member = f"{number}:day"
        return (
            bool(store.hget(f"mw:{{{number}}}:sent", "day"))
            and store.zscore("{mw}:due", member) is None
            and (store.zscore("{mw}:pending", member) is None)
        )

    bots = replicas("first")
    try:
        slack = SignedSlack(bots[0].base_url, recorder.response_url)
        first = schedule(slack, "1h Node pool rotation", delta=timedelta(days=2), now=clock())
        second = schedule(slack, "1h Ingress controller upgrade", delta=timedelta(days=2, hours=1), now=clock())
        advance(bots, timedelta(days=1, seconds=1))
        wait_for(lambda: settled(first), what="MW's T-1 d reminder")
        slack.close()
    finally:
        for bot in bots:
            bot.terminate()
    assert not store.hget(f"mw:{{{second}}}:sent", "day")
    clock.advance(timedelta(hours=1))  # the second reminder falls due while every replica is down
    bots = replicas("again")
    try:
        wait_for(lambda: settled(second), what="the T-1 d reminder after the restart")
    finally:
        for bot in bots:
            bot.terminate()
        store.close()
        own.cleanup()
    for number in (first, second):
        for channel in ("C0INCIDENTS", "C0STATUS"):
            assert len(posts(recorder, channel, f"📣 Tomorrow: *MW-{number}:")) == 1, (number, channel)
        assert not posts(recorder, "C0INCIDENTS", f"In a week: *MW-{number}:")  # scheduled less than a week ahead


@pytest.fixture
def lone(
    tmp_path: Path,
    recorder: SlackRecorder,
    clusters: tuple[KubeEmulator, NodesOnly, Path],
    aws: tuple[Moto, EksStandIn],
    config: Path,
) -> Iterator[tuple[Bot, SignedSlack]]:
    """A bot of its own store and clock, moved on by its test (numbered MW-801…, apart from the module's)."""
    own = RedisServer().start()
    store = redis.Redis.from_url(own.url, decode_responses=True)
    store.set("mw:seq", next(LONE_SEQ))
    store.close()
    proc = Bot(redis_url=own.url, slack_api_url=recorder.api_url, config_path=config, log_path=tmp_path / "lone.log",
               extra_env=env_for(clusters, aws)).start()  # fmt: skip
    slack = SignedSlack(proc.base_url, recorder.response_url)
    yield proc, slack
    recorder.clear_faults()
    slack.close()
    proc.terminate()
    own.cleanup()


def delivered(recorder: SlackRecorder, channel: str, phrase: str) -> list[Call]:
    """Posts that Slack took (not answered 429 or with an error)."""
    return [c for c in posts(recorder, channel, phrase) if not c.limited and not c.error]


def test_each_destination_of_a_reminder_is_delivered_once_and_a_refusal_is_said_once(
    lone: tuple[Bot, SignedSlack], recorder: SlackRecorder
) -> None:
    bot, slack = lone
    first = schedule(slack, "1h Node pool rotation", delta=timedelta(days=2), now=bot.clock())
    second = schedule(slack, "1h Ingress controller upgrade", delta=timedelta(days=2, hours=1), now=bot.clock())
    for number in (first, second):
        message_of(recorder, number)
        wait_for(lambda n=number: delivered(recorder, "C0STATUS", f"MW-{n}: "), what="the stakeholders' copy")

    # The first T-1 d: the stakeholders channel answers 429 past the client's own retries (transient), once.
    recorder.rate_limit("chat.postMessage", times=4, retry_after=0, channel="C0STATUS")
    bot.advance(timedelta(days=1, seconds=1))
    wait_for(lambda: delivered(recorder, "C0INCIDENTS", f"Tomorrow: *MW-{first}:"), what="the T-1 d reminder")
    for _ in range(4):  # two minutes: the refused destination is tried again; the other is not
        bot.advance(timedelta(seconds=30))
    wait_for(lambda: delivered(recorder, "C0STATUS", f"Tomorrow: *MW-{first}:"), what="the stakeholders' reminder")
    bot.ticked()
    for channel in ("C0INCIDENTS", "C0STATUS"):
        assert len(delivered(recorder, channel, f"Tomorrow: *MW-{first}:")) == 1, channel

    # The second: the stakeholders channel refuses for good (not_in_channel): #incidents gets it once, the refused
    # channel is tried once, the refusal said once in the window's thread and logged once.
    recorder.fail("chat.postMessage", "not_in_channel", channel="C0STATUS")
    bot.advance(timedelta(hours=1))
    wait_for(lambda: delivered(recorder, "C0INCIDENTS", f"Tomorrow: *MW-{second}:"), what="the second reminder")
    wait_for(lambda: posts(recorder, "C0STATUS", f"Tomorrow: *MW-{second}:"), what="the refused channel tried")
    for _ in range(4):  # two minutes of the 30 s retries
        bot.advance(timedelta(seconds=30))
    bot.ticked()
    assert len(delivered(recorder, "C0INCIDENTS", f"Tomorrow: *MW-{second}:")) == 1
    assert len(posts(recorder, "C0STATUS", f"Tomorrow: *MW-{second}:")) == 1  # refused once, not retried
    note = f"The T-1 d reminder of MW-{second} was not posted in <#C0STATUS>: Slack answered `not_in_channel`"
    wait_for(lambda: posts(recorder, "C0INCIDENTS", note), what="the refusal said in the thread")
    assert len(posts(recorder, "C0INCIDENTS", note)) == 1  # said once
    said = [json.loads(line)["msg"] for line in bot.log_path.read_text().splitlines() if '"level": "error"' in line]
    refusals = [m for m in said if f"reminder of MW-{second} to C0STATUS" in m and "not_in_channel" in m]
    assert len(refusals) == 1, said  # logged once, as an error


def test_a_window_title_neither_mentions_nor_links_in_text_only_posts_and_notifications(
    lone: tuple[Bot, SignedSlack], recorder: SlackRecorder
) -> None:
    bot, slack = lone
    number = schedule(slack, "1h <!channel> Node upgrade <https://evil.example|docs>", delta=timedelta(days=2),
                      now=bot.clock())  # fmt: skip
    message = message_of(recorder, number)
    bot.advance(timedelta(days=1, seconds=1))
    reminder = wait_for(lambda: delivered(recorder, "C0STATUS", f"Tomorrow: *MW-{number}:"), what="the reminder")
    ack_text(slack.command(f"cancel MW-{number}", command="/maintenance", user=OPS))
    cancelled = wait_for(lambda: [c for c in delivered(recorder, "C0STATUS", f"MW-{number}:")
                                  if "is cancelled by" in c.params["text"]], what="the cancellation")  # fmt: skip
    assert isinstance(reminder, list) and isinstance(cancelled, list)
    (cancel,) = [e for e in unique_action_ids(blocks_of(message)) if e["action_id"] == "mw_cancel"]
    texts = [message.params["text"], reminder[0].params["text"], cancelled[-1].params["text"],
             cancel["confirm"]["text"]["text"]]  # fmt: skip
    for text in texts:
        assert "<!channel>" not in text and "<https://evil" not in text, text
        assert "&lt;!channel&gt; Node upgrade &lt;https://evil.example|docs&gt;" in text, text


def test_the_checklist_ticks_with_who_and_checks_rollback_readiness(
    slack: SignedSlack, recorder: SlackRecorder, clusters: tuple[KubeEmulator, NodesOnly, Path]
) -> None:
    prod = clusters[0]
    number = schedule(slack, "1h Gateway config change --services=production/api-gateway,production/payments-api")
    message_of(recorder, number)
    reply = click(slack, recorder, "mw_step", f"{number}:plan", "Change plan reviewed: ticked", user=BOB)
    assert reply["response_type"] == "ephemeral"
    assert "✅ Change plan reviewed (<@U0BOB>" in text_of_blocks(latest(recorder, number, "✅ Change plan reviewed"))
    click(slack, recorder, "mw_step", f"{number}:plan", "was ticked by <@U0BOB> already")
    ready = click(slack, recorder, "mw_step", f"{number}:ready", "Verify rollback readiness: ticked")
    assert "cannot roll back: production/payments-api (no earlier revision)" in ready["text"]
    assert "api-gateway" not in ready["text"]
    backup = click(slack, recorder, "mw_step", f"{number}:backup", "Backup critical data: ticked")
    assert f"Velero backup mw-{number}-production-" in backup["text"]
    name = thread_of(recorder, number, f"Backup `mw-{number}-production-")[0].params["text"].split("`")[1]
    key = ("velero.io/v1/backups", "velero", name)
    made = plain(prod.call(lambda: prod.emulator.objects[key]))
    assert made["spec"]["includedNamespaces"] == ["production"]

    def complete() -> None:  # Velero's controller at work
        status = {"phase": "Completed", "progress": {"totalItems": 9, "itemsBackedUp": 9}}
        prod.emulator.objects[key] = {**made, "status": status}

    prod.call(complete)
    wait_for(lambda: progress(recorder, f"Backup `{name}`: Completed, 9/9 items"), what="the backup completed")
    listing = ack_text(slack.command("list", command="/maintenance"))
    assert f"*MW-{number}*" in listing and "checklist 3/5" in listing


def test_a_window_announced_as_redis_stalls_keeps_where_its_message_is(
    slack: SignedSlack, recorder: SlackRecorder, bot: Bot, redis_server: RedisServer
) -> None:
    """Redis stops answering the instant the window's message is posted: where it is, is kept once Redis is back,
    so the message still follows the window (started: edited in place), and nobody is told "Nothing was changed"."""

    def stall_at_the_message(event: Event) -> None:  # on the stand-in's thread, before Slack answers the post
        message = event.message
        if event.kind == "posted" and message and not message.thread_ts and "Disk swap on builders" in message.text:
            redis_server.stall()

    def deferred() -> int:
        return bot.log_path.read_text(errors="replace").count("not written yet")

    before, since = deferred(), len(recorder.of("response_url"))
    listener, recorder.listener = recorder.listener, stall_at_the_message
    try:
        number = schedule(slack, "1h Disk swap on builders")
        message_of(recorder, number)
        wait_for(lambda: deferred() > before, what="the bot finding Redis away after the post")
    finally:
        recorder.listener = listener
        redis_server.resume()
    ack_text(slack.command(f"start MW-{number}", command="/maintenance", user=OPS))
    latest(recorder, number, "In progress")  # the message of the window, edited: where it is was kept
    said = [str(r.get("text")) for r in replies(recorder, since)]
    assert not [t for t in said if "Nothing was changed" in t], said
    ack_text(slack.command(f"done MW-{number}", command="/maintenance", user=OPS))  # no window left running


def test_cordon_drain_and_uncordon_from_the_window(
    slack: SignedSlack, recorder: SlackRecorder, clusters: tuple[KubeEmulator, NodesOnly, Path], state: redis.Redis
) -> None:
    prod = clusters[0]
    number = schedule(slack, "2h Kernel patching --cluster=prod --nodes=node-a,node-b")
    message_of(recorder, number)
    click(slack, recorder, "mw_start", str(number), "Only operators (permissions.operators) may start", user=BOB)
    slack.click("mw_start", str(number), user=OPS)
    blocks = latest(recorder, number, "In progress")
    cordon = button(blocks, "offer_cordon")
    assert "node-a, node-b unschedulable" in cordon["confirm"]["text"]["text"] and "node" not in cordon["value"]
    drains = [b for b in unique_action_ids(blocks) if b["action_id"].startswith("offer_drain:")]
    assert [b["text"]["text"] for b in drains] == ["Drain node-a", "Drain node-b"]

    patches = kube_writes(prod, "PATCH", "/nodes/")
    since = len(recorder.of("response_url"))
    for _ in range(2):  # a double click
        slack.post(slack.click_body("offer_cordon", cordon["value"], user=OPS), "application/x-www-form-urlencoded")
    wait_reply(recorder, since, "<@U0OPS> cordoned `node(s) node-a, node-b`")
    wait_reply(recorder, since, "it is not repeated")
    assert kube_writes(prod, "PATCH", "/nodes/") == patches + 2  # once per node
    assert all(
        plain(prod.call(lambda n=n: prod.emulator.objects["v1/nodes", None, n]))["spec"]["unschedulable"]
        for n in ("node-a", "node-b")
    )
    blocks = latest(recorder, number, "Cordoned by this window")
    assert "Uncordon 2 node(s)" in text_of_blocks(blocks)

    drain = next(b for b in unique_action_ids(blocks) if b["text"]["text"] == "Drain node-a")
    assert "PodDisruptionBudgets are respected" in drain["confirm"]["text"]["text"]
    done = click(slack, recorder, drain["action_id"], drain["value"], "<@U0OPS> drained `node node-a`")
    assert "evicted 1 pod(s)" in done["text"] and "blocked by PDB ledger-pdb: production/ledger-0" in done["text"]
    assert "skipped 1 DaemonSet pod(s)" in done["text"]
    assert kube_writes(prod, "POST", "/fluentd-x2k/eviction") == 0  # a DaemonSet pod is never evicted

    ack_text(slack.command(f"done MW-{number} patched", command="/maintenance", user=OPS))
    still = thread_of(recorder, number, "still cordoned by it: node-a, node-b")[-1]
    uncordon = button(blocks_of(still), "offer_uncordon")
    click(slack, recorder, "offer_uncordon", uncordon["value"], "<@U0OPS> uncordoned `node(s) node-a, node-b`")
    for node in ("node-a", "node-b"):
        assert not plain(prod.call(lambda n=node: prod.emulator.objects["v1/nodes", None, n]))["spec"]["unschedulable"]
    audit = [f for _, f in state.xrange("audit") if f.get("kind") in ("cordon", "drain", "uncordon")]
    assert [(a["kind"], a["result"]) for a in audit][-3:] == [
        ("cordon", "done"),
        ("drain", "done"),
        ("uncordon", "done"),
    ]


def test_each_button_of_a_window_has_an_action_id_of_its_own_and_is_answered(
    slack: SignedSlack, recorder: SlackRecorder
) -> None:
    number = schedule(slack, "2h Node patching --cluster=prod --nodes=node-a,node-b")
    elements = unique_action_ids(blocks_of(message_of(recorder, number)))
    steps = [e for e in elements if e["action_id"].startswith("mw_step")]
    assert len(steps) == 5
    plan = next(e for e in steps if e["value"] == f"{number}:plan")
    click(slack, recorder, plan["action_id"], plan["value"], "Change plan reviewed: ticked", user=BOB)
    ack_text(slack.command(f"start MW-{number}", command="/maintenance", user=OPS))
    elements = unique_action_ids(latest(recorder, number, "In progress"))
    drains = [e for e in elements if e["text"]["text"].startswith("Drain ")]
    assert [d["text"]["text"] for d in drains] == ["Drain node-a", "Drain node-b"]
    assert all(d["action_id"].startswith("offer_drain") for d in drains)
    refused = click(slack, recorder, drains[1]["action_id"], drains[1]["value"], "Nothing was changed", user=BOB)
    assert "Only operators" in refused["text"]  # the listener took the new id (and refused a non-operator)
    ack_text(slack.command(f"done MW-{number}", command="/maintenance", user=OPS))


def test_smoke_tests_report_each_result_and_a_failure_offers_the_roll_back(
    slack: SignedSlack, recorder: SlackRecorder
) -> None:
    number = schedule(slack, "30m Gateway release --cluster=prod --services=production/api-gateway")
    message_of(recorder, number)
    ack_text(slack.command(f"start MW-{number}", command="/maintenance", user=OPS))
    latest(recorder, number, "In progress")
    click(slack, recorder, "mw_smoke", str(number), "Running the smoke tests", user=BOB)
    report = text_of_blocks(blocks_of(thread_of(recorder, number, f"Smoke tests for MW-{number}: 1/3 passed")[-1]))
    assert "✅ *api-health* 200 in" in report
    assert "🔴 *payments* answered 500, expected 200" in report
    assert "🔴 *slow* timed out after 1 s" in report
    offer = thread_of(recorder, number, "Rollout history")[-1]
    accessories = [b.get("accessory") or {} for b in blocks_of(offer)]
    assert [a["text"]["text"] for a in accessories if a.get("action_id") == "offer_rollback"] == [
        "Roll back to revision 2",
        "Roll back to revision 1",
    ]
    ack_text(slack.command(f"done MW-{number}", command="/maintenance", user=OPS))


def test_an_incident_during_a_window_names_it_and_the_handoff_lists_what_is_coming(
    slack: SignedSlack, recorder: SlackRecorder
) -> None:
    number = schedule(slack, "1h Redis failover drill --cluster=prod")
    message_of(recorder, number)
    ack_text(slack.command(f"start MW-{number}", command="/maintenance", user=OPS))
    opened = ack_text(slack.command("open P2 Checkout latency up", user=BOB))
    incident = opened.split("*INC-")[1].split("*", 1)[0]
    found = wait_for(
        lambda: [
            c
            for c in posts(recorder, "C0INCIDENTS", f"INC-{incident}: Checkout latency up")
            if "Opened during" in text_of_blocks(blocks_of(c))
        ],
        what="the announcement naming the window",
    )
    assert isinstance(found, list)
    assert f"Opened during maintenance *MW-{number}: Redis failover drill*" in text_of_blocks(blocks_of(found[0]))
    ack_text(slack.command("handoff", command="/oncall", user=BOB))
    handoff = wait_for(lambda: posts(recorder, "C0INCIDENTS", "Review upcoming maintenance"), what="the hand-off")
    assert isinstance(handoff, list) and f"*MW-{number}* Redis failover drill" in text_of_blocks(blocks_of(handoff[-1]))
    ack_text(slack.command(f"done MW-{number}", command="/maintenance", user=OPS))


def test_cancelling_edits_the_message_and_posts_the_cancellation(slack: SignedSlack, recorder: SlackRecorder) -> None:
    number = schedule(slack, "1h DNS migration")
    message_of(recorder, number)
    assert f"*MW-{number}* is cancelled" in ack_text(
        slack.command(f"cancel MW-{number} vendor postponed", command="/maintenance", user=OPS)
    )
    assert "vendor postponed" in text_of_blocks(latest(recorder, number, "Cancelled"))
    for channel in ("C0INCIDENTS", "C0STATUS"):
        wait_for(
            lambda c=channel: posts(recorder, c, f"MW-{number}: DNS migration* ("), what=f"cancellation in {channel}"
        )
        assert (
            "is cancelled by <@U0OPS>: vendor postponed"
            in posts(recorder, channel, f"MW-{number}: DNS migration* (")[-1].params["text"]
        )
    again = ack_text(slack.command(f"cancel MW-{number}", command="/maintenance", user=OPS))
    assert "cannot be cancelled: cancelled" in again


# EKS --------------------------------------------------------------------------------------------------------------
def ask(slack: SignedSlack, recorder: SlackRecorder, text: str, phrase: str, user: str = BOB) -> dict[str, Any]:
    since = len(recorder.of("response_url"))
    ack_text(slack.command(text, command="/eks", user=user))
    return wait_reply(recorder, since, phrase, timeout=30)


def test_eks_check_names_every_blocker(slack: SignedSlack, recorder: SlackRecorder) -> None:
    report = reply_text(ask(slack, recorder, "check prod", "EKS upgrade check: eks-prod → 1.30"))
    assert "blocked by" in report
    assert "node group skewed is at 1.28, not the control plane's 1.29" in report
    assert "kubelets more than 3 minors behind 1.30: node-b (v1.26.15-eks-1)" in report
    assert "add-on vpc-cni v1.15.0-eksbuild.1 is not compatible with 1.30; update it to v1.18.0-eksbuild.1" in report
    assert "insight Deprecated APIs removed in Kubernetes v1.30: flowcontrol v1beta2 still in use" in report
    assert "coredns v1.11.1-eksbuild.4: compatible with 1.30" in report and "node group general: 1.29" in report
    skip = reply_text(ask(slack, recorder, "check prod 1.31", "EKS upgrade check"))
    assert "1.29 → 1.31 skips a minor version; EKS upgrades one minor at a time (next: 1.30)" in skip
    no = ask(slack, recorder, "upgrade prod 1.30", "No upgrade offered")
    assert "the pre-checks do not pass" in reply_text(no) and not buttons_of(no, "offer_eks-upgrade")
    forced = ask(slack, recorder, "upgrade prod 1.31 --force", "No upgrade offered")
    assert "skips a minor version" in reply_text(forced)
    for text, rule in [
        ("check nope", "is not a configured cluster"),
        ("check prod 2.0", "is not a Kubernetes version"),
        ("check ../prod", "is not a configured cluster"),
        ("upgrade prod", "Write `/eks upgrade"),
    ]:
        assert rule in ack_text(slack.command(text, command="/eks")), text


def test_eks_upgrade_once_followed_then_node_groups_and_add_ons_offered(
    slack: SignedSlack, recorder: SlackRecorder, aws: tuple[Moto, EksStandIn], state: redis.Redis
) -> None:
    stand_in = aws[1]
    offer = ask(slack, recorder, "upgrade stage 1.30", "EKS upgrade of eks-stage to 1.30 offered")
    assert "ready to upgrade 1.29 → 1.30" in reply_text(offer)
    upgrade = buttons_of(offer, "offer_eks-upgrade")[0]
    assert "Upgrades the control plane of eks-stage to Kubernetes 1.30" in upgrade["confirm"]["text"]["text"]
    click(slack, recorder, "offer_eks-upgrade", upgrade["value"], "Only operators", user=BOB)
    assert not stand_in.of("update_cluster_version")

    since = len(recorder.of("response_url"))
    for _ in range(2):
        slack.post(
            slack.click_body("offer_eks-upgrade", upgrade["value"], user=OPS), "application/x-www-form-urlencoded"
        )
    wait_reply(recorder, since, "<@U0OPS> started the EKS upgrade of `EKS cluster eks-stage to 1.30`")
    wait_reply(recorder, since, "it is not repeated")
    (update,) = stand_in.of("update_cluster_version")
    wait_for(lambda: thread_posts(recorder, "Control plane of `eks-stage` → 1.30: InProgress"), what="progress")
    stand_in.finish(update.id)
    wait_for(
        lambda: any("1.30: Successful" in t for t in thread_posts(recorder, "Control plane of `eks-stage`")),
        timeout=20,
        what="Successful",
    )
    following = wait_for(
        lambda: [
            c for c in recorder.of("chat.postMessage") if "Next, after the EKS upgrade" in str(c.params.get("text"))
        ],
        timeout=20,
        what="the next offers",
    )
    assert isinstance(following, list)
    blocks = {"blocks": blocks_of(following[-1])}
    (group,) = buttons_of(blocks, "offer_eks-nodegroup-upgrade")
    (addon,) = buttons_of(blocks, "offer_eks-addon-update")
    assert group["text"]["text"] == "Node group workers of eks-stage to 1.30"
    assert addon["text"]["text"] == "Add-on vpc-cni of eks-stage to v1.18.0-eksbuild.1"

    click(
        slack,
        recorder,
        "offer_eks-nodegroup-upgrade",
        group["value"],
        "<@U0OPS> started the upgrade of `node group workers",
    )
    (rolling,) = stand_in.of("update_nodegroup_version")
    stand_in.finish(
        rolling.id,
        "Failed",
        [{"errorCode": "NodeCreationFailure", "errorMessage": "Instances failed to join the kubernetes cluster"}],
    )
    wait_for(
        lambda: any(
            "Failed: NodeCreationFailure: Instances failed to join" in t
            for t in thread_posts(recorder, "Node group upgrade of")
        ),
        timeout=20,
        what="the failed node group update with its errors",
    )
    audit = [f for _, f in state.xrange("audit") if f.get("kind") == "eks-upgrade"]
    assert [(a["actor"], a["result"]) for a in audit] == [("U0BOB", "refused: not an operator"), ("U0OPS", "done")]


def test_start_and_overrun_reminders_and_todays_windows_in_the_digest(
    slack: SignedSlack, recorder: SlackRecorder, bot: Bot
) -> None:
    number = schedule(slack, "5m Certificate swap --cluster=prod", delta=timedelta(minutes=2), now=bot.clock())
    message_of(recorder, number)
    bot.advance(timedelta(minutes=2))
    started = thread_of(recorder, number, f"*MW-{number}: Certificate swap* is due to start now")
    since = len(recorder.of("response_url"))
    ack_text(slack.command("", command="/health", user=BOB))
    health = reply_text(wait_reply(recorder, since, "Maintenance today", timeout=60))
    assert f"*MW-{number}* Certificate swap" in health  # due now: today's, whatever the hour
    bot.advance(timedelta(minutes=5, seconds=1))
    assert started[0].params.get("reply_broadcast") is True
    overrun = thread_of(recorder, number, "should have ended at")
    assert "is not marked done" in overrun[0].params["text"] and "<@U0OPS>" in overrun[0].params["text"]
    assert not posts(recorder, "C0INCIDENTS", f"Tomorrow: *MW-{number}:")  # scheduled seconds ahead: no T-1 d
    ack_text(slack.command(f"done MW-{number}", command="/maintenance", user=OPS))
