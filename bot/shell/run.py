"""``chatops-bot shell``: the real bot (the same app, listeners, stores, escalator and poller, served over HTTP on
loopback exactly as ``serve`` does) with Slack played in the terminal. State in the embedded Redis under
``./.chatops/`` (or REDIS_URL); Kubernetes from KUBECONFIG when present; without a config file, a demo config.

The greeting and the prompt come first; the bot (its modules, the embedded Redis, the server) starts behind them, and
a line that needs it waits until it is up."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml
from rich.console import Console
from rich.text import Text

from bot.core.logs import setup_logging
from bot.core.private import open_private, private_dir, touch_private
from bot.core.settings import SettingsError, load_config_file, load_environment
from bot.core.settings.config import BotConfig
from bot.shell import platform
from bot.shell.render import Names

if TYPE_CHECKING:
    from bot.shell.session import Shell
    from bot.shell.slack import SlackStandIn

DEMO_CONFIG = """
channels: {incidents: C0INCIDENTS, digest: C0HEALTH, stakeholders: C0STATUS}
permissions: {operators: [U0YOU]}
oncall: {rotation: [U0ALICE, U0BOB], lead: U0LEAD}
"""
DEMO_PEOPLE = {"U0YOU": "you", "U0ALICE": "alice", "U0BOB": "bob", "U0LEAD": "lead"}
DEMO_CHANNELS = {"C0INCIDENTS": "incidents", "C0HEALTH": "health", "C0STATUS": "status"}


def _config(env_path: Path, explicit: bool, demo: bool = False) -> tuple[BotConfig, str]:
    """The user's config when there is one (CHATOPS_CONFIG, or ./chatops.yaml), else (or for the demo platform)
    the demo config."""
    if not demo and (explicit or env_path.exists()):
        return load_config_file(env_path), f"config {env_path}"
    return BotConfig.model_validate(yaml.safe_load(DEMO_CONFIG)), "the built-in demo config (no chatops.yaml)"


def _names(config: BotConfig) -> Names:
    """Everyone and every channel the config names, readable: U0ALICE → alice."""
    people = dict(DEMO_PEOPLE)
    ids = [*config.oncall.rotation, config.oncall.lead, *config.permissions.operators, *config.permissions.responders]
    for uid in ids:
        if uid and uid.startswith(("U", "W")) and uid not in people:
            people[uid] = uid.lower().removeprefix("u0")
    channels = dict(DEMO_CHANNELS)
    for key, cid in (
        ("incidents", config.channels.incidents),
        ("health", config.channels.digest),
        ("status", config.channels.stakeholders),
    ):
        if cid and cid not in channels:
            channels[cid] = key
    return Names(people, channels)


def main(
    why: str | None = None, stdin: IO[str] | None = None, stdout: IO[str] | None = None, demo: bool | None = None
) -> int:
    """``demo``: True (``--demo``) runs the bot against the demo platform, False never; None: when there is nothing
    of the user's to read (no kubeconfig, no config file)."""
    # Start-up allocates what the bot keeps: the cyclic collector's passes over it would find nothing. Off until the
    # bot's lifespan has frozen it (or the bot failed to start).
    gc.disable()
    try:
        env = load_environment()
        explicit = "CHATOPS_CONFIG" in os.environ
        asked = demo
        demo = platform.wanted(demo, env.chatops_config, explicit)
        absent = platform.missing() if demo else []
        if absent and asked:
            print(f"chatops-bot shell: the demo platform needs {', '.join(absent)}: pip install 'chatops-bot[demo]' "
                  "(make run installs it)", file=sys.stderr)  # fmt: skip
            return 2
        if absent:  # chosen for want of a cluster, but not installed: the shell as it was, with a hint
            why = (why + "\n" if why else "") + "(no kubeconfig: pip install 'chatops-bot[demo]' for the demo platform)"
            demo = False
        if demo:  # the demo's own config, whatever file is here (the bot gets the demo's, with its platform)
            config, source = _config(env.chatops_config, explicit=False, demo=True)
            source = f"the demo platform ({platform.NAMES}); try: fire 1"
        else:
            config, source = _config(env.chatops_config, explicit)
    except SettingsError as exc:
        print("chatops-bot shell: the settings have problems:", *exc.problems, sep="\n  - ", file=sys.stderr)
        return 2
    if demo and not env.redis_url:  # a demo platform seeded afresh, so a fresh state beside it
        env = env.model_copy(update={"chatops_data_dir": platform.fresh(private_dir(env.chatops_data_dir) / "demo")})
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    console = Console(file=stdout, force_terminal=interactive or None, highlight=False, soft_wrap=True)
    names = _names(config)
    if why:
        console.print(Text(why, style="yellow"))
    state = "REDIS_URL" if env.redis_url else f"an embedded Redis in {env.chatops_data_dir}"
    console.print(Text("chatops-bot shell — the real bot, with Slack played here.", style="bold"))
    console.print(Text(f"Using {source}; state in {state}. You are @you in "
                       f"{names.channel(config.channels.incidents)}. Type help, or try:", style="dim"))  # fmt: skip
    console.print(Text("  /incident open P1 Checkout API returns 500s", style="cyan"))
    log = open_private(private_dir(env.chatops_data_dir) / "shell.log")  # 0700 and 0600: incident state
    keys = Keys(secret=secrets.token_hex(16), token=f"xoxb-shell-{secrets.token_hex(12)}", alerts=secrets.token_hex(16))
    setup_logging(env.log_level, env.log_format, [keys.secret, keys.token, keys.alerts], stream=log)
    demo_platform = platform.DemoPlatform(private_dir(env.chatops_data_dir) / "platform", log) if demo else None
    try:
        return asyncio.run(_run(env, config, names, console, keys=keys, stdin=stdin, demo=demo_platform))
    finally:
        log.close()


