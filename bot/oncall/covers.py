"""Cover, swaps and take-over requests from Slack: asked in the team's channel (or of one person), taken or answered
with a button, race-safe (one Lua claim per request: twenty clicks, one taker; the others are told who took it).
What is taken or accepted becomes a cover of the team (``bot.oncall.schedule.Cover``) for exactly its span."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack
from bot.core.errors import UserError
from bot.core.outbox import Outbox
from bot.core.permissions import Access
from bot.core.redis import Client, RedisBacked, StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import BackgroundTasks
from bot.core.text import as_text, user, when
from bot.oncall import render, schedule, shifts
from bot.oncall.parse import CoverAsk, SwapAsk, next_local
from bot.oncall.roster import Roster
from bot.oncall.schedule import Cover, ShiftRef
from bot.oncall.shifts import Span
from bot.oncall.store import OnCallStore

log = logging.getLogger(__name__)

MAX_SWAP_AHEAD = timedelta(days=90)
REQUESTS = ("cover", "swap", "take over")  # what a request's kind may be
TOOK_OVER = "operator take-over"  # the kind of an operator's take-over's claim (told once), not a request

# KEYS[1] the request; ARGV[1] the field (taker, answer), ARGV[2] the value. {1, value} when this call set it, {0,
# the value that stands} when an earlier one did, nil when the request is gone.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then return {0, held} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, ARGV[2]}
"""


