"""``/eks patches [cluster]`` and the weekly report's "Security patches": how current each EKS cluster's patches
are (managed node groups' AMI releases against the latest recommended, Karpenter and self-managed nodes, add-ons,
the control plane's end of standard support), each source that fails named in one line while the rest is shown.
Operators asking get an "Update node group" offer for each group behind (carried out by the safety path:
operators, confirmed, once, audited)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from datetime import date, datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, HeaderBlock, SectionBlock

from bot.core.blocks import chunked_sections, md, messages
from bot.core.errors import UserError
from bot.core.settings.config import BotConfig, EksCluster
from bot.core.text import clip, escape
from bot.incidents.service import IncidentService
from bot.operations.offered import change_button
from bot.operations.offers import Offers
from runbooks.aws import eks, patches
from runbooks.aws.errors import AWS_ERRORS, code
from runbooks.aws.errors import explain as explain_aws
from runbooks.aws.session import AwsSession
from runbooks.changes import Site
from runbooks.changes.eks import NodeGroupRelease
from runbooks.checklist.patches import GroupPatch, PatchReport, addon_patch, group_patch, pools, support_line
from runbooks.errors import NotConfigured
from runbooks.kube.client import ClusterSet
from runbooks.kube.errors import API_ERRORS
from runbooks.kube.errors import explain as explain_kube

OFFERS_MOST = 10  # "Update node group" buttons in one reply (five to an actions block)


def read(site: Site, cluster: str, mapped: EksCluster, region: str, today: date) -> PatchReport:
    """Every source read now (synchronous: in a worker thread); a source that fails is one line of ``failures``."""
    report = PatchReport(cluster, mapped.name)
    aws = site.require_aws()
    client = aws.eks(region)
    groups: list[eks.NodeGroup] = []
    try:
        report.version = eks.control_plane(client, mapped.name).version
        groups = eks.node_groups(client, mapped.name)
    except AWS_ERRORS as exc:
        needs = "eks:DescribeCluster, eks:ListNodegroups and eks:DescribeNodegroup"
        report.failures.append(f"EKS: {explain_aws(exc, needs, f'EKS cluster {mapped.name}')}")
    if report.version:
        try:
            found = patches.support(client, report.version)
            report.support, report.support_near = support_line(report.version, found, today)
        except AWS_ERRORS as exc:
            report.failures.append(f"EKS versions: {explain_aws(exc, 'eks:DescribeClusterVersions', 'EKS versions')}")
        try:
            report.addons = [addon_patch(a) for a in eks.addons(client, mapped.name, report.version)]
        except AWS_ERRORS as exc:
            needs = "eks:ListAddons, eks:DescribeAddon and eks:DescribeAddonVersions"
            report.failures.append(f"EKS add-ons: {explain_aws(exc, needs, f'the add-ons of {mapped.name}')}")
    report.groups = releases(aws.client("ssm", region), groups, report.failures)
    try:
        report.pools = pools(list(site.cluster().nodes()), report.version)
    except API_ERRORS as exc:
        report.failures.append(f"Kubernetes: {explain_kube(exc, f'the nodes of cluster {cluster}', 'list')}")
    except NotConfigured as exc:
        report.failures.append(f"Kubernetes: {exc}")
    return report


def releases(ssm: object, groups: Sequence[eks.NodeGroup], failures: list[str]) -> list[GroupPatch]:
    """Each group against its public parameter, each parameter read once; SSM failing is one line of
    ``failures`` (the groups then say they were not compared)."""
    read_: dict[str, patches.Published | str] = {}
    failed = False
    out = []
    for group in groups:
        name = patches.parameter(group.ami_type, group.version)
        if name is None:
            out.append(group_patch(group, None, f"no public recommended release for AMI type {group.ami_type or '?'}"))
            continue
        if name not in read_ and not failed:
            try:
                read_[name] = _published(ssm, name)
            except AWS_ERRORS as exc:
                if code(exc) == "ParameterNotFound":
                    read_[name] = f"no recommended release published at {name}"
                else:
                    failed = True
                    failures.append(f"SSM: {explain_aws(exc, 'ssm:GetParameter', f'parameter {name}')}")
        found = read_.get(name, "the latest release not read (SSM)")
        out.append(group_patch(group, None, found) if isinstance(found, str) else group_patch(group, found))
    return out


def _published(ssm: object, name: str) -> patches.Published:
    found = patches.latest(ssm, name)
    try:  # ssm:GetParameterHistory counts the releases between; without it the group is only "behind"
        return found.model_copy(update={"history": patches.history(ssm, name)})
    except AWS_ERRORS:
        return found


class PatchService:
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

    def targets(self, cluster: str | None) -> list[tuple[str, EksCluster, str]]:
        """``cluster`` (already one of ``kubernetes.clusters``) or every cluster of ``aws.eks.clusters``, with its
        EKS name and region; a UserError before any AWS call when it has no EKS cluster in the config."""
        aws = self.config.aws
        if aws is None or self.aws is None:
            raise UserError("AWS is not configured: set `aws.region` and `aws.eks.clusters` in the config.")
        if not aws.eks.clusters:
            raise UserError("No EKS clusters in the config: add them under `aws.eks.clusters` (EKS name and region).")
        if cluster is not None and cluster not in aws.eks.clusters:
            raise UserError(f"`{cluster}` has no EKS cluster in the config: add it under `aws.eks.clusters`.")
        named = [cluster] if cluster is not None else list(aws.eks.clusters)
        return [(c, aws.eks.clusters[c], aws.eks_region(aws.eks.clusters[c])) for c in named]

    async def reports(self, cluster: str | None) -> list[PatchReport]:
        today = self.clock().date()

        def one(name: str, mapped: EksCluster, region: str) -> PatchReport:
            site = Site(cluster=lambda: self.clusters.connect(name), aws=self.aws)
            return read(site, name, mapped, region, today)

        return list(await asyncio.gather(*(asyncio.to_thread(one, *t) for t in self.targets(cluster))))

    async def report(self, cluster: str | None, actor: str, channel: str, *, operator: bool) -> tuple[list[Block], str]:
        """The reply of ``/eks patches``: each cluster's report; an operator's has the "Update node group" offers."""
        found = await self.reports(cluster)
        incident = await self.incidents.store.room_of(channel) if operator else None
        blocks: list[Block] = [HeaderBlock(text=clip(f"Security patches: {cluster or 'every EKS cluster'}", 150))]
        offered = 0
        for report in found:
            blocks += report_blocks(report, self.clock().date())
            buttons: list[ButtonElement] = []
            for group in report.groups:
                if operator and group.out_of_date and group.latest and offered < OFFERS_MOST:
                    buttons.append(await self._offer(report, group, incident, actor, len(buttons)))
                    offered += 1
            blocks += [ActionsBlock(elements=buttons[i : i + 5]) for i in range(0, len(buttons), 5)]
        if not operator and any(g.out_of_date for r in found for g in r.groups):
            blocks.append(ContextBlock(elements=[md("Operators asking get an *Update node group* button here.")]))
        summary = "; ".join(r.summary() for r in found)
        return messages(blocks, most=1)[0], clip(summary, 3000)

    async def _offer(
        self, report: PatchReport, group: GroupPatch, incident: int | None, actor: str, key: int
    ) -> ButtonElement:
        mapped, region = self.targets(report.cluster)[0][1:]
        change = NodeGroupRelease(
            cluster=report.cluster,
            eks_name=mapped.name,
            region=region,
            version=group.version,
            group=group.name,
            release=str(group.latest),
            token=secrets.token_hex(16),
        )
        offer_id = await self.offers.offer({**change.model_dump(), "incident": incident, "offered_to": actor})
        return change_button(
            change,
            offer_id,
            f"Update node group {group.name} to {group.latest}",
            title="Update the node group?",
            key=str(key),
        )

    async def weekly_lines(self, start: datetime, end: datetime) -> list[str]:
        """The weekly report's "Security patches": each cluster's summary, each failing source named under it."""
        try:
            found = await self.reports(None)
        except UserError as exc:
            return [str(exc)]
        lines = []
        for report in found:
            lines.append(escape(report.summary()))
            lines += [f"    ⚠️ {escape(f)}" for f in report.failures]
        return lines


def report_blocks(report: PatchReport, today: date) -> list[Block]:
    lines = [f"*{escape(report.summary())}*"]
    if report.support:
        lines.append(f"• {'🔴' if report.support_near else '✅'} control plane: {escape(report.support)}")
    for group in report.groups:
        mark = "🔴" if group.out_of_date else ("✅" if group.current else "⚪")
        lines.append(f"• {mark} {escape(group.line(today))}")
    for pool in report.pools:
        lines.append(f"• {'🔴' if pool.flags else '✅'} {escape(pool.line())}")
        lines += [f"    ◦ {escape(flag)}" for flag in pool.flags]
    for addon in report.addons:
        lines.append(f"• {'🔴' if addon.newest else '✅'} {escape(addon.line(report.version or '?'))}")
    lines += [f"• ⚠️ {escape(f)}" for f in report.failures]
    blocks: list[Block] = [*chunked_sections(lines)]
    if not blocks:
        blocks.append(SectionBlock(text=md("nothing read")))
    return blocks
