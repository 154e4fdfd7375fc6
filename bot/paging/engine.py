"""Paging that wakes people: each person the escalation chain pages is worked through their severity's rule
(``paging.rules``: "slack", "sms after 1m", "call after 3m") until someone acknowledges.

The Slack page is the escalation's own; every later method of it is a durable attempt in a due set
(``{paging}:due``), claimed by one replica, resumed by another after a crash, recorded once (HSETNX in
``inc:{n}:paging``) and on the timeline ("@bob: SMS sent (twilio)"). An attempt skips when the incident was
acknowledged (or moved on), for P3 and P4 inside the person's quiet hours, and when the person has no verified number
(said once). A failed SMS or an unanswered call (Twilio's status callback) makes the person's next method due at
once. A reply "1" by SMS or a key press on the call acknowledges as that person, through the same state machine as
the button.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys
from bot.core.dueset import DueSet
from bot.core.errors import DependencyError
from bot.core.outbox import Outbox
from bot.core.redis import Client, RedisBacked
from bot.core.settings.config import BotConfig
from bot.core.settings.paging import Step, mask
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import BackgroundTasks
from bot.core.text import as_text, escape, when
from bot.incidents.flows import IncidentFlows
from bot.incidents.machine import TransitionRefused
from bot.incidents.model import Action, Incident, State
from bot.incidents.service import IncidentService
from bot.incidents.store import IncidentNotFound, IncidentStore
from bot.paging.contacts import Contacts
from bot.paging.providers import ProviderDown, Providers
from bot.paging.testpages import TestPages

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_CONCURRENT = 32  # attempts made at once by one replica (as escalation's pages)
RECORD_RETRY = 0.2
KEPT = 30 * 86400
LAST_KEPT = 86400
DOWN_KEPT = 2 * 86400
QUIET = ("P3", "P4")  # severities that wait for the morning inside quiet hours
FAILED = frozenset({"failed", "undelivered", "no-answer", "busy", "canceled"})


def member(number: int, step: int, person: str, index: int) -> str:
    return f"{number}:{step}:{person}:{index}"


def parse_member(text: str) -> tuple[int, int, str, int]:
    number, step, person, index = text.split(":")
    return int(number), int(step), person, int(index)


class Pager(RedisBacked):
    def __init__(
        self,
        *,
        redis: Client,
        description: str,
        config: BotConfig,
        contacts: Contacts,
        providers: Providers,
        incidents: IncidentService,
        store: IncidentStore,
        flows: IncidentFlows,
        client: AsyncWebClient,
        tasks: BackgroundTasks,
        outbox: Outbox,
        clock: Callable[[], datetime],
        public_url: str | None,
        tests: TestPages | None = None,
        escalate: Callable[[Incident], Awaitable[int]] | None = None,
    ) -> None:
        super().__init__(redis, description)
        self.tests = tests
        self.escalate_now = escalate  # the escalation's: the chain's next step at once
        self.config = config
        self.settings = config.paging
        self.contacts = contacts
        self.providers = providers
        self.incidents = incidents
        self.store = store
        self.flows = flows
        self.client = client
        self.tasks = tasks
        self.outbox = outbox
        self.clock = clock
        self.public_url = public_url
        self.due = DueSet(redis, description, keys.PAGING_DUE, keys.PAGING_PENDING)
        self._zones: dict[str, ZoneInfo] = {}
        self._limit = asyncio.Semaphore(MAX_CONCURRENT)

    # After the escalation's Slack page (an AfterPage on the board) ----------------------------------------------
    async def paged(self, incident: Incident, person: str, step: int, at: datetime) -> None:
        """Schedule the person's further methods of the incident's rule, each after the page began."""
        steps = self.settings.steps(incident.severity)
        later = {member(incident.number, step, person, i): at + s.after for i, s in enumerate(steps) if i}
        if later:
            await self.due.arm(later)

    async def call_now(self, incident: Incident, person: str, why: str) -> str:
        """One call to ``person`` at once, outside any rule (an emergency contact): what happened, in words (on the
        timeline, as the person's; the caller names them). Once per incident and person across replicas (HSETNX
        before the call: a crash loses the call rather than make it twice)."""
        field = f"now:{person}:{why}"
        async with self.io():
            first = await self.redis.hsetnx(keys.paging_attempts(incident.number), field, "calling")
            await self.redis.expire(keys.paging_attempts(incident.number), KEPT)
        if not first:
            return f"called already ({why})"
        phone = await self.contacts.verified(person)
        if phone is None:
            return await self._note(incident, person, f"no call ({why}), no verified number")
        gather = f"{self.public_url}/paging/twilio/voice" if self.public_url else None
        try:
            sent = await self.providers.call(phone, self._call_text(incident), gather)
        except ProviderDown as exc:
            log.error("%s: the %s call to %s for %s not made: %s", incident.ref, why, mask(phone), person, exc)
            return await self._note(incident, person, f"{why}: {exc}")
        if sent.sid:
            await self._sent(sent.sid, member(incident.number, 0, person, 0))
        return await self._note(incident, person, f"{why} call placed to {mask(phone)} ({sent.provider})")

    async def _sent(self, sid: str, attempt: str, person: str | None = None) -> None:
        """What a page that went out is kept as (its provider id, so a reply "1" or the call's status finds it; the
        person's last page, so a bare "1" does): through the outbox while the state store is away. The page is
        made: a lost answer of Redis must not have it said "not called" or made again."""

        async def write() -> None:
            async with self.io(), self.redis.pipeline(transaction=False) as pipe:
                if sid:
                    pipe.set(keys.paging_sid(sid), attempt, ex=LAST_KEPT)
                if person is not None:
                    pipe.set(keys.paging_last(person), attempt.split(":", 1)[0], ex=LAST_KEPT)
                await pipe.execute()

        await self.outbox.deliver(f"the record of page {attempt}", write)

    # On each tick of the poller -------------------------------------------------------------------------------------
    async def tick(self, now: datetime) -> int:
        claimed = await self.due.claim_due(now, now + LEASE)
        await asyncio.gather(*(self._guarded(m) for m in claimed))
        return len(claimed)

    async def _guarded(self, attempt: str) -> None:
        try:
            async with self._limit:  # 200 pages at once must not take every Redis connection
                await self.attempt(attempt)
        except DependencyError as exc:
            log.warning("page attempt %s deferred: %s", attempt, exc)
            return  # its lease lapses and it is claimed again
        except Exception:
            log.exception("page attempt %s failed; it is tried again when its lease lapses", attempt)
            return
        await self.due.complete(attempt, None)

    async def attempt(self, attempt: str) -> None:
        number, step, person, index = parse_member(attempt)
        field = f"{step}:{person}:{index}"
        try:
            incident = await self.store.get(number)
        except IncidentNotFound:
            return
        if incident.state is not State.OPEN:
            return  # acknowledged (or moved on): nobody needs waking
        steps = self.settings.steps(incident.severity)
        if index >= len(steps):
            return
        method = steps[index]
        async with self.io():
            if await self.redis.hexists(keys.paging_attempts(number), field):
                return  # made already (a replica died before completing its claim)
        outcome = await self._make(incident, person, method, attempt)
        await self._recorded(number, field, outcome)

    async def _recorded(self, number: int, field: str, outcome: str) -> None:
        """Record an attempt that went out. The SMS cannot be taken back: while the state store is away, keep
        trying for as long as the claim lasts (only then may the attempt be made again)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + LEASE.total_seconds()
        while True:
            try:
                async with self.io(), self.redis.pipeline(transaction=False) as pipe:
                    pipe.hsetnx(keys.paging_attempts(number), field, outcome)
                    pipe.expire(keys.paging_attempts(number), KEPT)
                    await pipe.execute()
                return
            except DependencyError:
                if loop.time() >= give_up:
                    raise
                await asyncio.sleep(RECORD_RETRY)

    async def _make(self, incident: Incident, person: str, method: Step, attempt: str) -> str:
        """Send it; what happened, in words (on the timeline)."""
        what = "SMS" if method.method == "sms" else "call"
        if incident.severity.value in QUIET and self.settings.quiet_hours is not None:
            local = self.clock().astimezone(await self._zone(person)).time()
            if self.settings.quiet_hours.inside(local):
                return await self._note(incident, person, f"no {what} in quiet hours (P3/P4 wait)")
        phone = await self.contacts.verified(person)
        if phone is None:
            return await self._note(incident, person, f"no {what}, no verified number (`/oncall phone`)")
        try:
            if method.method == "sms":
                sent = await self.providers.sms(phone, self._sms_text(incident))
            else:
                gather = f"{self.public_url}/paging/twilio/voice" if self.public_url else None
                sent = await self.providers.call(phone, self._call_text(incident), gather)
        except ProviderDown as exc:
            log.error("%s: %s to %s for %s not sent: %s", incident.ref, what, mask(phone), person, exc)
            await self._next_now(attempt)
            text = str(exc)  # "SMS not sent: Twilio answered HTTP 500…": never the number
            down = json.dumps({"at": self.clock().isoformat(), "why": text})
            async with self.io():  # said once per incident in its thread, however many attempts it stops
                first = await self.redis.hsetnx(keys.paging_attempts(incident.number), f"down:{what}", text)
                for provider in exc.providers or ("paging",):
                    await self.redis.hset(keys.PAGING_DOWN, provider, down)
                await self.redis.expire(keys.PAGING_DOWN, DOWN_KEPT)
            return await self._note(incident, person, text) if first else text
        await self._sent(sent.sid or "", attempt, person)
        verb = "sent" if method.method == "sms" else "placed"
        return await self._note(incident, person, f"{what} {verb} to {mask(phone)} ({sent.provider})")

    def _sms_text(self, incident: Incident) -> str:
        how = "reply 1 to acknowledge, 2 to escalate" if self.public_url else "acknowledge in Slack"
        return f"{incident.ref} {incident.severity.value} {incident.title[:100]} — {how}"

    def _call_text(self, incident: Incident) -> str:
        how = "Press 1 to acknowledge." if self.public_url else "Acknowledge it in Slack."
        sev = incident.severity.value
        return f"Chat ops page. Incident {incident.number}, severity {sev}: {incident.title[:120]}. {how}"

    async def _note(self, incident: Incident, person: str, text: str) -> str:
        """On the timeline (and the thread), as the paged person's: "@bob paging — SMS sent to •••• 0142"."""
        try:
            updated, entry = await self.incidents.note(incident.number, "paging", text, person)
        except DependencyError as exc:
            log.warning("%s: paging note not kept: %s", incident.ref, exc)
            return text
        self.tasks.spawn(self.flows.changed(updated, entry), name=f"paging-{incident.ref}")
        return text

    async def _zone(self, person: str) -> ZoneInfo:
        if person not in self._zones:
            zone = self.config.oncall.timezone
            try:
                info = await self.client.users_info(user=person)
                zone = str(info["user"].get("tz") or zone)
            except SLACK_ERRORS:
                pass
            try:
                self._zones[person] = ZoneInfo(zone)
            except (KeyError, ValueError):
                self._zones[person] = ZoneInfo(self.config.oncall.timezone)
        return self._zones[person]

    async def _next_now(self, attempt: str) -> None:
        """The person's next method of this page is due at once (this one failed)."""
        number, step, person, index = parse_member(attempt)
        await self.due.move(member(number, step, person, index + 1), self.clock())

    # What Twilio tells us ---------------------------------------------------------------------------------------
    async def status(self, sid: str, status: str) -> None:
        """A status callback: a failed SMS or an unanswered call moves the person to their next method now."""
        if status not in FAILED:
            return
        async with self.io():
            attempt = await self.redis.get(keys.paging_sid(sid))
        if attempt:
            await self._next_now(as_text(attempt))

    async def down_lines(self, now: datetime) -> list[str] | None:
        """For the morning digest: each provider that failed a page in the last 24 h (None: none did)."""
        async with self.io():
            found = {as_text(k): json.loads(v) for k, v in (await self.redis.hgetall(keys.PAGING_DOWN)).items()}
        lines = [
            f"⚠️ {provider.capitalize() if provider != 'sns' else 'Amazon SNS'}: failed a page at "
            f"{when(datetime.fromisoformat(seen['at']))}: {escape(str(seen['why'])[:200])}"
            for provider, seen in sorted(found.items())
            if now - datetime.fromisoformat(seen["at"]) < timedelta(hours=24)
        ]
        return lines or None

    async def open_page(self, person: str) -> bool:
        """The person's last page is of an incident still unacknowledged (a reply "1" acknowledges it)."""
        async with self.io():
            last = await self.redis.get(keys.paging_last(person))
        if not last:
            return False
        try:
            return (await self.store.get(int(as_text(last)))).state is State.OPEN
        except IncidentNotFound:
            return False

    async def escalate(self, person: str, how: str) -> Incident | None:
        """A reply "2": the person's last paged incident, still unacknowledged, goes to the chain's next person now."""
        async with self.io():
            last = await self.redis.get(keys.paging_last(person))
        if not last or self.escalate_now is None:
            return None
        try:
            incident = await self.store.get(int(as_text(last)))
        except IncidentNotFound:
            return None
        if incident.state is not State.OPEN:
            return incident
        step = await self.escalate_now(incident)
        await self._note(incident, person, f"asked by {how} to pass it on: step {step} of the escalation paged now")
        return incident

    async def acknowledge(self, person: str, how: str, number: int | None = None) -> Incident | None:
        """A reply by SMS or a key press: the person's last paged incident (or ``number``) acknowledged as them."""
        if number is None:
            async with self.io():
                last = await self.redis.get(keys.paging_last(person))
            if not last:
                return None
            number = int(as_text(last))
        try:
            incident, entry = await self.incidents.act(number, Action.ACKNOWLEDGE, person, f"by {how}")
        except TransitionRefused as exc:
            return exc.incident
        except IncidentNotFound:
            return None
        self.tasks.spawn(self.flows.changed(incident, entry), name=f"acknowledged-{incident.ref}")
        return incident
