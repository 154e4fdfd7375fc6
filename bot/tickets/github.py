"""GitHub Issues (REST, ``GITHUB_TOKEN``): the incident's issue in ``tickets.github.repo`` with its labels, a hidden
marker line in its body (found again by listing the repository's newest issues, which, unlike search, shows an
issue at once), closed on resolve and open again on reopen, a ``status:<stage>`` and a ``severity-P<n>`` label."""

from __future__ import annotations

import re
from typing import Any

from bot.core.settings.tickets import GithubTickets, Stage
from bot.core.severity import Severity
from bot.tickets import http
from bot.tickets.model import COMMENT_MAX, TITLE_MAX, NewTicket, Ticket, TrackerRefused, clip, marker_line

TOKEN = "GITHUB_TOKEN"  # noqa: S105 - the variable's name, said in a refusal
CLOSED: set[Stage] = {"resolved", "closed"}
LISTED = "100"  # the newest issues looked through for a marker
BOT_LABEL = "chatops"  # on every issue the bot makes or marks: the list its markers are looked for in
MENTION = re.compile(r"(?<![A-Za-z0-9_.+-])@(?=[A-Za-z0-9])")  # @someone, @org/team
REFERENCE = re.compile(r"(#|\bGH-)(?=[0-9])", re.IGNORECASE)  # #123, org/repo#123, GH-123


def quiet(text: str) -> str:
    """Text from chat as GitHub Markdown that pings nobody and links no issue: a word joiner after ``@`` and before
    an issue number (``@\u2060alice``, ``#\u206012``), shown as written."""
    return REFERENCE.sub("\\1\u2060", MENTION.sub("@\u2060", text))


class GithubTracker:
    name = "github"

    def __init__(self, settings: GithubTickets, token: str) -> None:
        self.settings = settings
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        self.timeout = settings.timeout.total_seconds()

    async def call(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        return await http.call(
            "github", method, f"{self.settings.api_url}{path}", headers=self.headers, timeout=self.timeout,
            token=TOKEN, what="tickets.github.repo", body=body, params=params,
        )  # fmt: skip

    def _ticket(self, repo: str, issue: dict[str, Any]) -> Ticket:
        number = str(issue["number"])
        return Ticket("github", f"{repo}#{number}", str(issue.get("html_url", "")), number)

    @staticmethod
    def _where(ticket: Ticket) -> str:
        repo, _, number = ticket.key.rpartition("#")
        return f"/repos/{repo}/issues/{number}"

    async def create(self, new: NewTicket) -> Ticket:
        body = quiet(new.body)
        if new.relates_to is not None:
            body += f"\n\nFollow-up of {new.relates_to.key}"  # the bot's own reference: linked by GitHub
        labels = [*([] if new.action else self.settings.labels), *new.labels, BOT_LABEL]
        made = await self.call(
            "POST", f"/repos/{self.settings.repo}/issues",
            {"title": clip(new.title, TITLE_MAX), "body": body, "labels": labels},
        )  # fmt: skip
        if not isinstance(made, dict) or "number" not in made:
            raise TrackerRefused("GitHub answered a create without an issue number")
        return self._ticket(self.settings.repo, made)

    async def user_of(self, email: str) -> str | None:
        """None: GitHub finds a login by email only for public emails (search), not with the issues scope; the
        owner stays the Slack user named in the body."""
        return None

    async def find(self, ref: str) -> Ticket | None:
        params = {"state": "all", "sort": "created", "direction": "desc", "per_page": LISTED, "labels": BOT_LABEL}
        listed = await self.call("GET", f"/repos/{self.settings.repo}/issues", params=params)
        line = marker_line(ref)
        for issue in listed if isinstance(listed, list) else []:
            if "pull_request" not in issue and line in str(issue.get("body") or ""):
                return self._ticket(self.settings.repo, issue)
        return None

    async def _issue(self, ticket: Ticket) -> dict[str, Any]:
        found = await self.call("GET", self._where(ticket))
        return found if isinstance(found, dict) else {}

    async def get(self, key: str) -> Ticket | None:
        repo, _, number = key.rpartition("#")
        try:
            found = await self.call("GET", f"/repos/{repo}/issues/{number}")
        except TrackerRefused as exc:
            if exc.status in (404, 410):
                return None
            raise
        if not isinstance(found, dict) or "pull_request" in found:
            return None
        return self._ticket(repo, found)

    async def mark(self, ticket: Ticket, ref: str) -> None:
        issue = await self._issue(ticket)
        body = str(issue.get("body") or "")
        labels = [str(lb.get("name")) for lb in issue.get("labels", []) if isinstance(lb, dict)]
        if marker_line(ref) not in body or BOT_LABEL not in labels:
            marked = body if marker_line(ref) in body else f"{body}\n\n{marker_line(ref)}".strip()
            await self.call("PATCH", self._where(ticket), {"body": marked, "labels": sorted({*labels, BOT_LABEL})})

    async def _relabel(self, ticket: Ticket, prefix: str, label: str, extra: dict[str, Any] | None = None) -> None:
        issue = await self._issue(ticket)
        labels = [str(lb.get("name")) for lb in issue.get("labels", []) if isinstance(lb, dict)]
        kept = [lb for lb in labels if not lb.startswith(prefix)]
        await self.call("PATCH", self._where(ticket), {"labels": [*kept, label], **(extra or {})})

    async def move(self, ticket: Ticket, stage: Stage) -> str | None:
        state = "closed" if stage in CLOSED else "open"
        extra: dict[str, Any] = {"state": state}
        if state == "closed":
            extra["state_reason"] = "completed"
        await self._relabel(ticket, "status:", f"status:{stage}", extra)
        return state

    async def reprioritize(self, ticket: Ticket, severity: Severity) -> None:
        await self._relabel(ticket, "severity-", f"severity-{severity.value}")

    async def comment(self, ticket: Ticket, text: str) -> None:
        await self.call("POST", f"{self._where(ticket)}/comments", {"body": clip(quiet(text), COMMENT_MAX)})

    async def status(self, ticket: Ticket) -> str:
        return str((await self._issue(ticket)).get("state", "unknown"))
