"""``/security audit``, ``/cert list|renew``, ``/report weekly`` and the digest's Renew button. Responders only; a
renewal is carried out by the generic offer path (operators, once, audited) when its button is clicked."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core.errors import UserError
from bot.core.permissions import Actor
from bot.digest.render import CERT_RENEW_ACTION
from bot.operations.run import cluster_option
from bot.security import parse, render
from bot.security.text import summary as audit_summary
from bot.security.weekly import blocks as weekly_blocks
from bot.security.weekly import headline
from handlers.guard import acked, answer, first_action, guarded, require_responder

if TYPE_CHECKING:
    from bot.runtime.services import Services


def register(app: AsyncApp, svc: Services) -> None:
    security = svc.security

    async def on_security(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        async with guarded("command", "/security", acked(ack)):
            actor = Actor.of_command(command)
            await require_responder(svc, actor, "run the security audit")
            cluster, words = cluster_option((command.get("text") or "").split(), svc.runbooks.clusters)
            match parse.parse_security(words):
                case parse.Help(text=text):
                    await ack(text=text)
                case parse.Audit():
                    explicit = any(w.startswith("--cluster=") for w in (command.get("text") or "").split())
                    await ack(text="Auditing… the result is posted here.")

                    async def audit() -> tuple[list[Any], str]:
                        verdicts = await security.audit(cluster if explicit else None)
                        return render.audit_blocks(verdicts, svc.clock()), audit_summary(verdicts)

                    svc.tasks.spawn(answer(respond, audit, "/security audit", in_channel=True), name="audit")

    async def on_cert(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        async with guarded("command", "/cert", acked(ack)):
            actor = Actor.of_command(command)
            await require_responder(svc, actor, "work with certificates")
            cluster, words = cluster_option((command.get("text") or "").split(), svc.runbooks.clusters)
            match parse.parse_cert(words):
                case parse.Help(text=text):
                    await ack(text=text)
                case parse.CertList(namespace=namespace):
                    await ack(text="Reading cert-manager Certificates…")
                    listing = lambda: security.cert_list(cluster, namespace)  # noqa: E731
                    svc.tasks.spawn(answer(respond, listing, "/cert list"), name="cert-list")
                case parse.CertRenew(namespace=namespace, name=name):
                    await ack(text=f"Reading certificate `{namespace}/{name}`…")
                    offer = lambda: security.offer_renew(  # noqa: E731
                        cluster, namespace, name, actor.user, command["channel_id"]
                    )
                    svc.tasks.spawn(answer(respond, offer, "/cert renew", in_channel=True), name="cert-renew")

    async def on_report(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        async with guarded("command", "/report", acked(ack)):
            actor = Actor.of_command(command)
            await require_responder(svc, actor, "read the weekly report")
            match parse.parse_report((command.get("text") or "").split()):
                case parse.Help(text=text):
                    await ack(text=text)
                case parse.Weekly():
                    await ack(text="Building the weekly report…")

                    async def weekly() -> tuple[list[Any], str]:
                        report = await svc.weekly.build()
                        return weekly_blocks(report), headline(report)

                    svc.tasks.spawn(answer(respond, weekly, "/report weekly", in_channel=True), name="weekly")

    async def on_renew_button(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        """The digest's Renew button: the renewal offer, shown to the person who clicked."""
        await ack()
        actor = Actor.of_body(body)

        async def offer() -> tuple[list[Any], str]:
            await require_responder(svc, actor, "work with certificates")
            cluster, _, ref = str(first_action(body).get("value", "")).partition("|")
            cmd = parse.parse_cert(["renew", ref])
            if not isinstance(cmd, parse.CertRenew):
                raise UserError("This button names no certificate.")
            # The digest names the bot's own cluster "default" when kubernetes.clusters lists none.
            listed = svc.runbooks.clusters.names
            chosen, _ = cluster_option([f"--cluster={cluster}"] if listed else [], svc.runbooks.clusters)
            channel = str((body.get("channel") or {}).get("id") or "") or None
            return await security.offer_renew(chosen, cmd.namespace, cmd.name, actor.user, channel)

        svc.tasks.spawn(answer(respond, offer, "cert renew button"), name="cert-renew-button")

    app.command("/security")(on_security)
    app.command("/cert")(on_cert)
    app.command("/report")(on_report)
    app.action(re.compile(f"^{CERT_RENEW_ACTION}"))(on_renew_button)
