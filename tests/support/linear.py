"""A stand-in for Linear's GraphQL API (the few operations the bot sends, read by their root field), answering as
Linear does: HTTP 400 with an ``errors`` entry of type ``authentication_error`` without the API key, ``RATELIMITED``
when the limit is spent (queued with ``rate_limited``), ``Entity not found`` for an unknown issue, and a create made at
once but answered only after the client gave up (``slow_next``)."""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

from tests.support.standin import Fault, Reply, Request, StandIn

KEY = "lin_api_test0key0for0the0standin01234"
STATES = ("Triage", "Todo", "In Progress", "Done", "Canceled")


def _error(message: str, kind: str, status: int = 400) -> Reply:
    return Reply(status, {"errors": [{"message": message, "extensions": {"type": kind, "code": kind.upper(),
                                                                          "userPresentableMessage": message}}]})  # fmt: skip


class LinearStandIn(StandIn):
    def __init__(self, teams: tuple[str, ...] = ("OPS",)) -> None:
        super().__init__()
        self.teams = {key: {"id": str(uuid.uuid4()), "key": key} for key in teams}
        self.states = {name: str(uuid.uuid4()) for name in STATES}
        self.issues: dict[str, dict[str, Any]] = {}  # id → issue
        self.comments: dict[str, list[str]] = {}
        self.relations: list[tuple[str, str]] = []
        self.users: dict[str, str] = {}  # id → email: found by users(filter: {email: {eq: …}})
        self.slow: list[float] = []
        self.made = threading.Event()
        self.start()

    def marked(self, ref: str) -> list[dict[str, Any]]:
        with self.lock:
            return [i for i in self.issues.values() if f"<!-- chatops-{ref} -->" in i["description"]]

    def state_of(self, issue: dict[str, Any]) -> str:
        return next(n for n, i in self.states.items() if i == issue["stateId"])

    def slow_next(self, seconds: float) -> None:
        with self.lock:
            self.slow.append(seconds)

    def rate_limited(self, times: int = 1) -> None:
        body = {
            "errors": [{"message": "Rate limit exceeded", "extensions": {"type": "ratelimited", "code": "RATELIMITED"}}]
        }
        self.fail(*[Fault(400, {"Retry-After": "1"}, body=body)] * times)

    @staticmethod
    def _field(request: Request) -> str:
        found = re.search(r"\{\s*(\w+)\s*\(", str(request.json().get("query", "")))
        return found.group(1) if found else ""

    def _answer(self, request: Request) -> Reply:
        if request.headers.get("Authorization") != KEY:
            with self.lock:
                self.requests.append((request, 400))
            return _error("Authentication required, not authenticated", "authentication_error")
        with self.lock:
            delay = self.slow.pop(0) if self._field(request) == "issueCreate" and self.slow else None
        if delay is None:
            return super()._answer(request)
        reply = self.handle(request)
        time.sleep(delay)
        with self.lock:
            self.requests.append((request, reply.status))
        return reply

    def handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/graphql":
            return Reply(404, {"error": "not found"})
        with self.lock:
            return self._handle(self._field(request), request.json().get("variables") or {})

    def _view(self, issue: dict[str, Any]) -> dict[str, Any]:
        return {**issue, "state": {"name": self.state_of(issue)}}

    def _find(self, key: str) -> dict[str, Any] | None:
        return self.issues.get(key) or next((i for i in self.issues.values() if i["identifier"] == key), None)

    def _handle(self, field: str, variables: dict[str, Any]) -> Reply:
        if field == "teams":
            key = variables["key"]
            nodes = [{"id": self.teams[key]["id"], "states": {"nodes": [{"id": i, "name": n} for n, i in
                                                                       self.states.items()]}}] if key in self.teams else []  # fmt: skip
            return Reply(200, {"data": {"teams": {"nodes": nodes}}})
        if field == "issueCreate":
            given = variables["input"]
            team = next((t for t in self.teams.values() if t["id"] == given.get("teamId")), None)
            if team is None:
                return _error("Argument Validation Error: teamId", "invalid_input", 200)
            assignee = given.get("assigneeId")
            if assignee is not None and assignee not in self.users:
                return _error("Entity not found: User", "invalid_input", 200)
            number = 1 + sum(1 for i in self.issues.values() if i["identifier"].startswith(team["key"] + "-"))
            identifier = f"{team['key']}-{number}"
            issue = {"id": str(uuid.uuid4()), "identifier": identifier, "title": given["title"],
                     "description": given.get("description", ""), "priority": given.get("priority", 0),
                     "stateId": self.states["Todo"], "url": f"https://linear.app/acme/issue/{identifier}",
                     "assigneeId": assignee}  # fmt: skip
            self.issues[issue["id"]] = issue
            self.made.set()
            return Reply(200, {"data": {"issueCreate": {"success": True, "issue": self._view(issue)}}})
        if field == "users":
            wanted = variables["email"].casefold()
            nodes = [{"id": i} for i, email in self.users.items() if email.casefold() == wanted]
            return Reply(200, {"data": {"users": {"nodes": nodes}}})
        if field == "issues":
            wanted = variables["filter"]["description"]["contains"]
            nodes = [self._view(i) for i in self.issues.values() if wanted in i["description"]]
            return Reply(200, {"data": {"issues": {"nodes": nodes}}})
        if field in ("issue", "issueUpdate"):
            found = self._find(variables["id"])
            if found is None:
                return _error("Entity not found: Issue", "invalid_input", 200)
            if field == "issue":
                return Reply(200, {"data": {"issue": self._view(found)}})
            found.update(variables["input"])
            return Reply(200, {"data": {"issueUpdate": {"success": True, "issue": self._view(found)}}})
        if field == "commentCreate":
            given = variables["input"]
            target = self._find(given["issueId"])
            if target is None:
                return _error("Entity not found: Issue", "invalid_input", 200)
            self.comments.setdefault(target["id"], []).append(given["body"])
            return Reply(200, {"data": {"commentCreate": {"success": True}}})
        if field == "issueRelationCreate":
            given = variables["input"]
            self.relations.append((given["issueId"], given["relatedIssueId"]))
            return Reply(200, {"data": {"issueRelationCreate": {"success": True}}})
        return _error(f"Cannot query field {field!r}", "graphql_error")
