"""``/security audit``, ``/cert list|renew``, ``/report weekly`` and the digest's Renew button. Responders only; a
renewal is carried out by the one offer path (operators, once, audited) when its button is clicked."""

from __future__ import annotations

import re
from typing import Any

from bot.core.errors import UserError
from bot.digest.render import CERT_RENEW_ACTION
from bot.operations.run import cluster_option
from bot.reports.weekly import blocks as weekly_blocks
from bot.reports.weekly import headline
from bot.security import parse, render
from bot.security.text import summary as audit_summary
from handlers.kit import Answer, Click, Command, Kit, Replies, Who
from handlers.needs import Needs


async def security(needs: Needs, cmd: Command) -> Answer:
    cluster, words = cluster_option(cmd.words, needs.runbooks.clusters)
    match parse.parse_security(words):
        case parse.Help(text=text):
            return Answer(text)
        case parse.Audit():
            explicit = any(w.startswith("--cluster=") for w in cmd.words)

            async def audit() -> tuple[list[Any], str]:
                verdicts = await needs.security.audit(cluster if explicit else None)
                return render.audit_blocks(verdicts, needs.clock()), audit_summary(verdicts)

            return Answer.report("Auditing… the result is posted here.", audit, name="/security audit", public=True)
    raise AssertionError("every /security command is handled")


async def cert(needs: Needs, cmd: Command) -> Answer:
    cluster, words = cluster_option(cmd.words, needs.runbooks.clusters)
    match parse.parse_cert(words):
        case parse.Help(text=text):
            return Answer(text)
        case parse.CertList(namespace=namespace):
            return Answer.report(
                "Reading cert-manager Certificates…",
                lambda: needs.security.cert_list(cluster, namespace),
                name="/cert list",
            )
        case parse.CertRenew(namespace=namespace, name=name):
            needs.security.renewable(namespace)  # kubernetes.namespaces, before any API call
            return Answer.report(
                f"Reading certificate `{namespace}/{name}`…",
                lambda: needs.security.offer_renew(cluster, namespace, name, cmd.actor.user, cmd.channel),
                name="/cert renew",
                public=True,
            )
    raise AssertionError("every /cert command is handled")


async def report(needs: Needs, cmd: Command) -> Answer:
    match parse.parse_report(cmd.words):
        case parse.Help(text=text):
            return Answer(text)
        case parse.Weekly():

            async def weekly() -> tuple[list[Any], str]:
                built = await needs.weekly.build()
                return weekly_blocks(built), headline(built)

            return Answer.report("Building the weekly report…", weekly, name="/report weekly", public=True)
    raise AssertionError("every /report command is handled")


async def renew_button(needs: Needs, click: Click, replies: Replies) -> None:
    """The digest's Renew button: the renewal offer, shown to the person who clicked."""
    cluster, _, ref = click.value.partition("|")
    cmd = parse.parse_cert(["renew", ref])
    if not isinstance(cmd, parse.CertRenew):
        raise UserError("This button names no certificate.")
    # The digest names the bot's own cluster by the unlisted cluster's name when kubernetes.clusters lists none.
    clusters = needs.runbooks.clusters
    chosen, _ = cluster_option([f"--cluster={cluster}"] if clusters.names else [], clusters)
    blocks, summary = await needs.security.offer_renew(chosen, cmd.namespace, cmd.name, click.actor.user, click.channel)
    await replies.private(summary, blocks)


def register(kit: Kit) -> None:
    kit.command("/security", security, who=Who.RESPONDERS, doing="run the security audit")
    kit.command("/cert", cert, who=Who.RESPONDERS, doing="work with certificates")
    kit.command("/report", report, who=Who.RESPONDERS, doing="read the weekly report")
    kit.button(re.compile(f"^{CERT_RENEW_ACTION}"), renew_button, doing="work with certificates",
               metric="cert renew button")  # fmt: skip
