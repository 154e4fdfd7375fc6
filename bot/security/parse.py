"""``/security``, ``/cert`` and ``/report`` text into typed commands (pure). Every name is checked before any API
call; every rejection says what was wrong and the right form."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import UserError
from bot.core.words import HELP_WORDS, Help, namespaces, object_name, split_options
from bot.core.words import verb as _verb

__all__ = ["Audit", "CertList", "CertRenew", "Help", "Weekly", "parse_cert", "parse_report", "parse_security"]
from runbooks.kube import names

SECURITY_USAGE = """*`/security` commands*
• `/security audit [--cluster=<name>]` — the Security Audit Checklist now: privileged containers, root, the default
ServiceAccount, exposed Services, open RBAC, host namespaces and paths; new and fixed since the last audit"""

CERT_USAGE = """*`/cert` commands*
• `/cert list [--namespace=<ns>]` — cert-manager Certificates, expiring within 14 days first
• `/cert renew <namespace>/<name>` — offer a renewal (a button, operators only), like `cmctl renew`
Each takes `--cluster=<name>`."""

REPORT_USAGE = """*`/report` commands*
• `/report weekly` — the weekly report now: cost, the access audit, incidents, pages and backups"""


@dataclass(frozen=True)
class Audit:
    pass


@dataclass(frozen=True)
class CertList:
    namespace: str | None = None


@dataclass(frozen=True)
class CertRenew:
    namespace: str
    name: str


@dataclass(frozen=True)
class Weekly:
    pass


def parse_security(words: list[str]) -> Audit | Help:
    verb, rest = _verb(words)
    if verb in HELP_WORDS:
        return Help(SECURITY_USAGE)
    if verb == "audit":
        positional, _ = split_options(rest, set(), SECURITY_USAGE)
        if positional:
            raise UserError(f"Write `/security audit [--cluster=<name>]`.\n{SECURITY_USAGE}")
        return Audit()
    raise UserError(f"`{names.shown(verb)}` is not a /security command.\n{SECURITY_USAGE}")


def parse_cert(words: list[str]) -> CertList | CertRenew | Help:
    verb, rest = _verb(words)
    if verb in HELP_WORDS:
        return Help(CERT_USAGE)
    if verb in ("list", "ls"):
        positional, options = split_options(rest, {"namespace"}, CERT_USAGE)
        if positional:
            raise UserError(f"Write `/cert list [--namespace=<ns>]`.\n{CERT_USAGE}")
        chosen = namespaces(options.get("namespace", ""))
        if len(chosen) > 1:
            raise UserError("Name one namespace: `--namespace=<ns>`.")
        return CertList(chosen[0] if chosen else None)
    if verb == "renew":
        positional, _ = split_options(rest, set(), CERT_USAGE)
        if len(positional) != 1 or positional[0].count("/") != 1:
            raise UserError(f"Name the certificate as `<namespace>/<name>`: `/cert renew prod/api-tls`.\n{CERT_USAGE}")
        namespace, name = positional[0].split("/")
        if not namespace or not name:
            raise UserError(f"Name the certificate as `<namespace>/<name>`: `/cert renew prod/api-tls`.\n{CERT_USAGE}")
        return CertRenew(namespaces(namespace)[0], object_name(name, "certificate", existing=True))
    raise UserError(f"`{names.shown(verb)}` is not a /cert command.\n{CERT_USAGE}")


def parse_report(words: list[str]) -> Weekly | Help:
    verb, rest = _verb(words)
    if verb in HELP_WORDS:
        return Help(REPORT_USAGE)
    if verb == "weekly" and not rest:
        return Weekly()
    raise UserError(f"`{names.shown(' '.join(words))}` is not a /report command.\n{REPORT_USAGE}")
