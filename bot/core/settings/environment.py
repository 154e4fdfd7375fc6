"""The process environment (and an optional ``.env`` file): secrets and endpoints live only here."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.redis_url import parse_url

AWS_SECRETS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class Environment(BaseSettings):
    """Process environment (and an optional ``.env`` file). Secrets live only here."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    redis_url: str | None = None
    chatops_config: Path = Path("chatops.yaml")
    chatops_data_dir: Path = Path(".chatops")
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    prometheus_auth: SecretStr | None = None  # "Bearer <token>" or "Basic <user>:<password>"
    alertmanager_auth: SecretStr | None = None  # the same forms, for alerts.alertmanager_url
    loki_auth: SecretStr | None = None  # the same forms, for loki.url
    alerts_token: SecretStr | None = None  # POST /alerts/alertmanager is served only when set
    statuspage_api_key: SecretStr | None = None
    jira_api_token: SecretStr | None = None  # tickets.jira: an API token (with tickets.jira.email) or a PAT
    github_token: SecretStr | None = None  # tickets.github
    linear_api_key: SecretStr | None = None  # tickets.linear
    twilio_auth_token: SecretStr | None = None  # paging.twilio: SMS and calls, and the signature of its webhooks
    public_url: str | None = None  # the bot's HTTPS address: Twilio's webhooks (SMS replies, calls) reach it there
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "text"

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _case(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str):
            return value.upper() if info.field_name == "log_level" else value.lower()
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^https?://[^\s/@]+(/[^\s]*)?$", value):
            raise ValueError(f"{value!r} is not the bot's http(s) address (no credentials, no spaces)")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value:
            parse_url(value)  # ValueError says what is wrong
        return value or None

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb- (OAuth & Permissions page)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp- (Basic Information page)")
        return value

    @field_validator("prometheus_auth", "alertmanager_auth", "loki_auth")
    @classmethod
    def _auth(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        scheme, _, credentials = value.get_secret_value().strip().partition(" ")
        if scheme.lower() not in ("bearer", "basic") or not credentials.strip():
            raise ValueError("write it as 'Bearer <token>' or 'Basic <user>:<password>'")
        if scheme.lower() == "basic" and ":" not in credentials:
            raise ValueError("Basic needs '<user>:<password>'")
        return value

    def prometheus_authorization(self) -> str | None:
        """The ``Authorization`` header for Prometheus (Basic credentials base64-encoded, as HTTP wants them)."""
        return _authorization(self.prometheus_auth)

    def alertmanager_authorization(self) -> str | None:
        """The ``Authorization`` header for every call to Alertmanager's API (as :meth:`prometheus_authorization`)."""
        return _authorization(self.alertmanager_auth)

    def loki_authorization(self) -> str | None:
        """The ``Authorization`` header for Loki's query API (as :meth:`prometheus_authorization`)."""
        return _authorization(self.loki_auth)

    def ticket_token(self, tracker: str | None) -> str | None:
        """The token of ``tickets.<tracker>`` (JIRA_API_TOKEN, GITHUB_TOKEN, LINEAR_API_KEY), if set."""
        names = {"jira": self.jira_api_token, "github": self.github_token, "linear": self.linear_api_key}
        token = names.get(tracker or "")
        return token.get_secret_value() if token is not None and token.get_secret_value() else None

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        values = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.prometheus_auth,
            self.alertmanager_auth,
            self.loki_auth,
            self.alerts_token,
            self.statuspage_api_key,
            self.twilio_auth_token,
            self.jira_api_token,
            self.github_token,
            self.linear_api_key,
        ]
        out = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        authorizations = (self.prometheus_authorization(), self.alertmanager_authorization(), self.loki_authorization())
        for authorization in authorizations:
            if authorization:
                out += [authorization, authorization.partition(" ")[2]]
        if self.redis_url and "@" in self.redis_url:
            out.append(self.redis_url.split("@", 1)[0].rsplit(":", 1)[-1])
        # boto3 reads these itself (its default chain); they are never logged either.
        out += [os.environ[k] for k in AWS_SECRETS if os.environ.get(k)]
        return out


def _authorization(auth: SecretStr | None) -> str | None:
    """``Bearer <token>`` or ``Basic <user>:<password>`` as an ``Authorization`` header value."""
    if auth is None:
        return None
    scheme, _, credentials = auth.get_secret_value().strip().partition(" ")
    if scheme.lower() == "basic":
        return "Basic " + base64.b64encode(credentials.strip().encode()).decode()
    return f"Bearer {credentials.strip()}"