class Covers(RedisBacked):
    def __init__(
        self,
        redis: Client,
        description: str,
        *,
        roster: Roster,
        store: OnCallStore,
        client: AsyncWebClient,
        access: Access,
        config: BotConfig,
        tasks: BackgroundTasks,
        outbox: Outbox,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(redis, description)
        self.roster, self.store, self.client, self.access = roster, store, client, access
        self.config, self.tasks, self.outbox, self.clock = config, tasks, outbox, clock
        self._claim = redis.register_script(_CLAIM)

    async def _shift_in(self, teams: list[str], person: str, at: datetime) -> tuple[str, schedule.TeamShift]:
        """``person``'s current shift, else their next, in any of ``teams`` (the soonest; a tie: the first team in
        the config's order), and its team: a lead of one team on a rotation of another asks in the rotation's."""
        if not teams:
            raise UserError("You are in no team's schedule; only people on a rotation ask for cover.")
        found = []
        for team in teams:
            shift = schedule.shift_of(self.roster.teams[team], person, at, await self.roster.anchor(team, at))
            if shift is not None:
                found.append((max(shift.started, at), team, shift))
        if not found:
            raise UserError(f"You have no shift in team {' or '.join(teams)} in the next weeks.")
        soonest = min(found, key=lambda f: f[0])
        return soonest[1], soonest[2]

    async def ask(self, requester: str, ask: CoverAsk) -> str:
        """Cover of ``requester``'s current or next shift, asked in the team's channel (or of ``ask.person``)."""
        now = self.clock()
        team, shift = await self._shift_in(self.roster.teams_of(requester), requester, now)
        start = max(now, shift.started)
        if ask.duration is not None:
            until = start + ask.duration
        elif ask.until is not None:
            until = next_local(ask.until, start, self.roster.teams[team].local_timezone)
        else:
            until = shift.ends
        if ask.person is not None:
            await self._require_member(team, ask.person, them=True)
        fields = {"team": team, "kind": "cover", "by": requester, "for": ask.person or "",
                  "start": start.isoformat(), "until": until.isoformat(),
                  **await self._shift_field("shift", team, start, until, whole=False)}  # fmt: skip
        request = await self._keep(fields, until)
        where = ask.person or self.config.team_channel(team)
        blocks = render.cover_request_blocks(request, requester, team, (start, until), ask.person)
        await self._post(request, where, f"{user(requester)} asks for cover", blocks)
        whom = user(ask.person) if ask.person else f"team {team} (<#{where}>)"
        return f"Asked {whom} to cover you from {when(start)} until {when(until)}."

    async def take(self, request: str, taker: str) -> str:
        """The Take button: the first member of the team to click is on call instead of the requester."""
        found = await self._read(request)
        team, by, wanted = found["team"], found["by"], found.get("for") or None
        if taker == by:
            raise UserError("It is your own shift: someone else takes it.")
        if wanted is not None and taker != wanted:
            raise UserError(f"This request asks {user(wanted)} only.")
        await self._require_member(team, taker)
        cover = await self._placed(team, Cover(taker, *_span(found), replaces=by, by=by, shift=_ref(found, "shift")))
        start, until = cover.start, cover.until
        if await self._held(request, "taker") is None:
            await self._require_change(team, cover)  # before the claim: a refusal leaves the request to the others
        won, winner = await self._first(request, "taker", taker)
        if winner != taker:
            return f"Already taken by {user(winner)}."
        # The taker's retry redoes the write a failure after the claim left undone (kept once, told once).
        await self._cover(team, [(request, cover)])
        if await self._tell_once(team, request, [request]):
            self._later(self._dm(by, f"✅ {user(taker)} covers you from {when(start)} until {when(until)}."))
            self._later(self._settle(found, f"✅ Covered by {user(taker)} from {when(start)} until {when(until)}."))
        said = f"cover {user(by)} from {when(start)} until {when(until)}."
        return f"You {said}" if won else f"You took it already: you {said}"

    async def propose_swap(self, requester: str, ask: SwapAsk) -> str:
        """Swap ``requester``'s shift of ``ask.day`` for ``ask.person``'s next one, asked of them by DM."""
        if ask.person == requester:
            raise UserError("Name someone else to swap with.")
        shared = [t for t in self.roster.teams_of(requester) if t in self.roster.teams_of(ask.person)]
        if not shared:
            raise UserError(f"You and {user(ask.person)} are in no team together.")
        now = self.clock()
        if not now.date() - timedelta(days=1) <= ask.day <= now.date() + MAX_SWAP_AHEAD:
            raise UserError(f"Name a day of your shift within the next {MAX_SWAP_AHEAD.days} days.")
        team, found = await self._shift_on(shared, requester, ask.day, now)
        mine, theirs = await self._swapped(team, found, ask.person)
        fields = {"team": team, "kind": "swap", "by": requester, "for": ask.person,
                  "start": mine[0].isoformat(), "until": mine[1].isoformat(),
                  "their_start": theirs[0].isoformat(), "their_until": theirs[1].isoformat(),
                  **await self._shift_field("shift", team, *mine, whole=True),
                  **await self._shift_field("their_shift", team, *theirs, whole=True)}  # fmt: skip
        request = await self._keep(fields, max(mine[1], theirs[1]))
        blocks = render.swap_request_blocks(request, requester, team, mine, theirs)
        await self._post(request, ask.person, f"{user(requester)} proposes a swap", blocks)
        return (f"Asked {user(ask.person)} to swap: they take yours ({when(mine[0])} – {when(mine[1])}), you "
                f"take theirs ({when(theirs[0])} – {when(theirs[1])}).")  # fmt: skip

    async def _shift_on(
        self, teams: list[str], person: str, day: date, now: datetime
    ) -> tuple[str, schedule.TeamShift]:
        """The first of ``teams`` where ``person``'s shift holds part of ``day`` (in the team's own timezone)."""
        for team in teams:
            midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(self.roster.teams[team].local_timezone))
            found = self.roster.teams[team]
            shift = schedule.shift_of(found, person, max(midnight, now), await self.roster.anchor(team, now))
            if shift is not None and shift.started < midnight + timedelta(days=1):
                return team, shift
        raise UserError(f"You have no shift in team {' or '.join(teams)} on {day.isoformat()}.")

    async def _swapped(self, team: str, mine: schedule.TeamShift, person: str) -> tuple[Span, Span]:
        """The requester's whole shift holding ``mine`` and ``person``'s next whole shift as primary after it."""
        found, anchor = self.roster.teams[team], await self.roster.anchor(team, mine.started)
        ref = shifts.locate(found, anchor, mine.started, mine.ends, whole=True)
        span = shifts.span(found, anchor, ref) if ref is not None else None
        span = span or (mine.started, mine.ends)
        theirs_ref = shifts.next_primary(found, person, max(self.clock(), span[1]), anchor)
        theirs = shifts.span(found, anchor, theirs_ref) if theirs_ref is not None else None
        if theirs is None:
            raise UserError(f"{user(person)} has no shift in team {team} to swap in the next weeks.")
        return span, theirs

    async def ask_take_over(self, team: str, person: str, duration: timedelta) -> str:
        """Someone not an operator asks the team's primary to take over for ``duration``."""
        now = self.clock()
        name, _ = self.roster.team(team)
        who = await self.roster.now(now, name)
        asked, role = (who.primary, "primary") if who.primary else (who.lead, "lead")  # the lead: unscheduled hours
        if asked == person:
            return "You are on call already."
        if asked is None:
            raise UserError(f"Nobody is on call in team {name} to ask (no rotation, no lead): an operator takes over.")
        until = now + duration
        fields = {"team": name, "kind": "take over", "by": person, "for": asked,
                  "start": now.isoformat(), "until": until.isoformat()}  # fmt: skip
        request = await self._keep(fields, until)
        await self._post(request, asked, f"{user(person)} asks to take over", render.takeover_request_blocks(
            request, person, name, until))  # fmt: skip
        return f"Asked {user(asked)} ({role} of {name}) to let you take over until {when(until)}."

    async def take_over(self, team: str, person: str, duration: timedelta) -> str:
        """An operator is primary of ``team`` from now for ``duration``."""
        now = self.clock()
        name, _ = self.roster.team(team)
        cover = Cover(person, now, now + duration, replaces=None, by=person, kind="take over")
        # One per person and minute: a double click keeps one cover and says it once; a retry after a failure says
        # it then (a claim of its own, as a request's, that nobody can answer).
        taken = f"take-over:{person}:{now:%Y%m%dT%H%M}"
        await self._keep({"team": name, "kind": TOOK_OVER, "by": person}, cover.until, request=taken)
        kept = await self._cover(name, [(taken, cover)])
        if await self._tell_once(name, taken, [taken]):
            self._later(self._dm(self.config.team_channel(name), f"{user(person)} took over on call of team "
                                 f"{name} until {when(cover.until)}."))  # fmt: skip
        if not kept:
            return f"You took over already: you are primary of team {name}."
        return f"You are primary of team {name} until {when(cover.until)}."

    async def answer(self, request: str, person: str, yes: bool) -> str:
        """Accept or decline a swap or a take-over request (only the person asked)."""
        found = await self._read(request)
        if found.get("kind") not in ("swap", "take over"):
            raise UserError("A cover request is taken with its Take button.")
        if person != found.get("for"):
            raise UserError(f"Only {user(found.get('for'))} answers this request.")
        by, team, kind = found["by"], found["team"], found["kind"]
        covers = await self._answered_covers(request, found)
        if yes and await self._held(request, "answer") is None:
            for _, cover in covers:  # before the answer is claimed: a refusal leaves the request open
                await self._require_change(team, cover)
        won, said = await self._first(request, "answer", "accepted" if yes else "declined")
        if said == "declined":
            if won:
                self._later(self._dm(by, f"{user(person)} declined your {kind} request."))
                self._later(self._settle(found, f"Declined by {user(person)}."))
            return "Declined." if won else "You declined it already."
        # Accepted: the retry redoes the writes a failure after the claim left undone (each kept once, told once).
        await self._cover(team, covers)  # both halves of a swap or neither
        if await self._tell_once(team, request, [cover_id for cover_id, _ in covers]):
            self._later(self._dm(by, f"✅ {user(person)} accepted your {kind} request."))
            self._later(self._settle(found, f"✅ Accepted by {user(person)}."))
        return "Accepted." if won else "You accepted it already."

    async def _answered_covers(self, request: str, found: dict[str, str]) -> list[tuple[str, Cover]]:
        """What accepting the request keeps: a swap's two covers, or the take-over (from when it is accepted)."""
        by, person, team, kind = found["by"], found["for"], found["team"], found["kind"]
        start, until = _span(found)
        if kind != "swap":  # a take-over: from when it is accepted (a retry keeps the first)
            return [(request, Cover(by, max(start, self.clock()), until, replaces=person, by=person, kind=kind))]
        mine = Cover(person, start, until, replaces=by, by=by, kind="swap", shift=_ref(found, "shift"))
        theirs = Cover(by, *_span(found, "their_"), replaces=person, by=by, kind="swap",
                       shift=_ref(found, "their_shift"))  # fmt: skip
        return [(f"{request}:a", await self._placed(team, mine)), (f"{request}:b", await self._placed(team, theirs))]

    async def _held(self, request: str, field: str) -> str | None:
        """The taker or answer a request has so far (None: not yet)."""
        async with self.io():
            held = await self.redis.hget(keys.cover_request(request), field)
        return as_text(held) if held else None

    async def _require_change(self, team: str, cover: Cover) -> None:
        """Refuse (before anything is kept) a cover that would change nobody on call: the taker is on call then
        already, or the span is covered already."""
        at = max(cover.start, self.clock())
        if at >= cover.until:
            raise UserError("This request is over: its span has passed.")
        found, anchor = self.roster.teams[team], await self.roster.anchor(team, at)
        others = await self.roster.covers(team, at)
        before = schedule.at(found, team, at, anchor, others)
        after = schedule.at(found, team, at, anchor, [*others, cover])
        if (before.primary, before.secondary) == (after.primary, after.secondary):
            raise UserError(f"That changes nobody on call: {user(cover.user)} is on call then already, or the span is "
                            "covered already.")  # fmt: skip

    # Redis and Slack ---------------------------------------------------------------------------------------------

    async def _keep(self, fields: dict[str, str], until: datetime, *, request: str | None = None) -> str:
        """Keep a request (``request``: under that id; default: a new one) a day past its span."""
        request = request or secrets.token_hex(8)
        ttl = max(int((until - self.clock()).total_seconds()) + 86400, 60)
        async with self.io(), self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.cover_request(request), mapping=fields)  # type: ignore[arg-type]
            pipe.expire(keys.cover_request(request), ttl)
            await pipe.execute()
        return request

    async def _read(self, request: str) -> dict[str, str]:
        async with self.io():
            found = await self.redis.hgetall(keys.cover_request(request))
        if not found:
            raise UserError("This request is over (or was never made).")
        fields = {as_text(k): as_text(v) for k, v in found.items()}
        if fields.get("kind") not in REQUESTS:  # an operator's take-over: no request to take or answer
            raise UserError("This request is over (or was never made).")
        if fields.get("team") not in self.roster.teams:  # renamed or removed from the config since it was asked
            raise UserError(f"Team {str(fields.get('team'))[:30]} is no longer in the config: this request is over.")
        return fields

    async def _first(self, request: str, field: str, value: str) -> tuple[bool, str]:
        """Whether this call gave ``field`` its value, and the value that stands."""
        async with self.io():
            held = await self._claim(keys=[keys.cover_request(request)], args=[field, value])
        if held is None:
            raise UserError("This request is over (or was never made).")
        return bool(int(held[0])), as_text(held[1])

    async def _shift_field(
        self, name: str, team: str, start: datetime, until: datetime, *, whole: bool
    ) -> dict[str, str]:
        """The shift holding the span, as a request's field (none when no schedule names anyone then)."""
        ref = shifts.locate(self.roster.teams[team], await self.roster.anchor(team, start), start, until, whole=whole)
        return {name: json.dumps(ref.to_json())} if ref is not None else {}

    async def _placed(self, team: str, cover: Cover) -> Cover:
        """``cover`` at its shift's instants with the config of now."""
        return shifts.placed(self.roster.teams[team], await self.roster.anchor(team, cover.start), cover)

    async def _cover(self, team: str, covers: list[tuple[str, Cover]]) -> bool:
        """Keep ``covers`` (id, cover) all at once, unless they are kept already; whether this call kept them."""
        now = self.clock()
        found, anchor = self.roster.teams[team], await self.roster.anchor(team, now)
        await self.store.prune_covers(team, now, lambda c: shifts.placed(found, anchor, c).until)
        kept = await self.store.add_covers(team, covers, now)
        self.roster.forget_override()
        return kept

    async def _tell_once(self, team: str, request: str, ids: list[str]) -> bool:
        """Whether this call is the one to tell the requester and settle the request's message (after what was
        taken or accepted is kept: a retry after a failure tells them then). That call notes the covers kept under
        ``ids`` on the on-call timeline first; when that fails, the claim is given back, for the retry."""
        if not (await self._first(request, "told", "1"))[0]:
            return False
        try:
            await self.store.log_covers(team, ids, self.clock())
        except StoreUnavailable:
            with contextlib.suppress(StoreUnavailable):
                async with self.io():
                    await self.redis.hdel(keys.cover_request(request), "told")
            raise
        return True

    async def _require_member(self, team: str, person: str, *, them: bool = False) -> None:
        found = self.roster.teams[team]
        if person in found.members:
            return
        if found.user_group and await self.access.in_group(person, found.user_group):
            return
        group = f" or user group <!subteam^{found.user_group}>" if found.user_group else ""
        if them:
            raise UserError(f"{user(person)} is not in team {team} (its rotations{group}): ask one of its members.")
        raise UserError(f"Only members of team {team} (its rotations{group}) take its covers.")

    async def _post(self, request: str, where: str, text: str, blocks: list[Block]) -> None:
        try:
            posted = await self.client.chat_postMessage(channel=where, text=text, blocks=blocks)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", "a cover request", exc)
            raise UserError("Slack did not take the request; nothing was asked. Try again shortly.") from None
        place: dict[str | bytes, str] = {"channel": str(posted.get("channel") or ""), "ts": str(posted.get("ts") or "")}

        async def keep() -> None:  # posted: where it is, kept while the state store is away (its answer edits it)
            async with self.io():
                await self.redis.hset(keys.cover_request(request), mapping=place)  # type: ignore[arg-type]

        await self.outbox.deliver(f"where cover request {request} is", keep)

    def _later(self, work: object) -> None:
        self.tasks.spawn(work, name="oncall-cover")  # type: ignore[arg-type]

    async def _dm(self, where: str, text: str) -> None:
        try:
            await self.client.chat_postMessage(channel=where, text=text)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", "a cover's news", exc)

    async def _settle(self, found: dict[str, str], text: str) -> None:
        """The request's message says how it ended (its buttons gone)."""
        if not found.get("channel") or not found.get("ts"):
            return
        try:
            await self.client.chat_update(channel=found["channel"], ts=found["ts"], text=text, blocks=[])
        except SLACK_ERRORS as exc:
            slack.failed("chat.update", "a cover request", exc)


def _span(found: dict[str, str], prefix: str = "") -> Span:
    return datetime.fromisoformat(found[f"{prefix}start"]), datetime.fromisoformat(found[f"{prefix}until"])


def _ref(found: dict[str, str], field: str) -> ShiftRef | None:
    """The shift a request's span belongs to (None: a request made before requests kept it)."""
    raw = found.get(field)
    return ShiftRef.from_json(json.loads(raw)) if raw else None
