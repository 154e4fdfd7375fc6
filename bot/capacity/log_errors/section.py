"""The digest's "Errors in logs" (``digest.log_errors``), declared on the board as a ``DigestSection``.

With ``loki`` configured, one LogQL ``count_over_time`` over the listed namespaces (and the listed workloads'
namespaces) counts the last 24 h, and only when ``kubernetes.share_logs`` one more query reads the newest matching lines
for the samples. Without it, each cluster's listed pods' logs are read, bounded per container
(``runbooks.checklist.logs``). A Loki or a cluster that fails is one line naming it; the rest of the digest is posted.
No Slack, Redis or HTTP client at import: ``digest --print`` declares it too (aiohttp only once Loki is set).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.capacity.log_errors import model, render
from bot.core.board import Board
from bot.core.errors import DependencyError
from bot.core.settings.capacity import compile_pattern
from bot.core.settings.config import BotConfig
from bot.digest.model import DigestPart, DigestSection
from runbooks.checklist import logs
from runbooks.checklist.capacity import LogErrors
from runbooks.errors import NotConfigured
from runbooks.kube.client import Cluster, ClusterSet

log = logging.getLogger(__name__)

KEY = "log-errors"
ORDER = 35  # after resource use (30)
TITLE = "Errors in logs (last 24 h)"
WINDOW = timedelta(hours=24)
SAMPLE_LINES = 500  # the newest matching lines read from Loki for the samples


class LogErrorsSection:
    def __init__(self, *, config: BotConfig, clusters: ClusterSet, loki_authorization: str | None = None) -> None:
        self.config = config
        self.settings = config.digest.log_errors
        self.clusters = clusters
        self.loki_authorization = loki_authorization
        self.timeout = config.digest.check_timeout.total_seconds()

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    async def part(self, now: datetime) -> DigestPart | None:
        """The section's lines (None when no namespace or workload is listed)."""
        if not self.enabled:
            return None
        lines = await (self._from_loki(now) if self.config.loki is not None else self._from_pods())
        return DigestPart(key=KEY, title=TITLE, lines=lines)

    def _namespaces(self) -> list[str]:
        return sorted({*self.settings.namespaces, *(ref.split("/", 1)[0] for ref in self.settings.workloads)})

    async def _from_loki(self, now: datetime) -> list[str]:
        from runbooks.loki import client, logql  # noqa: PLC0415 - aiohttp only when Loki is set

        loki = self.config.loki
        assert loki is not None
        namespaces, pattern, share = self._namespaces(), self.settings.pattern, self.config.kubernetes.share_logs
        api = client.Loki(loki.url, self.timeout, self.loki_authorization, loki.org_id)
        try:
            series = await api.instant(logql.error_count(namespaces, pattern, loki.label), now)
        except client.LokiFailed as exc:
            log.warning("digest: errors in logs not counted: %s", exc)
            return render.failed(str(exc))
        report = model.from_series(series, self.settings.namespaces, self.settings.workloads, loki.label)
        if share and report.workloads:
            try:
                found = await api.newest_lines(logql.error_lines(namespaces, pattern), now - WINDOW, now, SAMPLE_LINES)
            except client.LokiFailed as exc:
                report.notes.append(f"sample lines not read: {exc}")
            else:
                model.with_samples(report, found, loki.label, logs.SAMPLE_CHARS)
        return render.lines("Loki", report, share, loki=True)

    async def _from_pods(self) -> list[str]:
        try:
            # Connecting may run a kubeconfig exec plugin (aws eks get-token): never on the event loop.
            clusters = await asyncio.to_thread(self.clusters.connect_all)
        except NotConfigured as exc:  # it names the setting to fix
            raise DependencyError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - as the digest's clusters: named, the parser's words in the log
            log.error("digest: errors in logs: kubernetes configuration could not be loaded: %s", exc)
            raise DependencyError("no usable kubeconfig (the bot's log has the details)") from None
        pattern: Any = compile_pattern(self.settings.pattern)
        found = await asyncio.gather(*(self._read(c, pattern.search) for c in clusters))
        share = self.config.kubernetes.share_logs
        return [line for cluster, report in zip(clusters, found, strict=True)
                for line in render.lines(cluster.name, report, share)]  # fmt: skip

    async def _read(self, cluster: Cluster, search: Callable[[str], object]) -> LogErrors:
        settings = self.settings
        return await logs.log_errors(
            cluster, settings.namespaces, settings.workloads, search, max_bytes=settings.max_bytes,
            max_pods=settings.max_pods, timeout=self.timeout * 3,
        )  # fmt: skip


def declare(board: Board, section: LogErrorsSection) -> None:
    """The digest's "Errors in logs", when ``digest.log_errors`` lists anything."""
    if section.enabled:
        board.declare(DigestSection(KEY, ORDER, "Errors in logs", section.part))
