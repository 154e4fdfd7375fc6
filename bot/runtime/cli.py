"""``chatops-bot`` (also ``python -m bot``): serve, check-config."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot import __version__
from bot.core.clock import utcnow
from bot.core.durations import format_duration
from bot.core.errors import DependencyError
from bot.core.logs import setup_logging
from bot.core.settings import Settings, SettingsError, load_config_file, load_environment, load_settings

EXIT_BAD_SETTINGS = 2
ANCHOR_READ_TIMEOUT = 3.0  # seconds check-config waits for Redis to say each team's rotation week 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatops-bot",
        description="Incident response, escalation and runbooks for your platform, in Slack.",
        epilog="Settings: environment (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, REDIS_URL, CHATOPS_CONFIG, ...) "
        "and the YAML file named by CHATOPS_CONFIG. See docs/configuration.md.",
    )
    parser.add_argument("--version", action="version", version=f"chatops-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "serve",
        help="run the bot",
        description="Run the bot: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on PORT "
        "(POST /slack/events, GET /healthz, /readyz, /metrics).",
    )
    check = sub.add_parser(
        "check-config",
        help="validate the config file and environment, listing every problem",
        description="Validate the YAML config (CHATOPS_CONFIG) and the environment; exit 2 listing every problem.",
    )
    check.add_argument("--file-only", action="store_true", help="check only the config file, not the environment")
    dig = sub.add_parser(
        "digest",
        help="build the health digest once (no Slack needed)",
        description="Build the morning health digest for the configured cluster(s) (KUBECONFIG or in-cluster) "
        "and print it; open incidents are included when REDIS_URL is set.",
    )
    dig.add_argument("--print", dest="print_", action="store_true", required=True, help="print it as text")
    sh = sub.add_parser(
        "shell",
        help="try the bot with no Slack workspace: Slack is played in the terminal",
        description="The real bot with Slack played in the terminal: type slash commands, click buttons, switch "
        "people (as @alice) and move the clock (wait 15m). Reads lines from stdin when it is not a terminal.",
    )
    demo = sh.add_mutually_exclusive_group()
    demo.add_argument("--demo", dest="demo", action="store_true", default=None,
                      help="against the demo platform (a small cluster, AWS, Alertmanager and status page on "
                      "loopback); the default when there is no kubeconfig and no config file")  # fmt: skip
    demo.add_argument("--no-demo", dest="demo", action="store_false", help="never the demo platform")
    sub.add_parser(
        "run",
        help="serve when Slack credentials are set, else start the local shell (make run)",
        description="With SLACK_BOT_TOKEN (environment or .env): check the config and serve. Without: the shell.",
    )
    aud = sub.add_parser(
        "audit",
        help="run the security audit once and print it (no Slack needed)",
        description="Run the Security Audit Checklist on the configured cluster(s) (KUBECONFIG or in-cluster) and "
        "print every finding; with REDIS_URL set it is compared with (and stored as) the last audit.",
    )
    aud.add_argument("--print", dest="print_", action="store_true", required=True, help="print it as text")
    pm = sub.add_parser(
        "postmortem",
        help="write an incident's post-mortem draft to a Markdown file",
        description="Build the post-mortem draft of INC-n from the state store (REDIS_URL) and write it locally.",
    )
    pm.add_argument("incident", help="the incident, e.g. INC-42")
    pm.add_argument("-o", "--output", help="file to write (default: postmortem-inc-n.md; '-' for stdout)")
    return parser


def _fail(problems: Sequence[str]) -> int:
    print("chatops-bot: the settings have problems:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_BAD_SETTINGS


def check_config(file_only: bool) -> int:
    try:
        if file_only:
            env = load_environment()
            config = load_config_file(env.chatops_config)
        else:
            settings = load_settings()
            env, config = settings.env, settings.config
    except SettingsError as exc:
        return _fail(exc.problems)
    tracker = config.tickets.tracker
    if tracker is not None and not file_only:  # the tracker itself: the project, repository or team, and the token
        from bot.tickets.probe import probe  # noqa: PLC0415 - only a config with tickets needs the HTTP client

        problems = asyncio.run(probe(config.tickets, env.ticket_token(tracker)))
        if problems:
            return _fail(problems)
    print(f"{env.chatops_config}: OK")
    print(f"  incidents channel: {config.channels.incidents}")
    for severity, policy in config.severities.items():
        within = policy.ack_within
        shown = format_duration(within) if isinstance(within, timedelta) else "the next business day, 09:00"
        print(f"  {severity.value}: acknowledge within {shown}")
    print(f"  responders: {', '.join(config.permissions.responders) or 'everyone'}")
    if tracker is not None:
        answered = "" if file_only else " (the tracker answered)"
        print(f"  tickets: {tracker}, made on {config.tickets.create_on}{answered}")
    redis_url = None if file_only else env.redis_url
    _schedule_warnings(config, asyncio.run(_anchors(redis_url, config.team_map())) if redis_url else None)
    return 0


async def _anchors(redis_url: str, teams: dict[str, Any]) -> dict[str, date] | str:
    """Each team's rotation week 0 as the running bot fixed it in Redis (teams it has not fixed yet left out); or
    why Redis could not say."""
    from bot.core import keys  # noqa: PLC0415 - only check-config with REDIS_URL reads the anchors
    from bot.core.redis import open_client  # noqa: PLC0415
    from bot.core.settings.teams import IMPLICIT  # noqa: PLC0415
    from bot.core.text import as_text  # noqa: PLC0415

    client = open_client(redis_url)
    names = list(teams)
    try:
        # One GET each: the anchors live in different Redis Cluster slots.
        read = [client.get(keys.ONCALL_ANCHOR if n == IMPLICIT else keys.oncall_anchor(n)) for n in names]
        found = await asyncio.wait_for(asyncio.gather(*read), ANCHOR_READ_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure: the warnings assume the anchors, and say so
        return f"could not be read: Redis did not answer ({type(exc).__name__})"
    finally:
        await client.aclose()
    anchors = {}
    for name, value in zip(names, found, strict=True):
        with contextlib.suppress(ValueError):  # not a date (written by hand?): that team's week 0 is assumed
            anchors[name] = date.fromisoformat(as_text(value)) if value else None
    return {name: day for name, day in anchors.items() if day is not None}


def _schedule_warnings(config: Any, anchors: dict[str, date] | str | None) -> None:
    """The teams' schedules: gaps and people primary twice at once, each a warning (the config stands).
    ``anchors``: each team's week 0 as the bot fixed it in Redis (or why it could not be read; None: not read)."""
    from bot.oncall.coverage import warnings  # noqa: PLC0415 - only check-config reads the schedules this way

    teams = config.team_map()
    print(f"  teams: {', '.join(teams)} (default {config.home_team})")
    known = anchors if isinstance(anchors, dict) else {}
    lines = warnings(teams, utcnow(), explicit=bool(config.teams), anchors=known)
    if isinstance(anchors, str) and len(teams) > 1:
        print(f"  (the rotations' weeks in Redis {anchors}: rotations without rotation_start compared from this week)")
    elif anchors is None and lines and len(teams) > 1:
        print("  (rotations without rotation_start compared from this week: the weeks the bot fixed in Redis are read "
              "only without --file-only, with REDIS_URL)")  # fmt: skip
    for line in lines:
        print(f"  warning: {line}")


