"""A stand-in for Loki's query API, answering from streams of log lines as Loki would.

It keeps streams (labels → lines with their times) and evaluates the two LogQL shapes the bot sends: the metric query
``sum by (namespace, <label>) (count_over_time({namespace="…"} |~ "<re>" [24h]))`` at ``time`` (``/loki/api/v1/query``,
a vector), and the log query ``{namespace="…"} |~ "<re>"`` between ``start`` and ``end``, newest first, at most
``limit`` lines (``/loki/api/v1/query_range``, streams). The regex is matched with RE2, as Loki does. Anything else is
answered as Loki answers a query it cannot parse: 400 with a plain-text ``parse error``. Faults (5xx, 429 with
Retry-After, a slow answer) come from the shared base.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from typing import Any

import re2

from tests.support.standin import Reply, Request, StandIn

_SELECTOR = r"\{namespace(?P<op>=~|=)(?P<ns>\"(?:[^\"\\]|\\.)*\")\} \|~ (?P<re>\"(?:[^\"\\]|\\.)*\")"
_METRIC = re.compile(rf"^sum by \(namespace, (?P<by>\w+)\) \(count_over_time\({_SELECTOR} \[24h\]\)\)$")
_LOG = re.compile(rf"^{_SELECTOR}$")
DAY_NS = 86_400 * 10**9


def nanos(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000) * 1000


class FakeLoki(StandIn):
    def __init__(self) -> None:
        super().__init__()
        self.streams: list[tuple[dict[str, str], list[tuple[int, str]]]] = []
        self.start()

    def push(self, labels: dict[str, str], lines: list[tuple[datetime, str]]) -> None:
        """A stream, as Promtail/Alloy would have pushed it."""
        with self.lock:
            self.streams.append((labels, [(nanos(at), text) for at, text in lines]))

    @property
    def queries(self) -> list[Request]:
        with self.lock:
            return [r for r, _ in self.requests]

    def _matching(self, found: re.Match[str]) -> list[tuple[dict[str, str], int, str]]:
        namespaces, regex = json.loads(found["ns"]), re2.compile(json.loads(found["re"]))
        wanted = (lambda ns: ns == namespaces) if found["op"] == "=" else re2.compile(f"^(?:{namespaces})$").search
        with self.lock:
            streams = list(self.streams)
        return [(labels, at, text) for labels, lines in streams if wanted(labels.get("namespace", ""))
                for at, text in lines if regex.search(text)]  # fmt: skip

    def handle(self, request: Request) -> Reply:
        query = request.param("query")
        if request.path == "/loki/api/v1/query" and (found := _METRIC.match(query)):
            end = int(request.param("time"))
            counts: dict[tuple[str, str], int] = defaultdict(int)
            for labels, at, _ in self._matching(found):
                if end - DAY_NS < at <= end and found["by"] in labels:
                    counts[labels["namespace"], labels[found["by"]]] += 1
            result = [{"metric": {"namespace": ns, found["by"]: v}, "value": [end / 1e9, str(n)]}
                      for (ns, v), n in sorted(counts.items())]  # fmt: skip
            return Reply(200, {"status": "success", "data": {"resultType": "vector", "result": result}})
        if request.path == "/loki/api/v1/query_range" and (found := _LOG.match(query)):
            start, end, limit = (int(request.param(k)) for k in ("start", "end", "limit"))
            lines = sorted(((at, labels, text) for labels, at, text in self._matching(found) if start <= at <= end),
                           key=lambda x: -x[0])[:limit]  # fmt: skip
            streams: dict[str, dict[str, Any]] = {}
            for at, labels, text in lines:
                stream = streams.setdefault(json.dumps(labels, sort_keys=True), {"stream": labels, "values": []})
                stream["values"].append([str(at), text])
            data = {"resultType": "streams", "result": list(streams.values())}
            return Reply(200, {"status": "success", "data": data})
        return Reply(400, b"parse error at line 1, col 1: syntax error", {"Content-Type": "text/plain; charset=utf-8"})
