"""What the change feed reads of an object's metadata (pure): its ``managedFields`` (who wrote what, when), its
times (creation, an event's), its owner, and short texts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from runbooks.kube.objects import Obj, parse_time

CONTROLLER_MANAGER = "kube-controller-manager"
CHANGED_AFTER = timedelta(seconds=1)  # a managedFields time past creation by more than this is a change
CLIP = 80


def child(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """``obj[key]`` when it is an object, else an empty one."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def meta(obj: Obj) -> Obj:
    return child(obj, "metadata")


def clip(text: str, limit: int = CLIP) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def created(metadata: Obj) -> datetime | None:
    return utc(parse_time(metadata.get("creationTimestamp")))


@dataclass(frozen=True)
class Managed:
    """One ``managedFields`` entry, without its fields (which of a Secret name its data keys)."""

    manager: str
    time: datetime
    subresource: str
    owns: bool  # owns one of the fields asked for (by default ``spec.template``: a workload's author)
    owns_spec: bool


def _owns(fields: Any, *keys: str) -> bool:
    for key in keys:
        if not isinstance(fields, dict) or f"f:{key}" not in fields:
            return False
        fields = fields[f"f:{key}"]
    return True


def managed(metadata: Obj, *owning: tuple[str, ...]) -> list[Managed]:
    """The entries with a time; ``owns`` says whether an entry owns one of the ``owning`` field paths
    (``("spec", "suspend")``; by default the pod template)."""
    out = []
    for entry in metadata.get("managedFields") or []:
        if not isinstance(entry, dict):
            continue
        at = utc(parse_time(entry.get("time")))
        if at is None:
            continue
        fields = entry.get("fieldsV1")
        wanted = owning or (("spec", "template"),)
        out.append(
            Managed(
                manager=str(entry.get("manager") or "?"),
                time=at,
                subresource=str(entry.get("subresource") or ""),
                owns=any(_owns(fields, *keys) for keys in wanted),
                owns_spec=_owns(fields, "spec"),
            )
        )
    return out


def created_or_changed(metadata: Obj) -> tuple[datetime, bool, str | None] | None:
    """(when, changed, by): the newest ``managedFields`` time and its manager when it is past the creation, else
    the creation and its creator's manager (the earliest entry). None when the object says no time at all."""
    made = created(metadata)
    entries = [m for m in managed(metadata) if not m.subresource] or managed(metadata)
    newest = max(entries, key=lambda m: m.time, default=None)
    if newest is not None and (made is None or newest.time > made + CHANGED_AFTER):
        return newest.time, made is not None, newest.manager
    if made is None:
        return None
    earliest = min(entries, key=lambda m: m.time, default=None)
    return made, False, earliest.manager if earliest else None


def creator(entries: list[Managed]) -> str | None:
    """The first manager other than the controller-manager."""
    others = sorted((m for m in entries if m.manager != CONTROLLER_MANAGER), key=lambda m: m.time)
    return others[0].manager if others else None


def owner(metadata: Obj, kinds: Collection[str]) -> tuple[str, str] | None:
    """(kind, name) of the controlling owner among ``kinds``."""
    owners = [o for o in metadata.get("ownerReferences") or [] if isinstance(o, dict) and o.get("kind") in kinds]
    owners.sort(key=lambda o: not o.get("controller"))
    return (str(owners[0]["kind"]), str(owners[0].get("name"))) if owners else None


def event_time(event: Obj) -> datetime | None:
    series = child(event, "series")
    for value in (
        series.get("lastObservedTime"),
        event.get("lastTimestamp"),
        event.get("eventTime"),
        event.get("firstTimestamp"),
        (event.get("metadata") or {}).get("creationTimestamp"),
    ):
        moment = utc(parse_time(value))
        if moment is not None:
            return moment
    return None
