"""Jira Cloud (REST v3, ``email`` + ``JIRA_API_TOKEN`` as Basic) and Data Center (REST v2, ``JIRA_API_TOKEN`` a
personal access token as Bearer): the incident's issue with its priority and labels, found again by the label
``chatops-INC-42`` (JQL), moved by transitions named in ``tickets.jira.transitions``."""

from __future__ import annotations

import base64
from typing import Any

from bot.core.settings.tickets import JiraTickets, Stage
from bot.core.severity import Severity
from bot.tickets import http
from bot.tickets.model import COMMENT_MAX, TITLE_MAX, NewTicket, Ticket, TrackerRefused, clip, marker

TOKEN = "JIRA_API_TOKEN"  # noqa: S105 - the variable's name, said in a refusal


def _adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document (REST v3 takes descriptions and comments only in it)."""
    paragraphs = [p for p in text.split("\n") if p.strip()] or [" "]
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paragraphs],
    }


class JiraTracker:
    name = "jira"

    def __init__(self, settings: JiraTickets, token: str) -> None:
        self.settings = settings
        self.api = f"{settings.url}/rest/api/{settings.version}"
        credentials = f"Basic {base64.b64encode(f'{settings.email}:{token}'.encode()).decode()}"
        self.headers = {
            "Authorization": credentials if settings.email else f"Bearer {token}",
            "Accept": "application/json",
        }
        self.timeout = settings.timeout.total_seconds()
        self._sent: dict[tuple[str, Stage], str] = {}  # (key, stage) → the status of a transition left unanswered

    async def call(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        return await http.call(
            "jira", method, f"{self.api}{path}", headers=self.headers, timeout=self.timeout, token=TOKEN,
            what="tickets.jira (url, project, issue types, priorities)", body=body, params=params,
        )  # fmt: skip

    def _text(self, text: str) -> Any:
        return _adf(text) if self.settings.version >= 3 else text

    def _ticket(self, key: str, issue_id: str = "") -> Ticket:
        return Ticket("jira", key, f"{self.settings.url}/browse/{key}", issue_id)

    async def create(self, new: NewTicket) -> Ticket:
        s = self.settings
        fields: dict[str, Any] = {
            "project": {"key": s.project},
            "summary": clip(new.title, TITLE_MAX),
            "issuetype": {"name": s.action_issue_type if new.action else s.issue_type},
            "labels": [*([] if new.action else s.labels), *new.labels, marker(new.ref)],
            "description": self._text(new.body),
        }
        if new.assignee is not None:
            fields["assignee"] = {"accountId" if s.version >= 3 else "name": new.assignee}
        if not new.action:
            if new.severity in s.priority:
                fields["priority"] = {"name": s.priority[new.severity]}
            fields.update(s.custom_fields)
        made = await self.call("POST", "/issue", {"fields": fields})
        if not isinstance(made, dict) or not made.get("key"):
            raise TrackerRefused("Jira answered a create without an issue key")
        return self._ticket(str(made["key"]), str(made.get("id", "")))  # the "relates to" link is the caller's step

    async def user_of(self, email: str) -> str | None:
        """Cloud: ``accountId`` (``query``); Data Center: ``name`` (``username``). The one user of that email (Cloud
        may hide emails: then the one user the query found)."""
        cloud = self.settings.version >= 3
        found = await self.call("GET", "/user/search", params={"query" if cloud else "username": email})
        users = [u for u in found if isinstance(u, dict) and u.get("active", True)] if isinstance(found, list) else []
        exact = [u for u in users if str(u.get("emailAddress", "")).casefold() == email.casefold()]
        chosen = exact or (users if len(users) == 1 and not users[0].get("emailAddress") else [])
        if len(chosen) != 1:
            return None
        value = chosen[0].get("accountId" if cloud else "name")
        return str(value) if value else None

    async def link(self, ticket: Ticket, other: Ticket) -> None:
        body = {"type": {"name": "Relates"}, "inwardIssue": {"key": ticket.key}, "outwardIssue": {"key": other.key}}
        await self.call("POST", "/issueLink", body)

    async def find(self, ref: str) -> Ticket | None:
        jql = f'project = "{self.settings.project}" AND labels = "{marker(ref)}" ORDER BY created ASC'
        path = "/search/jql" if self.settings.version >= 3 else "/search"
        found = await self.call("GET", path, params={"jql": jql, "fields": "summary", "maxResults": "5"})
        issues = found.get("issues") if isinstance(found, dict) else None
        if not issues:
            return None
        first = issues[0]
        return self._ticket(str(first["key"]), str(first.get("id", "")))

    async def get(self, key: str) -> Ticket | None:
        try:
            found = await self.call("GET", f"/issue/{key}", params={"fields": "status"})
        except TrackerRefused as exc:
            if exc.status == 404:
                return None
            raise
        return self._ticket(str(found.get("key", key)), str(found.get("id", "")))

    async def mark(self, ticket: Ticket, ref: str) -> None:
        await self.call("PUT", f"/issue/{ticket.key}", {"update": {"labels": [{"add": marker(ref)}]}})

    async def status(self, ticket: Ticket) -> str:
        found = await self.call("GET", f"/issue/{ticket.key}", params={"fields": "status"})
        status = (found or {}).get("fields", {}).get("status") or {}
        return str(status.get("name", "unknown"))

    async def move(self, ticket: Ticket, stage: Stage) -> str | None:
        wanted = self.settings.transitions.get(stage)
        if wanted is None:
            return None
        offered = await self.call("GET", f"/issue/{ticket.key}/transitions")
        transitions = offered.get("transitions", []) if isinstance(offered, dict) else []
        for transition in transitions:
            to = (transition.get("to") or {}).get("name", "")
            if wanted.casefold() in (str(transition.get("name", "")).casefold(), str(to).casefold()):
                self._sent[(ticket.key, stage)] = str(to or wanted)  # an answer lost may have moved it there
                body = {"transition": {"id": transition["id"]}}
                try:
                    await self.call("POST", f"/issue/{ticket.key}/transitions", body)
                except TrackerRefused:
                    self._sent.pop((ticket.key, stage), None)
                    raise
                self._sent.pop((ticket.key, stage), None)
                return str(to or wanted)
        now = await self.status(ticket)
        target = self._sent.pop((ticket.key, stage), wanted)  # the transition's status, when one was sent unanswered
        if now.casefold() in (wanted.casefold(), target.casefold()):
            return now  # there already (a transition sent before landed though its answer was lost)
        names = ", ".join(str(t.get("name")) for t in transitions) or "none"
        raise TrackerRefused(
            f"Jira offers no transition {wanted!r} for {ticket.key} from {now!r} (offered: {names}; "
            f"`tickets.jira.transitions.{stage}`)"
        )

    async def reprioritize(self, ticket: Ticket, severity: Severity) -> None:
        priority = self.settings.priority.get(severity)
        if priority is not None:
            await self.call("PUT", f"/issue/{ticket.key}", {"fields": {"priority": {"name": priority}}})

    async def comment(self, ticket: Ticket, text: str) -> None:
        await self.call("POST", f"/issue/{ticket.key}/comment", {"body": self._text(clip(text, COMMENT_MAX))})
