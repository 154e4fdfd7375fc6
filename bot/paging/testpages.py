"""Test pages (the hand-off's "Test paging/alerting"): every verified method of a person is tried, each confirmed by
the person (a click on the Slack DM's button, a reply "1" to the SMS, a key press on the call). At each hand-off the
incoming primary and secondary are tested; ``/oncall test`` tests yourself, ``/oncall test @user`` (operators)
someone else. A test not confirmed within ``paging.test_confirm_within`` is said to the lead, once; the hand-off's
checklist and ``/oncall`` show who confirmed which method when.

Redis: ``paging:test:{U}`` (hash: started, by, due, one field per method: ``sent``, ``confirmed <when>``, or why it
was not sent; ``told``; ``handoff``), kept 8 days; ``paging:testing`` (person → due), the tests still to check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack
from bot.core.blocks import md
from bot.core.redis import Client, RedisBacked
from bot.core.settings.config import BotConfig
from bot.core.settings.paging import mask
from bot.core.slack import SLACK_ERRORS
from bot.core.text import as_text, user, when
from bot.oncall.handoff import HANDOFF_GRACE, HandoffChecklist
from bot.oncall.roster import Roster
from bot.paging.contacts import Contacts
from bot.paging.providers import ProviderDown, Providers

log = logging.getLogger(__name__)

CONFIRM_ACTION = "paging_test_confirm"
KEPT = 8 * 86400
METHODS = ("slack", "sms", "call")
SENDING = "sending"
# KEYS[1] the test; ARGV: the method, its outcome. Set only while it is still being sent (not once confirmed).
SETTLE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == 'sending' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""


class TestPages(RedisBacked):
    __test__ = False  # not a pytest class

    def __init__(
        self,
        redis: Client,
        description: str,
        *,
        config: BotConfig,
        contacts: Contacts,
        providers: Providers,
        client: AsyncWebClient,
        roster: Roster,
        handoff: HandoffChecklist,
        clock: Callable[[], datetime],
        public_url: str | None,
    ) -> None:
        super().__init__(redis, description)
        self._settle = redis.register_script(SETTLE)
        self.config = config
        self.contacts = contacts
        self.providers = providers
        self.client = client
        self.roster = roster
        self.handoff_post = handoff
        self.clock = clock
        self.public_url = public_url

    async def start(self, person: str, by: str, *, handoff: bool = False) -> str:
        """Test every method of ``person``; what was sent, in words. The test is kept before anything is sent, so a
        confirmation that comes back at once finds it. ``handoff``: a test of the hand-off, whose thread hears of
        it when it is not confirmed in time."""
        now = self.clock()
        due = now + self.config.paging.test_confirm_within
        key = keys.paging_test(person)
        fresh: dict[str | bytes | bytearray | memoryview | int | float, str] = {
            "started": now.isoformat(),
            "by": by,
            "due": due.isoformat(),
            "told": "0",
            "handoff": "1" if handoff else "0",
            **dict.fromkeys(METHODS, SENDING),
        }
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=fresh)
            pipe.expire(key, KEPT)
            pipe.zadd(keys.PAGING_TESTING, {person: due.timestamp()})
            await pipe.execute()
        outcome = {"slack": await self._slack(person)}
        await self._sent(key, "slack", outcome["slack"])
        phone = await self.contacts.verified(person)
        for method in ("sms", "call"):
            if phone is None:
                outcome[method] = "no verified number"
            elif method == "call" and not self.providers.can_call:
                outcome[method] = "no call provider"
            else:
                outcome[method] = await (self._sms(person, phone) if method == "sms" else self._call(person, phone))
            await self._sent(key, method, outcome[method])
        sent = [m for m in METHODS if outcome[m] == "sent"]
        missing = [f"{m}: {outcome[m]}" for m in METHODS if outcome[m] != "sent"]
        said = f"Test page of {user(person)} sent by {', '.join(sent) or 'nothing'}"
        return said + (f" ({'; '.join(missing)})" if missing else "") + f"; to be confirmed by {when(due)}."

    async def _sent(self, key: str, method: str, outcome: str) -> None:
        """The method's outcome, unless it was confirmed already (the reply came before this line)."""
        async with self.io():
            await self._settle(keys=[key], args=[method, outcome])

    async def _slack(self, person: str) -> str:
        button = ButtonElement(text="Confirm", action_id=CONFIRM_ACTION, value=person, style="primary")
        blocks = [
            SectionBlock(text=md("🧪 *Test page* of chatops-bot: is this how you are reached? Confirm it.")),
            ActionsBlock(elements=[button]),
        ]
        try:
            await self.client.chat_postMessage(channel=person, text="Test page of chatops-bot", blocks=blocks)
        except SLACK_ERRORS as exc:
            return f"Slack answered {slack.failed('chat.postMessage', f'the test page of {person}', exc)}"
        return "sent"

    async def _sms(self, person: str, phone: str) -> str:
        how = "reply 1 to confirm" if self.public_url else "confirm in Slack"
        try:
            await self.providers.sms(phone, f"chatops-bot test page — {how}")
        except ProviderDown as exc:
            log.warning("the test SMS of %s to %s not sent: %s", person, mask(phone), exc)
            return str(exc)
        return "sent"

    async def _call(self, person: str, phone: str) -> str:
        gather = f"{self.public_url}/paging/twilio/voice" if self.public_url else None
        try:
            sent = await self.providers.call(phone, "This is a test page of chat ops bot. Press 1 to confirm.", gather)
        except ProviderDown as exc:
            log.warning("the test call of %s to %s not made: %s", person, mask(phone), exc)
            return str(exc)
        if sent.sid:
            async with self.io():
                await self.redis.set(keys.paging_sid(sent.sid), f"test:{person}", ex=86400)
        return "sent"

    async def pending(self, person: str, method: str) -> bool:
        """A test of ``method`` sent to ``person`` and not confirmed yet."""
        async with self.io():
            found = await self.redis.hget(keys.paging_test(person), method)
        return found is not None and as_text(found) in ("sent", SENDING)

    async def confirm(self, person: str, method: str) -> bool:
        """The person confirmed ``method``; False when no such test waits."""
        if not await self.pending(person, method):
            return False
        async with self.io():
            await self.redis.hset(keys.paging_test(person), method, f"confirmed {self.clock().isoformat()}")
        return True

    async def state(self, person: str) -> dict[str, str]:
        async with self.io():
            return {as_text(k): as_text(v) for k, v in (await self.redis.hgetall(keys.paging_test(person))).items()}

    # At each hand-off, and on the poller -----------------------------------------------------------------------
    async def handoff(self, tick: datetime) -> None:
        """The incoming primary and secondary are tested."""
        who = await self.roster.now(self.clock())
        for person in dict.fromkeys(p for p in (who.primary, who.secondary) if p):
            await self.start(person, "the hand-off", handoff=True)

    async def check(self, now: datetime) -> int:
        """Tests past their time with a method unconfirmed, whoever was tested: said to the lead once — in the
        hand-off's thread for a test of the hand-off, else by DM."""
        async with self.io():
            due = [as_text(p) for p in await self.redis.zrangebyscore(keys.PAGING_TESTING, 0, now.timestamp())]
        told = 0
        for person in due:
            state = await self.state(person)
            unconfirmed = [m for m in METHODS if state.get(m) in ("sent", SENDING)]
            first = False
            if state and state.get("told") != "1" and unconfirmed:
                async with self.io():
                    first = bool(await self.redis.hsetnx(keys.paging_test(person), "told_at", now.isoformat()))
                    await self.redis.hset(keys.paging_test(person), "told", "1")
            async with self.io():
                await self.redis.zrem(keys.PAGING_TESTING, person)
            if first:
                await self._tell(person, state, unconfirmed)
                told += 1
        return told

    async def _tell(self, person: str, state: dict[str, str], unconfirmed: list[str]) -> None:
        lead = (await self.roster.now(self.clock())).lead or self.config.oncall.lead
        started = datetime.fromisoformat(state["started"])
        text = f"⚠️ {user(person)} did not confirm the test page by {', '.join(unconfirmed)} (sent {when(started)})."
        thread = await self.handoff_post.last_thread(started - HANDOFF_GRACE) if state.get("handoff") == "1" else None
        if thread is None and not lead:
            log.warning("the unconfirmed test page of %s is told to nobody: no lead (oncall.lead)", person)
            return
        try:
            if thread is not None:  # in the hand-off's thread, the lead mentioned
                await self.client.chat_postMessage(
                    channel=thread[0], thread_ts=thread[1], text=f"{user(lead)} {text}" if lead else text
                )
            else:
                await self.client.chat_postMessage(channel=str(lead), text=text)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"the unconfirmed test page of {person}", exc)

    async def lines(self, now: datetime) -> list[str]:
        """For the hand-off's checklist: each person's last test, method by method."""
        return await self.lines_of(list(self.config.oncall.rotation))

    async def lines_of(self, people: list[str]) -> list[str]:
        """Each person's last test, method by method (who confirmed which method when)."""
        out = []
        for person in dict.fromkeys(people):
            state = await self.state(person)
            if not state:
                out.append(f"{user(person)}: not tested yet (`/oncall test`)")
                continue
            parts = []
            for method in METHODS:
                value = state.get(method, "")
                if value.startswith("confirmed "):
                    parts.append(f"{method} ✅ {when(datetime.fromisoformat(value.split(' ', 1)[1]))}")
                elif value in ("sent", SENDING):
                    parts.append(f"{method} ⏳ not confirmed")
                else:
                    parts.append(f"{method} — {value[:60]}")
            out.append(f"{user(person)}: " + ", ".join(parts))
        return out
