"""cert-manager Certificates through the Kubernetes API (``cert-manager.io/v1``): read them, and trigger a renewal
the way ``cmctl renew`` does it, an ``Issuing`` condition with reason ``ManuallyTriggered`` on the status
subresource, so that cert-manager's own controller issues a fresh certificate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from runbooks.kube import objects
from runbooks.kube.client import Cluster, path
from runbooks.kube.objects import Obj, meta, parse_time

GROUP = "/apis/cert-manager.io/v1"
NAME_ANNOTATION = "cert-manager.io/certificate-name"
REVISION_ANNOTATION = "cert-manager.io/certificate-revision"
MANUAL = "ManuallyTriggered"


@dataclass(frozen=True)
class CertInfo:
    namespace: str
    name: str
    ready: bool
    ready_reason: str | None
    not_after: datetime | None
    renewal_time: datetime | None
    issuer: str  # "ClusterIssuer letsencrypt"
    secret: str
    revision: int | None
    issuing: bool  # an issuance is under way (cert-manager's Issuing condition is True)
    dns_names: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def cert_info(obj: Obj) -> CertInfo:
    ns, name = meta(obj)
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    conditions = objects.conditions(obj)
    ready = conditions.get("Ready") or {}
    issuer = spec.get("issuerRef") or {}
    revision = status.get("revision")
    return CertInfo(
        namespace=ns or "",
        name=name,
        ready=ready.get("status") == "True",
        ready_reason=ready.get("reason") or ready.get("message"),
        not_after=parse_time(status.get("notAfter")),
        renewal_time=parse_time(status.get("renewalTime")),
        issuer=f"{issuer.get('kind', 'Issuer')} {issuer.get('name', '?')}",
        secret=str(spec.get("secretName") or "?"),
        revision=revision if isinstance(revision, int) else None,
        issuing=(conditions.get("Issuing") or {}).get("status") == "True",
        dns_names=tuple(str(d) for d in spec.get("dnsNames") or []),
    )


def certificates(cluster: Cluster, namespace: str | None = None) -> list[CertInfo]:
    return [cert_info(c) for c in cluster.certificates(namespace)]


def certificate_obj(cluster: Cluster, namespace: str, name: str) -> Obj:
    return cluster.get(path(GROUP, namespace, "certificates", name))


def trigger_renewal(cluster: Cluster, cert: Obj, now: datetime) -> None:
    """Add the ``Issuing`` condition (every other condition kept). The patch carries the resourceVersion read, so a
    Certificate changed meanwhile answers 409 instead of being overwritten."""
    ns, name = meta(cert)
    metadata = cert.get("metadata") or {}
    kept = [c for c in (cert.get("status") or {}).get("conditions") or [] if c.get("type") != "Issuing"]
    issuing = {
        "type": "Issuing",
        "status": "True",
        "reason": MANUAL,
        "message": "Certificate re-issuance manually triggered (chatops-bot)",
        "lastTransitionTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "observedGeneration": metadata.get("generation"),
    }
    body = {
        "metadata": {"resourceVersion": metadata.get("resourceVersion")},
        "status": {"conditions": [*kept, {k: v for k, v in issuing.items() if v is not None}]},
    }
    cluster.merge_patch(path(GROUP, ns, "certificates", name, "status"), body)


def failed_request(cluster: Cluster, namespace: str, name: str, revision: int) -> str | None:
    """Why the CertificateRequest of ``revision`` failed or was denied (None: it has not, or there is none yet)."""
    for request in cluster.list_all(path(GROUP, namespace, "certificaterequests")):
        notes = (request.get("metadata") or {}).get("annotations") or {}
        if notes.get(NAME_ANNOTATION) != name or notes.get(REVISION_ANNOTATION) != str(revision):
            continue
        conditions = objects.conditions(request)
        for kind in ("Denied", "InvalidRequest"):
            if (conditions.get(kind) or {}).get("status") == "True":
                return f"{kind}: {conditions[kind].get('message') or conditions[kind].get('reason') or '?'}"
        ready = conditions.get("Ready") or {}
        if ready.get("status") == "False" and ready.get("reason") == "Failed":
            return f"Failed: {ready.get('message') or '?'}"
    return None
