"""``check-config``'s look at the tracker (with its token): the Jira project, its issue types and the priorities, the
GitHub repository, the Linear team and its workflow states exist and the token sees them. One problem per line,
naming the setting; a tracker that does not answer is a problem too."""

from __future__ import annotations

from bot.core.settings.tickets import Tickets
from bot.tickets.github import GithubTracker
from bot.tickets.jira import JiraTracker
from bot.tickets.linear import LinearTracker
from bot.tickets.model import TrackerDown, TrackerRefused
from bot.tickets.trackers import build


async def _jira(tracker: JiraTracker) -> list[str]:
    s = tracker.settings
    try:
        project = await tracker.call("GET", f"/project/{s.project}")
    except TrackerRefused as exc:
        if exc.status == 404:
            return [f"tickets.jira.project: Jira shows no project {s.project} to this token ({exc})"]
        raise
    problems = []
    types = {str(t.get("name")) for t in (project or {}).get("issueTypes", []) if isinstance(t, dict)}
    for setting, name in (("issue_type", s.issue_type), ("action_issue_type", s.action_issue_type)):
        if types and name not in types:
            problems.append(
                f"tickets.jira.{setting}: {s.project} has no issue type {name!r} ({', '.join(sorted(types))})"
            )
    priorities = await tracker.call("GET", "/priority")
    known = {str(p.get("name")) for p in priorities or [] if isinstance(p, dict)}
    wrong = sorted({name for name in s.priority.values() if known and name not in known})
    if wrong:
        problems.append(f"tickets.jira.priority: Jira has no priority {', '.join(wrong)} ({', '.join(sorted(known))})")
    return problems


async def _github(tracker: GithubTracker) -> list[str]:
    repo = tracker.settings.repo
    try:
        found = await tracker.call("GET", f"/repos/{repo}")
    except TrackerRefused as exc:
        if exc.status == 404:
            return [f"tickets.github.repo: GitHub shows no repository {repo} to GITHUB_TOKEN"]
        raise
    if isinstance(found, dict) and found.get("has_issues") is False:
        return [f"tickets.github.repo: {repo} has issues turned off"]
    return []


async def _linear(tracker: LinearTracker) -> list[str]:
    try:
        _, states = await tracker.team()
    except TrackerRefused as exc:
        if exc.status == 404:
            return [f"tickets.linear.team: {exc}"]
        raise
    wrong = sorted({n for n in tracker.settings.states.values() if n.casefold() not in states})
    return (
        [f"tickets.linear.states: team {tracker.settings.team} has no workflow state {', '.join(wrong)}"]
        if wrong
        else []
    )


async def probe(settings: Tickets, token: str | None) -> list[str]:
    """Every problem the tracker shows with ``tickets`` (none when no tracker is set up)."""
    tracker = build(settings, token)
    if tracker is None:
        return []
    name = settings.tracker or ""
    try:
        if isinstance(tracker, JiraTracker):
            return await _jira(tracker)
        if isinstance(tracker, GithubTracker):
            return await _github(tracker)
        if isinstance(tracker, LinearTracker):
            return await _linear(tracker)
    except TrackerDown as exc:
        return [f"tickets.{name}: {exc}"]
    except TrackerRefused as exc:
        return [f"tickets.{name}: {exc}"]
    return []


__all__ = ["probe"]
