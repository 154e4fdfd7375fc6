from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes.client.exceptions import ApiException

from runbooks.kube import names
from runbooks.kube.errors import explain
from runbooks.kube.workload import matches

HOSTILE = [
    "--server=https://evil",
    "../etc",
    "$(reboot)",
    "a;b",
    "x" * 300,
    "prоd",
    "ＡＢＣ",
    "a b",
    "",
    "-lead",
    "trail-",
    "UPPER",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_names_are_refused(value: str) -> None:
    with pytest.raises(names.InvalidName):
        names.label(value, "namespace")
    with pytest.raises(names.InvalidName):
        names.subdomain(value, "deployment")


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_only_dns1123_names_pass(value: str) -> None:
    try:
        names.label(value, "namespace")
    except names.InvalidName as exc:
        assert "not a valid namespace name" in str(exc)
        return
    assert value.isascii() and value == value.lower() and len(value) <= 63 and " " not in value


def test_namespace_allow_list() -> None:
    assert names.namespace("production", ["production"]) == "production"
    with pytest.raises(names.InvalidName, match="not one the bot may act in"):
        names.namespace("kube-system", ["production"])


def test_selector_matching() -> None:
    assert matches({"app": "a", "tier": "web"}, "app=a,tier=web")
    assert not matches({"app": "b"}, "app=a")
    assert matches({"app": "a"}, "tier!=db")


def test_api_errors_read_as_sentences() -> None:
    assert "changed by someone else meanwhile" in explain(ApiException(status=409), "deployment ns/app")
    assert "may not change deployment ns/app" in explain(ApiException(status=403), "deployment ns/app", "change")
