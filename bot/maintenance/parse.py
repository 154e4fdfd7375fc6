"""``/maintenance`` and ``/eks`` text into typed commands (pure). Times are read in ``oncall.timezone`` unless they
carry an offset; a time that does not exist there (the spring-forward gap) or exists twice (the autumn fall-back)
is refused with the rule, as is every name that is not valid before it reaches an API."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.core.durations import format_duration, parse_duration
from bot.core.errors import UserError
from bot.core.words import Help, cluster_name, split_options
from bot.maintenance.model import parse_ref
from runbooks.errors import BadRequest
from runbooks.kube import names

T = TypeVar("T")
__all__ = ["Help"]

USAGE = """*`/maintenance` commands*
• `/maintenance schedule <YYYY-MM-DD> <HH:MM> <duration> <title> [--cluster=c] [--nodes=n1,n2] [--services=ns/deploy,…]
  [--no-suppress]` (time in the on-call time zone, or with `Z` / `+01:00`; duration like `2h`, `90m`). While it
  runs, alerts in its scope page nobody (a P1 pages its owner) until it closes; `--no-suppress` pages as always
• `/maintenance schedule` alone opens a form
• `/maintenance list` — upcoming and running windows
• `/maintenance start MW-n`, `/maintenance done MW-n [note]`, `/maintenance cancel MW-n [reason]` (operators)"""

EKS_USAGE = """*`/eks` commands*
• `/eks check <cluster> [<version>]` — pre-checks for an upgrade by one minor version (default: the next)
• `/eks upgrade <cluster> <version> [--force]` — offer the control-plane upgrade
  (operators; refused unless the checks pass)
• `/eks patches [<cluster>]` — security-patch currency: node groups' AMI releases, nodes, add-ons, support dates"""

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$", re.IGNORECASE)
_VERSION = re.compile(r"^v?(1)\.(\d{1,2})$")
MAX_AHEAD = timedelta(days=366)
AHEAD = "a window starts within a year from now."
MAX_TITLE = 150
MAX_NAMES = 50


@dataclass(frozen=True)
class Schedule:
    start: datetime
    end: datetime
    title: str
    cluster: str | None = None
    nodes: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    suppress: bool = True  # hold pages for alerts in its scope while it runs (``--no-suppress``: not)


@dataclass(frozen=True)
class ScheduleForm:
    """``/maintenance schedule`` alone: the form."""


@dataclass(frozen=True)
class ListWindows:
    pass


@dataclass(frozen=True)
class Transition:
    verb: str  # "start", "done", "cancel"
    number: int
    note: str = ""


Command = Schedule | ScheduleForm | ListWindows | Transition | Help


@dataclass(frozen=True)
class EksCheck:
    cluster: str
    version: str | None = None


@dataclass(frozen=True)
class EksUpgrade:
    cluster: str
    version: str
    force: bool = False


@dataclass(frozen=True)
class EksPatches:
    cluster: str | None = None  # None: every EKS cluster of the config


def _error(exc: BadRequest | ValueError) -> UserError:
    return UserError(str(exc))


def local_time(day: str, clock: str, tz: ZoneInfo) -> datetime:
    """``2026-12-01`` and ``02:30`` (or ``02:30Z``, ``02:30+01:00``) as an aware datetime."""
    date_match, time_match = _DATE.match(day), _TIME.match(clock)
    if not date_match or not time_match:
        raise UserError(
            f"`{names.shown(f'{day} {clock}')}` is not a start time: write `YYYY-MM-DD HH:MM` "
            f"(in {tz.key}), or with an offset: `2026-12-01 02:00Z`, `2026-12-01 02:00+01:00`."
        )
    try:
        year, month, day_of_month = (int(g) for g in date_match.groups())
        seconds = int(time_match[3] or 0)
        naive = datetime(year, month, day_of_month, int(time_match[1]), int(time_match[2]), seconds)
    except ValueError:
        raise UserError(f"`{day}` is not a date in the calendar.") from None
    offset = time_match[4]
    if offset:
        if offset.upper() == "Z":
            return naive.replace(tzinfo=UTC)
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return _in_range(naive.replace(tzinfo=timezone(sign * delta)), day, clock)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    _in_range(first, day, clock)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise UserError(
            f"{day} {clock} does not exist in {tz.key}: the clocks jump forward then. "
            "Choose another time, or give the offset (`+01:00`)."
        )
    if first.utcoffset() != second.utcoffset():
        raise UserError(
            f"{day} {clock} happens twice in {tz.key} (the clocks go back then). Give the offset: "
            f"`{clock}{_offset(first)}` or `{clock}{_offset(second)}`."
        )
    return first


