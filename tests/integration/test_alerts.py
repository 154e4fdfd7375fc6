"""Alerts open incidents, and the status page follows them, over the wire: Alertmanager's webhook payloads (the
format of its documentation) POSTed to the running bot, a stand-in of Statuspage's API that records every call and
fails on demand, a stand-in of Alertmanager's /api/v2/alerts, the bot's own Redis, the recording Slack."""

from __future__ import annotations

import hashlib
import json
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from bot.core import keys
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.escalation import dms
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.secrets_scan import leaks
from tests.support.slack_recorder import Call, SlackRecorder, blocks_of, text_of_blocks
from tests.support.statuspage import AlertmanagerStandIn, StatuspageStandIn

TOKEN = "alerts-token-0123456789abcdef"
BOB = "U0BOB"

CONFIG = """
channels: {incidents: C0INCIDENTS, digest: C0HEALTH}
permissions: {operators: [U0OPS]}
oncall: {rotation: [U0ALICE, U0BOB]}
alerts:
  routes:
    - {match: ["team=~payments|checkout"], channel: C0PAYMENTS}
  min_severity: P3
  auto_mitigate: true
  alertmanager_url: "%(alertmanager)s"
statuspage:
  page_id: pg1234abcd
  api_url: "%(statuspage)s"
  min_severity: P2
  timeout: 2s
  components:
    api: cmp0api0001
    checkout: cmp0chk0002
    %(long_name)s: cmp0long0003
"""
LONG_NAME = "EU payments gateway, card authorisation and 3-D Secure challenge service (primary region)"


# Payloads, as Alertmanager sends them --------------------------------------------------------------------------------
def alert(name: str, instance: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "status": status,
        "labels": {"alertname": name, "instance": instance, **labels},
        "annotations": {"summary": f"{name} on {instance}", "runbook_url": "https://runbooks.example.com/high-errors"},
        "startsAt": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "endsAt": now.strftime("%Y-%m-%dT%H:%M:%SZ") if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.example.com:9090/graph?g0.expr=rate%28{name}%29",
        "fingerprint": hashlib.sha256(f"{name}/{instance}".encode()).hexdigest()[:16],
    }


def group(name: str, alerts: list[dict[str, Any]], *, status: str = "firing", **common: str) -> dict[str, Any]:
    labels = {"alertname": name, **common}
    return {
        "version": "4",
        "groupKey": f'{{}}/{{severity=~"critical|warning"}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "chatops",
        "groupLabels": {"alertname": name},
        "commonLabels": labels,
        "commonAnnotations": {
            "summary": f"{name}: error rate above 5%",
            "description": "The 5xx ratio of the checkout API is above 5% for 5 minutes.",
            "runbook_url": "https://runbooks.example.com/high-errors",
        },
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": alerts,
    }


# Fixtures ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackRecorder]:
    """This module's own Slack stand-in: its assertions find INC-n's messages by number, which another module's
    Redis also hands out. Its bots' logs are scanned for secrets as the session's are."""
    rec = SlackRecorder().start()
    yield rec
    rec.stop()
    logs = sorted(tmp_path_factory.getbasetemp().rglob("*.log"))
    assert not leaks(logs, rec.issued_tokens), "secrets in logs"


@pytest.fixture(scope="module")
def statuspage() -> Iterator[StatuspageStandIn]:
    server = StatuspageStandIn()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def alertmanager() -> Iterator[AlertmanagerStandIn]:
    server = AlertmanagerStandIn()
    yield server
    server.stop()


def config_file(directory: Path, alertmanager: str, statuspage: str, extra: str = "") -> Path:
    path = directory / "chatops.yaml"
    values = {"alertmanager": alertmanager, "statuspage": statuspage, "long_name": LONG_NAME}
    path.write_text(textwrap.dedent(CONFIG % values) + extra)
    return path


def start_bot(directory: Path, recorder: SlackRecorder, redis_url: str, config: Path, name: str, **env: str) -> Bot:
    return Bot(
        redis_url=redis_url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=directory / f"{name}.log",
        extra_env={"ALERTS_TOKEN": TOKEN, "STATUSPAGE_API_KEY": StatuspageStandIn.KEY, **env},
    ).start()


