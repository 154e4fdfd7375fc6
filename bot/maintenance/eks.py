"""``/eks check`` and ``/eks upgrade``: the pre-checks of a one-minor EKS upgrade, and the control-plane upgrade as
an offer (refused unless the checks pass, or ``--force`` is stated and named in the confirm). The upgrade, its node
groups and add-ons are carried out by the bot's safety path (operators, once, audited)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, SectionBlock

from bot.core.blocks import md
from bot.core.errors import DependencyError, UserError
from bot.core.settings.config import BotConfig, EksCluster
from bot.core.text import escape
from bot.incidents.service import IncidentService
from bot.maintenance import render
from bot.maintenance.parse import EksCheck, EksUpgrade
from bot.operations.offered import change_button
from bot.operations.offers import Offers
from runbooks.aws import eks
from runbooks.aws.errors import AWS_ERRORS
from runbooks.aws.errors import explain as explain_aws
from runbooks.aws.session import AwsSession
from runbooks.changes import Site
from runbooks.changes import eks as upgrades
from runbooks.checklist.eks import Readiness, next_version
from runbooks.kube.client import ClusterSet
from runbooks.kube.errors import API_ERRORS
from runbooks.kube.errors import explain as explain_kube

READ_PERMISSIONS = (
    "eks:DescribeCluster, eks:ListNodegroups, eks:DescribeNodegroup, eks:ListAddons, eks:DescribeAddon, "
    "eks:DescribeAddonVersions and eks:ListInsights"
)


class EksService:
    def __init__(
        self,
        *,
        config: BotConfig,
        clusters: ClusterSet,
        aws: AwsSession | None,
        offers: Offers,
        incidents: IncidentService,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.clusters = clusters
        self.aws = aws
        self.offers = offers
        self.incidents = incidents
        self.clock = clock

    def _eks(self, cluster: str) -> tuple[EksCluster, str]:
        mapped = self.config.aws.eks.clusters.get(cluster) if self.config.aws else None
        if mapped is None or self.config.aws is None:
            raise UserError(
                f"`{cluster}` has no EKS cluster in the config: add it under `aws.eks.clusters` "
                "(its EKS name and region)."
            )
        return mapped, self.config.aws.eks_region(mapped)

    def _site(self, cluster: str) -> Site:
        return Site(cluster=lambda: self.clusters.connect(cluster), aws=self.aws)

    async def _readiness(self, cluster: str, target: str | None) -> tuple[EksCluster, str, Readiness]:
        mapped, region = self._eks(cluster)
        site = self._site(cluster)

        def read() -> Readiness:
            client = site.require_aws().eks(region)
            wanted = target or next_version(eks.control_plane(client, mapped.name).version)
            if wanted is None:
                raise UserError(f"The version of {mapped.name} is not one this bot understands.")
            return upgrades.check(site, mapped.name, region, wanted)

        try:
            return mapped, region, await asyncio.to_thread(read)
        except AWS_ERRORS as exc:
            raise DependencyError(explain_aws(exc, READ_PERMISSIONS, f"EKS cluster {mapped.name}")) from None
        except API_ERRORS as exc:
            raise DependencyError(explain_kube(exc, f"the nodes of cluster {cluster}", "list")) from None

    async def check(self, cmd: EksCheck) -> tuple[list[Block], str]:
        mapped, _, ready = await self._readiness(cmd.cluster, cmd.version)
        return render.readiness_blocks(cmd.cluster, mapped.name, ready), f"EKS {mapped.name}: {ready.verdict}"

    async def offer_upgrade(self, cmd: EksUpgrade, actor: str, channel: str) -> tuple[list[Block], str]:
        mapped, region, ready = await self._readiness(cmd.cluster, cmd.version)
        blocks = render.readiness_blocks(cmd.cluster, mapped.name, ready)
        refusal = None
        if not ready.ready and not cmd.force:
            refusal = f"the pre-checks do not pass ({ready.verdict}); fix them, or state `--force` to upgrade anyway"
        elif any(
            b.startswith(("the control plane is at", "cannot compare")) or "skips a minor" in b for b in ready.blockers
        ):
            refusal = ready.blockers[0]  # --force never skips a minor version or downgrades
        if refusal is not None:
            blocks.append(SectionBlock(text=md(f"No upgrade offered: {escape(refusal)}.")))
            return blocks, f"EKS upgrade of {mapped.name} not offered"
        change = upgrades.EksUpgrade(
            cluster=cmd.cluster,
            eks_name=mapped.name,
            region=region,
            version=cmd.version,
            force=cmd.force and not ready.ready,
            token=secrets.token_hex(16),
        )
        incident = await self.incidents.store.room_of(channel)
        offer_id = await self.offers.offer({**change.model_dump(), "incident": incident, "offered_to": actor})
        text = f"Upgrade {mapped.name} to {cmd.version}" + (" (forced)" if change.force else "")
        blocks.append(
            ActionsBlock(elements=[change_button(change, offer_id, text, title="Upgrade the control plane?")])
        )
        return blocks, f"EKS upgrade of {mapped.name} to {cmd.version} offered"
