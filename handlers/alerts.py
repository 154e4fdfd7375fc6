"""``/alerts`` (what is firing now), the status page: the announcement's "Post to status page" (a form a person
fills in) and "Resolve on status page" buttons, and an enrichment's "Show logs". Responders only; the status page
calls and the logs run after Slack is answered."""

from __future__ import annotations

import re
from typing import Any

from bot.alerts.render import (
    LOGS_ACTION,
    PUBLIC_ACTION,
    PUBLIC_BODY_MAX,
    PUBLIC_MODAL,
    PUBLIC_NAME_MAX,
    PUBLIC_RESOLVE_ACTION,
    firing_blocks,
    public_modal,
)
from bot.alerts.statuspage import PublicStatus
from bot.core.errors import UserError
from bot.core.words import check_text
from bot.incidents.render import URL_ACTION
from handlers.kit import Answer, Click, Command, Kit, Replies, Submission, Submitted, Who, open_form
from handlers.needs import Needs

NO_STATUS_PAGE = "No status page is set up (`statuspage` in the config)."


def _number(click: Click) -> int:
    if not click.value.isdigit():
        raise UserError("This button names no incident.")
    return int(click.value)


def _status_page(needs: Needs) -> PublicStatus:
    if needs.statuspage is None:
        raise UserError(NO_STATUS_PAGE)
    return needs.statuspage


async def alerts(needs: Needs, cmd: Command) -> Answer:
    firing = needs.firing
    if firing is None:
        return Answer("Not connected to Alertmanager: set `alerts.alertmanager_url` in the config.")

    async def read() -> tuple[list[Any], str]:
        lines = await firing.lines()
        return firing_blocks(lines, firing.url), f"Alerts firing now: {len(lines)} line(s)"

    return Answer.report("Reading Alertmanager…", read, name="/alerts")


async def post_button(needs: Needs, click: Click, replies: Replies) -> None:
    """ "Post to status page": the form, prefilled with the incident's title only."""
    public = _status_page(needs)
    incident = await needs.store.get(_number(click))
    below = None if incident.statuspage_id else public.below_minimum(incident)
    if below is not None:
        raise UserError(f"{below}; nothing was posted.")
    view = public_modal(incident, public.settings.components)
    instead = f"`/incident update {incident.ref} --public <text>` posts to the status page too."
    await open_form(needs, click.trigger_id, view, instead=instead)


async def post_form(needs: Needs, form: Submission) -> Submitted:
    if needs.statuspage is None or not form.private_metadata.isdigit():
        raise UserError("No status page is set up, or this form names no incident.")
    public = needs.statuspage
    errors: dict[str, str] = {}
    name = text = ""
    try:
        name = check_text(form.text("name"), "title", PUBLIC_NAME_MAX)
    except UserError as exc:
        errors["name"] = str(exc)
    try:
        text = check_text(form.text("body"), "message", PUBLIC_BODY_MAX, multiline=True)
    except UserError as exc:
        errors["body"] = str(exc)
    if not name and "name" not in errors:
        errors["name"] = "Give the public incident a title."
    if not text and "body" not in errors:
        errors["body"] = "Say what customers should know."
    if errors:
        return Submitted(errors)
    number = int(form.private_metadata)
    services = form.choices("components")
    return Submitted(later=lambda: public.post(number, name, text, services, form.actor.user),
                     name=f"statuspage-post-{number}")  # fmt: skip


async def resolve_button(needs: Needs, click: Click, replies: Replies) -> None:
    await _status_page(needs).resolve(_number(click), click.actor.user)


async def show_logs(needs: Needs, click: Click, replies: Replies) -> None:
    """An enrichment's "Show logs": its runbook run again now, for the responder who clicked only (the button's value
    is an opaque id: what runs is read from what the bot kept)."""
    enricher = needs.alerts.enricher
    if enricher is None:
        raise UserError("Alert enrichment is not set up (`alerts.enrich`).")
    request = await enricher.logs(click.value)

    async def publish(blocks: list[Any], summary: str, in_channel: bool) -> None:
        await replies.private(summary, blocks)  # pod logs: only the person who asked, whatever share_logs says

    await needs.runbooks.run(request, channel=click.channel or "", user=click.actor.user, publish=publish)


def register(kit: Kit) -> None:
    kit.command("/alerts", alerts, who=Who.RESPONDERS, doing="read the alerts")
    kit.button(PUBLIC_ACTION, post_button, doing="post to the status page")
    kit.form(PUBLIC_MODAL, post_form, who=Who.RESPONDERS, doing="post to the status page", field="body")
    kit.button(PUBLIC_RESOLVE_ACTION, resolve_button, doing="resolve on the status page")
    kit.button(LOGS_ACTION, show_logs, who=Who.RESPONDERS, doing="see pod logs")
    kit.link(re.compile(f"^{URL_ACTION}_"))