@pytest.fixture(scope="module")
def bot(
    tmp_path_factory: pytest.TempPathFactory,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    statuspage: StatuspageStandIn,
    alertmanager: AlertmanagerStandIn,
) -> Iterator[Bot]:
    directory = tmp_path_factory.mktemp("alerts")
    config = config_file(directory, alertmanager.url, statuspage.url)
    proc = start_bot(directory, recorder, redis_server.url, config, "bot")
    yield proc
    proc.terminate()


# Helpers ----------------------------------------------------------------------------------------------------------
def send(bot: Bot, payload: Any, token: str | None = TOKEN, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.post(f"{bot.base_url}/alerts/alertmanager", content=body, headers=headers, timeout=20, **kwargs)


def opened(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(str(response.json()["incident"]).removeprefix("INC-"))


def announcement(recorder: SlackRecorder, number: int) -> Call:
    def find() -> Call | None:
        return next(
            (
                c
                for c in recorder.of("chat.postMessage")
                if "thread_ts" not in c.params and f"INC-{number}:" in text_of_blocks(blocks_of(c))
            ),
            None,
        )

    found = wait_for(find, what=f"the announcement of INC-{number}")
    assert isinstance(found, Call)
    return found


def timeline(slack: SignedSlack, number: int) -> str:
    return ack_text(slack.command(f"timeline INC-{number}", user=BOB))


def thread_lines(recorder: SlackRecorder, phrase: str) -> list[str]:
    return [str(c.params.get("text")) for c in recorder.of("chat.postMessage") if phrase in str(c.params.get("text"))]


# The webhook ------------------------------------------------------------------------------------------------------
def test_refused_deliveries_change_nothing(bot: Bot, state: redis.Redis, tmp_path: Path) -> None:
    before = state.get(keys.SEQ)
    payload = group("HighErrorRate", [alert("HighErrorRate", "api-1", severity="critical")], severity="critical")
    missing = send(bot, payload, token=None)
    wrong = send(bot, payload, token="not-the-token")
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert "Authorization: Bearer" in missing.text
    huge = send(bot, b'{"alerts": [' + b" " * (1024 * 1024 + 10) + b"]}")
    assert huge.status_code == 413
    broken = send(bot, b'{"alerts": [')
    assert broken.status_code == 400 and "not JSON" in broken.text
    no_alerts = send(bot, {"status": "firing", "receiver": "chatops"})
    assert no_alerts.status_code == 400 and "no 'alerts'" in no_alerts.text
    wrong_shape = send(bot, {"status": "burning", "alerts": []})
    assert wrong_shape.status_code == 400 and "'status'" in wrong_shape.text
    assert state.get(keys.SEQ) == before
    assert not state.keys("alerts:*")
    log = (Path(bot.log_path)).read_text()
    assert log.count("alert webhook refused from 127.0.0.1") == 1  # once a minute per address, not per request
    assert TOKEN not in log


def test_one_incident_per_group_new_alerts_and_resolution_on_its_timeline(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, state: redis.Redis
) -> None:
    first = [alert("HighErrorRate", f"api-{i}", severity="critical") for i in (1, 2)]
    number = opened(send(bot, group("HighErrorRate", first, severity="critical", service="api")))
    assert send(bot, group("HighErrorRate", first, severity="critical", service="api")).json() == {
        "status": "ok",
        "action": "unchanged",
        "incident": f"INC-{number}",
    }
    posted = announcement(recorder, number)
    assert posted.params["channel"] == "C0INCIDENTS"
    text = text_of_blocks(blocks_of(posted))
    assert "HighErrorRate: error rate above 5%" in text and "🔴" in text  # critical → P1
    assert "The 5xx ratio of the checkout API" in text and "Alertmanager (receiver chatops)" in text
    links = {b["text"]["text"]: b["url"] for blk in blocks_of(posted) if blk["type"] == "actions"
             for b in blk["elements"] if "url" in b}  # fmt: skip
    assert links["Runbook"] == "https://runbooks.example.com/high-errors"
    assert links["Alert source"].startswith("http://prometheus.example.com:9090/graph")
    wait_for(lambda: dms(recorder, number, "U0ALICE"), what="the primary paged")  # the same path as /incident open

    resent = send(bot, group("HighErrorRate", [*first, alert("HighErrorRate", "api-3", severity="critical")],
                              severity="critical", service="api"))  # fmt: skip
    assert resent.json()["action"] == "updated"
    assert "1 more alert firing: HighErrorRate (instance=api-3" in timeline(slack, number)

    resolved = [alert("HighErrorRate", f"api-{i}", "resolved", severity="critical") for i in (1, 2, 3)]
    done = send(bot, group("HighErrorRate", resolved, status="resolved", severity="critical", service="api"))
    assert done.json()["action"] == "resolved"
    again = send(bot, group("HighErrorRate", resolved, status="resolved", severity="critical", service="api"))
    assert again.json()["action"] == "unchanged"  # Alertmanager re-sends resolved groups too
    lines = timeline(slack, number)
    assert lines.count("alerts resolved at") == 1
    assert "*mitigated*" in lines and "Alertmanager (receiver chatops)" in lines  # auto_mitigate, never resolved
    assert '"state":"mitigated"' in str(state.hget(keys.doc(number), "doc"))

    # A person resolves it; the group fires again (a new start): a new incident that links the previous one.
    ack_text(slack.command(f"resolve INC-{number} fixed the pool size", user=BOB))
    refired = [alert("HighErrorRate", f"api-{i}", severity="critical") for i in (1, 2)]
    later = opened(send(bot, group("HighErrorRate", refired, severity="critical", service="api")))
    assert later != number
    assert f"INC-{number} had this alert group" in timeline(slack, later)
    assert f"follows INC-{number}, resolved" in text_of_blocks(blocks_of(announcement(recorder, later)))


def test_two_replicas_receiving_the_same_payload_open_one_incident(
    bot: Bot, recorder: SlackRecorder, redis_server: RedisServer, tmp_path: Path,
    statuspage: StatuspageStandIn, alertmanager: AlertmanagerStandIn, state: redis.Redis,
) -> None:  # fmt: skip
    other = start_bot(
        tmp_path, recorder, redis_server.url, config_file(tmp_path, alertmanager.url, statuspage.url), "b"
    )
    try:
        before = int(state.get(keys.SEQ) or 0)
        payload = group("DiskFull", [alert("DiskFull", "db-1", severity="critical")], severity="critical")
        answers: list[httpx.Response] = []
        start = threading.Barrier(16)

        def deliver(target: Bot) -> None:
            start.wait()  # all at once: Alertmanager's retries and both replicas racing
            answers.append(send(target, payload))

        threads = [threading.Thread(target=deliver, args=(b,)) for b in (bot, other) * 8]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        numbers = {opened(a) for a in answers}
        assert len(numbers) == 1
        assert int(state.get(keys.SEQ) or 0) == before + 1
        assert sorted(a.json()["action"] for a in answers) == ["opened"] + ["unchanged"] * 15
    finally:
        other.terminate()


def test_a_route_sets_the_channel_and_below_min_severity_only_a_notice(
    bot: Bot, recorder: SlackRecorder, state: redis.Redis
) -> None:
    number = opened(send(bot, group("CheckoutLatency", [alert("CheckoutLatency", "co-1", severity="warning",
                                                                 team="checkout")], severity="warning", team="checkout")))  # fmt: skip
    posted = announcement(recorder, number)
    assert posted.params["channel"] == "C0PAYMENTS" and "P3" in text_of_blocks(blocks_of(posted))

    before = state.get(keys.SEQ)
    info = group("CertExpiresIn30d", [alert("CertExpiresIn30d", "edge-1", severity="info")], severity="info")
    assert send(bot, info).json()["action"] == "notice"
    assert send(bot, info).json()["action"] == "notice"
    assert state.get(keys.SEQ) == before
    notices = wait_for(lambda: thread_lines(recorder, "alert from chatops: *CertExpiresIn30d"), what="the notice")
    assert len(notices) == 1 and "no incident opened" in notices[0]  # once per group, not per delivery


def test_an_alert_storm_opens_five_incidents_and_gathers_the_rest(
    recorder: SlackRecorder, tmp_path: Path, statuspage: StatuspageStandIn, alertmanager: AlertmanagerStandIn
) -> None:
    server = RedisServer().start()
    proc = start_bot(tmp_path, recorder, server.url, config_file(tmp_path, alertmanager.url, statuspage.url), "storm")
    slack = SignedSlack(proc.base_url, recorder.response_url)
    try:
        outcomes = [
            send(
                proc,
                group(f"NodeDown{i}", [alert(f"NodeDown{i}", f"node-{i}", severity="critical")], severity="critical"),
            ).json()
            for i in range(30)
        ]
        actions = [o["action"] for o in outcomes]
        assert actions.count("opened") == 5 and actions.count("storm") == 25
        storm = {o["incident"] for o in outcomes if o["action"] == "storm"}
        assert len(storm) == 1
        client = redis.Redis.from_url(server.url, decode_responses=True)
        assert int(client.get(keys.SEQ) or 0) == 6  # 5 + the storm's own
        client.close()
        (ref,) = storm
        lines = ack_text(slack.command(f"timeline {ref}", user=BOB))
        assert lines.count("alert group joined") == 25 and "NodeDown29" in lines
        assert "Alert storm: more than 5 alert groups in a minute" in lines
        # 25 groups joined in about a second: a few edits of the storm's announcement, not one per group.
        posted = announcement(recorder, int(ref.removeprefix("INC-")))
        proc.settled()
        edits = [c for c in recorder.of("chat.update") if c.params.get("ts") == posted.reply_ts]
        assert 1 <= len(edits) <= 8, f"{len(edits)} edits of the storm's announcement for 25 groups"
    finally:
        slack.close()
        proc.terminate()
        server.cleanup()


def test_the_endpoint_is_off_without_a_token(recorder: SlackRecorder, tmp_path: Path) -> None:
    server = RedisServer().start()
    config = tmp_path / "c.yaml"
    config.write_text("channels: {incidents: C0INCIDENTS}\n")
    proc = Bot(redis_url=server.url, slack_api_url=recorder.api_url, config_path=config,
                      log_path=tmp_path / "off.log").start()  # fmt: skip
    try:
        answer = httpx.post(f"{proc.base_url}/alerts/alertmanager", json={"alerts": []},
                            headers={"Authorization": "Bearer anything"})  # fmt: skip
        assert answer.status_code == 404
    finally:
        proc.terminate()
        server.cleanup()


# What is firing now -------------------------------------------------------------------------------------------------
def test_alerts_command_and_the_handoff_list_what_is_firing(
    slack: SignedSlack, recorder: SlackRecorder, alertmanager: AlertmanagerStandIn
) -> None:
    alertmanager.alerts = [
        {"labels": {"alertname": "HighErrorRate", "severity": "critical", "namespace": "checkout"}},
        {"labels": {"alertname": "HighErrorRate", "severity": "critical", "namespace": "payments"}},
        {"labels": {"alertname": "PodRestarts", "severity": "warning", "namespace": "search"}},
    ]
    since = len(recorder.of("response_url"))
    assert "Reading Alertmanager" in ack_text(slack.command("", command="/alerts", user=BOB))
    reply = wait_for(lambda: next((c.params for c in recorder.of("response_url")[since:]
                                   if "Alerts firing now" in str(c.params.get("text"))), None), what="/alerts")  # fmt: skip
    text = text_of_blocks(reply["blocks"])  # type: ignore[index]
    assert "*HighErrorRate* (critical): 2 firing — checkout, payments" in text
    assert text.index("HighErrorRate") < text.index("PodRestarts")
    assert any("active=true" in q and "silenced=false" in q and "inhibited=false" in q for q in alertmanager.queries)

    ack_text(slack.command("handoff", command="/oncall", user=BOB))
    checklist = wait_for(lambda: [c for c in recorder.of("chat.postMessage")
                                  if c.params.get("text") == "On-call hand-off checklist"], what="the hand-off")  # fmt: skip
    assert "*HighErrorRate* (critical): 2 firing" in text_of_blocks(blocks_of(checklist[-1]))  # type: ignore[index]

    alertmanager.down = True
    try:
        since = len(recorder.of("response_url"))
        ack_text(slack.command("", command="/alerts", user=BOB))
        down = wait_for(lambda: next((c.params for c in recorder.of("response_url")[since:]
                                      if "Alerts firing now" in str(c.params.get("text"))), None), what="/alerts")  # fmt: skip
        assert "answered 503" in text_of_blocks(down["blocks"])  # type: ignore[index]
    finally:
        alertmanager.down = False


# The status page --------------------------------------------------------------------------------------------------
def public_values(name: str, body: str, services: list[str]) -> dict[str, Any]:
    return {
        "name": {"value": {"type": "plain_text_input", "value": name}},
        "body": {"value": {"type": "plain_text_input", "value": body}},
        "components": {"value": {"type": "multi_static_select",
                                 "selected_options": [{"value": s, "text": {"type": "plain_text", "text": s}}
                                                      for s in services]}},
    }  # fmt: skip


def test_status_page_post_update_and_resolve_with_retries(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, statuspage: StatuspageStandIn
) -> None:
    text = ack_text(slack.command("open P1 Checkout down for EU users", user=BOB))
    number = int(text.split("*INC-")[1].split("*")[0])
    buttons = [e for b in blocks_of(announcement(recorder, number)) if b["type"] == "actions" for e in b["elements"]]
    assert any(e.get("action_id") == "incident_public" for e in buttons)

    slack.click("incident_public", str(number), user=BOB)
    opened_view = wait_for(lambda: [c for c in recorder.of("views.open")
                                    if "incident_public_modal" in str(c.params.get("view"))], what="the form")  # fmt: skip
    view = str(opened_view[-1].params["view"])  # type: ignore[index]
    assert "Checkout down for EU users" in view and "We are investigating" in view

    bad = slack.submit_view("incident_public_modal", str(number), public_values("", "x", []), user=BOB)
    assert bad.json()["response_action"] == "errors" and "name" in bad.json()["errors"]
    assert statuspage.of("POST") == []

    statuspage.fail_next(429, **{"Retry-After": "1"})
    statuspage.fail_next(500)
    answer = slack.submit_view(
        "incident_public_modal", str(number),
        public_values("Checkout issues", "Some EU customers cannot check out.", ["checkout"]), user=BOB,
    )  # fmt: skip
    assert answer.status_code == 200
    wait_for(lambda: thread_lines(recorder, "Posted to the status page as *Checkout issues*"), timeout=20,
             what="the post")  # fmt: skip
    (created,) = statuspage.of("POST")
    incident = created.body["incident"]
    assert incident["name"] == "Checkout issues" and incident["body"] == "Some EU customers cannot check out."
    assert incident["components"] == {"cmp0chk0002": "major_outage"} and incident["status"] == "investigating"
    # a 500 may have made it: looked up (not there) before the create is tried again
    assert [(c.method, c.answered) for c in statuspage.calls[-4:]] == [("POST", 429), ("POST", 500), ("GET", 200),
                                                                        ("POST", 201)]  # fmt: skip
    assert "*status page*" in timeline(slack, number)

    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    said = ack_text(slack.command(f"update INC-{number} --public A fix is rolling out.", user=BOB))
    assert "The status page follows" in said
    wait_for(lambda: statuspage.of("PATCH"), what="the public update")
    patch = statuspage.of("PATCH")[0].body["incident"]
    assert patch["status"] == "identified" and patch["body"] == "A fix is rolling out."

    ack_text(slack.command(f"resolve INC-{number} rolled back", user=BOB))
    wait_for(lambda: thread_lines(recorder, "Resolve on the status page too?"), what="the question")
    slack.click("incident_public_resolve", str(number), user=BOB)
    wait_for(lambda: len(statuspage.of("PATCH")) == 2, what="the public resolve")
    resolve = statuspage.of("PATCH")[1].body["incident"]
    assert resolve["status"] == "resolved" and resolve["components"] == {"cmp0chk0002": "operational"}


def test_a_refused_status_page_call_is_said_in_the_thread_and_bad_public_updates_change_nothing(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, statuspage: StatuspageStandIn
) -> None:
    text = ack_text(slack.command("open P2 Search is slow", user=BOB))
    number = int(text.split("*INC-")[1].split("*")[0])
    announcement(recorder, number)
    statuspage.fail_next(401)
    posts = len(statuspage.of("POST"))
    slack.submit_view("incident_public_modal", str(number), public_values("Search", "Slow searches.", []), user=BOB)
    said = wait_for(lambda: thread_lines(recorder, "Not posted to the status page"), what="the refusal")
    assert "401" in said[-1] and "STATUSPAGE_API_KEY" in said[-1]  # type: ignore[index]
    assert len(statuspage.of("POST")) == posts
    assert "--public" in ack_text(slack.command(f"update INC-{number} --public", user=BOB))  # no text: the right form


def public_form(recorder: SlackRecorder, number: int) -> dict[str, Any]:
    """The "Post to status page" form opened for INC-n."""

    def opened() -> dict[str, Any] | None:
        for call in reversed(recorder.of("views.open")):
            view = call.params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if view.get("callback_id") == "incident_public_modal" and view.get("private_metadata") == str(number):
                return dict(view)
        return None

    found = wait_for(opened, what=f"the status page form of INC-{number}")
    assert isinstance(found, dict)
    return found


def test_a_component_name_past_slacks_75_characters_is_clipped_in_the_form_and_posted_by_its_id(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, statuspage: StatuspageStandIn
) -> None:
    assert len(LONG_NAME) > 75
    text = ack_text(slack.command("open P1 Card payments failing", user=BOB))
    number = int(text.split("*INC-")[1].split("*")[0])
    announcement(recorder, number)
    slack.click("incident_public", str(number), user=BOB)
    view = public_form(recorder, number)
    (components,) = [b for b in view["blocks"] if b.get("block_id") == "components"]
    options = components["element"]["options"]
    assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in options)
    (long,) = [o for o in options if o["value"] == "cmp0long0003"]  # the value is the component id
    assert long["text"]["text"] == LONG_NAME[:74] + "…"

    posts = len(statuspage.of("POST"))
    slack.submit_view("incident_public_modal", str(number),
                      public_values("Card payments", "Some card payments fail.", ["cmp0long0003"]), user=BOB)  # fmt: skip
    wait_for(lambda: len(statuspage.of("POST")) > posts, what="the public post")
    created = statuspage.of("POST")[-1].body["incident"]
    assert created["component_ids"] == ["cmp0long0003"] and created["components"] == {"cmp0long0003": "major_outage"}


def test_the_first_public_post_goes_through_the_form_and_below_the_minimum_nothing_is_public(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, statuspage: StatuspageStandIn
) -> None:
    internal = "PaymentsDBReplicaLag (instance=db-prod-7.internal:5432)"
    text = ack_text(slack.command(f"open P1 {internal}", user=BOB))
    number = int(text.split("*INC-")[1].split("*")[0])
    announcement(recorder, number)
    calls = len(statuspage.calls)
    said = ack_text(slack.command(f"update INC-{number} --public Replica lag on db-prod-7", user=BOB))
    assert "not on the status page yet" in said and "Nothing was posted" in said
    view = public_form(recorder, number)  # the reviewed form, with what was typed to edit
    (body,) = [b for b in view["blocks"] if b.get("block_id") == "body"]
    assert body["element"]["initial_value"] == "Replica lag on db-prod-7"

    low = int(ack_text(slack.command("open P3 Search index lagging", user=BOB)).split("*INC-")[1].split("*")[0])
    announcement(recorder, low)
    refused = ack_text(slack.command(f"update INC-{low} --public Search results may be stale", user=BOB))
    assert "P3" in refused and "statuspage.min_severity" in refused and "Nothing was posted" in refused
    slack.submit_view("incident_public_modal", str(low), public_values("Search", "Stale results.", []), user=BOB)
    said = wait_for(lambda: thread_lines(recorder, f"INC-{low} is P3"), what="the refusal in the thread")
    assert "Not posted to the status page" in said[-1]  # type: ignore[index]
    bot.settled()
    assert statuspage.calls[calls:] == []
    for n in (number, low):
        assert "Replica lag" not in timeline(slack, n) and "stale" not in timeline(slack, n)


def test_a_create_answered_after_the_timeout_is_looked_up_and_adopted_not_made_twice(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, statuspage: StatuspageStandIn
) -> None:
    text = ack_text(slack.command("open P1 Payments failing in EU", user=BOB))
    number = int(text.split("*INC-")[1].split("*")[0])
    announcement(recorder, number)
    statuspage.slow_next(3.0)  # made at once, answered after the bot's 2 s (statuspage.timeout)
    slack.submit_view("incident_public_modal", str(number),
                      public_values("Payments degraded", "Some payments fail.", []), user=BOB)  # fmt: skip
    wait_for(lambda: thread_lines(recorder, "Posted to the status page as *Payments degraded*"), timeout=20,
             what="the post")  # fmt: skip
    made = [i for i in statuspage.incidents.values() if i["name"] == "Payments degraded"]
    assert len(made) == 1, made  # one public incident, however the first answer was lost
    assert any(c.method == "GET" and c.path.endswith("/incidents/unresolved") for c in statuspage.calls)

    ack_text(slack.command(f"update INC-{number} --public Payments recover.", user=BOB))
    wait_for(lambda: [c for c in statuspage.of("PATCH") if c.body["incident"]["body"] == "Payments recover."],
             what="the public update")  # fmt: skip
    (patch,) = [c for c in statuspage.of("PATCH") if c.body["incident"]["body"] == "Payments recover."]
    assert patch.path.endswith(f"/incidents/{made[0]['id']}")  # the one adopted is the one tracked


def test_a_public_post_made_as_redis_stalls_is_kept_and_the_next_submit_updates_it(
    recorder: SlackRecorder, tmp_path: Path, statuspage: StatuspageStandIn, alertmanager: AlertmanagerStandIn
) -> None:
    """Redis stops answering the instant Statuspage takes the post: the public incident's id is kept once Redis is
    back (through the outbox), so the next submit updates that public incident instead of making a second one."""
    own = RedisServer().start()
    client = redis.Redis.from_url(own.url, decode_responses=True)
    client.set(keys.SEQ, 9000)  # INC numbers of its own: this module's recorder finds messages by number
    proc = start_bot(tmp_path, recorder, own.url, config_file(tmp_path, alertmanager.url, statuspage.url), "stall")
    slack = SignedSlack(proc.base_url, recorder.response_url)

    def stall_at_the_post(request: Any) -> None:  # on the stand-in's thread, before the post is made and answered
        if request.method == "POST" and request.path.endswith("/incidents"):
            own.stall()

    try:
        number = int(ack_text(slack.command("open P1 Search down", user=BOB)).split("*INC-")[1].split("*")[0])
        announcement(recorder, number)
        proc.settled()
        posts = len(statuspage.of("POST"))
        statuspage.arrived = stall_at_the_post
        try:
            slack.submit_view("incident_public_modal", str(number),
                              public_values("Search degraded", "Search is slow.", []), user=BOB)  # fmt: skip
            wait_for(lambda: len(statuspage.of("POST")) == posts + 1, what="the public post")
            wait_for(lambda: "not written yet" in proc.log_path.read_text(errors="replace"),
                     what="the bot finding Redis away after the post")  # fmt: skip
        finally:
            statuspage.arrived = lambda _: None
            own.resume()
        wait_for(lambda: "*status page*" in timeline(slack, number), timeout=30, what="the post, kept")
        slack.submit_view("incident_public_modal", str(number),
                          public_values("Search degraded", "Search recovers.", []), user=BOB)  # fmt: skip
        wait_for(lambda: [c for c in statuspage.of("PATCH") if c.body["incident"]["body"] == "Search recovers."],
                 what="the second submit, an update")  # fmt: skip
        assert len(statuspage.of("POST")) == posts + 1  # one public incident
        (made,) = [i for i in statuspage.incidents.values() if i["name"] == "Search degraded"]
        (patch,) = [c for c in statuspage.of("PATCH") if c.body["incident"]["body"] == "Search recovers."]
        assert patch.path.endswith(f"/incidents/{made['id']}")
    finally:
        slack.close()
        proc.terminate()
        client.close()
        own.cleanup()


def test_the_group_claim_is_a_compare_and_set(redis_server: RedisServer) -> None:
    """What makes two replicas (or a retry) open one incident: of two requests that read the same holder, only the
    first swap wins, and a token is replaced only by its own request."""
    import asyncio

    from bot.alerts.store import AlertStore
    from bot.core.redis import open_client

    async def run() -> list[bool]:
        client = open_client(redis_server.url)
        store = AlertStore(client, "test")
        key = keys.alert_group("cas-test")
        try:
            return [
                await store.swap(key, "", "opening:a"),  # both read "nothing"; the first wins
                await store.swap(key, "", "opening:b"),
                await store.swap(key, "opening:b", "7"),  # b's token is not there: b settles nothing
                await store.swap(key, "opening:a", "7"),
                await store.holder(key) == 7,
            ]
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [True, False, False, True, True]