def postmortem(ref: str, output: str | None) -> int:
    from bot.core.redis import StoreUnavailable, connect  # noqa: PLC0415 - only this command needs Redis
    from bot.incidents.flows import draft, filename  # noqa: PLC0415
    from bot.incidents.model import format_ref, parse_ref  # noqa: PLC0415
    from bot.incidents.store import IncidentNotFound, IncidentStore  # noqa: PLC0415

    number = parse_ref(ref)
    if number is None:
        print(f"chatops-bot: {ref!r} is not an incident id; write it as INC-42", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    try:
        settings = load_settings(require_slack=False)
    except SettingsError as exc:
        return _fail(exc.problems)

    async def build() -> tuple[str, str]:
        redis = connect(settings.env.redis_url, settings.env.chatops_data_dir)
        try:
            incident, markdown = await draft(IncidentStore(redis.client, redis.description), settings.config, number)
            return filename(incident), markdown
        finally:
            await redis.close()

    try:
        name, markdown = asyncio.run(build())
    except IncidentNotFound as exc:
        print(f"chatops-bot: {format_ref(exc.number)} does not exist", file=sys.stderr)
        return 1
    except StoreUnavailable as exc:
        print(f"chatops-bot: {exc}", file=sys.stderr)
        return 1
    if output == "-":
        sys.stdout.write(markdown)
        return 0
    target = Path(output or name)
    target.write_text(markdown, encoding="utf-8")
    print(f"wrote {target}")
    return 0


async def _with_optional_store(settings: Settings, build: Callable[[Any], Awaitable[str]]) -> str:
    """``build(redis)`` with a connection when REDIS_URL is set, else ``build(None)`` (no Redis client loaded)."""
    if not settings.env.redis_url:
        return await build(None)
    from bot.core.redis import connect  # noqa: PLC0415

    redis = connect(settings.env.redis_url, settings.env.chatops_data_dir)
    try:
        return await build(redis)
    finally:
        await redis.close()


def digest_print() -> int:
    from bot.alerts import contributions as alerts  # noqa: PLC0415
    from bot.backups import contributions as backups  # noqa: PLC0415 - only this command needs Kubernetes
    from bot.capacity.log_errors import section as log_errors  # noqa: PLC0415
    from bot.core.board import Board  # noqa: PLC0415
    from bot.digest import text  # noqa: PLC0415
    from bot.digest.build import DigestBuilder  # noqa: PLC0415
    from runbooks.aws.session import AwsSession  # noqa: PLC0415
    from runbooks.kube.client import ClusterSet  # noqa: PLC0415

    try:
        settings = load_settings(require_slack=False)
    except SettingsError as exc:
        return _fail(exc.problems)

    async def build(redis: Any) -> str:
        store = None
        if redis is not None:  # with no state store the digest says so
            from bot.incidents.store import IncidentStore  # noqa: PLC0415

            store = IncidentStore(redis.client, redis.description)
        clusters = ClusterSet(settings.config.kubernetes.refs())
        authorization = settings.env.prometheus_authorization()
        aws = AwsSession(settings.config.aws.region) if settings.config.aws else None
        board = Board()
        backups.declare(board, settings.config, aws)
        errors = log_errors.LogErrorsSection(
            config=settings.config, clusters=clusters, loki_authorization=settings.env.loki_authorization()
        )
        log_errors.declare(board, errors)  # "Errors in logs", as /health shows it
        if url := settings.config.alerts.alertmanager_url:  # "Alerts firing", as /health shows it
            from bot.alerts.firing import FiringAlerts  # noqa: PLC0415 - aiohttp only when Alertmanager is set

            alerts.declare_digest(board, FiringAlerts(url, settings.env.alertmanager_authorization()))
        digest = await DigestBuilder(
            settings.config, store, utcnow, clusters, board=board.freeze(), prometheus_authorization=authorization
        ).build()
        return text.text(digest)

    sys.stdout.write(asyncio.run(_with_optional_store(settings, build)))
    return 0


def audit_print() -> int:
    from bot.security import text  # noqa: PLC0415 - only this command needs Kubernetes
    from bot.security.service import SecurityService  # noqa: PLC0415
    from runbooks.errors import NotConfigured  # noqa: PLC0415
    from runbooks.kube.client import ClusterSet  # noqa: PLC0415

    try:
        settings = load_settings(require_slack=False)
    except SettingsError as exc:
        return _fail(exc.problems)

    async def build(redis: Any) -> str:
        store = None
        if redis is not None:  # with no state store nothing is compared: every finding is listed, none called new
            from bot.security.store import SecurityStore  # noqa: PLC0415

            store = SecurityStore(redis.client, redis.description)
        clusters = ClusterSet(settings.config.kubernetes.refs())
        service = SecurityService(config=settings.config, client=None, clusters=clusters, store=store, clock=utcnow)
        sys.stdout.writelines(text.audit_lines(await service.audit()))  # line by line: a large audit is not held
        return ""

    try:
        sys.stdout.write(asyncio.run(_with_optional_store(settings, build)))
    except (DependencyError, NotConfigured) as exc:
        print(f"chatops-bot: {exc}", file=sys.stderr)
        return 1
    return 0


def shell(why: str | None = None, demo: bool | None = None) -> int:
    from bot.shell.run import main as shell_main  # noqa: PLC0415 - rich and prompt_toolkit only for the shell

    return shell_main(why, demo=demo)


def serve() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(exc.problems)
    env = settings.env
    setup_logging(env.log_level, env.log_format, env.secrets())
    from bot.runtime.server import serve as serve_http  # noqa: PLC0415 - keeps check-config free of server imports

    with contextlib.suppress(KeyboardInterrupt):
        serve_http(settings)
    return 0


def run() -> int:
    """``make run``: a newcomer without a Slack app gets the shell; with one, the config is checked and served."""
    try:
        env = load_environment()
    except SettingsError as exc:
        return _fail(exc.problems)
    if env.slack_bot_token is None:
        return shell("no SLACK_BOT_TOKEN: starting the local shell; see README to connect to Slack")
    example = Path("chatops.example.yaml")
    if not env.chatops_config.exists() and example.exists():
        env.chatops_config.write_text(example.read_text())
        print(f"Created {env.chatops_config} from {example}: put your channel ids and people in it.")
    status = check_config(file_only=False)
    return status if status else serve()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "shell":
        return shell(demo=args.demo)
    if args.command == "run":
        return run()
    if args.command == "digest":
        return digest_print()
    if args.command == "audit":
        return audit_print()
    if args.command == "check-config":
        return check_config(args.file_only)
    if args.command == "postmortem":
        return postmortem(args.incident, args.output)
    if args.command == "serve":
        return serve()
    _parser().print_help()
    return EXIT_BAD_SETTINGS
