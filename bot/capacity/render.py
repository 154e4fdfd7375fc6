"""The capacity review and the digest's resource use and errors in logs, as text and Block Kit (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject

from bot.core.blocks import chunked_sections
from bot.core.text import escape, when
from runbooks.checklist.capacity import Amount, Group, Node, Review

GIB = 1024**3
PENDING_SHOWN = 5
NODES_SHOWN = 10
GROUPS_SHOWN = 30


def cores(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def gib(value: float) -> str:
    v = value / GIB
    return f"{v:.1f} GiB" if v < 100 else f"{v:.0f} GiB"


def pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "—"


def group_lines(group: Group, trend: str | None) -> list[str]:
    alloc, req, used = group.allocatable, group.requested, group.used
    cpu = f"CPU requested {cores(req.cpu)} of {cores(alloc.cpu)} cores ({pct(req.cpu, alloc.cpu)})"
    mem = f"memory requested {gib(req.memory)} of {gib(alloc.memory)} ({pct(req.memory, alloc.memory)})"
    if used is not None:
        cpu += f", used {cores(used.cpu)} ({pct(used.cpu, alloc.cpu)})"
        mem += f", used {gib(used.memory)} ({pct(used.memory, alloc.memory)})"
    nodes = f"{group.nodes} node{'s' if group.nodes != 1 else ''}"
    lines = [f"*{escape(group.name)}* ({nodes}): {cpu}; {mem}"]
    if trend:
        lines.append(f"    {trend}")
    return lines


def _over_line(namespace: str, requested: Amount, used: Amount) -> str:
    return (
        f"• `{escape(namespace)}`: requests {cores(requested.cpu)} cores, uses {cores(used.cpu)}; "
        f"requests {gib(requested.memory)} of memory, uses {gib(used.memory)}"
    )


def review_lines(review: Review, trends: Mapping[str, str], now: datetime) -> list[str]:
    if not review.groups:  # the cluster unreachable, or no nodes listed: nothing else is worth saying
        why = f": {escape(review.notes[0])}" if review.notes else " (the cluster has none)"
        return [f"⚠️ no nodes read{why}", *(f"⚠️ not read: {escape(n)}" for n in review.notes[1:])]
    lines: list[str] = [f"_{escape(review.use_note)}_"] if review.use_note else []
    for group in review.groups[:GROUPS_SHOWN]:
        lines += group_lines(group, trends.get(group.name))
    if len(review.groups) > GROUPS_SHOWN:
        rest = review.groups[GROUPS_SHOWN:]
        lines.append(f"• and {len(rest)} smaller node groups ({sum(g.nodes for g in rest)} nodes)")
    pending = sum(review.pending.values())
    if pending:
        reasons = ", ".join(f"{escape(r)} {n}" for r, n in review.pending.items())
        lines.append(f"*Pending pods*: {pending} — {reasons}")
        lines += [f"• `{escape(ns)}/{escape(n)}`: {escape(r)}" for ns, n, r in review.pending_pods[:PENDING_SHOWN]]
        if pending > PENDING_SHOWN:
            lines.append(f"• and {pending - PENDING_SHOWN} more")
    else:
        lines.append("*Pending pods*: none")
    if review.pinned:
        lines.append(f"*HPAs pinned at their maximum for more than a day*: {len(review.pinned)}")
        lines += [
            f"• `{escape(p.namespace)}/{escape(p.name)}` at {p.max_replicas} replicas since {when(p.since)}"
            for p in review.pinned[:PENDING_SHOWN]
        ]
    else:
        lines.append("*HPAs pinned at their maximum*: none")
    if review.over:
        lines.append("*Namespaces requesting far more than they use* (a hint, not an order):")
        lines += [_over_line(o.namespace, o.requested, o.used) for o in review.over]
    elif review.over is None:
        lines.append("_requests against use by namespace: no pod metrics (metrics.k8s.io)_")
    lines += [f"⚠️ not read: {escape(n)}" for n in review.notes]
    return lines


def summary(reviews: Sequence[Review]) -> str:
    parts = []
    for r in reviews:
        if not r.groups:
            parts.append(f"{r.cluster}: no nodes read")
            continue
        pending = sum(r.pending.values())
        parts.append(f"{r.cluster}: {len(r.groups)} node groups, {pending} pending pods, {len(r.pinned)} HPAs at max")
    return "Capacity review — " + "; ".join(parts)


def review_blocks(reviews: Sequence[Review], trends: Mapping[str, Mapping[str, str]], now: datetime) -> list[Block]:
    out: list[Block] = [HeaderBlock(text="Capacity review")]
    for review in reviews:
        out.append(ContextBlock(elements=[MarkdownTextObject(text=f"*Cluster {escape(review.cluster)}*")]))
        out += chunked_sections(review_lines(review, trends.get(review.cluster, {}), now))
    out.append(ContextBlock(elements=[MarkdownTextObject(text=f"as of {when(now)}")]))
    return out


# The digest -------------------------------------------------------------------------------------------------------
def use_lines(cluster: str, nodes: Sequence[Node], warn: int, note: str | None) -> tuple[list[str], int]:
    """The cluster's total use and the nodes above ``warn`` % of allocatable CPU or memory; how many nodes are."""
    if note:
        return [f"*{escape(cluster)}*: {escape(note)}"], 0
    alloc, used = Amount(), Amount()
    hot: list[tuple[float, str]] = []
    for node in nodes:
        if node.used is None:
            continue
        alloc.add(node.allocatable)
        used.add(node.used)
        cpu = 100 * node.used.cpu / node.allocatable.cpu if node.allocatable.cpu else 0.0
        mem = 100 * node.used.memory / node.allocatable.memory if node.allocatable.memory else 0.0
        if max(cpu, mem) > warn:
            what = ", ".join(f"{w} {v:.0f} %" for w, v in (("CPU", cpu), ("memory", mem)) if v > warn)
            hot.append((max(cpu, mem), f"• `{escape(node.name)}` ({escape(node.group)}): {what}"))
    measured = sum(1 for n in nodes if n.used is not None)
    lines = [
        f"*{escape(cluster)}*: CPU {pct(used.cpu, alloc.cpu)} of {cores(alloc.cpu)} cores, memory "
        f"{pct(used.memory, alloc.memory)} of {gib(alloc.memory)} in use ({measured} nodes); "
        f"{len(hot)} above {warn} %"
    ]
    hot.sort(key=lambda h: -h[0])
    lines += [h[1] for h in hot[:NODES_SHOWN]]
    if len(hot) > NODES_SHOWN:
        lines.append(f"• and {len(hot) - NODES_SHOWN} more")
    return lines, len(hot)
