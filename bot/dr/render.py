"""The drill's report (pure): what was restored, how long it took against the target (RTO), how old the data
was (RPO), what failed and why; the trend of the last drills for ``/dr last`` and the weekly report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, PlainTextObject

from bot.core.blocks import chunked_sections, md
from bot.core.durations import format_duration
from bot.core.text import escape, user, when
from bot.dr.model import Drill, Restored

USAGE = (
    "*/dr* — disaster-recovery drills\n"
    "• `/dr drill` — restore the latest backups into scratch copies now, verify them, delete them (operators)\n"
    "• `/dr last` — the last drill's report\n"
    "• `/dr help` — this"
)


class Holder(Protocol):
    drill: str
    by: str
    started: datetime


def took(seconds: float | None) -> str:
    return format_duration(timedelta(seconds=seconds)) if seconds is not None else "?"


def verdict(drill: Drill) -> str:
    """One line: "did not run" only when nothing was restored; otherwise what the restores found, then what else
    went wrong (the drill's note, checks never probed, copies left running)."""
    if not drill.restores:
        return f"DR drill {drill.id} did not run: {drill.note or 'nothing was restored'}"
    failed = [r for r in drill.restores if not r.ok]
    if failed:
        line = f"DR drill {drill.id}: {len(failed)} of {len(drill.restores)} restore(s) failed"
    else:
        slowest, within = took(drill.slowest), "within" if drill.within_target else "over"
        line = f"DR drill {drill.id}: {len(drill.restores)} restore(s) verified, slowest {slowest} ({within} "
        line += f"{took(drill.rto_target)} RTO)"
    if drill.note is not None:
        line += f"; {drill.note}"
    if drill.unchecked:
        line += f"; {len(drill.unchecked)} of dr.checks never probed (misconfigured)"
    if drill.left:
        if drill.verified:
            line = line.replace(f"DR drill {drill.id}:", f"DR drill {drill.id} passed, but cleanup failed:", 1)
        line += f"; {len(drill.left)} scratch cop{'y' if len(drill.left) == 1 else 'ies'} left running"
        line += " (the sweep deletes them)"
    return line


def title(drill: Drill) -> str:
    if drill.ok:
        return "DR drill passed"
    return "DR drill passed, but cleanup failed" if drill.verified else "DR drill FAILED"


def restore_line(r: Restored, target: float) -> str:
    what = "Velero schedule" if r.kind == "velero" else "RDS instance"
    source = f" from `{escape(r.source)}`" if r.source else ""
    pairs = zip(r.namespaces, r.target, strict=False) if r.namespaces else ()
    shown = ", ".join(f"{a} → {b}" for a, b in pairs) or ", ".join(r.target)
    into = f" into `{escape(shown)}`" if shown else ""
    head = f"{'✅' if r.ok else '❌'} *{what} {escape(r.name)}*{source}{into}"
    facts = []
    if r.items_total is not None or r.items_restored is not None:
        facts.append(f"restored {r.items_restored or 0}/{r.items_total if r.items_total is not None else '?'} items")
    if r.rto is not None:
        facts.append(f"RTO {took(r.rto)} ({'within' if r.rto <= target else 'over'} {took(target)} target)")
    if r.rpo is not None:
        facts.append(f"RPO {took(r.rpo)} (the data's age)")
    lines = [head + (" — " + ", ".join(facts) if facts else "")]
    if r.reason:
        lines.append(f"    failed: {escape(r.reason)}")
    lines += [f"    check {escape(c)}" for c in r.checks]
    if r.cleanup:
        lines.append(f"    ⚠️ not cleaned up yet: {escape(r.cleanup)} (the sweep deletes it)")
    elif r.cleaned:
        lines.append("    cleaned up: the scratch copy was deleted")
    return "\n".join(lines)


def report_lines(drill: Drill) -> list[str]:
    by = "the weekly schedule" if drill.by == "schedule" else user(drill.by)
    lines = [f"Started {when(drill.started)} by {by}; RTO target {took(drill.rto_target)}."]
    if drill.note:
        lines.append(f"❌ {escape(drill.note)}")
    lines += [f"❌ check {escape(c)} (misconfigured)" for c in drill.unchecked]
    lines += [restore_line(r, drill.rto_target) for r in drill.restores]
    return lines


def report_blocks(drill: Drill) -> list[Block]:
    return [
        HeaderBlock(text=PlainTextObject(text=title(drill))),
        *chunked_sections(report_lines(drill)),
        ContextBlock(elements=[md(escape(verdict(drill)))]),
    ]


def trend_line(drills: Sequence[Drill]) -> str:
    """The slowest RTO of each drill, oldest first: ``RTO trend: 12m ✅ → 14m ✅ → 31m ❌``."""
    shown = [f"{took(d.slowest)} {'✅' if d.ok else '❌'}" for d in reversed(drills)]
    return "RTO trend (last drills, oldest first): " + " → ".join(shown) if shown else "No drill has run yet."


def weekly_lines(drills: Sequence[Drill], start: datetime, end: datetime) -> list[str]:
    """The weekly report's section: the week's drills (or that none ran), the last drill's failures, the trend."""
    if not drills:
        return ["No drill has run yet: `/dr drill` runs one (operators), `dr.cron` weekly."]
    week = [d for d in drills if start <= d.started < end]
    lines = [f"{'✅' if d.ok else '❌'} {escape(verdict(d))} ({when(d.started)})" for d in week]
    if not week:
        lines.append(f"⚠️ No drill ran this week; the last: {escape(verdict(drills[0]))} ({when(drills[0].started)})")
    last = week[0] if week else drills[0]
    lines += [f"    {escape(r.name)}: {escape(r.reason or 'failed')}" for r in last.restores if not r.ok]
    return [*lines, trend_line(drills)]


def running(held: Holder) -> str:
    by = "the weekly schedule" if held.by == "schedule" else user(held.by)
    return f"drill {held.drill}, started by {by} {when(held.started)}"


def skipped(held: Holder) -> str:
    return f"The scheduled DR drill was skipped: {running(held)}, is still running."
