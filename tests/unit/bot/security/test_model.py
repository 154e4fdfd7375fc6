"""Exceptions (accepted, expired) and new/fixed between two audits."""

from __future__ import annotations

from datetime import date

from bot.core.settings.config import SecurityException
from bot.security.model import apply_exceptions, compare, shown_key
from runbooks.checklist.security import AuditFinding


def finding(ns: str, name: str, check: str = "privileged", why: str = "c: privileged") -> AuditFinding:
    return AuditFinding(check=check, namespace=ns, name=name, why=why, rank=3)


def test_an_exception_accepts_matching_findings_of_its_checks_only() -> None:
    rule = SecurityException(match="kube-system/*", checks=["privileged"], reason="CNI needs it")
    kube = finding("kube-system", "DaemonSet/aws-node")
    kube_host = finding("kube-system", "DaemonSet/aws-node", "host", "hostNetwork")
    app = finding("app", "Deployment/web")
    open_, accepted, expired = apply_exceptions([kube, kube_host, app], [rule], date(2027, 1, 1))
    assert open_ == [kube_host, app]
    assert [a.finding for a in accepted] == [kube] and accepted[0].exception.reason == "CNI needs it"
    assert expired == []


def test_an_expired_exception_stops_silencing_and_says_so() -> None:
    rule = SecurityException(match="app/Deployment/web", reason="migrating", until=date(2027, 3, 1))
    web = finding("app", "Deployment/web")
    assert apply_exceptions([web], [rule], date(2027, 2, 28))[0] == []
    open_, accepted, expired = apply_exceptions([web], [rule], date(2027, 3, 1))
    assert open_ == [web] and accepted == [] and expired[0].exception.until == date(2027, 3, 1)


def test_new_and_fixed_against_the_last_audit() -> None:
    a, b, c = finding("app", "Pod/a"), finding("app", "Pod/b"), finding("app", "Pod/c")
    assert compare([a, b], [a, b], None) == ([], [])  # the first audit: nothing to compare with
    new, fixed = compare([b, c], [b, c], [a.key, b.key])
    assert new == [c] and fixed == [a.key]
    assert shown_key(a.key) == "app/Pod/a — c: privileged"
    # Accepted since the last audit is not "fixed": it is still there.
    assert compare([a], [], [a.key]) == ([], [])
