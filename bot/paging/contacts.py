"""Who can be reached at which number: numbers an admin set in ``paging.contacts`` (verified by being there), and
numbers people add themselves with ``/oncall phone +1…``, never used before they confirm the 6-digit code sent to
them by SMS. Numbers are personal data: shown and logged masked, never in a channel.

Redis: ``paging:contact:{U}`` (hash: phone, verified, the code's hash, its expiry and the tries left) and
``paging:phones`` (verified number → person, for replies by SMS).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import keys
from bot.core.errors import UserError
from bot.core.redis import Client, RedisBacked
from bot.core.settings.paging import Paging, mask, phone_number
from bot.core.text import as_text

CODE_VALID = timedelta(minutes=10)
TRIES = 5


@dataclass(frozen=True)
class Number:
    phone: str
    verified: bool
    by_admin: bool

    @property
    def shown(self) -> str:
        state = "set by an admin" if self.by_admin else ("verified" if self.verified else "not verified yet")
        return f"{mask(self.phone)} ({state})"


def _digest(code: str, phone: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


class Contacts(RedisBacked):
    def __init__(self, redis: Client, description: str, settings: Paging, clock: Callable[[], datetime]) -> None:
        super().__init__(redis, description)
        self.settings = settings
        self.clock = clock

    async def number(self, user: str) -> Number | None:
        """The person's number (an admin's first), verified or not."""
        admin = self.settings.contacts.get(user)
        if admin is not None:
            return Number(admin.phone, verified=True, by_admin=True)
        async with self.io():
            found = {as_text(k): as_text(v) for k, v in (await self.redis.hgetall(keys.paging_contact(user))).items()}
        if not found.get("phone"):
            return None
        return Number(found["phone"], verified=found.get("verified") == "1", by_admin=False)

    async def verified(self, user: str) -> str | None:
        """The number to text or call, only once it is verified."""
        number = await self.number(user)
        return number.phone if number is not None and number.verified else None

    async def who(self, phone: str) -> str | None:
        """The person a verified number belongs to (a reply by SMS acknowledges as them)."""
        for user, contact in self.settings.contacts.items():
            if contact.phone == phone:
                return user
        async with self.io():
            found = await self.redis.hget(keys.PAGING_PHONES, phone)
        return as_text(found) if found else None

    async def start(self, user: str, text: str) -> tuple[str, str]:
        """A number to add: (the number, the code to send it). Refused for a number set by an admin."""
        if user in self.settings.contacts:
            raise UserError("Your number was set by an admin (`paging.contacts`); ask them to change it.")
        try:
            phone = phone_number(text)
        except ValueError:
            raise UserError(
                "That is not a phone number in international form: write it like `+14155550101` (a + and the "
                "country code)."
            ) from None
        code = f"{secrets.randbelow(1_000_000):06d}"
        expires = (self.clock() + CODE_VALID).isoformat()
        async with self.io():
            previous = as_text(await self.redis.hget(keys.paging_contact(user), "phone") or b"")
            async with self.redis.pipeline(transaction=False) as pipe:
                if previous:
                    pipe.hdel(keys.PAGING_PHONES, previous)
                pipe.delete(keys.paging_contact(user))
                pipe.hset(
                    keys.paging_contact(user),
                    mapping={
                        "phone": phone,
                        "verified": "0",
                        "code": _digest(code, phone),
                        "expires": expires,
                        "tries": str(TRIES),
                    },
                )
                await pipe.execute()
        return phone, code

    async def confirm(self, user: str, code: str) -> str:
        """The code sent by SMS, typed back: the number is verified (its masked form is returned)."""
        if user in self.settings.contacts:
            raise UserError("Your number was set by an admin (`paging.contacts`): nothing to verify.")
        key = keys.paging_contact(user)
        async with self.io():
            found = {as_text(k): as_text(v) for k, v in (await self.redis.hgetall(key)).items()}
        if not found.get("phone"):
            raise UserError("No number is waiting for its code: add one with `/oncall phone +14155550101`.")
        phone = found["phone"]
        if found.get("verified") == "1":
            return mask(phone)
        if datetime.fromisoformat(found["expires"]) < self.clock() or int(found.get("tries", "0")) <= 0:
            raise UserError("That code has expired: send `/oncall phone <number>` again for a new one.")
        async with self.io():
            left = await self.redis.hincrby(key, "tries", -1)
        if not code.isdigit() or not hmac.compare_digest(_digest(code, phone), found.get("code", "")):
            raise UserError(f"That is not the code sent to {mask(phone)}; {max(left, 0)} tries left.")
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping={"verified": "1"})
            pipe.hdel(key, "code", "expires", "tries")
            pipe.hset(keys.PAGING_PHONES, phone, user)
            await pipe.execute()
        return mask(phone)

    async def remove(self, user: str) -> str | None:
        """Forget the person's own number; its masked form, or None when there was none."""
        if user in self.settings.contacts:
            raise UserError("Your number was set by an admin (`paging.contacts`); ask them to remove it.")
        async with self.io():
            phone = as_text(await self.redis.hget(keys.paging_contact(user), "phone") or b"")
            if not phone:
                return None
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.delete(keys.paging_contact(user))
                pipe.hdel(keys.PAGING_PHONES, phone)
                await pipe.execute()
        return mask(phone)
