"""Block Kit for alerts and the status page (pure): what is firing now, the form that writes the public post, and
what an enrichment adds to the report it posts in an incident's thread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.core.blocks import chunked_sections, md
from bot.core.text import clip, escape
from bot.incidents.model import Incident, State

PUBLIC_ACTION = "incident_public"  # "Post to status page": a modal with the public text
PUBLIC_RESOLVE_ACTION = "incident_public_resolve"  # "Resolve on status page"
PUBLIC_MODAL = "incident_public_modal"
PUBLIC_NAME_MAX = 255
PUBLIC_BODY_MAX = 2000
PUBLIC_BODY_DEFAULT = "We are investigating reports of degraded service and will post an update shortly."
OPTION_TEXT_MAX, OPTIONS_MAX = 75, 100  # Slack's limits of a select's option text and options
LOGS_ACTION = "enrich_logs"  # "Show logs": an enrichment's pod logs, read again for the responder who clicks


def public_buttons(incident: Incident) -> list[ButtonElement]:
    """The announcement's status page buttons, as the incident stands: post it, or resolve it publicly."""
    if incident.state is State.CLOSED:
        return []
    if incident.statuspage_id is None and incident.state is not State.RESOLVED:
        return [ButtonElement(text="Post to status page", action_id=PUBLIC_ACTION, value=str(incident.number))]
    if incident.statuspage_id and incident.state is State.RESOLVED and incident.statuspage_status != "resolved":
        confirm = ConfirmObject(
            title="Resolve on the status page?",
            text=f"Mark the public incident of {incident.ref} resolved and its components operational.",
            confirm="Resolve publicly",
            deny="Not yet",
        )
        return [
            ButtonElement(
                text="Resolve on status page",
                action_id=PUBLIC_RESOLVE_ACTION,
                value=str(incident.number),
                style="primary",
                confirm=confirm,
            )
        ]
    return []


def firing_blocks(lines: Sequence[str], url: str) -> list[Block]:
    return [
        HeaderBlock(text="Alerts firing now"),
        *chunked_sections(list(lines)),
        ContextBlock(elements=[md(f"From Alertmanager at {url} (active, not silenced, not inhibited)")]),
    ]


def component_options(components: Mapping[str, str]) -> list[Option]:
    """One option per status page component: its value the component id (Statuspage's ids are short, well inside
    Slack's 150), its text the service name(s) of the config, clipped to Slack's 75 characters."""
    names: dict[str, list[str]] = {}
    for service in sorted(components):
        names.setdefault(components[service], []).append(service)
    return [
        Option(value=component, text=clip(", ".join(services), OPTION_TEXT_MAX))
        for component, services in list(names.items())[:OPTIONS_MAX]
    ]


def public_modal(incident: Incident, components: Mapping[str, str], body: str = "") -> View:
    """The public post, written by a person: prefilled with the title only, nothing internal, or with the ``body``
    typed after ``--public``, for review. ``components``: the config's service → component id."""
    service = (incident.alert.labels.get("service") if incident.alert else None) or ""
    blocks: list[Block] = [
        ContextBlock(elements=[md(f"Posted publicly for {incident.ref}. Write it for customers: no internal names.")]),
        InputBlock(
            block_id="name",
            label="Public title",
            element=PlainTextInputElement(action_id="value", initial_value=incident.title, max_length=PUBLIC_NAME_MAX),
        ),
        InputBlock(
            block_id="body",
            label="Message",
            element=PlainTextInputElement(
                action_id="value",
                multiline=True,
                max_length=PUBLIC_BODY_MAX,
                initial_value=clip(body, PUBLIC_BODY_MAX) or PUBLIC_BODY_DEFAULT,
            ),
        ),
    ]
    if components:
        options = component_options(components)
        initial = [o for o in options if o.value == components.get(service)]
        blocks.append(
            InputBlock(
                block_id="components",
                label="Affected components",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id="value",
                    placeholder="Components to mark down",
                    options=options,
                    initial_options=initial or None,
                ),
            )
        )
    return View(
        type="modal",
        callback_id=PUBLIC_MODAL,
        private_metadata=str(incident.number),
        title="Post to status page",
        submit="Post publicly",
        close="Cancel",
        blocks=blocks,
    )


def enriched_context(alertname: str) -> ContextBlock:
    """Below an enrichment report's header: why it is there."""
    text = f"🔎 Run automatically for the alert *{escape(clip(alertname, 100))}* (`alerts.enrich`)"
    return ContextBlock(elements=[md(text)])


def logs_blocks(logs_id: str) -> list[Block]:
    """In place of the log lines left out of a shared report: why, and "Show logs" for the responder who clicks (the
    button's value only an opaque id)."""
    why = "Log lines are not posted in the channel (`kubernetes.share_logs`): *Show logs* shows them only to you."
    button = ButtonElement(text="Show logs", action_id=LOGS_ACTION, value=logs_id)
    return [ContextBlock(elements=[md(why)]), ActionsBlock(elements=[button])]
