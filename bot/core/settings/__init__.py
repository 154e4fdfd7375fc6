"""Settings: secrets and endpoints from the environment, behaviour from the YAML config file.

Both are validated with pydantic at start-up; every problem is collected into one
:class:`SettingsError` so the operator sees the full list at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.core.errors import UserError
from bot.core.settings.config import BotConfig
from bot.core.settings.environment import Environment
from bot.core.settings.tickets import TOKENS

__all__ = [
    "BotConfig",
    "Environment",
    "Settings",
    "SettingsError",
    "load_config_file",
    "load_environment",
    "load_settings",
]


class Settings(BaseModel):
    """Everything the bot needs to run: the environment plus the parsed config file."""

    model_config = ConfigDict(frozen=True)

    env: Environment
    config: BotConfig


class SettingsError(UserError):
    """Every problem found while loading settings, each a readable line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _describe(error: ValidationError, prefix: str) -> list[str]:
    lines = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"] if p not in ("function-after",))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling against docs/configuration.md)"
        elif item["type"] == "missing":
            message = "is required"
        lines.append(f"{prefix}{where}: {message}" if where else f"{prefix}{message}")
    return lines


def load_config_file(path: Path) -> BotConfig:
    """Read and validate the YAML config; raise SettingsError listing every problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            [f"config file {path} not found: set CHATOPS_CONFIG or copy chatops.example.yaml to chatops.yaml"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError([f"config file {path} cannot be read: {exc}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise SettingsError([f"config file {path} is not valid YAML{where}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError([f"config file {path} must be a mapping of settings at the top level"])
    try:
        return BotConfig.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, f"{path}: ")) from None


def load_environment() -> Environment:
    try:
        return Environment()
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            name = str(item["loc"][0]).upper() if item["loc"] else "environment"
            problems.append(f"{name}: {item['msg'].removeprefix('Value error, ')}")
        raise SettingsError(problems) from None


def load_settings(*, require_slack: bool = True) -> Settings:
    """Load the environment and the config file, collecting every problem from both."""
    problems: list[str] = []
    env: Environment | None = None
    config: BotConfig | None = None
    try:
        env = load_environment()
    except SettingsError as exc:
        problems.extend(exc.problems)
    config_path = env.chatops_config if env is not None else Path(os.environ.get("CHATOPS_CONFIG", "chatops.yaml"))
    if env is not None and require_slack:
        if env.slack_bot_token is None:
            problems.append("SLACK_BOT_TOKEN: is required (the xoxb- token from OAuth & Permissions)")
        if env.slack_signing_secret is None and not env.socket_mode:
            problems.append("SLACK_SIGNING_SECRET: is required in HTTP mode (from the app's Basic Information page)")
    try:
        config = load_config_file(config_path)
    except SettingsError as exc:
        problems.extend(exc.problems)
    if env is not None and config is not None and config.statuspage is not None and env.statuspage_api_key is None:
        problems.append("STATUSPAGE_API_KEY: is required when the config has a statuspage section")
    if env is not None and config is not None and config.tickets.tracker is not None:
        name = config.tickets.tracker
        token = TOKENS[name]
        if getattr(env, token.lower()) is None:
            problems.append(f"{token}: is required when the config has tickets.{name}")
    if problems or env is None or config is None:
        raise SettingsError(problems)
    return Settings(env=env, config=config)
