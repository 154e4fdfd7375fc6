"""A stand-in for Jira's REST API (v3 Cloud with Basic email:token, v2 Data Center with a Bearer PAT), answering as
Jira does: 401 without the right credentials, 400 with ``errors`` for an unknown project, issue type or priority
(and, in v3, a description that is not an Atlassian Document), 404 for an unknown issue, transitions of a small
workflow (To Do → In Progress → Done → Reopen), JQL by label. Faults (429 with Retry-After, 5xx, slow answers) are
queued; a create can be made at once and answered only after the client gave up (``slow_next``)."""

from __future__ import annotations

import base64
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.support.standin import Fault, Reply, Request, StandIn

EMAIL = "bot@acme.io"
TOKEN = "jira-test-token-6b1f0c9d2e"
PAT = "jira-dc-pat-41ac9e07d3"
WORKFLOW: dict[str, list[tuple[str, str, str]]] = {  # status → (id, transition name, to)
    "To Do": [("11", "Start progress", "In Progress"), ("31", "Done", "Done")],
    "In Progress": [("21", "Mitigated", "Monitoring"), ("31", "Done", "Done")],
    "Monitoring": [("31", "Done", "Done"), ("41", "Reopen", "In Progress")],
    "Done": [("41", "Reopen", "In Progress")],
}
ISSUE = re.compile(r"^/rest/api/(2|3)/issue/([A-Z][A-Z0-9_]+-[0-9]+)(/transitions|/comment)?$")


@dataclass
class Issue:
    key: str
    id: str
    fields: dict[str, Any]
    status: str = "To Do"
    comments: list[Any] = field(default_factory=list)
    transitions: list[str] = field(default_factory=list)  # the statuses it was moved to, in order
    links: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return list(self.fields.get("labels") or [])

    @property
    def priority(self) -> str:
        return str((self.fields.get("priority") or {}).get("name", ""))


def _errors(**errors: str) -> Reply:
    return Reply(400, {"errorMessages": [], "errors": errors})


