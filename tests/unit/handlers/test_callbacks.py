"""The listeners' callbacks called as the kit calls them: a real ``Needs`` (the composition root's, on a throwaway
Redis and the Slack stand-in), a ``Command``, ``Click`` or ``Submission`` as the signed request would give, and what
each answers. No Bolt and no HTTP here: the wire is the integration tests' job."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.core.errors import UserError
from bot.core.permissions import Actor, Who
from bot.core.redis import open_client
from bot.core.settings import load_config_file
from bot.core.slack import build_client
from bot.incidents.store import IncidentNotFound, IncidentStore
from bot.runtime.services import Services, build
from handlers import health, incident, maintenance, oncall, runbooks
from handlers.kit import Answer, Click, Command, Replies, Submission
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder

CONFIG = """
channels: {incidents: C0INCIDENTS, stakeholders: C0STATUS}
oncall: {timezone: Europe/Berlin, rotation: [U0ALICE, U0BOB], lead: U0LEAD}
permissions: {operators: [U0OPS]}
kubernetes: {clusters: [{name: prod, context: prod}]}
"""


@pytest.fixture(scope="module")
def slack_stand_in() -> Iterator[SlackRecorder]:
    stand_in = SlackRecorder().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def needs_of(
    redis_server: RedisServer, slack_stand_in: SlackRecorder, tmp_path: Path
) -> Callable[[Callable[[Services], Awaitable[Any]]], Any]:
    """Run ``work(needs)`` on a fresh database with the real composition root's parts."""
    with redis.Redis.from_url(redis_server.url) as admin:
        admin.flushdb()
    path = tmp_path / "chatops.yaml"
    path.write_text(textwrap.dedent(CONFIG))
    config = load_config_file(path)

    def run(work: Callable[[Services], Awaitable[Any]]) -> Any:
        async def main() -> Any:
            client = open_client(redis_server.url)
            slack = build_client("xoxb-test-token", slack_stand_in.api_url)
            needs = build(config, slack, IncidentStore(client, "test"))
            try:
                result = await work(needs)
                await needs.tasks.drain(10)
                return result
            finally:
                await client.aclose()

        return asyncio.run(main())

    return run


def typed(text: str, command: str = "/incident", user: str = "U0ALICE", channel: str = "C0WAR") -> Command:
    return Command(name=command, text=text, actor=Actor(user, "T111"), channel=channel, trigger_id="1.2.3")


def test_oncall_shows_who_is_on_call_and_the_usage(needs_of: Any) -> None:
    shown: Answer = needs_of(lambda n: oncall.oncall(n, typed("", "/oncall")))
    assert shown.text == "Primary on call: <@U0ALICE>" and shown.blocks
    assert needs_of(lambda n: oncall.oncall(n, typed("help", "/oncall"))).text == oncall.USAGE
    other = needs_of(lambda n: oncall.oncall(n, typed("frob", "/oncall")))
    assert other.text.startswith("`frob` is not an /oncall command.")


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ([], "Write it as"),
        (["U0CAROL"], "Write it as"),
        (["<@U0CAROL>", "soon"], "is not a duration"),
        (["<@U0CAROL>", "30d"], "at most 14 days"),
        (["<@U0CAROL>", "15d"], "at most 14 days"),
        (["<@U0CAROL>", "2h", "extra"], "Write it as"),
    ],
)
def test_an_override_written_wrong_is_refused_and_changes_nothing(needs_of: Any, words: list[str], said: str) -> None:
    async def work(needs: Services) -> None:
        with pytest.raises(UserError, match=said):
            await oncall.override(needs, Actor("U0OPS"), words)
        assert await needs.oncall.override(needs.clock()) is None

    needs_of(work)


