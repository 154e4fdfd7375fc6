"""A stand-in for GitHub's Issues REST API, answering as GitHub does: 401 ``Bad credentials`` without the token, 404
``Not Found`` for an unknown repository or issue, 422 ``Validation Failed`` without a title, 403 with
``X-RateLimit-Remaining: 0`` when the rate limit is spent (queued with ``fail``); the repository's issues listed
newest first (pull requests among them, as GitHub lists them); a create made at once and answered late."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from tests.support.standin import Fault, Reply, Request, StandIn

TOKEN = "ghp_test0token0for0the0standin0123456"
ISSUES = re.compile(r"^/repos/([^/]+/[^/]+)/issues(?:/([0-9]+)(/comments)?)?$")


class GithubIssuesStandIn(StandIn):
    def __init__(self, repos: tuple[str, ...] = ("acme/ops",)) -> None:
        super().__init__()
        self.repos: dict[str, dict[int, dict[str, Any]]] = {r: {} for r in repos}
        self.comments: dict[tuple[str, int], list[str]] = {}
        self.slow: list[float] = []
        self.made = threading.Event()
        self.start()

    def issues(self, repo: str = "acme/ops") -> list[dict[str, Any]]:
        with self.lock:
            return [i for i in self.repos[repo].values() if "pull_request" not in i]

    def marked(self, ref: str, repo: str = "acme/ops") -> list[dict[str, Any]]:
        return [i for i in self.issues(repo) if f"<!-- chatops-{ref} -->" in (i.get("body") or "")]

    def slow_next(self, seconds: float) -> None:
        with self.lock:
            self.slow.append(seconds)

    def rate_limited(self, times: int = 1) -> None:
        reset = str(int(time.time()) + 1)
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset, "Retry-After": "1"}
        self.fail(*[Fault(403, headers, body={"message": "API rate limit exceeded"})] * times)

    def add_pull_request(self, repo: str = "acme/ops") -> None:
        with self.lock:
            self._make(repo, {"title": "A pull request", "body": ""}, pull=True)

    def _answer(self, request: Request) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            with self.lock:
                self.requests.append((request, 401))
            return Reply(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        creating = request.method == "POST" and request.path.endswith("/issues")
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

    def _make(self, repo: str, body: dict[str, Any], pull: bool = False) -> dict[str, Any]:
        issues = self.repos[repo]
        number = len(issues) + 1
        issue: dict[str, Any] = {
            "id": 900000 + number, "number": number, "title": body.get("title"), "body": body.get("body") or "",
            "state": "open", "state_reason": None, "labels": [{"name": n} for n in body.get("labels") or []],
            "html_url": f"https://github.com/{repo}/{'pull' if pull else 'issues'}/{number}",
        }  # fmt: skip
        if pull:
            issue["pull_request"] = {"url": f"{self.url}/repos/{repo}/pulls/{number}"}
        issues[number] = issue
        return issue

    def _handle(self, request: Request) -> Reply:
        match = ISSUES.match(request.path)
        if match is None or match.group(1) not in self.repos:
            return Reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        repo, number, comments = match.group(1), match.group(2), match.group(3)
        issues = self.repos[repo]
        if number is None:
            if request.method == "POST":
                body = request.json()
                if not str(body.get("title") or "").strip():
                    return Reply(
                        422, {"message": "Validation Failed", "errors": [{"field": "title", "code": "missing_field"}]}
                    )
                self.made.set()
                return Reply(201, self._make(repo, body))
            return Reply(200, self._list(issues, request))
        issue = issues.get(int(number))
        if issue is None:
            return Reply(404, {"message": "Not Found"})
        if comments:
            self.comments.setdefault((repo, int(number)), []).append(str(request.json().get("body")))
            return Reply(201, {"id": len(self.comments)})
        if request.method == "PATCH":
            body = request.json()
            for field in ("state", "state_reason", "body", "title"):
                if field in body:
                    issue[field] = body[field]
            if "labels" in body:
                issue["labels"] = [{"name": n} for n in body["labels"]]
        return Reply(200, issue)

    @staticmethod
    def _list(issues: dict[int, dict[str, Any]], request: Request) -> list[dict[str, Any]]:
        state = request.param("state", "open")
        wanted = {n for n in request.param("labels").split(",") if n}
        found = [
            i for i in issues.values()
            if (state == "all" or i["state"] == state) and wanted <= {lb["name"] for lb in i["labels"]}
        ]  # fmt: skip
        found.sort(key=lambda i: i["number"], reverse=request.param("direction", "desc") == "desc")
        return found[: int(request.param("per_page", "30"))]
