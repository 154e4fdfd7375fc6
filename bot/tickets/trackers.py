"""The configured tracker, built from ``tickets`` and its token (None when there is none, or no token)."""

from __future__ import annotations

from bot.core.settings.tickets import Tickets
from bot.tickets.github import GithubTracker
from bot.tickets.jira import JiraTracker
from bot.tickets.linear import LinearTracker
from bot.tickets.model import Tracker


def build(settings: Tickets, token: str | None) -> Tracker | None:
    if not token:
        return None
    if settings.jira is not None:
        return JiraTracker(settings.jira, token)
    if settings.github is not None:
        return GithubTracker(settings.github, token)
    if settings.linear is not None:
        return LinearTracker(settings.linear, token)
    return None