def test_an_override_makes_someone_primary_and_is_said_in_the_incidents_channel(
    needs_of: Any, slack_stand_in: SlackRecorder
) -> None:
    async def work(needs: Services) -> str:
        said = await oncall.override(needs, Actor("U0OPS"), ["<@U0CAROL|carol>", "2h"])
        assert (await needs.roster.now(needs.clock())).primary == "U0CAROL"
        return said

    said = needs_of(work)
    assert said.startswith("<@U0CAROL> is primary on call until") and said.endswith("(2h).")
    news = [c for c in slack_stand_in.of("chat.postMessage") if "made <@U0CAROL> primary" in str(c.params)]
    assert news and news[-1].params["channel"] == "C0INCIDENTS"


def test_an_override_of_fourteen_days_and_some_hours_is_still_fourteen_days(needs_of: Any) -> None:
    """As before the kit: the limit is on whole days."""

    async def work(needs: Services) -> str:
        return await oncall.override(needs, Actor("U0OPS"), ["<@U0CAROL>", "14d12h"])

    assert needs_of(work).startswith("<@U0CAROL> is primary on call until")


def test_opening_answers_at_once_and_announces_after(needs_of: Any) -> None:
    async def work(needs: Services) -> tuple[Answer, Any]:
        answer = await incident.incident_command(needs, typed("open P1 Checkout <!channel> down"))
        return answer, await needs.store.get(1)

    answer, stored = needs_of(work)
    assert answer.text == "Opened *INC-1* [P1] Checkout &lt;!channel&gt; down — announced in <#C0INCIDENTS>."
    assert answer.later is not None and stored.opened_by == "U0ALICE"


def test_incident_commands_that_read_answer_in_the_acknowledgement(needs_of: Any) -> None:
    assert "*`/incident` commands*" in needs_of(lambda n: incident.incident_command(n, typed(""))).text
    listed = needs_of(lambda n: incident.incident_command(n, typed("list")))
    assert listed.text == "0 incidents not closed" and listed.later is None

    async def missing(needs: Services) -> None:
        with pytest.raises(IncidentNotFound, match="INC-9 does not exist"):
            await incident.incident_command(needs, typed("status INC-9"))

    needs_of(missing)


def test_closing_is_the_commanders_or_an_operators(needs_of: Any) -> None:
    async def work(needs: Services) -> None:
        await incident.incident_command(needs, typed("open P2 Slow search"))
        await incident.incident_command(needs, typed("assign INC-1 <@U0BOB>", user="U0BOB"))
        await incident.incident_command(needs, typed("resolve INC-1", user="U0BOB"))
        with pytest.raises(UserError, match=r"Only the commander \(<@U0BOB>\) or an operator may close INC-1"):
            await incident.incident_command(needs, typed("close INC-1", user="U0ALICE"))
        closed = await incident.incident_command(needs, typed("close INC-1", user="U0OPS"))
        assert closed.text == "INC-1 is now *closed*."

    needs_of(work)


def test_runbook_words_are_checked_before_anything_runs(needs_of: Any) -> None:
    listing = needs_of(lambda n: runbooks.runbook(n, typed("list", "/runbook")))
    assert "rollback" in listing.text and listing.later is None
    assert needs_of(lambda n: runbooks.rollback(n, typed("", "/rollback"))).later is None

    async def refused(needs: Services) -> None:
        with pytest.raises(UserError, match="is not a runbook"):
            await runbooks.runbook(needs, typed("frobnicate", "/runbook"))
        with pytest.raises(UserError, match="is not a configured cluster"):
            await runbooks.rollback(needs, typed("api-gateway production --cluster=elsewhere", "/rollback"))

    needs_of(refused)
    started = needs_of(lambda n: runbooks.rollback(n, typed("api-gateway production", "/rollback")))
    assert started.text.startswith("Running *rollback* on `production/api-gateway`") and started.later is not None
    assert started.kind == "runbook"


def test_health_answers_at_once_and_reports_after(needs_of: Any) -> None:
    answer = needs_of(lambda n: health.health(n, typed("", "/health")))
    assert answer.text == "Checking 1 cluster… the digest follows here." and answer.later is not None


