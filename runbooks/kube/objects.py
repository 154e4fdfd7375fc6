"""Reading raw Kubernetes JSON objects (pure): metadata, conditions, timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

Obj = dict[str, Any]


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def meta(obj: Obj) -> tuple[str | None, str]:
    """(namespace, name) of an object; the namespace is None for cluster-scoped objects."""
    data = obj.get("metadata") or {}
    return data.get("namespace"), str(data.get("name", "?"))


def conditions(obj: Obj) -> dict[str, Obj]:
    """``status.conditions`` by type."""
    return {str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions") or []}
