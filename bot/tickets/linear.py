"""Linear (GraphQL, ``LINEAR_API_KEY``): the incident's issue in the team ``tickets.linear.team`` with its priority
(P1 urgent … P4 low), a hidden marker line in its description (found again by a description filter, which reads the
issues themselves, not a search index), moved through the workflow states named in ``tickets.linear.states``."""

from __future__ import annotations

from typing import Any

from bot.core.settings.tickets import LinearTickets, Stage
from bot.core.severity import Severity
from bot.tickets import http
from bot.tickets.http import Down
from bot.tickets.model import COMMENT_MAX, TITLE_MAX, NewTicket, Ticket, TrackerRefused, clip, marker_line

TOKEN = "LINEAR_API_KEY"  # noqa: S105 - the variable's name, said in a refusal
PRIORITY = {Severity.P1: 1, Severity.P2: 2, Severity.P3: 3, Severity.P4: 4}  # Linear: 1 urgent … 4 low
ISSUE = "id identifier url description state { name }"
TEAM = "query($key: String!) { teams(filter: {key: {eq: $key}}) { nodes { id states { nodes { id name } } } } }"
CREATE = f"mutation($input: IssueCreateInput!) {{ issueCreate(input: $input) {{ success issue {{ {ISSUE} }} }} }}"
UPDATE = (
    "mutation($id: String!, $input: IssueUpdateInput!) "
    f"{{ issueUpdate(id: $id, input: $input) {{ success issue {{ {ISSUE} }} }} }}"
)
FIND = f"query($filter: IssueFilter) {{ issues(filter: $filter, first: 5) {{ nodes {{ {ISSUE} }} }} }}"
GET = f"query($id: String!) {{ issue(id: $id) {{ {ISSUE} }} }}"
COMMENT = "mutation($input: CommentCreateInput!) { commentCreate(input: $input) { success } }"
USERS = "query($email: String!) { users(filter: {email: {eq: $email}}) { nodes { id } } }"
RELATE = "mutation($input: IssueRelationCreateInput!) { issueRelationCreate(input: $input) { success } }"


DOWN_CODES = {"RATELIMITED", "INTERNAL_SERVER_ERROR"}  # GraphQL errors' extensions.code that are tried again


def _code(error: object) -> str:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return str(extensions.get("code", "")).upper() if isinstance(extensions, dict) else ""