def test_the_schedule_form_names_each_wrong_field(needs_of: Any) -> None:
    def form(**fields: str) -> Submission:
        values = {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in fields.items()}
        values["date"] = {"value": {"type": "datepicker", "selected_date": fields.get("date", "2099-01-01")}}
        values["time"] = {"value": {"type": "timepicker", "selected_time": fields.get("time", "10:00")}}
        return Submission("mw_schedule", Actor("U0OPS"), "", values)

    wrong = needs_of(
        lambda n: maintenance.schedule_submitted(
            n, form(title="Kafka", duration="soon", cluster="elsewhere", nodes="", services="prod")
        )
    )
    assert set(wrong.errors) == {"duration", "cluster", "services"} and wrong.later is None
    assert "is not a duration" in wrong.errors["duration"] and "not a configured cluster" in wrong.errors["cluster"]
    past = needs_of(
        lambda n: maintenance.schedule_submitted(
            n, form(title="Kafka", duration="1h", cluster="", nodes="", services="", date="2020-01-01")
        )
    )
    assert "in the past" in past.errors["title"]


def test_what_the_kit_reads_from_a_signed_request() -> None:
    command = Command.of({"command": "/oncall", "text": "  Override  @bob 4h", "user_id": "U1", "team_id": "T1",
                          "channel_id": "C1", "trigger_id": "t"})  # fmt: skip
    assert (command.verb, command.words, command.actor) == ("override", ["Override", "@bob", "4h"], Actor("U1", "T1"))
    in_message = Click.of({"user": {"id": "U1", "team_id": "T1"}, "container": {"type": "message", "message_ts": "1.2"},
                           "channel": {"id": "C1"}, "response_url": "https://hooks.slack.com/x",
                           "actions": [{"action_id": "a", "value": "7", "block_id": "b"}]})  # fmt: skip
    assert (in_message.value, in_message.channel, in_message.message_ts, in_message.on_home) == (
        "7",
        "C1",
        "1.2",
        False,
    )
    on_home = Click.of({"user": {"id": "U1"}, "team": {"id": "T9"}, "container": {"type": "view"},
                        "actions": [{"action_id": "home_take_over", "value": "4h"}]})  # fmt: skip
    assert on_home.on_home and on_home.channel is None and on_home.actor == Actor("U1", "T9")
    form = Submission.of(
        {"user": {"id": "U1", "team_id": "T1"}},
        {"callback_id": "f", "private_metadata": "42", "state": {"values": {
            "title": {"value": {"value": "x"}},
            "severity": {"value": {"selected_option": {"value": "P2"}}},
            "components": {"value": {"selected_options": [{"value": "api"}, {"value": "db"}]}},
        }}},
    )  # fmt: skip
    assert (form.text("title"), form.choice("severity"), form.choices("components")) == ("x", "P2", ["api", "db"])
    assert form.text("missing") == "" and form.choice("missing") is None and form.choices("missing") == []


def test_one_sentence_for_each_refusal(needs_of: Any) -> None:
    async def work(needs: Services) -> None:
        with pytest.raises(UserError, match=r"^Only operators \(permissions.operators\) may override the rotation\.$"):
            await needs.access.require(Who.OPERATORS, Actor("U0BOB"), "override the rotation")
        await needs.access.require(Who.OPERATORS, Actor("U0OPS"), "override the rotation")
        await needs.access.require(Who.RESPONDERS, Actor("U0BOB", "T111"), "acknowledge incidents")
        await needs.access.require(Who.ANYONE, Actor("U0ANYONE"), "")

    needs_of(work)


def test_a_click_on_the_app_home_is_answered_by_dm(needs_of: Any, slack_stand_in: SlackRecorder) -> None:
    async def work(needs: Services) -> None:
        replies = Replies(None, needs, "U0BOB", direct=True)
        await replies.private("Only operators (permissions.operators) may override the rotation.")

    needs_of(work)
    (dm,) = [c for c in slack_stand_in.of("chat.postMessage") if "may override the rotation" in str(c.params)][-1:]
    assert dm.params["channel"] == "U0BOB"
