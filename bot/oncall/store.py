"""On-call state in Redis: durable escalation deadlines, overrides, the rotation anchor.

Keys (``bot.core.keys``): ``{esc}:due`` (incident → when its next page is due), ``{esc}:pending``
(incident → lease expiry while a replica pages it), ``inc:{42}:esc`` (``next_step``, ``sent:<step>``
markers and ``early:<step>``: page that step at once, the person before could not be reached; ``paged_as``: the
severity of the last page; ``held:<user>``: paged while the chain's paging is held; ``gen``: the chain's generation,
the incident's ``handovers``, and ``since``, when it started again; in the incident's slot),
``oncall:anchor``, ``oncall:override``, ``oncall:timeline``.

The deadlines are a :class:`bot.core.dueset.DueSet`: each due page is taken by exactly one replica, and a
page claimed by a process that crashed before sending is taken again once the lease expires.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from bot.core import keys
from bot.core.dueset import DueSet
from bot.core.redis import Client, RedisBacked
from bot.core.text import as_text
from bot.core.timeline import TimelineEntry
from bot.core.versioned import TIMELINE_MAXLEN
from bot.incidents.model import Incident
from bot.oncall.schedule import Cover, ShiftRef

# KEYS[1] the escalation hash, KEYS[2] the timeline; ARGV[1] the step, ARGV[2..5] the entry, ARGV[6] '1': the next step
# at once, ARGV[7] the timeline's length, ARGV[8] the chain's generation the page was sent in ('': any). 0 when the
# step was recorded already, 2 when the chain was restarted since (handed over: the page was the old team's).
_RECORD_PAGE = """
if ARGV[8] ~= '' and (redis.call('HGET', KEYS[1], 'gen') or '0') ~= ARGV[8] then return 2 end
if redis.call('HSETNX', KEYS[1], 'sent:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'next_step', tonumber(ARGV[1]) + 1)
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'early:' .. (tonumber(ARGV[1]) + 1), '1') end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'at', ARGV[2], 'actor', ARGV[3], 'kind', ARGV[4],
           'text', ARGV[5])
return 1
"""

# KEYS[1] the escalation hash, KEYS[2] the timeline; ARGV[1] the person paged while paging is held, then the entry.
_RECORD_HELD_PAGE = """
if redis.call('HSETNX', KEYS[1], 'held:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'at', ARGV[2], 'actor', ARGV[3], 'kind', ARGV[4],
           'text', ARGV[5])
return 1
"""

# KEYS[1] the escalation hash; ARGV[1] the severity now. When the last page went out at a less urgent severity,
# that step is to be paged again at once (its sent marker goes); 1 when so.
_REPAGE = """
local step = tonumber(redis.call('HGET', KEYS[1], 'next_step') or '1') - 1
local as = redis.call('HGET', KEYS[1], 'paged_as')
if step < 1 or not as or as <= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'sent:' .. step)
redis.call('HSET', KEYS[1], 'next_step', step, 'early:' .. step, '1', 'paged_as', ARGV[1])
return 1
"""


# KEYS[1] the escalation hash; ARGV[1] the generation (the incident's hand-overs), ARGV[2] the instant. The chain
# starts again from step 1 in that generation, from that instant, unless it is there already (a page sent in an older
# one is not recorded in it); 1 when so.
_RESTART = """
if tonumber(redis.call('HGET', KEYS[1], 'gen') or '0') >= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'gen', ARGV[1], 'since', ARGV[2])
return 1
"""

# KEYS[1] the escalation hash: the next step is due at once (someone asked to escalate).
_EARLY = """
local step = tonumber(redis.call('HGET', KEYS[1], 'next_step') or '1')
redis.call('HSET', KEYS[1], 'early:' .. step, '1')
return step
"""


# KEYS[1] a team's covers; ARGV: id, JSON, id, JSON, …. All kept (1), or none when any id is kept already (0).
_ADD_COVERS = """
for i = 1, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then return 0 end
end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""


