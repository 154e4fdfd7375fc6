"""LogQL for the digest's error lines and Loki's answer read back (pure).

The query is ``sum by (namespace, <label>) (count_over_time({namespace="…"} |~ "<pattern>" [24h]))``: Loki matches
with Go's RE2, the engine the bot validates the pattern with, so the pattern is passed on as it is, quoted as a LogQL
string. Namespaces are DNS-1123 labels (validated in the config), so they need no escaping inside the matcher.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

# A pod's generated suffix: the ReplicaSet's pod-template-hash and the pod's own five characters, both drawn from
# Kubernetes' "safe" alphabet (no vowels, no 0/1/3), or a StatefulSet's ordinal.
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_DEPLOYMENT_POD = re.compile(rf"^(?P<name>.+)-[{_SAFE}]{{5,10}}-[{_SAFE}]{{5}}$")
_SHORT_POD = re.compile(rf"^(?P<name>.+)-(?:[{_SAFE}]{{5}}|\d+)$")


def string(value: str) -> str:
    """``value`` as a double-quoted LogQL string (Go's escapes, which JSON's are a subset of)."""
    return json.dumps(value)


def stream_selector(namespaces: Sequence[str]) -> str:
    wanted = sorted(set(namespaces))
    if len(wanted) == 1:
        return f"{{namespace={string(wanted[0])}}}"
    return f"{{namespace=~{string('|'.join(wanted))}}}"


def error_count(namespaces: Sequence[str], pattern: str, label: str, window: str = "24h") -> str:
    """Error lines per namespace and ``label`` (``pod``, ``app``, …) in the ``window`` before the query's time."""
    if not namespaces:
        raise ValueError("no namespace to count error lines in")
    selector = stream_selector(namespaces)
    return f"sum by (namespace, {label}) (count_over_time({selector} |~ {string(pattern)} [{window}]))"


def error_lines(namespaces: Sequence[str], pattern: str) -> str:
    """The matching lines themselves (the samples, read only where they may be shown)."""
    if not namespaces:
        raise ValueError("no namespace to read error lines in")
    return f"{stream_selector(namespaces)} |~ {string(pattern)}"


def workload_of_pod(pod: str) -> str:
    """The workload a pod's name says it belongs to: ``api-7d4b9c8f6-x2x9z`` → ``api`` (a Deployment's),
    ``node-exporter-abcde`` → ``node-exporter`` (a DaemonSet's or Job's), ``db-0`` → ``db`` (a StatefulSet's);
    any other name is its own workload."""
    for form in (_DEPLOYMENT_POD, _SHORT_POD):
        found = form.match(pod)
        if found:
            return found.group("name")
    return pod


def series(data: Any) -> list[tuple[dict[str, str], float]]:
    """An instant query's ``data`` as (labels, value) of each series; a ValueError when it is not a vector."""
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"an answer of type {kind!r}, not an instant vector")
    out: list[tuple[dict[str, str], float]] = []
    for item in data.get("result") or []:
        try:
            labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
            value = float(item["value"][1])
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            raise ValueError("a series not in Loki's format") from None
        if not math.isnan(value):
            out.append((labels, value))
    return out


def stream_lines(data: Any) -> list[tuple[dict[str, str], str]]:
    """A log query's ``data`` (streams) as (stream labels, line), newest first across streams."""
    if not isinstance(data, dict) or data.get("resultType") != "streams":
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"an answer of type {kind!r}, not log streams")
    out: list[tuple[int, dict[str, str], str]] = []
    for item in data.get("result") or []:
        try:
            labels = {str(k): str(v) for k, v in (item.get("stream") or {}).items()}
            out += [(int(at), labels, str(line)) for at, line, *_ in item.get("values") or []]
        except (AttributeError, TypeError, ValueError):
            raise ValueError("a stream not in Loki's format") from None
    out.sort(key=lambda entry: -entry[0])
    return [(labels, line) for _, labels, line in out]
