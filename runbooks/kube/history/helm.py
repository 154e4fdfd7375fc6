"""Helm 3 release secrets decoded without Helm (pure).

Helm stores each revision of a release in a Secret of type ``helm.sh/release.v1`` (labels ``owner=helm``, ``name``,
``version``, ``status``) whose ``data.release`` is, as the API returns it, base64 (Kubernetes' encoding of the data)
of base64 (Helm's) of gzip of the release's JSON. Only the release's header is kept here: its name, chart, chart and
app versions, revision, status and when it was deployed; the values, manifests, notes and hooks are never returned.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runbooks.kube.objects import parse_time

RELEASE_TYPE = "helm.sh/release.v1"
GZIP_MAGIC = b"\x1f\x8b\x08"
MAX_RELEASE_BYTES = 64 * 1024 * 1024  # a release's JSON past this is not decoded (a gzip bomb, or not a release)


def _dict(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """``obj[key]`` when it is an object, else an empty one."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


class UndecodableRelease(ValueError):
    """The secret's ``data.release`` is not a Helm release (the message never quotes it)."""


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str | None
    chart: str | None
    chart_version: str | None
    app_version: str | None
    revision: int | None
    status: str | None
    deployed: datetime | None  # ``info.last_deployed`` (else ``first_deployed``), aware, UTC

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def chart_ref(self) -> str | None:
        """``my-app-1.4.0``, as ``helm list`` names a chart."""
        if not self.chart:
            return None
        return f"{self.chart}-{self.chart_version}" if self.chart_version else self.chart

    def summary(self) -> str:
        """``helm my-app chart 1.4.0 (app 2.4.2) rev 3 deployed``."""
        text = f"helm {self.chart or '?'} chart {self.chart_version or '?'}"
        if self.app_version:
            text += f" (app {self.app_version})"
        if self.revision is not None:
            text += f" rev {self.revision}"
        return f"{text} {self.status or 'unknown'}"


def _unbase64(value: bytes | str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UndecodableRelease(f"{what} is not base64") from exc


def _gunzip(data: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # gzip framing
    try:
        out = inflater.decompress(data, MAX_RELEASE_BYTES)
    except zlib.error as exc:
        raise UndecodableRelease("the release is not valid gzip") from exc
    if inflater.unconsumed_tail:
        raise UndecodableRelease(f"the release is larger than {MAX_RELEASE_BYTES // (1024 * 1024)} MB decompressed")
    return out


def payload(data_release: str) -> dict[str, Any]:
    """The release's JSON from a secret's ``data.release`` as listed (Kubernetes' base64 of Helm's base64)."""
    helm_encoded = _unbase64(data_release, "the secret's data")
    packed = _unbase64(helm_encoded, "the release")
    raw = _gunzip(packed) if packed[:3] == GZIP_MAGIC else packed  # Helm writes gzip; plain JSON is read too
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise UndecodableRelease("the release is not JSON") from exc
    if not isinstance(doc, dict):
        raise UndecodableRelease("the release is not a JSON object")
    return doc


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and value != "" else None


def release(doc: dict[str, Any]) -> Release:
    """The header of a decoded release (``name``, ``namespace``, ``version``, ``info``, ``chart.metadata``)."""
    info = _dict(doc, "info")
    chart = _dict(doc, "chart")
    metadata = _dict(chart, "metadata")
    version = doc.get("version")
    deployed = parse_time(info.get("last_deployed")) or parse_time(info.get("first_deployed"))
    if deployed is not None and deployed.tzinfo is None:
        deployed = deployed.replace(tzinfo=UTC)
    return Release(
        name=str(doc.get("name") or "?"),
        namespace=_text(doc.get("namespace")),
        chart=_text(metadata.get("name")),
        chart_version=_text(metadata.get("version")),
        app_version=_text(metadata.get("appVersion")),
        revision=version if isinstance(version, int) and not isinstance(version, bool) else None,
        status=_text(info.get("status")),
        deployed=deployed.astimezone(UTC) if deployed is not None else None,
    )


def decode(data_release: str) -> Release:
    """A release secret's ``data.release`` → its header; UndecodableRelease when it is not a Helm release."""
    return release(payload(data_release))
