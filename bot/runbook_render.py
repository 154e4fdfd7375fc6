"""Block Kit for runbook reports and the roll-back offer (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
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
from runbooks.deployment import DeploymentState
from runbooks.error_rate import ErrorRateReport
from runbooks.registry import Runbook
from runbooks.restart import RestartOffer
from runbooks.rollout import History
from runbooks.scale import ScaleOffer

ROLLBACK_ACTION = "runbook_rollback"
RESTART_ACTION = "runbook_restart"
SCALE_ACTION = "runbook_scale"
CHANGE_ACTIONS = (ROLLBACK_ACTION, RESTART_ACTION, SCALE_ACTION)
MAX_REVISIONS = 10


def change(a: Sequence[str], b: Sequence[str]) -> str:
    """``api-gateway:2.4.1 → api-gateway:2.4.0`` (images side by side)."""
    return f"{', '.join(a) or '?'} → {', '.join(b) or '?'}"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, 2900))


def _offer_button(text: str, action_id: str, offer: str, *, title: str, states: str, confirm: str) -> ButtonElement:
    """A danger button carrying only the offer's opaque id, behind a confirm dialog stating the change."""
    return ButtonElement(
        text=clip(text, 75),
        action_id=action_id,
        value=offer,
        style="danger",
        confirm=ConfirmObject(
            title=title,
            text=clip(f"{states} Operators only; it is audited.", 300),
            confirm=confirm,
            deny="Cancel",
        ),
    )


def _state_text(state: DeploymentState) -> str:
    lines = [
        f"*Replicas:* {state.replicas} wanted, {state.ready} ready, {state.updated} up to date, "
        f"{state.available} available",
        f"*Image(s):* `{escape(', '.join(state.images) or '?')}`",
    ]
    if state.restarted_at:
        lines.append(f"*Last restarted:* {escape(state.restarted_at)}")
    if state.autoscaler:
        lines.append(f"*Autoscaler:* {escape(state.autoscaler)} manages the replica count and may change it back")
    if state.paused:
        lines.append("⏸️ The deployment is *paused*.")
    return "\n".join(lines)


def restart_blocks(report: RestartOffer, offer: str | None, refusal: str | None) -> list[Block]:
    state = report.state
    blocks: list[Block] = [HeaderBlock(text=clip(f"Restart: {state.target}", 150))]
    blocks.append(SectionBlock(text=_md(_state_text(state))))
    if offer is not None:
        blocks.append(ActionsBlock(elements=[restart_button(state.namespace, state.deployment, offer)]))
    elif refusal:
        blocks.append(SectionBlock(text=_md(f"No restart offered: {escape(refusal)}.")))
    return blocks


def restart_button(namespace: str, deployment: str, offer: str) -> ButtonElement:
    return _offer_button(
        f"Restart {deployment} (rolling)",
        RESTART_ACTION,
        offer,
        title="Restart?",
        states=f"Rolling restart of {namespace}/{deployment}: its pods are replaced under the deployment's "
        "rolling-update rules, not all at once.",
        confirm="Restart",
    )


def scale_blocks(report: ScaleOffer, offer: str | None, refusal: str | None) -> list[Block]:
    state = report.state
    blocks: list[Block] = [HeaderBlock(text=clip(f"Scale: {state.target}", 150))]
    blocks.append(SectionBlock(text=_md(_state_text(state))))
    if offer is not None:
        stops = " This stops every pod." if report.replicas == 0 else ""
        undo = f" {state.autoscaler} may change it back." if state.autoscaler else ""
        blocks.append(
            ActionsBlock(
                elements=[
                    _offer_button(
                        f"Scale {state.replicas} → {report.replicas}",
                        SCALE_ACTION,
                        offer,
                        title="Scale?",
                        states=f"{state.target}: {state.replicas} → {report.replicas} replica(s).{stops}{undo}",
                        confirm="Scale",
                    )
                ]
            )
        )
    elif refusal:
        blocks.append(SectionBlock(text=_md(f"No scaling offered: {escape(refusal)}.")))
    return blocks


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
                accessory=_offer_button(
                    f"Roll back to revision {rev.number}",
                    ROLLBACK_ACTION,
                    offer,
                    title="Roll back?",
                    states=f"{state.namespace}/{state.deployment}: {change(now_images, rev.images)} "
                    f"(revision {state.current} → {rev.number}).",
                    confirm="Roll back",
                ),
            )
        )
    if not state.revisions:
        blocks.append(SectionBlock(text=_md("No revisions found (no ReplicaSets owned by this deployment).")))
    if len(state.revisions) > MAX_REVISIONS:
        blocks.append(ContextBlock(elements=[_md(f"…and {len(state.revisions) - MAX_REVISIONS} older revisions")]))
    return blocks


def crashloop_blocks(report: CrashloopReport, restart_offer: str | None = None) -> list[Block]:
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
    if restart_offer is not None:
        hint = "Next step: fix the cause, or restart the pods if it was transient."
        blocks.append(ContextBlock(elements=[_md(hint)]))
        blocks.append(ActionsBlock(elements=[restart_button(report.namespace, report.workload, restart_offer)]))
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


def cluster_context(name: str) -> ContextBlock:
    """Shown on reports when several clusters are configured, so nobody acts on the wrong one."""
    return ContextBlock(elements=[_md(f"Cluster: `{escape(name)}`")])


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
    return (
        f"*{book.name}* — {book.summary}\nUsage: `{book.usage}`\nSteps:\n{steps}\n"
        "Every runbook also takes `--cluster=<name>` (one of `kubernetes.clusters`; default: the first)."
    )
