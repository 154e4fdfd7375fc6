"""/security, /cert and /report words: the right command, or what was wrong and the right form."""

from __future__ import annotations

import pytest

from bot.core.errors import UserError
from bot.security import parse


def test_commands() -> None:
    assert parse.parse_security(["audit"]) == parse.Audit()
    assert parse.parse_cert(["list", "--namespace=prod"]) == parse.CertList("prod")
    assert parse.parse_cert(["renew", "prod/api-tls"]) == parse.CertRenew("prod", "api-tls")
    assert parse.parse_report(["weekly"]) == parse.Weekly()
    assert isinstance(parse.parse_cert([]), parse.Help)


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (["renew", "api-tls"], "<namespace>/<name>"),
        (["renew", "/api-tls"], "<namespace>/<name>"),
        (["renew", "Prod/api"], "not a valid namespace"),
        (["renew", "prod/$(rm -rf)"], "not a valid certificate"),
        (["list", "--namespace=a,b"], "one namespace"),
        (["list", "--force"], "not an option"),
        (["rotate"], "not a /cert command"),
    ],
)
def test_bad_cert_words(words: list[str], said: str) -> None:
    with pytest.raises(UserError, match=said.replace("$", r"\$").replace("(", r"\(")):
        parse.parse_cert(words)


def test_bad_security_and_report_words() -> None:
    with pytest.raises(UserError, match="not a /security command"):
        parse.parse_security(["scan"])
    with pytest.raises(UserError, match="not a /report command"):
        parse.parse_report(["monthly"])