class LinearTracker:
    name = "linear"

    def __init__(self, settings: LinearTickets, token: str) -> None:
        self.settings = settings
        self.headers = {"Authorization": token, "Content-Type": "application/json"}
        self.timeout = settings.timeout.total_seconds()
        self._team: tuple[str, dict[str, str]] | None = None  # id, state name (casefolded) → id

    async def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = await http.call(
            "linear", "POST", self.settings.api_url, headers=self.headers, timeout=self.timeout, token=TOKEN,
            what="tickets.linear.team", body={"query": query, "variables": variables},
        )  # fmt: skip
        if not isinstance(answer, dict):
            raise TrackerRefused("Linear answered something that is not GraphQL")
        errors = answer.get("errors")
        if errors:
            said = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[:160]
            codes = {_code(e) for e in errors}
            if codes & DOWN_CODES:  # answered 200 all the same: Linear is busy or failing, not refusing
                raise Down(f"Linear answered {', '.join(sorted(codes & DOWN_CODES))}: {said}",
                           unsure="INTERNAL_SERVER_ERROR" in codes)  # fmt: skip
            raise TrackerRefused(f"Linear refused it: {said}", 404 if "not found" in said.lower() else 400)
        return answer.get("data") or {}

    async def team(self) -> tuple[str, dict[str, str]]:
        if self._team is None:
            data = await self._query(TEAM, {"key": self.settings.team})
            nodes = (data.get("teams") or {}).get("nodes") or []
            if not nodes:
                raise TrackerRefused(f"Linear has no team {self.settings.team} (check tickets.linear.team)", 404)
            states = {str(s["name"]).casefold(): str(s["id"]) for s in nodes[0]["states"]["nodes"]}
            self._team = (str(nodes[0]["id"]), states)
        return self._team

    @staticmethod
    def _ticket(issue: dict[str, Any]) -> Ticket:
        return Ticket("linear", str(issue["identifier"]), str(issue.get("url", "")), str(issue["id"]))

    async def create(self, new: NewTicket) -> Ticket:
        team, _ = await self.team()
        body = new.body + (f"\n\nFollow-up of {new.relates_to.key}" if new.relates_to else "")
        data = await self._query(CREATE, {"input": {
            "teamId": team, "title": clip(new.title, TITLE_MAX), "description": body,
            "priority": PRIORITY[new.severity], **({"assigneeId": new.assignee} if new.assignee else {}),
        }})  # fmt: skip
        issue = (data.get("issueCreate") or {}).get("issue")
        if not issue:
            raise TrackerRefused("Linear answered a create without an issue")
        return self._ticket(issue)  # the relation to the incident's issue is the caller's step (``link``)

    async def link(self, ticket: Ticket, other: Ticket) -> None:
        """``ticket`` related to ``other`` (an action item's issue to the incident's)."""
        relation = {"issueId": ticket.id or ticket.key, "relatedIssueId": other.id or other.key, "type": "related"}
        await self._query(RELATE, {"input": relation})

    async def user_of(self, email: str) -> str | None:
        nodes = ((await self._query(USERS, {"email": email})).get("users") or {}).get("nodes") or []
        return str(nodes[0]["id"]) if len(nodes) == 1 else None

    async def find(self, ref: str) -> Ticket | None:
        team, _ = await self.team()
        found = {"team": {"id": {"eq": team}}, "description": {"contains": marker_line(ref)}}
        nodes = ((await self._query(FIND, {"filter": found})).get("issues") or {}).get("nodes") or []
        return self._ticket(nodes[0]) if nodes else None

    async def _issue(self, key: str) -> dict[str, Any] | None:
        try:
            issue = (await self._query(GET, {"id": key})).get("issue")
        except TrackerRefused as exc:
            if exc.status == 404:
                return None
            raise
        return issue if isinstance(issue, dict) else None

    async def get(self, key: str) -> Ticket | None:
        issue = await self._issue(key)
        return self._ticket(issue) if issue else None

    async def _update(self, ticket: Ticket, changes: dict[str, Any]) -> None:
        await self._query(UPDATE, {"id": ticket.id or ticket.key, "input": changes})

    async def mark(self, ticket: Ticket, ref: str) -> None:
        issue = await self._issue(ticket.key) or {}
        body = str(issue.get("description") or "")
        if marker_line(ref) not in body:
            await self._update(ticket, {"description": f"{body}\n\n{marker_line(ref)}".strip()})

    async def move(self, ticket: Ticket, stage: Stage) -> str | None:
        wanted = self.settings.states.get(stage)
        if wanted is None:
            return None
        _, states = await self.team()
        state = states.get(wanted.casefold())
        if state is None:
            raise TrackerRefused(
                f"Linear's team {self.settings.team} has no workflow state {wanted!r} (`tickets.linear.states.{stage}`)"
            )
        await self._update(ticket, {"stateId": state})
        return wanted

    async def reprioritize(self, ticket: Ticket, severity: Severity) -> None:
        await self._update(ticket, {"priority": PRIORITY[severity]})

    async def comment(self, ticket: Ticket, text: str) -> None:
        await self._query(COMMENT, {"input": {"issueId": ticket.id or ticket.key, "body": clip(text, COMMENT_MAX)}})

    async def status(self, ticket: Ticket) -> str:
        issue = await self._issue(ticket.key) or {}
        return str((issue.get("state") or {}).get("name", "unknown"))