def _cover_json(cover_id: str, cover: Cover, now: datetime) -> str:
    return json.dumps({
        "id": cover_id, "user": cover.user, "start": cover.start.isoformat(), "until": cover.until.isoformat(),
        "replaces": cover.replaces, "by": cover.by, "kind": cover.kind, "at": now.isoformat(),
        **({"shift": cover.shift.to_json()} if cover.shift is not None else {}),
    })  # fmt: skip


def _instant(raw: str | None) -> datetime | None:
    """A stored instant; None when absent or unreadable (the chain then runs from the incident's own times)."""
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class EscalationState(NamedTuple):
    incident: Incident | None
    step: int
    sent: bool
    at_once: bool
    generation: str
    since: datetime | None  # when the chain started again (handed over); None: at the incident's open


class ChainRestarted(Exception):
    """A page went out in a chain that was restarted meanwhile (the incident was handed over to another team)."""


class OnCallStore(RedisBacked):
    def __init__(self, redis: Client, description: str) -> None:
        super().__init__(redis, description)
        self.deadlines = DueSet(redis, description, keys.DUE, keys.PENDING)
        self._record = redis.register_script(_RECORD_PAGE)
        self._repage = redis.register_script(_REPAGE)
        self._early = redis.register_script(_EARLY)
        self._restart = redis.register_script(_RESTART)
        self._add_covers = redis.register_script(_ADD_COVERS)
        self._record_held = redis.register_script(_RECORD_HELD_PAGE)

    async def arm(self, number: int, due: datetime) -> None:
        await self.deadlines.arm({str(number): due})

    async def move(self, number: int, due: datetime) -> None:
        """Change the due time of a scheduled page (not of one being sent right now)."""
        await self.deadlines.move(str(number), due)

    async def cancel(self, number: int) -> None:
        await self.deadlines.cancel(str(number))

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int = 200) -> list[int]:
        return [int(m) for m in await self.deadlines.claim_due(now, lease_until, limit)]

    async def renew(self, number: int, lease_until: datetime) -> None:
        """Extend the claim on ``number`` while it is being paged (only if it is still claimed)."""
        await self.deadlines.renew(str(number), lease_until)

    async def complete(self, number: int, next_due: datetime | None) -> None:
        """Release a claimed number, scheduling its next page if there is one (unless it was armed sooner while it
        was paged: an escalation asked for, a hand-over to another team)."""
        await self.deadlines.complete(str(number), next_due, keep_earlier=True)

    async def is_scheduled(self, numbers: list[int]) -> set[int]:
        found = await self.deadlines.scheduled([str(n) for n in numbers])
        return {int(m) for m in found}

    async def state(self, number: int) -> EscalationState:
        """The incident, its next step (1 if never paged), whether that step was already sent, whether it is due at
        once (the person before could not be reached), and the chain's generation (a hand-over starts another)."""
        # One transaction (both keys in the incident's slot): a hand-over cannot land between the two reads.
        async with self.io(), self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(keys.doc(number), "doc")
            pipe.hgetall(keys.escalation(number))
            raw, esc = await pipe.execute()
        incident = Incident.model_validate_json(raw) if raw else None
        step = int(esc.get("next_step", 1))
        since = _instant(esc.get("since"))
        return EscalationState(
            incident, step, f"sent:{step}" in esc, f"early:{step}" in esc, esc.get("gen", "0"), since
        )

    async def record_page(
        self, number: int, step: int, entry: TimelineEntry, *, next_at_once: bool = False, generation: str = ""
    ) -> bool:
        """Mark ``step`` done and add its timeline entry, once; False if it was already recorded.

        ``next_at_once`` makes the following step due immediately (this step's person was unreachable).
        ``generation``: the chain's generation the page went out in; when the chain was restarted since (handed
        over to another team), nothing is recorded and :class:`ChainRestarted` is raised.
        """
        flag = "1" if next_at_once else ""
        async with self.io():
            done = await self._record(
                keys=[keys.escalation(number), keys.timeline(number)],
                args=[
                    str(step),
                    entry.at.isoformat(),
                    entry.actor,
                    entry.kind,
                    entry.text,
                    flag,
                    TIMELINE_MAXLEN,
                    generation,
                ],
            )
        if int(done) == 2:
            raise ChainRestarted(number)
        return bool(done)

    async def paged_while_held(self, number: int, user: str) -> bool:
        """``user`` was paged already while the incident's paging is held."""
        async with self.io():
            return bool(await self.redis.hexists(keys.escalation(number), f"held:{user}"))

    async def record_held_page(self, number: int, user: str, entry: TimelineEntry) -> bool:
        """Mark ``user`` paged while paging is held and add the timeline entry, once; False if recorded before."""
        async with self.io():
            done = await self._record_held(
                keys=[keys.escalation(number), keys.timeline(number)],
                args=[user, entry.at.isoformat(), entry.actor, entry.kind, entry.text, TIMELINE_MAXLEN],
            )
        return bool(done)

    async def restart(self, number: int, generation: int, now: datetime) -> bool:
        """The chain starts again from step 1 in ``generation`` (the incident's hand-overs to another team) at
        ``now``, unless it is in that one already (whoever is first, the hand-over or the page it raced); whether
        this call did. What was paged is forgotten, and a page in flight in an older chain is not recorded in the
        new one."""
        async with self.io():
            return bool(await self._restart(keys=[keys.escalation(number)], args=[generation, now.isoformat()]))

    async def record_entry(self, number: int, entry: TimelineEntry) -> None:
        """An entry on the incident's timeline that changes nothing else (a page the chain did not count)."""
        fields = {"at": entry.at.isoformat(), "actor": entry.actor, "kind": entry.kind, "text": entry.text}
        async with self.io():
            await self.redis.xadd(keys.timeline(number), fields, maxlen=TIMELINE_MAXLEN, approximate=True)  # type: ignore[arg-type]

    async def paged_as(self, number: int, severity: str) -> None:
        """The severity the last page went out at."""
        async with self.io():
            await self.redis.hset(keys.escalation(number), "paged_as", severity)

    async def next_at_once(self, number: int) -> int:
        """The chain's next step is due at once; which step that is."""
        async with self.io():
            return int(await self._early(keys=[keys.escalation(number)]))

    async def repage(self, number: int, severity: str) -> bool:
        """The incident became more urgent than its last page said: page that person again at once."""
        async with self.io():
            return bool(await self._repage(keys=[keys.escalation(number)], args=[severity]))

    async def anchor(self, default: date, team: str | None = None) -> date:
        """The rotation's week-0 hand-off day: fixed in Redis on first use, shared by every replica (per team; the
        implicit team of the ``oncall`` section, ``team`` None, keeps the key it always had)."""
        key = keys.ONCALL_ANCHOR if team is None else keys.oncall_anchor(team)
        async with self.io():
            await self.redis.set(key, default.isoformat(), nx=True)
            value = await self.redis.get(key)
        return date.fromisoformat(str(value)) if value else default

    async def covers(self, team: str) -> list[Cover]:
        """The team's covers and swaps (overrides with a span) not yet pruned, oldest first, as kept: a cover with
        its shift is placed by ``bot.oncall.shifts.placed`` (one kept before covers had a shift: its instants)."""
        async with self.io():
            found = await self.redis.hgetall(keys.oncall_covers(team))
        covers = [json.loads(raw) for raw in found.values()]
        covers.sort(key=lambda c: (c["at"], c["id"]))
        return [_cover(c) for c in covers]

    async def add_covers(self, team: str, covers: Sequence[tuple[str, Cover]], now: datetime) -> bool:
        """Keep each ``(id, cover)`` (its span ended, it is dropped by the next ``prune``), all or none in one script
        (a swap's two halves), unless covers are kept under those ids already (a retried write changes nothing).
        Whether this call kept them. Their record on the on-call timeline is ``log_covers``' (once: its caller's
        claim decides)."""
        pairs = [x for cover_id, cover in covers for x in (cover_id, _cover_json(cover_id, cover, now))]
        async with self.io():
            return bool(await self._add_covers(keys=[keys.oncall_covers(team)], args=pairs))

    async def log_covers(self, team: str, ids: Sequence[str], now: datetime) -> None:
        """Note the covers kept under ``ids`` on the on-call timeline, as kept, all in one transaction (another key in
        another Redis Cluster slot: the record follows the change)."""
        async with self.io():
            kept = [json.loads(raw) for raw in await self.redis.hmget(keys.oncall_covers(team), list(ids)) if raw]
            async with self.redis.pipeline(transaction=True) as pipe:
                for cover in kept:
                    entry = {"at": now.isoformat(), "actor": cover["by"], "kind": cover["kind"],
                             "text": json.dumps(cover)}  # fmt: skip
                    pipe.xadd(keys.ONCALL_TIMELINE, entry, maxlen=10_000, approximate=True)  # type: ignore[arg-type]
                await pipe.execute()

    async def prune_covers(self, team: str, now: datetime, until: Callable[[Cover], datetime] | None = None) -> None:
        """Forget the covers whose span is over (``until``: where it ends with the config of now; default: as kept)."""
        end = until or (lambda c: c.until)
        async with self.io():
            found = await self.redis.hgetall(keys.oncall_covers(team))
            over = [k for k, raw in found.items() if end(_cover(json.loads(raw))) <= now]
            if over:
                await self.redis.hdel(keys.oncall_covers(team), *over)

    async def override(self, now: datetime) -> dict[str, Any] | None:
        async with self.io():
            raw = await self.redis.get(keys.ONCALL_OVERRIDE)
        if not raw:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data if datetime.fromisoformat(data["until"]) > now else None

    async def set_override(self, user: str, until: datetime, by: str, now: datetime) -> None:
        payload = json.dumps({"user": user, "until": until.isoformat(), "by": by, "at": now.isoformat()})
        ttl = max(int((until - now).total_seconds()), 1)
        # Two keys in two Redis Cluster slots: one pipeline, not a transaction (the record follows the change).
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.set(keys.ONCALL_OVERRIDE, payload, ex=ttl)
            pipe.xadd(keys.ONCALL_TIMELINE, {"at": now.isoformat(), "actor": by, "kind": "override", "text": payload})
            await pipe.execute()

    async def clear_override(self, by: str, now: datetime) -> None:
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(keys.ONCALL_OVERRIDE)
            pipe.xadd(
                keys.ONCALL_TIMELINE, {"at": now.isoformat(), "actor": by, "kind": "override cleared", "text": ""}
            )
            await pipe.execute()

    async def pages_sent(self, numbers: Sequence[int]) -> dict[int, list[int]]:
        """Per incident, the escalation steps that paged someone (``sent:<step>`` in its escalation hash)."""
        if not numbers:
            return {}
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            for n in numbers:
                pipe.hkeys(keys.escalation(n))
            answers = await pipe.execute()
        steps: dict[int, list[int]] = {}
        for n, fields in zip(numbers, answers, strict=True):
            names = [as_text(f) for f in fields]
            steps[n] = sorted(int(f.split(":", 1)[1]) for f in names if f.startswith("sent:"))
        return steps


def _cover(c: dict[str, Any]) -> Cover:
    shift = ShiftRef.from_json(c["shift"]) if c.get("shift") else None
    return Cover(user=c["user"], start=datetime.fromisoformat(c["start"]), until=datetime.fromisoformat(c["until"]),
                 replaces=c.get("replaces"), by=c.get("by", ""), kind=c.get("kind", "cover"), shift=shift)  # fmt: skip
