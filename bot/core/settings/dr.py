"""The ``dr`` section: disaster-recovery drills (pure)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from bot.core.settings.types import Cron, Duration, Strict
from runbooks.kube import names

_PATH = re.compile(r"^/[A-Za-z0-9._~/%-]*$")


class DrCheck(Strict):
    """One of ``dr.checks``: an HTTP probe of a restored Service, through the API server's service proxy."""

    service: str = Field(description="namespace/name of the Service as backed up (probed in its scratch copy)")
    path: str = "/health"
    port: int | str | None = Field(default=None, description="the Service's port (number or name); default its first")
    expect_status: int = Field(default=200, ge=100, le=599)

    @field_validator("service")
    @classmethod
    def _service(cls, value: str) -> str:
        namespace, slash, name = value.partition("/")
        if not slash:
            raise ValueError(f"{value!r} is not namespace/name")
        names.label(namespace, "namespace")
        names.label(name, "service")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.match(value) or ".." in value:
            raise ValueError(f"{value!r} is not a URL path (starting with /, no '..', no query)")
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and not 1 <= value <= 65535:
            raise ValueError(f"{value} is not a port number")
        if isinstance(value, str):
            names.label(value, "port")
        return value

    @property
    def namespace(self) -> str:
        return self.service.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.service.split("/", 1)[1]


EXCLUDED = ["cronjobs", "jobs", "ingresses"]  # what would act on production from a scratch copy
_RESOURCE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class DrVelero(Strict):
    schedules: list[names.WorkloadName] = Field(
        default_factory=list, description="Velero Schedules whose latest Completed backup each drill restores"
    )
    exclude: list[str] = Field(
        default_factory=lambda: list(EXCLUDED),
        description="resources the drill's Restore leaves out (Velero's excludedResources: jobs, ingresses…)",
    )

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, value: list[str]) -> list[str]:
        for resource in value:
            if not _RESOURCE.match(resource) or len(resource) > 253:
                raise ValueError(f"{resource!r} is not a resource name (plural, optionally .group)")
        return value


class Dr(Strict):
    """Disaster-recovery drills (``/dr drill``, ``dr.cron``)."""

    cron: Cron = Field(default="0 10 * * 2", description="the scheduled drill (in digest.timezone)")
    velero: DrVelero = DrVelero()
    rds: bool = Field(default=False, description="restore each of aws.rds.instances' latest snapshot too")
    rto_target: Duration = timedelta(minutes=30)
    max_age: Duration = Field(
        default=timedelta(hours=6), description="scratch namespaces and drill instances older than this are deleted"
    )
    timeout: Duration = Field(default=timedelta(minutes=20), description="how long one restore may take")
    checks: list[DrCheck] = Field(default_factory=list)

    @field_validator("max_age", "timeout", "rto_target")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("at least 1m")
        return value

    @model_validator(mode="after")
    def _sweep_spares_a_running_drill(self) -> Dr:
        if self.max_age <= self.timeout:
            raise ValueError("max_age must be longer than timeout (the sweep would delete a drill still running)")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.velero.schedules) or self.rds