class JiraStandIn(StandIn):
    def __init__(self, projects: tuple[str, ...] = ("OPS",)) -> None:
        super().__init__()
        self.projects = set(projects)
        self.issue_types = {"Incident", "Task", "Bug"}
        self.priorities = {"Highest", "High", "Medium", "Low", "Lowest"}
        self.issues: dict[str, Issue] = {}
        self.users: list[dict[str, Any]] = []  # {"accountId", "name", "emailAddress"}: found by /user/search
        self.down = False  # every request answered 503 while set
        self.slow: list[float] = []
        self.made = threading.Event()
        self.start()

    # What the test reads ------------------------------------------------------------------------------------------
    def of(self, method: str, path_end: str = "") -> list[tuple[Request, int]]:
        with self.lock:
            return [(r, s) for r, s in self.requests if r.method == method and r.path.endswith(path_end)]

    def labelled(self, label: str) -> list[Issue]:
        with self.lock:
            return [i for i in self.issues.values() if label in i.labels]

    def slow_next(self, seconds: float) -> None:
        """The next create is made at once, answered after ``seconds`` (past the client's timeout)."""
        with self.lock:
            self.slow.append(seconds)

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        self.fail(*[Fault(status, dict(headers or {}), body={"errorMessages": ["stand-in fault"]})] * times)

    def add(self, summary: str, project: str = "OPS") -> Issue:
        """An issue made by a person in Jira."""
        with self.lock:
            return self._make({"project": {"key": project}, "summary": summary, "labels": []})

    # Serving --------------------------------------------------------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        basic = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        return auth == (basic if request.path.startswith("/rest/api/3/") else f"Bearer {PAT}")

    def _answer(self, request: Request) -> Reply:
        if not self._authorized(request):
            with self.lock:
                self.requests.append((request, 401))
            return Reply(
                401,
                {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."]},
            )
        if self.down:
            with self.lock:
                self.requests.append((request, 503))
            return Reply(503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"})
        creating = request.method == "POST" and re.match(r"^/rest/api/[23]/issue$", request.path)
        with self.lock:
            delay = self.slow.pop(0) if creating and self.slow else None
        if delay is None:
            return super()._answer(request)
        reply = self.handle(request)
        time.sleep(delay)
        with self.lock:
            self.requests.append((request, reply.status))
        return reply

    def handle(self, request: Request) -> Reply:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: Request) -> Reply:
        path, method = request.path, request.method
        if method == "POST" and re.match(r"^/rest/api/[23]/issue$", path):
            return self._create(request)
        if method == "GET" and re.match(r"^/rest/api/[23]/user/search$", path):
            wanted = (request.param("query") if "/3/" in path else request.param("username")).casefold()
            found = [u for u in self.users if wanted and wanted in str(u.get("emailAddress", "")).casefold()]
            return Reply(200, found)
        if method == "GET" and path in ("/rest/api/3/search/jql", "/rest/api/2/search"):
            return self._search(request.param("jql"))
        if method == "POST" and re.match(r"^/rest/api/[23]/issueLink$", path):
            body = request.json()
            inward, outward = body["inwardIssue"]["key"], body["outwardIssue"]["key"]
            if inward not in self.issues or outward not in self.issues:
                return Reply(404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]})
            self.issues[inward].links.append(outward)
            self.issues[outward].links.append(inward)
            return Reply(201, b"")
        project = re.match(r"^/rest/api/[23]/project/([A-Z][A-Z0-9_]+)$", path)
        if method == "GET" and project is not None:
            if project.group(1) not in self.projects:
                return Reply(404, {"errorMessages": [f"No project could be found with key '{project.group(1)}'."]})
            return Reply(200, {"key": project.group(1), "issueTypes": [{"name": n} for n in sorted(self.issue_types)]})
        if method == "GET" and re.match(r"^/rest/api/[23]/priority$", path):
            return Reply(200, [{"id": str(i), "name": n} for i, n in enumerate(sorted(self.priorities), 1)])
        match = ISSUE.match(path)
        if match is None:
            return Reply(404, {"errorMessages": [f"no {method} {path} here"]})
        version, key, tail = match.groups()
        issue = self.issues.get(key)
        if issue is None:
            return Reply(404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]})
        if tail == "/transitions":
            return self._transition(issue, request)
        if tail == "/comment" and method == "POST":
            body = request.json().get("body")
            if version == "3" and not isinstance(body, dict):
                return _errors(comment="Comment body is not valid!")
            issue.comments.append(body)
            return Reply(201, {"id": str(len(issue.comments))})
        if method == "GET":
            return Reply(
                200, {"id": issue.id, "key": key, "fields": {**issue.fields, "status": {"name": issue.status}}}
            )
        if method == "PUT":
            return self._edit(issue, request.json())
        return Reply(405, {"errorMessages": ["method not allowed"]})

    def _make(self, fields: dict[str, Any]) -> Issue:
        project = fields["project"]["key"]
        number = 1 + sum(1 for k in self.issues if k.startswith(f"{project}-"))
        key = f"{project}-{number}"
        issue = Issue(key, str(10000 + len(self.issues)), dict(fields))
        self.issues[key] = issue
        return issue

    def _create(self, request: Request) -> Reply:
        fields = request.json().get("fields") or {}
        project = (fields.get("project") or {}).get("key")
        if project not in self.projects:
            return _errors(project="valid project is required")
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            return _errors(issuetype="Specify a valid issue type")
        priority = (fields.get("priority") or {}).get("name")
        if priority is not None and priority not in self.priorities:
            return _errors(priority=f"Priority name '{priority}' is not valid")
        if request.path.startswith("/rest/api/3/") and not isinstance(fields.get("description", {}), dict):
            return _errors(
                description="Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        assignee = fields.get("assignee")
        named = next(iter((assignee or {}).items()), None)  # accountId (v3) or name (v2)
        if named is not None and not any(u.get(named[0]) == named[1] for u in self.users):
            return _errors(assignee=f"User '{named[1]}' cannot be assigned issues.")
        if not str(fields.get("summary") or "").strip():
            return _errors(summary="You must specify a summary of the issue.")
        issue = self._make(fields)
        self.made.set()
        return Reply(201, {"id": issue.id, "key": issue.key, "self": f"{self.url}/rest/api/3/issue/{issue.id}"})

    def _search(self, jql: str) -> Reply:
        label = re.search(r'labels\s*=\s*"([^"]+)"', jql)
        project = re.search(r'project\s*=\s*"([^"]+)"', jql)
        if label is None:
            return Reply(400, {"errorMessages": ['The stand-in reads only labels = "…" queries.']})
        found = [
            {"id": i.id, "key": i.key, "fields": {"summary": i.fields.get("summary")}}
            for i in self.issues.values()
            if label.group(1) in i.labels and (project is None or i.key.startswith(project.group(1) + "-"))
        ]
        return Reply(200, {"issues": found, "isLast": True})

    def _transition(self, issue: Issue, request: Request) -> Reply:
        offered = WORKFLOW.get(issue.status, [])
        if request.method == "GET":
            return Reply(200, {"transitions": [{"id": i, "name": n, "to": {"name": to}} for i, n, to in offered]})
        wanted = str((request.json().get("transition") or {}).get("id"))
        for tid, _, to in offered:
            if tid == wanted:
                issue.status = to
                issue.transitions.append(to)
                return Reply(204, b"")
        return _errors(transition=f"Transition id '{wanted}' is not valid for this issue.")

    def _edit(self, issue: Issue, body: dict[str, Any]) -> Reply:
        for change in (body.get("update") or {}).get("labels", []):
            if "add" in change and change["add"] not in issue.labels:
                issue.fields["labels"] = [*issue.labels, change["add"]]
        priority = ((body.get("fields") or {}).get("priority") or {}).get("name")
        if priority is not None:
            if priority not in self.priorities:
                return _errors(priority=f"Priority name '{priority}' is not valid")
            issue.fields["priority"] = {"name": priority}
        return Reply(204, b"")
