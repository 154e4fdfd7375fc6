"""The security audit (``/security audit``, monthly in ``channels.digest``, ``chatops-bot audit --print``) and the
certificates (``/cert list``, ``/cert renew`` offered like any other change, and the digest's Renew button).

An audit reads each cluster in worker threads (runbooks.checklist.audit), applies ``security.exceptions`` and
compares with the cluster's last audit, which it then replaces.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core import keys
from bot.core.errors import DependencyError, UserError
from bot.core.settings.config import BotConfig
from bot.security import render, text
from bot.security.model import ClusterVerdict, apply_exceptions, compare
from runbooks.checklist.audit import ClusterAudit, collect
from runbooks.kube import certs, names
from runbooks.kube.certs import CertInfo
from runbooks.kube.client import Cluster, ClusterSet
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.lean import ApiException

# ``chatops-bot audit --print`` loads only the audit: Slack, Redis, the scheduled post and the offer path come with
# the methods that use them.
if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.core.schedule import ScheduledPost
    from bot.incidents.store import IncidentStore
    from bot.operations.offers import Offers
    from bot.security.store import SecurityStore

log = logging.getLogger(__name__)


class SecurityService:
    def __init__(
        self,
        *,
        config: BotConfig,
        client: AsyncWebClient | None,
        clusters: ClusterSet,
        store: SecurityStore | None,
        offers: Offers | None = None,
        incidents: IncidentStore | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.client = client
        self.clusters = clusters
        self.store = store
        self.offers = offers
        self.incidents = incidents
        self.clock = clock

    # The audit -------------------------------------------------------------------------------------------------
    async def audit(self, cluster_name: str | None = None) -> list[ClusterVerdict]:
        """Audit one cluster (or every configured one), compare with the last audit of each, store this one."""
        now = self.clock()
        # A missing kubeconfig raises NoClusterConfig where the client is built, said like every other command's.
        if cluster_name is not None:
            clusters = [await asyncio.to_thread(self.clusters.connect, cluster_name)]
        else:
            clusters = await asyncio.to_thread(self.clusters.connect_all)
        audits = await asyncio.gather(*(collect(c) for c in clusters))
        return [await self._verdict(a, now) for a in audits]

    async def _verdict(self, audit: ClusterAudit, now: datetime) -> ClusterVerdict:
        open_, accepted, expired = apply_exceptions(audit.findings, self.config.security.exceptions, now.date())
        verdict = ClusterVerdict(
            cluster=audit.name,
            findings=open_,
            accepted=accepted,
            expired=expired,
            notes=list(audit.notes),
            reachable=audit.reachable,
            seconds=audit.seconds,
        )
        if self.store is None or not audit.reachable:
            return verdict
        if audit.skipped:  # a partial audit is not compared (its missing checks would all look fixed), nor kept
            verdict.notes.append("not compared with the last audit: some checks could not run")
            return verdict
        previous = await self.store.swap_last(audit.name, now, [f.key for f in audit.findings])
        if previous is not None:
            verdict.first = False
            verdict.previous_at = previous[0]
            verdict.new, verdict.fixed = compare(audit.findings, open_, previous[1])
        return verdict

    def scheduled_post(self) -> ScheduledPost | None:
        from bot.core.schedule import ScheduledPost  # noqa: PLC0415
        from runbooks import cron  # noqa: PLC0415

        if self.config.channels.digest is None:
            return None
        trigger = cron.trigger(self.config.security.cron, ZoneInfo(self.config.digest.timezone))
        return ScheduledPost("security-audit", trigger, lambda tick: keys.security_tick(tick.isoformat()), self.post)

    async def post(self, tick: datetime) -> None:
        """The monthly audit in ``channels.digest`` (the tick is claimed; a Slack failure is raised for a retry)."""
        from bot.core import slack  # noqa: PLC0415
        from bot.core.slack import SLACK_ERRORS  # noqa: PLC0415

        channel = self.config.channels.digest
        assert channel is not None and self.client is not None
        verdicts = await self.audit()
        try:
            await self.client.chat_postMessage(
                channel=channel,
                text=text.summary(verdicts),
                blocks=render.audit_blocks(verdicts, self.clock()),
                unfurl_links=False,
            )
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"the security audit for {tick}", exc)
            raise
        log.info("security audit for %s posted: %s", tick, text.summary(verdicts))

    # Certificates ------------------------------------------------------------------------------------------------
    async def _kube(self, cluster_name: str | None, read: Callable[[Cluster], object], what: str) -> object:
        cluster = await asyncio.to_thread(self.clusters.connect, cluster_name)
        try:
            return await asyncio.to_thread(read, cluster)
        except ApiException as exc:
            if exc.status == 404 and what == "certificates":
                raise UserError(
                    f"cert-manager is not installed in cluster `{cluster.name}` (no Certificates)."
                ) from None
            raise DependencyError(explain(exc, what)) from None
        except API_ERRORS as exc:
            raise DependencyError(explain(exc, what)) from None

    async def cert_list(self, cluster_name: str | None, namespace: str | None) -> tuple[list[Block], str]:
        found = await self._kube(cluster_name, lambda c: certs.certificates(c, namespace), "certificates")
        assert isinstance(found, list)
        name = self.clusters.shown(cluster_name)
        now = self.clock()
        soon = sum(1 for c in found if c.not_after is not None and (c.not_after - now).days < render.EXPIRING)
        return render.certs_blocks(name, found, now), f"{len(found)} certificate(s) in {name}, {soon} expiring soon"

    def renewable(self, namespace: str) -> str:
        """A renewal acts in ``namespace``: outside ``kubernetes.namespaces`` it is refused as the runbooks refuse."""
        return names.namespace(namespace, self.config.kubernetes.namespaces)

    async def offer_renew(
        self, cluster_name: str | None, namespace: str, name: str, actor: str, channel: str | None
    ) -> tuple[list[Block], str]:
        self.renewable(namespace)  # the digest's Renew button comes here without the command's check

        def read(cluster: Cluster) -> CertInfo:
            try:
                return certs.cert_info(certs.certificate_obj(cluster, namespace, name))
            except ApiException as exc:
                if exc.status == 404:
                    raise UserError(
                        f"No certificate `{namespace}/{name}` in cluster `{cluster.name}`. `/cert list` shows them."
                    ) from None
                raise

        from bot.operations.offered import Offered  # noqa: PLC0415
        from runbooks.changes.certs import CertRenew  # noqa: PLC0415

        cert = await self._kube(cluster_name, read, f"certificate {namespace}/{name}")
        assert isinstance(cert, CertInfo) and self.offers is not None and self.incidents is not None
        now = self.clock()
        change = CertRenew(
            namespace=namespace,
            name=name,
            revision=cert.revision,
            not_after=cert.not_after.isoformat() if cert.not_after else None,
            cluster=cluster_name,
        )
        refusal = "cert-manager is issuing it already (its Issuing condition is True)" if cert.issuing else None
        offered = Offered(now=now, ids={}, changes={}, refusals={"renew": refusal} if refusal else {})
        if refusal is None:
            incident = await self.incidents.room_of(channel) if channel else None
            offer_id = await self.offers.offer({**change.model_dump(), "incident": incident, "offered_to": actor})
            offered = Offered(now=now, ids={"renew": offer_id}, changes={"renew": change}, refusals={})
        blocks = render.renew_offer_blocks(cert, change, offered, refusal, now)
        return blocks, f"renewal of certificate {cert.ref} " + ("offered" if refusal is None else "not offered")
