"""Block Kit for runbook reports and the roll-back offer (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.durations import format_duration
from bot.render import clip, escape
from runbooks.crashloop import CrashloopReport
from runbooks.error_rate import ErrorRateReport
from runbooks.registry import Runbook
from runbooks.rollout import History

ROLLBACK_ACTION = "runbook_rollback"
MAX_REVISIONS = 10


def change(a: Sequence[str], b: Sequence[str]) -> str:
    """``api-gateway:2.4.1 → api-gateway:2.4.0`` (images side by side)."""
    return f"{', '.join(a) or '?'} → {', '.join(b) or '?'}"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, 2900))


def history_blocks(state: History, offers: dict[int, str], now: datetime) -> list[Block]:
    """Revisions newest first; a "Roll back to revision N" button (with a confirm) per earlier revision."""
    current = state.revision(state.current) if state.current is not None else None
    now_images = current.images if current else []
    blocks: list[Block] = [HeaderBlock(text=clip(f"Rollout history: {state.namespace}/{state.deployment}", 150))]
    if state.paused:
        blocks.append(SectionBlock(text=_md("⏸️ The deployment is *paused*: resume it before rolling back.")))
    for rev in state.revisions[:MAX_REVISIONS]:
        age = format_duration(now - rev.created) + " ago" if rev.created else "age unknown"
        mark = " ← *current*" if rev.number == state.current else ""
        cause = f" — {escape(rev.change_cause)}" if rev.change_cause else ""
        text = f"*Revision {rev.number}*{mark}: `{escape(', '.join(rev.images))}`{cause} ({age})"
        offer = offers.get(rev.number)
        if offer is None:
            blocks.append(SectionBlock(text=_md(text)))
            continue
        blocks.append(
            SectionBlock(
                text=_md(text),
                accessory=ButtonElement(
                    text=f"Roll back to revision {rev.number}",
                    action_id=ROLLBACK_ACTION,
                    value=offer,
                    style="danger",
                    confirm=ConfirmObject(
                        title="Roll back?",
                        text=clip(
                            f"{state.namespace}/{state.deployment}: {change(now_images, rev.images)} "
                            f"(revision {state.current} → {rev.number}). Operators only; it is audited.",
                            300,
                        ),
                        confirm="Roll back",
                        deny="Cancel",
                    ),
                ),
            )
        )
    if not state.revisions:
        blocks.append(SectionBlock(text=_md("No revisions found (no ReplicaSets owned by this deployment).")))
    if len(state.revisions) > MAX_REVISIONS:
        blocks.append(ContextBlock(elements=[_md(f"…and {len(state.revisions) - MAX_REVISIONS} older revisions")]))
    return blocks


def crashloop_blocks(report: CrashloopReport) -> list[Block]:
    title = f"Pod CrashLooping: {report.namespace}/{report.workload}"
    blocks: list[Block] = [HeaderBlock(text=clip(title, 150))]
    if not report.crashing:
        blocks.append(
            SectionBlock(text=_md(f"✅ No crashing containers among {report.pods_seen} pod(s) ({report.selector})."))
        )
        return blocks
    for c in report.crashing[:8]:
        why = f"{c.last_reason or '?'} (exit {c.exit_code if c.exit_code is not None else '?'})"
        if c.memory_limit:
            why += f" — memory limit {c.memory_limit}"
        logs = "\n".join(c.previous_logs[-10:]) or "(no previous logs)"
        blocks.append(
            SectionBlock(
                text=_md(
                    f"*{escape(c.pod)}* / `{escape(c.container)}`: {c.waiting or 'restarting'}, {c.restarts} restarts, "
                    f"last exit {escape(why)}\n```{escape(logs)}```"
                )
            )
        )
    if report.events:
        blocks.append(SectionBlock(text=_md("*Events*\n" + "\n".join(f"• {escape(e)}" for e in report.events[:10]))))
    refs = [f"ConfigMap {escape(c)}" for c in report.configmaps] + [
        f"Secret {escape(s)} (values not read)" for s in report.secrets
    ]
    if refs:
        blocks.append(SectionBlock(text=_md("*Configuration used*\n" + "\n".join(f"• {r}" for r in refs))))
    return blocks


def error_rate_blocks(report: ErrorRateReport) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=clip(f"High error rate: {report.namespace}/{report.workload}", 150))]
    share = f"{report.error_lines}/{report.lines_read} recent log lines match `{escape(report.pattern)}`"
    samples = "\n".join(report.samples) or "(none)"
    blocks.append(SectionBlock(text=_md(f"*Logs* ({report.pods_seen} pod(s)): {share}\n```{escape(samples)}```")))
    if report.dependencies_checked:
        deps = "\n".join(f"• {escape(d)}" for d in report.dependencies) or "✅ all ready"
        blocks.append(SectionBlock(text=_md(f"*Dependencies* ({report.dependencies_checked} pod(s))\n{deps}")))
    return blocks


def runbook_list(books: Sequence[Runbook]) -> str:
    lines = ["*Runbooks*"]
    for book in books:
        lines.append(f"• `{book.name}` — {book.summary}\n   `{book.usage}`")
    return "\n".join(lines)


def runbook_help(book: Runbook) -> str:
    steps = "\n".join(
        f"{i}. {step}" + (" _(button, operators only)_" if step in book.mutating_steps else "")
        for i, step in enumerate(book.steps, 1)
    )
    return f"*{book.name}* — {book.summary}\nUsage: `{book.usage}`\nSteps:\n{steps}"
