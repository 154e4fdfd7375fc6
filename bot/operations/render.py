"""Block Kit for runbook reports and their offers (pure): one render function registered per report type.

A render function takes the report and what was offered for it (the stored offers' opaque ids and
the refusals, by proposal key) and returns the blocks and a one-line summary (the reply's text and
the timeline note). Adding a runbook adds one ``@renders(ItsReport)`` function here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.core.blocks import md
from bot.core.durations import format_duration
from bot.core.text import clip, escape
from bot.operations.offered import Offered, change_button
from runbooks.books.crashloop import CrashloopReport
from runbooks.books.error_rate import ErrorRateReport
from runbooks.books.restart import RestartOffer
from runbooks.books.rollback import revision_key
from runbooks.books.scale import ScaleOffer
from runbooks.changes import Change
from runbooks.kube.deployment import DeploymentState
from runbooks.kube.rollout import History, image_change
from runbooks.registry import Runbook

MAX_REVISIONS = 10


def next_offers_blocks(done: Change, offers: Sequence[tuple[Change, str]]) -> list[Block]:
    """The offers a completed change leads to (an EKS control plane's node groups and add-ons), one button each."""
    blocks: list[Block] = [SectionBlock(text=md(f"*Next, after the {escape(done.label)}:* each is its own offer."))]
    for start in range(0, len(offers), 5):
        row = offers[start : start + 5]
        # Several offers of one kind (node groups) in a block: each button's action_id is its own.
        kinds = Counter(c.kind for c, _ in row)
        buttons = [
            change_button(c, i, c.target.capitalize(), key=str(start + j) if kinds[c.kind] > 1 else None)
            for j, (c, i) in enumerate(row)
        ]
        blocks.append(ActionsBlock(elements=buttons))
    return blocks


Rendered = tuple[list[Block], str]
R = TypeVar("R")
RENDERERS: dict[type[Any], Callable[[Any, Offered], Rendered]] = {}


def renders(report: type[R]) -> Callable[[Callable[[R, Offered], Rendered]], Callable[[R, Offered], Rendered]]:
    def register(fn: Callable[[R, Offered], Rendered]) -> Callable[[R, Offered], Rendered]:
        RENDERERS[report] = fn
        return fn

    return register


def render(report: object, offered: Offered) -> Rendered:
    """The registered render function of the report's type."""
    return RENDERERS[type(report)](report, offered)


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


def _deployment_blocks(title: str, state: DeploymentState) -> list[Block]:
    return [HeaderBlock(text=clip(f"{title}: {state.target}", 150)), SectionBlock(text=md(_state_text(state)))]


def _restart_button(offered: Offered, namespace: str, deployment: str) -> ButtonElement | None:
    return offered.button(
        "restart",
        f"Restart {deployment} (rolling)",
        title="Restart?",
        states=f"Rolling restart of {namespace}/{deployment}: its pods are replaced under the deployment's "
        "rolling-update rules, not all at once.",
        confirm="Restart",
    )


def _offer_or_refusal(blocks: list[Block], button: ButtonElement | None, refusal: str | None, what: str) -> None:
    if button is not None:
        blocks.append(ActionsBlock(elements=[button]))
    elif refusal:
        blocks.append(SectionBlock(text=md(f"No {what} offered: {escape(refusal)}.")))


@renders(RestartOffer)
def restart_report(report: RestartOffer, offered: Offered) -> Rendered:
    state = report.state
    blocks = _deployment_blocks("Restart", state)
    button = _restart_button(offered, state.namespace, state.deployment)
    _offer_or_refusal(blocks, button, offered.refusals.get("restart"), "restart")
    return blocks, f"restart of {state.target} offered"


@renders(ScaleOffer)
def scale_report(report: ScaleOffer, offered: Offered) -> Rendered:
    state = report.state
    blocks = _deployment_blocks("Scale", state)
    stops = " This stops every pod." if report.replicas == 0 else ""
    undo = f" {state.autoscaler} may change it back." if state.autoscaler else ""
    button = offered.button(
        "scale",
        f"Scale {state.replicas} → {report.replicas}",
        title="Scale?",
        states=f"{state.target}: {state.replicas} → {report.replicas} replica(s).{stops}{undo}",
        confirm="Scale",
    )
    _offer_or_refusal(blocks, button, offered.refusals.get("scale"), "scaling")
    return blocks, f"scaling of {state.target} to {report.replicas} offered"


def history_blocks(state: History, offered: Offered) -> list[Block]:
    """Revisions newest first; a "Roll back to revision N" button (with a confirm) per earlier revision."""
    current = state.revision(state.current) if state.current is not None else None
    now_images = current.images if current else []
    blocks: list[Block] = [HeaderBlock(text=clip(f"Rollout history: {state.namespace}/{state.deployment}", 150))]
    if state.paused:
        blocks.append(SectionBlock(text=md("⏸️ The deployment is *paused*: resume it before rolling back.")))
    for rev in state.revisions[:MAX_REVISIONS]:
        age = format_duration(offered.now - rev.created) + " ago" if rev.created else "age unknown"
        mark = " ← *current*" if rev.number == state.current else ""
        cause = f" — {escape(rev.change_cause)}" if rev.change_cause else ""
        text = f"*Revision {rev.number}*{mark}: `{escape(', '.join(rev.images))}`{cause} ({age})"
        button = offered.button(
            revision_key(rev.number),
            f"Roll back to revision {rev.number}",
            title="Roll back?",
            states=f"{state.namespace}/{state.deployment}: {image_change(now_images, rev.images)} "
            f"(revision {state.current} → {rev.number}).",
            confirm="Roll back",
        )
        blocks.append(SectionBlock(text=md(text), accessory=button))
    if not state.revisions:
        blocks.append(SectionBlock(text=md("No revisions found (no ReplicaSets owned by this deployment).")))
    if len(state.revisions) > MAX_REVISIONS:
        blocks.append(ContextBlock(elements=[md(f"…and {len(state.revisions) - MAX_REVISIONS} older revisions")]))
    return blocks


@renders(History)
def rollback_report(report: History, offered: Offered) -> Rendered:
    summary = f"{len(report.revisions)} revision(s) of {report.namespace}/{report.deployment}"
    return history_blocks(report, offered), summary


@renders(CrashloopReport)
def crashloop_report(report: CrashloopReport, offered: Offered) -> Rendered:
    summary = f"{len(report.crashing)} crashing container(s) in {report.namespace}/{report.workload}"
    blocks: list[Block] = [HeaderBlock(text=clip(f"Pod CrashLooping: {report.namespace}/{report.workload}", 150))]
    if not report.crashing:
        clear = f"✅ No crashing containers among {report.pods_seen} pod(s) ({report.selector})."
        return [*blocks, SectionBlock(text=md(clear))], summary
    for c in report.crashing[:8]:
        why = f"{c.last_reason or '?'} (exit {c.exit_code if c.exit_code is not None else '?'})"
        if c.memory_limit:
            why += f" — memory limit {c.memory_limit}"
        logs = "\n".join(c.previous_logs[-10:]) or "(no previous logs)"
        blocks.append(
            SectionBlock(
                text=md(
                    f"*{escape(c.pod)}* / `{escape(c.container)}`: {c.waiting or 'restarting'}, {c.restarts} restarts, "
                    f"last exit {escape(why)}\n```{escape(logs)}```"
                )
            )
        )
    if report.events:
        blocks.append(SectionBlock(text=md("*Events*\n" + "\n".join(f"• {escape(e)}" for e in report.events[:10]))))
    refs = [f"ConfigMap {escape(c)}" for c in report.configmaps] + [
        f"Secret {escape(s)} (values not read)" for s in report.secrets
    ]
    if refs:
        blocks.append(SectionBlock(text=md("*Configuration used*\n" + "\n".join(f"• {r}" for r in refs))))
    button = _restart_button(offered, report.namespace, report.workload)
    if button is not None:
        blocks.append(ContextBlock(elements=[md("Next step: fix the cause, or restart the pods if it was transient.")]))
        blocks.append(ActionsBlock(elements=[button]))
    return blocks, summary


@renders(ErrorRateReport)
def error_rate_report(report: ErrorRateReport, offered: Offered) -> Rendered:
    blocks: list[Block] = [HeaderBlock(text=clip(f"High error rate: {report.namespace}/{report.workload}", 150))]
    share = f"{report.error_lines}/{report.lines_read} recent log lines match `{escape(report.pattern)}`"
    samples = "\n".join(report.samples) or "(none)"
    blocks.append(SectionBlock(text=md(f"*Logs* ({report.pods_seen} pod(s)): {share}\n```{escape(samples)}```")))
    if report.dependencies_checked:
        deps = "\n".join(f"• {escape(d)}" for d in report.dependencies) or "✅ all ready"
        blocks.append(SectionBlock(text=md(f"*Dependencies* ({report.dependencies_checked} pod(s))\n{deps}")))
    if report.history is not None:
        blocks += history_blocks(report.history, offered)
    return blocks, f"{report.error_lines} error line(s) in {report.namespace}/{report.workload}"


def cluster_context(name: str) -> ContextBlock:
    """Shown on reports when several clusters are configured, so nobody acts on the wrong one."""
    return ContextBlock(elements=[md(f"Cluster: `{escape(name)}`")])


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
