"""Cover, swaps and take-over requests from Slack: asked in the team's channel (or of one person), taken or answered
with a button, race-safe (one Lua claim per request: twenty clicks, one taker; the others are told who took it).
What is taken or accepted becomes a cover of the team (``bot.oncall.schedule.Cover``) for exactly its span."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack
from bot.core.errors import UserError
from bot.core.permissions import Access
from bot.core.redis import Client, RedisBacked
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
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(redis, description)
        self.roster, self.store, self.client, self.access = roster, store, client, access
        self.config, self.tasks, self.clock = config, tasks, clock
        self._claim = redis.register_script(_CLAIM)

    def _team_of(self, person: str, team: str | None = None) -> str:
        if team is not None:
            return self.roster.team(team)[0]
        mine = self.roster.teams_of(person)
        if not mine:
            raise UserError("You are in no team's schedule; only people on a rotation ask for cover.")
        return mine[0]

    async def _shift(self, team: str, person: str, at: datetime) -> schedule.TeamShift:
        found = self.roster.teams[team]
        shift = schedule.shift_of(found, person, at, await self.roster.anchor(team, at))
        if shift is None:
            raise UserError(f"You have no shift in team {team} in the next weeks.")
        return shift

    async def ask(self, requester: str, ask: CoverAsk) -> str:
        """Cover of ``requester``'s current or next shift, asked in the team's channel (or of ``ask.person``)."""
        now = self.clock()
        team = self._team_of(requester)
        shift = await self._shift(team, requester, now)
        start = max(now, shift.started)
        if ask.duration is not None:
            until = start + ask.duration
        elif ask.until is not None:
            until = next_local(ask.until, start, self.roster.teams[team].timezone)
        else:
            until = shift.ends
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
        won, winner = await self._first(request, "taker", taker)
        if not won:
            return f"Already taken by {user(winner)}." if winner != taker else "You took it already."
        cover = await self._placed(team, Cover(taker, *_span(found), replaces=by, by=by, shift=_ref(found, "shift")))
        start, until = cover.start, cover.until
        await self._cover(team, request, cover)
        self._later(self._dm(by, f"✅ {user(taker)} covers you from {when(start)} until {when(until)}."))
        self._later(self._settle(found, f"✅ Covered by {user(taker)} from {when(start)} until {when(until)}."))
        return f"You cover {user(by)} from {when(start)} until {when(until)}."

    async def propose_swap(self, requester: str, ask: SwapAsk) -> str:
        """Swap ``requester``'s shift of ``ask.day`` for ``ask.person``'s next one, asked of them by DM."""
        if ask.person == requester:
            raise UserError("Name someone else to swap with.")
        shared = [t for t in self.roster.teams_of(requester) if t in self.roster.teams_of(ask.person)]
        if not shared:
            raise UserError(f"You and {user(ask.person)} are in no team together.")
        team = shared[0]
        now = self.clock()
        day = datetime.combine(ask.day, datetime.min.time(), tzinfo=self.roster.tz)
        found = await self._shift(team, requester, max(day, now))
        if found.started >= day + timedelta(days=1):
            raise UserError(f"You have no shift in team {team} on {ask.day.isoformat()}.")
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
        primary = (await self.roster.now(now, name)).primary
        if primary is None or primary == person:
            return await self.take_over(name, person, duration) if primary is None else "You are on call already."
        until = now + duration
        fields = {"team": name, "kind": "take over", "by": person, "for": primary,
                  "start": now.isoformat(), "until": until.isoformat()}  # fmt: skip
        request = await self._keep(fields, until)
        await self._post(request, primary, f"{user(person)} asks to take over", render.takeover_request_blocks(
            request, person, name, until))  # fmt: skip
        return f"Asked {user(primary)} (primary of {name}) to let you take over until {when(until)}."

    async def take_over(self, team: str, person: str, duration: timedelta) -> str:
        """An operator is primary of ``team`` from now for ``duration``."""
        now = self.clock()
        name, _ = self.roster.team(team)
        cover = Cover(person, now, now + duration, replaces=None, by=person, kind="take over")
        await self._cover(name, secrets.token_hex(8), cover)
        self._later(self._dm(self.config.team_channel(name), f"{user(person)} took over on call of team {name} "
                             f"until {when(cover.until)}."))  # fmt: skip
        return f"You are primary of team {name} until {when(cover.until)}."

    async def answer(self, request: str, person: str, yes: bool) -> str:
        """Accept or decline a swap or a take-over request (only the person asked)."""
        found = await self._read(request)
        if person != found.get("for"):
            raise UserError(f"Only {user(found.get('for'))} answers this request.")
        won, said = await self._first(request, "answer", "accepted" if yes else "declined")
        if not won:
            return f"You {said} it already."
        by, team, kind = found["by"], found["team"], found["kind"]
        if not yes:
            self._later(self._dm(by, f"{user(person)} declined your {kind} request."))
            self._later(self._settle(found, f"Declined by {user(person)}."))
            return "Declined."
        start, until = _span(found)
        if kind == "swap":
            mine = Cover(person, start, until, replaces=by, by=by, kind="swap", shift=_ref(found, "shift"))
            await self._cover(team, f"{request}:a", await self._placed(team, mine))
            theirs = Cover(by, *_span(found, "their_"), replaces=person, by=by, kind="swap",
                           shift=_ref(found, "their_shift"))  # fmt: skip
            await self._cover(team, f"{request}:b", await self._placed(team, theirs))
        else:
            begin = max(start, self.clock())
            await self._cover(team, request, Cover(by, begin, until, replaces=person, by=person, kind=kind))
        self._later(self._dm(by, f"✅ {user(person)} accepted your {kind} request."))
        self._later(self._settle(found, f"✅ Accepted by {user(person)}."))
        return "Accepted."

    # Redis and Slack ---------------------------------------------------------------------------------------------

    async def _keep(self, fields: dict[str, str], until: datetime) -> str:
        request = secrets.token_hex(8)
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
        return {as_text(k): as_text(v) for k, v in found.items()}

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

    async def _cover(self, team: str, cover_id: str, cover: Cover) -> None:
        now = self.clock()
        found, anchor = self.roster.teams[team], await self.roster.anchor(team, now)
        await self.store.prune_covers(team, now, lambda c: shifts.placed(found, anchor, c).until)
        await self.store.add_cover(team, cover_id, cover, now)
        self.roster.forget_override()

    async def _require_member(self, team: str, person: str) -> None:
        found = self.roster.teams[team]
        if person in found.members:
            return
        if found.user_group and await self.access.in_group(person, found.user_group):
            return
        group = f" or user group <!subteam^{found.user_group}>" if found.user_group else ""
        raise UserError(f"Only members of team {team} (its rotations{group}) take its covers.")

    async def _post(self, request: str, where: str, text: str, blocks: list[Block]) -> None:
        try:
            posted = await self.client.chat_postMessage(channel=where, text=text, blocks=blocks)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", "a cover request", exc)
            raise UserError("Slack did not take the request; nothing was asked. Try again shortly.") from None
        async with self.io():
            place: dict[str | bytes, str] = {
                "channel": str(posted.get("channel") or ""),
                "ts": str(posted.get("ts") or ""),
            }
            await self.redis.hset(keys.cover_request(request), mapping=place)  # type: ignore[arg-type]

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
