"""Post-mortem drafts: built from the store, uploaded to Slack (files upload v2) or written locally."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents import postmortem
from bot.incidents.model import Incident
from bot.incidents.store import IncidentStore
from bot.settings import BotConfig

log = logging.getLogger(__name__)


def filename(incident: Incident) -> str:
    return f"postmortem-{incident.ref.lower()}.md"


async def draft(
    store: IncidentStore, config: BotConfig, number: int, tz: ZoneInfo | None = None
) -> tuple[Incident, str]:
    """The incident and its post-mortem Markdown, times in ``tz`` (default: the on-call time zone)."""
    incident = await store.get(number)
    entries, _ = await store.timeline(number)
    zone = tz or ZoneInfo(config.oncall.timezone)
    text = postmortem.build(incident, entries, config.severities[incident.severity].ack_within, zone, datetime.now(UTC))
    return incident, text


async def upload(client: AsyncWebClient, incident: Incident, markdown: str, channel: str, thread: str | None) -> None:
    """Upload the draft with the files upload v2 flow (getUploadURLExternal → upload → complete)."""
    await client.files_upload_v2(
        channel=channel,
        thread_ts=thread,
        content=markdown,
        filename=filename(incident),
        title=f"Post-mortem draft — {incident.ref}: {incident.title}",
        initial_comment=f"📝 Post-mortem draft for {incident.ref}, built from its timeline. Fill in root cause and "
        "action items.",
    )
