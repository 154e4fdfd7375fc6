"""Standard 5-field cron, read the way cron (and Velero, and Kubernetes CronJobs) read it, as APScheduler triggers.

APScheduler's own ``CronTrigger.from_crontab`` numbers weekdays from Monday = 0, so ``1-5`` would mean Tuesday to
Saturday; here weekday numbers mean what they mean in crontab(5) (0 or 7 = Sunday, 1 = Monday), written out as
names before APScheduler sees them. When both the day of the month and the weekday are restricted, both must match
(``0 9 1-7 * 1`` is the first Monday of the month), as APScheduler does and unlike Vixie cron's either-or.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _day(token: str) -> int:
    return NAMES.index(token[:3].lower()) if token[:3].lower() in NAMES else int(token) % 7


def weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler weekday names (``1-5`` → ``mon,tue,wed,thu,fri``)."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _day(low), (7 if high == "7" else _day(high))
            if last < first:
                raise ValueError(f"weekday range {span!r} runs backwards")
        else:
            first = last = _day(span)
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(NAMES[d] for d in sorted(days))


def trigger(expression: str, timezone: tzinfo) -> CronTrigger:
    """The trigger for a 5-field crontab expression (raises ValueError when it is not one)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} is not a 5-field cron expression")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekdays(weekday), timezone=timezone)
