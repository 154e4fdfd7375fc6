"""``/runbook`` and ``/rollback``: run the operations guide's runbooks from chat, safely.

Read-only steps run at once (in a worker thread, after the 3-second ack) and their report is posted
where the command was typed; mutating steps (roll back, restart, scale) are offered as buttons. All
of them take one path: a click is executed only for ``permissions.operators`` (the user from the
signed request, never the button), only once per offer, after a confirm dialog that states the
change, and it is audited and recorded on the incident's timeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from kubernetes.client.exceptions import ApiException
from pydantic import BaseModel, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from urllib3.exceptions import HTTPError

from bot.actions import PendingActions
from bot.digest_service import clusters_from
from bot.render import RUNBOOKS_ACTION, user
from bot.runbook_render import (
    CHANGE_ACTIONS,
    change,
    cluster_context,
    crashloop_blocks,
    error_rate_blocks,
    history_blocks,
    restart_blocks,
    runbook_help,
    runbook_list,
    scale_blocks,
)
from bot.services import Services
from bot.slack_client import SLACK_ERRORS
from handlers.guard import Replied, guarded
from runbooks import changes, deployment, names, restart, rollout, scale
from runbooks.cluster import Cluster
from runbooks.crashloop import CrashloopReport
from runbooks.deployment import ActionRefused
from runbooks.error_rate import ErrorRateReport
from runbooks.registry import Runbook, RunbookArgsError, parse_args, registry
from runbooks.workload import api_error

log = logging.getLogger(__name__)

# Where a runbook's offers were made: the incident of the channel (or None) and the user they were offered to.
Origin = dict[str, Any]

RUN_TIMEOUT = 60.0
FOLLOW_INTERVAL = 2.0


def register(app: AsyncApp, svc: Services) -> None:
    commands = RunbookCommands(svc)
    app.command("/runbook")(commands.on_runbook)
    app.command("/rollback")(commands.on_rollback)
    for action_id in CHANGE_ACTIONS:
        app.action(action_id)(commands.on_change_click)
    app.action(RUNBOOKS_ACTION)(commands.on_runbooks_button)


class RunbookCommands:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.books = registry()
        self.actions = PendingActions(svc.store.redis, svc.store.description)

    async def on_runbook(self, ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        words = (command.get("text") or "").split()
        if not words or words[0] in ("list", "help", "--help"):
            await ack(text=runbook_list(list(self.books.values())))
            return
        book = self.books.get(words[0].lower())
        if book is None:
            await ack(text=f"`{words[0][:40]}` is not a runbook.\n{runbook_list(list(self.books.values()))}")
            return
        if words[1:] in (["--help"], ["help"]):
            await ack(text=runbook_help(book))
            return
        await self._start(ack, book, words[1:], command, respond)

    async def on_rollback(self, ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        words = (command.get("text") or "").split()
        if not words:
            await ack(text=runbook_help(self.books["rollback"]))
            return
        await self._start(ack, self.books["rollback"], words, command, respond)

    async def _start(
        self, ack: AsyncAck, book: Runbook, words: list[str], command: dict[str, Any], respond: Any
    ) -> None:
        try:
            cluster_name, words = self._cluster_option(words)
            params = parse_args(book, words)
            namespace = getattr(params, "namespace", None)
            if namespace is not None:
                names.namespace(namespace, self.svc.config.kubernetes.namespaces)
        except (RunbookArgsError, names.InvalidName) as exc:
            await ack(text=str(exc))
            return
        target = f"{getattr(params, 'namespace', '')}/{getattr(params, 'workload', getattr(params, 'deployment', ''))}"
        where = f" in cluster `{cluster_name}`" if self._several_clusters() else ""
        await ack(text=f"Running *{book.name}* on `{target}`{where}… results follow here.")
        self.svc.tasks.spawn(self._run(book, params, cluster_name, command, respond), name=f"runbook-{book.name}")

    def _cluster_option(self, words: list[str]) -> tuple[str | None, list[str]]:
        """Take ``--cluster=<name>`` out of the words; the name must be one of ``kubernetes.clusters``."""
        configured = [c.name for c in self.svc.config.kubernetes.clusters]
        chosen: str | None = configured[0] if configured else None
        rest = []
        for word in words:
            if not word.startswith("--cluster="):
                rest.append(word)
                continue
            name = word.removeprefix("--cluster=")
            if name not in configured:
                known = ", ".join(f"`{c}`" for c in configured) or "none (the bot uses the cluster it runs in)"
                raise RunbookArgsError(f"`{names.shown(name)}` is not a configured cluster. Configured: {known}.")
            chosen = name
        return chosen, rest

    async def _run(
        self, book: Runbook, params: BaseModel, cluster_name: str | None, command: dict[str, Any], respond: Any
    ) -> None:
        async def reply(text: str) -> None:
            await respond(text=text, response_type="ephemeral", replace_original=False)

        async with guarded("runbook", book.name, reply):
            cluster = await asyncio.to_thread(self._cluster, cluster_name)
            try:
                report = await asyncio.wait_for(asyncio.to_thread(book.run, cluster, params), RUN_TIMEOUT)
            except ApiException as exc:
                await reply(f"*{book.name}* stopped: {api_error(exc, self._what(params))}.")
                raise Replied from None
            except (HTTPError, OSError, TimeoutError) as exc:
                await reply(f"*{book.name}* could not reach the Kubernetes API ({type(exc).__name__}).")
                raise Replied from None
            incident = await self.svc.rooms.incident_for_channel(command["channel_id"])
            origin = {"incident": incident, "offered_to": command["user_id"]}
            blocks, summary = await self._render(report, origin, cluster_name)
            if cluster_name and self._several_clusters():
                blocks = [blocks[0], cluster_context(cluster_name), *blocks[1:]]
            await respond(text=summary, blocks=blocks, response_type="in_channel", replace_original=False)
            if incident is not None:
                await self.svc.incidents.note(incident, f"ran runbook {book.name}", summary, command["user_id"])
            await self.actions.audit(
                {"kind": "runbook", "runbook": book.name, "actor": command["user_id"], "summary": summary}
            )

    async def _render(self, report: BaseModel, origin: Origin, cluster: str | None) -> tuple[list[Any], str]:
        now = self.svc.clock()
        if isinstance(report, CrashloopReport):
            summary = f"{len(report.crashing)} crashing container(s) in {report.namespace}/{report.workload}"
            offer = None
            if report.deployment and report.crashing:
                proposed = changes.Restart(namespace=report.namespace, deployment=report.workload, cluster=cluster)
                offer = await self._offer(proposed, origin)
            return crashloop_blocks(report, offer), summary
        if isinstance(report, ErrorRateReport):
            blocks = error_rate_blocks(report)
            if report.history is not None:
                offers = await self._rollback_offers(report.history, origin, cluster)
                blocks += history_blocks(report.history, offers, now)
            return blocks, f"{report.error_lines} error line(s) in {report.namespace}/{report.workload}"
        if isinstance(report, restart.RestartOffer):
            state = report.state
            offer, refusal = await self._offer_if_planned(
                lambda: restart.plan(state, now),
                changes.Restart(namespace=state.namespace, deployment=state.deployment, cluster=cluster),
                origin,
            )
            return restart_blocks(report, offer, refusal), f"restart of {state.target} offered"
        if isinstance(report, scale.ScaleOffer):
            state, replicas = report.state, report.replicas
            offer, refusal = await self._offer_if_planned(
                lambda: scale.plan(state, replicas),
                changes.Scale(
                    namespace=state.namespace, deployment=state.deployment, replicas=replicas, cluster=cluster
                ),
                origin,
            )
            return scale_blocks(report, offer, refusal), f"scaling of {state.target} to {replicas} offered"
        assert isinstance(report, rollout.History)
        return (
            history_blocks(report, await self._rollback_offers(report, origin, cluster), now),
            f"{len(report.revisions)} revision(s) of {report.namespace}/{report.deployment}",
        )

    async def _offer(self, proposed: changes.AnyChange, origin: Origin) -> str:
        """Store the change server-side (with the incident and user it was offered to); the button carries
        only the returned opaque id."""
        return await self.actions.offer({**proposed.model_dump(), **origin})

    async def _offer_if_planned(
        self, plan: Callable[[], object], proposed: changes.AnyChange, origin: Origin
    ) -> tuple[str | None, str | None]:
        """(offer id, None); or (None, the reason) when ``plan`` refuses the change as things are now."""
        try:
            plan()
        except ActionRefused as exc:
            return None, str(exc)
        return await self._offer(proposed, origin), None

    async def _rollback_offers(self, state: rollout.History, origin: Origin, cluster: str | None) -> dict[int, str]:
        """One pending roll-back per earlier revision."""
        current = state.revision(state.current) if state.current is not None else None
        offers = {}
        for rev in state.revisions:
            if rev.number == state.current:
                continue
            offers[rev.number] = await self._offer(
                changes.Rollback(
                    namespace=state.namespace,
                    deployment=state.deployment,
                    to_revision=rev.number,
                    change=change(current.images if current else [], rev.images),
                    cluster=cluster,
                ),
                origin,
            )
        return offers

    async def on_runbooks_button(self, ack: AsyncAck, respond: Any) -> None:
        """The announcement's Runbooks button: what can be run, and how."""
        await ack()
        await respond(text=runbook_list(list(self.books.values())), response_type="ephemeral", replace_original=False)

    async def on_change_click(self, ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        await ack()
        self.svc.tasks.spawn(self._execute(body, respond), name="runbook-change")

    async def _execute(self, body: dict[str, Any], respond: Any) -> None:
        async def reply(text: str) -> None:
            await respond(text=text, response_type="ephemeral", replace_original=False)

        actor = body["user"]["id"]
        clicked = (body.get("actions") or [{}])[0]
        action_id = str(clicked.get("value", ""))
        async with guarded("action", str(clicked.get("action_id", "change")), reply):
            pending = await self.actions.get(action_id)
            try:
                proposed = changes.CHANGE.validate_python(pending)
            except ValidationError:
                await reply("This offer expired or is unknown; run the runbook again.")
                raise Replied from None
            target = proposed.target
            audit = {**proposed.model_dump(), "actor": actor, "target": target}
            if not await self.svc.access.is_operator(actor):
                await self.actions.audit({**audit, "result": "refused: not an operator"})
                await reply(
                    f"Only operators (permissions.operators) may {proposed.verb} {target}. Nothing was changed."
                )
                raise Replied
            done = await self.actions.take(action_id, actor, self.svc.clock())
            if done is not None:
                await reply(f"This {proposed.label} was already carried out by {done}; it is not repeated.")
                raise Replied
            try:
                cluster = await asyncio.to_thread(self._cluster, proposed.cluster)
            except KeyError:
                await self.actions.give_back(action_id)
                await reply(f"Cluster `{proposed.cluster}` is no longer configured; nothing was changed.")
                raise Replied from None
            try:
                what = await asyncio.to_thread(changes.carry_out, cluster, proposed, self.svc.clock())
            except ActionRefused as exc:
                await self.actions.give_back(action_id)
                await self.actions.audit({**audit, "result": f"refused: {exc}"})
                await reply(f"{proposed.label.capitalize()} refused: {exc}. Nothing was changed.")
                raise Replied from None
            except ApiException as exc:
                await self.actions.give_back(action_id)
                await self.actions.audit({**audit, "result": f"failed: {exc.status}"})
                await reply(
                    f"{proposed.label.capitalize()} failed: {api_error(exc, f'deployment {target}', change=True)}."
                )
                raise Replied from None
            except (HTTPError, OSError) as exc:
                # The request may or may not have reached the API: the offer stays used, so a
                # second click cannot apply it twice; the reply says to check and offer again.
                await self.actions.audit({**audit, "result": f"unknown: {type(exc).__name__}"})
                await reply(
                    f"{proposed.label.capitalize()} of `{target}`: the Kubernetes API did not answer "
                    f"({type(exc).__name__}); check the deployment and run the runbook again if needed."
                )
                raise Replied from None
            where = f" in cluster `{proposed.cluster}`" if proposed.cluster and self._several_clusters() else ""
            text = f"{user(actor)} {proposed.done} `{target}`{where} {what}"
            await self.actions.audit({**audit, "result": "done", "done": what})
            if pending and pending.get("incident"):
                await self.svc.incidents.note(int(pending["incident"]), proposed.done, f"{target}: {what}", actor)
            await respond(text=text, response_type="in_channel", replace_original=False)
            await self._follow(cluster, proposed, body, respond)

    async def _follow(self, cluster: Cluster, proposed: changes.AnyChange, body: dict[str, Any], respond: Any) -> None:
        """Report the rollout in the thread of the message whose button was clicked: one reply, edited as it
        progresses, until complete or ``kubernetes.rollout_timeout``. Where the bot may not post in that
        thread, the final state goes through the click's response_url instead."""
        timeout = self.svc.config.kubernetes.rollout_timeout.total_seconds()
        channel = str((body.get("channel") or {}).get("id") or "")
        thread = str((body.get("container") or {}).get("message_ts") or "")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        posted: str | None = None  # ts of the progress reply
        writable = bool(channel and thread)
        shown = ""
        while True:
            line, complete = await self._rollout_reading(cluster, proposed)
            if not complete and loop.time() >= deadline:
                line = f"still rolling out after {int(timeout)} s ({line}); follow it with your usual dashboards"
                complete = True
            text = f"Rollout of `{proposed.target}`: {line}"
            if text != shown and writable:
                try:
                    if posted is None:
                        resp = await self.svc.client.chat_postMessage(channel=channel, thread_ts=thread, text=text)
                        posted = str(resp["ts"])
                    else:
                        await self.svc.client.chat_update(channel=channel, ts=posted, text=text)
                except SLACK_ERRORS as exc:
                    error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
                    log.warning("rollout progress of %s not posted in the thread: %s", proposed.target, error)
                    writable = False
            shown = text
            if complete:
                break
            await asyncio.sleep(FOLLOW_INTERVAL)
        if posted is None:
            await respond(text=shown, response_type="in_channel", replace_original=False)

    @staticmethod
    async def _rollout_reading(cluster: Cluster, proposed: changes.AnyChange) -> tuple[str, bool]:
        """One progress line, and whether following should stop (complete, or the status is unreadable)."""
        try:
            line, complete = await asyncio.to_thread(
                deployment.rollout_status, cluster, proposed.namespace, proposed.deployment
            )
        except ApiException as exc:
            return f"status unreadable: {api_error(exc, f'deployment {proposed.target}')}", True
        except (HTTPError, OSError) as exc:
            return f"status unreadable: the Kubernetes API did not answer ({type(exc).__name__})", True
        return (f"rollout complete ({line})", True) if complete else (line, False)

    def _several_clusters(self) -> bool:
        return len(self.svc.config.kubernetes.clusters) > 1

    def _cluster(self, name: str | None) -> Cluster:
        """The named cluster of ``kubernetes.clusters`` (KeyError if it is not there any more), or the default."""
        listed = self.svc.config.kubernetes.clusters
        if not listed and name is None:
            return clusters_from(self.svc.config)[0]
        ref = listed[0] if listed and name is None else next((c for c in listed if c.name == name), None)
        if ref is None:
            raise KeyError(name)
        return Cluster.connect(ref.name, ref.context)

    @staticmethod
    def _what(params: BaseModel) -> str:
        name = getattr(params, "workload", None) or getattr(params, "deployment", "?")
        return f"workload {getattr(params, 'namespace', '?')}/{name}"