def _in_range(moment: datetime, day: str, clock: str) -> datetime:
    """``moment`` unless it lies outside the calendar once in UTC (before year 1 or after 9999): refused, as a
    window must start within a year from now anyway."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise UserError(f"{day} {clock} cannot be scheduled: {AHEAD}") from None
    return moment


def _offset(moment: datetime) -> str:
    total = int((moment.utcoffset() or timedelta()).total_seconds() // 60)
    sign = "-" if total < 0 else "+"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def window_length(text: str, longest: timedelta) -> timedelta:
    try:
        length = parse_duration(text)
    except ValueError:
        raise UserError(
            f"`{names.shown(text)}` is not a duration: write e.g. `2h`, `90m`, `1h30m` (more than zero)."
        ) from None
    if length > longest:
        raise UserError(f"A window lasts at most {format_duration(longest)} (maintenance.max_duration).")
    return length


def node_names(value: str) -> list[str]:
    found = [n for n in value.split(",") if n]
    if len(found) > MAX_NAMES:
        raise UserError(f"At most {MAX_NAMES} nodes in one window.")
    try:
        return [names.subdomain(n, "node") for n in found]
    except BadRequest as exc:
        raise _error(exc) from None


def service_names(value: str) -> list[str]:
    out = []
    for item in filter(None, value.split(",")):
        namespace, slash, deployment = item.partition("/")
        if not slash:
            raise UserError(f"`{names.shown(item)}` is not `namespace/deployment` (like production/api-gateway).")
        try:
            out.append(f"{names.label(namespace, 'namespace')}/{names.subdomain(deployment, 'deployment')}")
        except BadRequest as exc:
            raise _error(exc) from None
    if len(out) > MAX_NAMES:
        raise UserError(f"At most {MAX_NAMES} services in one window.")
    return out


def schedule(
    *,
    start: datetime,
    length: timedelta,
    title: str,
    now: datetime,
    cluster: str | None = None,
    nodes: list[str] | None = None,
    services: list[str] | None = None,
    suppress: bool = True,
) -> Schedule:
    """The checks every way of scheduling shares: in the future, not too far, a title."""
    title = " ".join(title.split())
    if not title:
        raise UserError("Give the window a title: what is being done (`Postgres minor upgrade`).")
    if len(title) > MAX_TITLE:
        raise UserError(f"The title is {len(title)} characters; keep it to {MAX_TITLE}.")
    if start <= now:
        raise UserError("That start is in the past; a window is scheduled ahead of time.")
    if start - now > MAX_AHEAD:
        raise UserError(f"That start is more than a year ahead: {AHEAD}")
    start = start.astimezone(UTC)
    return Schedule(start, start + length, title, cluster, nodes or [], services or [], suppress)


def parse(
    text: str, *, tz: ZoneInfo, now: datetime, clusters: Sequence[str], longest: timedelta = timedelta(days=7)
) -> Command:
    words = text.split()
    verb = words[0].lower() if words else "help"
    rest = words[1:]
    if verb in ("help", "--help", "-h"):
        return Help(USAGE)
    if verb in ("list", "ls"):
        return ListWindows()
    if verb == "schedule":
        if not rest:
            return ScheduleForm()
        positional, options = split_options(rest, {"cluster", "nodes", "services", "no-suppress"}, USAGE)
        if options.get("no-suppress"):
            raise UserError("`--no-suppress` takes no value: write it alone.")
        if positional and len(positional[0]) > 11 and positional[0][10] in "Tt":  # 2026-12-01T02:00
            first = positional[0]
            positional = [first[:10], first[11:], *positional[1:]]
        if len(positional) < 2:
            raise UserError(f"Write `/maintenance schedule <YYYY-MM-DD> <HH:MM> <duration> <title>`.\n{USAGE}")
        start = local_time(positional[0], positional[1], tz)
        if len(positional) < 4:
            raise UserError(f"Write `/maintenance schedule <YYYY-MM-DD> <HH:MM> <duration> <title>`.\n{USAGE}")
        _, _, length, *title = positional
        return schedule(
            start=start,
            length=window_length(length, longest),
            title=" ".join(title),
            now=now,
            cluster=cluster_name(options["cluster"], clusters) if "cluster" in options else None,
            nodes=node_names(options.get("nodes", "")),
            services=service_names(options.get("services", "")),
            suppress="no-suppress" not in options,
        )
    if verb in ("start", "done", "cancel"):
        number = parse_ref(rest[0]) if rest else None
        if number is None:
            raise UserError(f"Name the window: `/maintenance {verb} MW-3`.")
        return Transition(verb, number, " ".join(rest[1:])[:500])
    raise UserError(f"`{names.shown(verb)}` is not a /maintenance command.\n{USAGE}")


def version(text: str) -> str:
    """``1.30`` (or ``v1.30``) as ``1.30``."""
    match = _VERSION.match(text.strip())
    if not match:
        raise UserError(f"`{names.shown(text)}` is not a Kubernetes version like `1.30`.")
    return f"{match[1]}.{int(match[2])}"


def parse_eks(text: str, clusters: Sequence[str]) -> EksCheck | EksUpgrade | EksPatches | Help:
    words = text.split()
    verb = words[0].lower() if words else "help"
    if verb in ("help", "--help", "-h"):
        return Help(EKS_USAGE)
    positional, force = [w for w in words[1:] if w != "--force"], "--force" in words[1:]
    if any(w.startswith("--") for w in positional):
        raise UserError(f"Only `--force` is an option here.\n{EKS_USAGE}")
    if verb == "check":
        if len(positional) not in (1, 2) or force:
            raise UserError(f"Write `/eks check <cluster> [<version>]`.\n{EKS_USAGE}")
        target = version(positional[1]) if len(positional) == 2 else None
        return EksCheck(cluster_name(positional[0], clusters), target)
    if verb == "upgrade":
        if len(positional) != 2:
            raise UserError(f"Write `/eks upgrade <cluster> <version> [--force]`.\n{EKS_USAGE}")
        return EksUpgrade(cluster_name(positional[0], clusters), version(positional[1]), force)
    if verb == "patches":
        if len(positional) > 1 or force:
            raise UserError(f"Write `/eks patches [<cluster>]`.\n{EKS_USAGE}")
        return EksPatches(cluster_name(positional[0], clusters) if positional else None)
    raise UserError(f"`{names.shown(verb)}` is not an /eks command.\n{EKS_USAGE}")


FORM_FIELDS = ("title", "date", "time", "duration", "cluster", "nodes", "services")


def from_form(
    fields: dict[str, str], *, tz: ZoneInfo, now: datetime, clusters: Sequence[str], longest: timedelta
) -> tuple[Schedule | None, dict[str, str]]:
    """The schedule form's fields (``FORM_FIELDS``, as typed) checked as ``/maintenance schedule`` checks its words:
    the window, or what is wrong with each field."""
    errors: dict[str, str] = {}

    def check(block: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except UserError as exc:
            errors[block] = str(exc)[:150]
            return None

    start = check("time", lambda: local_time(fields["date"], fields["time"], tz))
    length = check("duration", lambda: window_length(fields["duration"], longest))
    cluster = check("cluster", lambda: cluster_name(fields["cluster"], clusters) if fields["cluster"] else None)
    nodes = check("nodes", lambda: node_names(fields["nodes"]))
    services = check("services", lambda: service_names(fields["services"]))
    if start is None or length is None or errors:
        return None, errors
    found = check(
        "title",
        lambda: schedule(
            start=start, length=length, title=fields["title"], now=now, cluster=cluster, nodes=nodes,
            services=services,
        ),
    )  # fmt: skip
    return found, errors
