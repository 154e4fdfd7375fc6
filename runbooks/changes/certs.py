"""Certificate renewal, the operations guide's "Certificate Rotation": offered as a button, carried out by the bot's
safety path (operators, once, audited), and followed until cert-manager has issued the new certificate."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from runbooks.changes import Change, Site
from runbooks.errors import Refused
from runbooks.kube import certs
from runbooks.kube.errors import explain as explain_kube
from runbooks.kube.lean import ApiException

GRANT = "patch on certificates/status and list on certificaterequests (deploy/rbac-certs.yaml)"


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


class CertRenew(Change):
    kind: Literal["cert-renew"] = "cert-renew"
    namespace: str
    name: str
    revision: int | None = None  # the certificate's revision when it was offered
    not_after: str | None = None  # …and its expiry then (ISO 8601), for the confirm

    label: ClassVar[str] = "certificate renewal"
    verb: ClassVar[str] = "renew"
    done: ClassVar[str] = "triggered the renewal of"
    still: ClassVar[str] = "still issuing"
    follow_for: ClassVar[float | None] = 10 * 60.0

    @property
    def target(self) -> str:
        return f"certificate {self.namespace}/{self.name}"

    @property
    def progress_title(self) -> str:
        return f"Renewal of certificate `{self.namespace}/{self.name}`"

    @property
    def states(self) -> str:
        until = f" (valid until {self.not_after[:16].replace('T', ' ')})" if self.not_after else ""
        return (
            f"Asks cert-manager to issue a new certificate for {self.namespace}/{self.name}{until}, "
            "like `cmctl renew`; the secret is replaced once the new one is issued."
        )

    def explain(self, exc: BaseException) -> str:
        return explain_kube(exc, self.target, "change", GRANT)

    def carry_out(self, site: Site, now: datetime) -> str:
        cluster = site.cluster()
        try:
            obj = certs.certificate_obj(cluster, self.namespace, self.name)
        except ApiException as exc:
            if exc.status == 404:
                raise Refused(f"certificate {self.namespace}/{self.name} does not exist (any more)") from None
            raise
        cert = certs.cert_info(obj)
        if cert.issuing:
            raise Refused("cert-manager is issuing it already (its Issuing condition is True)")
        if cert.revision != self.revision:
            raise Refused(f"it was renewed since the offer (revision {cert.revision}); run /cert renew again")
        try:
            certs.trigger_renewal(cluster, obj, now)
        except ApiException as exc:
            if exc.status == 409:
                raise Refused("it changed while the renewal was being asked for; run /cert renew again") from None
            raise
        return f"(revision {cert.revision or 0}, valid until {_day(cert.not_after)})"

    def progress(self, site: Site) -> tuple[str, bool]:
        cluster = site.cluster()
        cert = certs.cert_info(certs.certificate_obj(cluster, self.namespace, self.name))
        before = self.revision or 0
        if cert.revision is not None and cert.revision > before and cert.ready:
            return f"issued: revision {cert.revision}, valid until {_day(cert.not_after)}", True
        failure = certs.failed_request(cluster, self.namespace, self.name, before + 1)
        if failure is not None:
            return f"failed: the CertificateRequest says {failure}", True
        if cert.issuing:
            return "cert-manager is issuing a new certificate", False
        return f"waiting for cert-manager (Ready: {cert.ready_reason or cert.ready})", False
