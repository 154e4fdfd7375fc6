"""Action items in Redis: each incident's in one hash (numbered by HINCRBY), all of them in one index by when they
were recorded (``--mine``, ``--open``, the weekly report), and the claim of the one replica making an item's ticket."""

from __future__ import annotations

import secrets

from bot.core import keys
from bot.core.redis import RedisBacked
from bot.core.text import as_text
from bot.tickets.model import ActionItem
from bot.tickets.store import RELEASE

KEEP = 400 * 24 * 3600
INDEX_READ = 2000  # the newest items read for --mine, --open and the weekly report


class ActionStore(RedisBacked):
    async def add(self, item: ActionItem) -> ActionItem:
        """Numbered and stored; returned with its number."""
        key = keys.actions(item.number)
        async with self.io():
            index = int(await self.redis.hincrby(key, "seq", 1))
            numbered = item.model_copy(update={"index": index})
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, str(index), numbered.model_dump_json())
                pipe.expire(key, KEEP)
                pipe.zadd(keys.ACTIONS_INDEX, {f"{item.number}:{index}": item.at.timestamp()})
                await pipe.execute()
        return numbered

    async def put(self, item: ActionItem) -> None:
        async with self.io():
            await self.redis.hset(keys.actions(item.number), str(item.index), item.model_dump_json())

    async def get(self, number: int, index: int) -> ActionItem | None:
        async with self.io():
            raw = await self.redis.hget(keys.actions(number), str(index))
        return ActionItem.model_validate_json(raw) if raw else None

    async def of(self, number: int) -> list[ActionItem]:
        async with self.io():
            raw = await self.redis.hgetall(keys.actions(number))
        items = [ActionItem.model_validate_json(v) for k, v in raw.items() if as_text(k).isdigit()]
        return sorted(items, key=lambda i: i.index)

    async def newest(self) -> list[ActionItem]:
        """The newest items of every incident (at most ``INDEX_READ``), oldest first."""
        async with self.io():
            members = await self.redis.zrange(keys.ACTIONS_INDEX, -INDEX_READ, -1)
            wanted = [as_text(m).split(":", 1) for m in members]
            async with self.redis.pipeline(transaction=False) as pipe:
                for number, index in wanted:
                    pipe.hget(keys.actions(int(number)), index)
                found = await pipe.execute()
        return [ActionItem.model_validate_json(raw) for raw in found if raw]

    async def claim_ticket(self, number: int, index: int, ttl: int) -> str | None:
        token = secrets.token_hex(8)
        async with self.io():
            taken = await self.redis.set(keys.action_claim(number, index), token, nx=True, ex=ttl)
        return token if taken else None

    async def release_claim(self, number: int, index: int, token: str) -> None:
        async with self.io():
            await self.redis.eval(RELEASE, 1, keys.action_claim(number, index), token)

    async def tried(self, number: int, index: int) -> bool:
        async with self.io():
            return bool(await self.redis.hexists(keys.actions(number), f"tried:{index}"))

    async def trying(self, number: int, index: int) -> None:
        async with self.io():
            await self.redis.hset(keys.actions(number), f"tried:{index}", "1")

    async def linked(self, number: int, index: int) -> bool:
        """Whether item k's "relates to" link was sent (or refused, and said): not sent again."""
        async with self.io():
            return bool(await self.redis.hexists(keys.actions(number), f"linked:{index}"))

    async def link_done(self, number: int, index: int) -> None:
        async with self.io():
            await self.redis.hset(keys.actions(number), f"linked:{index}", "1")
