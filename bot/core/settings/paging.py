"""Config of paging that wakes people (pure): who can be reached at which number, each severity's methods in order,
quiet hours, and the providers (Twilio for SMS and calls, Amazon SNS as SMS fallback). The Twilio auth token is
TWILIO_AUTH_TOKEN in the environment, never here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.core.durations import parse_duration
from bot.core.settings.types import Duration, HttpUrl, Strict, UserId
from bot.core.severity import Severity

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
Method = Literal["slack", "sms", "call"]
_STEP = re.compile(r"^\s*(slack|sms|call)(?:\s+after\s+(\S+))?\s*$", re.IGNORECASE)


def phone_number(value: str) -> str:
    """A phone number in E.164 (``+14155550101``); spaces, dashes, dots and brackets are allowed and dropped."""
    compact = re.sub(r"[\s().-]", "", value)
    if not E164.match(compact):
        raise ValueError("is not a phone number in E.164 form, like +14155550101 (a + and 8 to 15 digits)")
    return compact


def mask(number: str) -> str:
    """A number as it may be shown or logged: all but its last 4 digits hidden."""
    return f"•••• {number[-4:]}" if len(number) > 4 else "••••"


@dataclass(frozen=True)
class Step:
    """One method of a rule: ``sms after 1m`` is an SMS one minute after the person's page began."""

    method: Method
    after: timedelta

    @classmethod
    def parse(cls, text: str) -> Step:
        found = _STEP.match(text)
        if not found:
            raise ValueError(f"{text!r} is not a method like 'slack', 'sms after 1m' or 'call after 3m'")
        method, after = found.group(1).lower(), found.group(2)
        delay = parse_duration(after) if after else timedelta(0)
        if delay > timedelta(hours=24):
            raise ValueError(f"{text!r}: a method comes within 24h of the page")
        return cls(method, delay)  # type: ignore[arg-type]


DEFAULT_RULES = {
    Severity.P1: ["slack", "sms after 1m", "call after 3m"],
    Severity.P2: ["slack", "sms after 5m"],
    Severity.P3: ["slack"],
    Severity.P4: ["slack"],
}


class Contact(Strict):
    phone: str

    _phone = field_validator("phone")(classmethod(lambda cls, v: phone_number(v)))


class QuietHours(Strict):
    """Hours of a person's night (in their Slack time zone): no SMS or call for P3 and P4 inside them."""

    start: time = Field(alias="from")
    end: time = Field(alias="to")

    def inside(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # across midnight: 22:00-07:00


class Twilio(Strict):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    from_number: str
    api_url: HttpUrl = "https://api.twilio.com"

    _from = field_validator("from_number")(classmethod(lambda cls, v: phone_number(v)))


class Sns(Strict):
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


class Paging(Strict):
    contacts: dict[UserId, Contact] = Field(default_factory=dict)  # set by an admin: count as verified
    rules: dict[Severity, list[str]] = Field(default_factory=dict)  # per severity, methods in order
    quiet_hours: QuietHours | None = None
    twilio: Twilio | None = None
    sns: Sns | None = None
    test_confirm_within: Duration = timedelta(minutes=30)

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: dict[Severity, list[str]]) -> dict[Severity, list[str]]:
        for severity, steps in value.items():
            parsed = [Step.parse(s) for s in steps]
            if not parsed or parsed[0].method != "slack" or parsed[0].after:
                raise ValueError(f"{severity.value}: a rule starts with 'slack' (the page itself, at once)")
        return value

    @model_validator(mode="after")
    def _fill_rules(self) -> Paging:
        object.__setattr__(self, "rules", {**DEFAULT_RULES, **self.rules})
        return self

    def steps(self, severity: Severity) -> list[Step]:
        """The methods a page of ``severity`` works through, the Slack page first."""
        return [Step.parse(s) for s in self.rules.get(severity, ["slack"])]

    @property
    def can_text(self) -> bool:
        return self.twilio is not None or self.sns is not None