@dataclass(frozen=True)
class Keys:
    """The shell's own secrets for this run: Slack's signing secret and bot token, and the alerts webhook's."""

    secret: str
    token: str
    alerts: str


async def _start_bot(
    env: Any, config: BotConfig, slack: SlackStandIn, clock: Any, *, keys: Keys, demo: platform.DemoPlatform | None
) -> Any:
    """The bot, served on loopback as ``serve`` does: its modules load and the embedded Redis starts meanwhile (and
    the demo platform, in its own process)."""
    try:
        return await _serve_bot(env, config, slack, clock, keys=keys, demo=demo)
    finally:
        gc.enable()  # the lifespan has frozen start-up's objects; or the bot did not start


async def _serve_bot(
    env: Any, config: BotConfig, slack: SlackStandIn, clock: Any, *, keys: Keys, demo: platform.DemoPlatform | None
) -> Any:
    import uvicorn  # noqa: PLC0415
    from pydantic import SecretStr  # noqa: PLC0415

    from bot.core.redis import connect  # noqa: PLC0415
    from bot.core.settings import Settings  # noqa: PLC0415

    port = _free_port()
    connecting = asyncio.create_task(asyncio.to_thread(connect, env.redis_url, env.chatops_data_dir))
    server_module = await asyncio.to_thread(__import__, "bot.runtime.server", fromlist=["create_web_app"])
    update: dict[str, Any] = {}
    if demo is not None:  # pointed at the demo platform as the environment and a config file would point it
        listening = await demo.listening()
        platform.point_at(listening["env"])
        config = BotConfig.model_validate(listening["config"])
        update["statuspage_api_key"] = SecretStr(listening["env"]["STATUSPAGE_API_KEY"])
    settings = Settings(
        env=env.model_copy(
            update={
                "slack_bot_token": SecretStr(keys.token),
                "slack_signing_secret": SecretStr(keys.secret),
                "slack_app_token": None,
                "slack_api_url": f"{slack.url}/api/",
                "host": "127.0.0.1",
                "port": port,
                "alerts_token": SecretStr(keys.alerts),
                **update,
            }
        ),
        config=config,
    )
    redis = await connecting
    app = server_module.create_web_app(settings, redis, clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            raise RuntimeError("the bot did not start; see .chatops/shell.log")
        await asyncio.sleep(0.02)
    return server, serving, f"http://127.0.0.1:{port}", app


async def _run(
    env: Any, config: BotConfig, names: Names, console: Console, *, keys: Keys, stdin: IO[str],
    demo: platform.DemoPlatform | None,
) -> int:  # fmt: skip
    import aiohttp  # noqa: PLC0415

    from bot.core.clock import MovableClock  # noqa: PLC0415
    from bot.shell.running import Running  # noqa: PLC0415
    from bot.shell.session import Shell  # noqa: PLC0415
    from bot.shell.slack import SlackStandIn  # noqa: PLC0415

    if demo is not None:
        await demo.start()  # first: its own process, on the other core, while this one loads the bot
    interactive = stdin.isatty() and console.is_terminal
    clock = MovableClock()
    holder: dict[str, Shell] = {}
    slack = await SlackStandIn(lambda event: holder["shell"].on_event(event) if "shell" in holder else None).start()
    starting = asyncio.create_task(_start_bot(env, config, slack, clock, keys=keys, demo=demo))
    ask = _asker(stdin, interactive, env.chatops_data_dir, console)
    server: Any = None
    serving: asyncio.Task[Any] | None = None
    async with aiohttp.ClientSession() as http:

        async def bot() -> tuple[str, Running]:
            nonlocal server, serving
            server, serving, url, app = await starting
            return str(url), Running(app.services)

        shell = Shell(
            slack=slack,
            bot=bot,
            http=http,
            secret=keys.secret,
            names=names,
            me="U0YOU",
            channel=config.channels.incidents,
            clock=clock,
            console=console,
            ask=ask,
            extra={"fire": _firing(demo, keys.alerts)} if demo is not None else None,
        )
        holder["shell"] = shell
        try:
            while True:
                line = await ask(f"{names.users.get(shell.user, shell.user)}@{names.channel(shell.channel)}> ")
                if line is None:
                    break
                try:
                    if not await shell.handle(line):
                        break
                except Exception as exc:  # noqa: BLE001 - no input may crash the shell
                    console.print(Text(f"shell: that did not work ({type(exc).__name__}: {exc})", style="red"))
        finally:
            if not starting.done():
                with contextlib.suppress(Exception):
                    await starting
            if server is None and starting.done() and not starting.cancelled() and starting.exception() is None:
                server, serving, _, _ = starting.result()
            if server is not None and serving is not None:
                server.should_exit = True
                with contextlib.suppress(Exception):
                    await serving
            await slack.stop()
            if demo is not None:
                await demo.stop()
    console.print(Text("bye", style="dim"))
    return 0


def _firing(demo: platform.DemoPlatform, token: str) -> Any:
    """``fire 1``: the demo's Alertmanager sends the bot its first firing group, as Alertmanager's webhook does."""

    async def fire(shell: Shell, text: str) -> None:
        group = int(text) if text.isdigit() else 0
        body = await demo.webhook(shell.http, group) if group else None
        if body is None:
            shell.say("Write it like: fire 1 (the demo's Alertmanager has groups 1 and 2; /alerts lists them)")
            return
        await shell._up()
        headers = {"Authorization": f"Bearer {token}"}
        async with shell.http.post(f"{shell.bot_url}/alerts/alertmanager", json=body, headers=headers) as resp:
            if resp.status >= 300:
                shell.say(f"the bot refused the alert ({resp.status})")
        shell.heard = time.monotonic()
        await shell.settle()

    return fire


def _asker(stdin: IO[str], interactive: bool, data_dir: Path, console: Console) -> Any:
    """How a line is read: with history and editing at a terminal, plainly (and echoed) from a pipe or file."""
    if interactive:
        from prompt_toolkit import PromptSession  # noqa: PLC0415 - only at a terminal
        from prompt_toolkit.history import FileHistory  # noqa: PLC0415
        from prompt_toolkit.patch_stdout import patch_stdout  # noqa: PLC0415

        session: PromptSession[str] = PromptSession(history=FileHistory(str(touch_private(data_dir / "shell_history"))))

        async def ask_tty(prompt: str) -> str | None:
            with patch_stdout(raw=True):
                try:
                    return await session.prompt_async(prompt)
                except EOFError:
                    return None
                except KeyboardInterrupt:
                    return ""

        return ask_tty

    async def ask_pipe(prompt: str) -> str | None:
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            return None
        console.print(Text(prompt, style="bold") + Text(line.rstrip("\n")))
        return line.rstrip("\n")

    return ask_pipe


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
