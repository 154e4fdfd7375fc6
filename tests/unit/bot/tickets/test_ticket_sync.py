"""What a ticket is sent to catch up with its incident (``stages_to``), the keys that may be linked (``home_of``), and
how a tracker's rate limits are read (``http.call`` against a stand-in answering as GitHub does)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.tickets import http
from bot.tickets.http import Down
from bot.tickets.model import MADE, TrackerRefused, home_of, stage_of, stages_to
from tests.support.github_issues import TOKEN, GithubIssuesStandIn
from tests.support.standin import Fault


@pytest.mark.parametrize(
    ("synced", "now", "moves"),
    [
        (MADE, None, []),
        (MADE, "acknowledged", ["acknowledged"]),
        (MADE, "closed", ["acknowledged", "mitigated", "resolved", "closed"]),
        ("acknowledged", "acknowledged", []),
        ("acknowledged", "mitigated", ["mitigated"]),
        ("acknowledged", "resolved", ["mitigated", "resolved"]),
        ("acknowledged", "closed", ["mitigated", "resolved", "closed"]),  # resolved (→ Done) is not skipped
        ("mitigated", "closed", ["resolved", "closed"]),
        ("resolved", "closed", ["closed"]),
        ("closed", "closed", []),
        ("resolved", "acknowledged", ["reopened"]),
        ("resolved", "mitigated", ["reopened", "mitigated"]),  # reopened, then mitigated while the move waited
        ("resolved", "resolved", []),  # reopened and resolved again meanwhile: where it was
        ("mitigated", "acknowledged", ["reopened"]),  # the alerts fired again
        ("mitigated", None, ["reopened"]),  # fired again, nobody had acknowledged
        ("reopened", "acknowledged", []),
        ("reopened", None, []),
        ("reopened", "mitigated", ["mitigated"]),
        ("reopened", "closed", ["mitigated", "resolved", "closed"]),
        ("acknowledged", None, []),
    ],
)
def test_a_ticket_walks_every_stage_between_what_it_was_sent_and_the_incident(
    synced: str, now: str | None, moves: list[str]
) -> None:
    assert stages_to(synced, now) == moves  # type: ignore[arg-type]


def test_firing_again_reopens_the_ticket() -> None:
    assert stage_of("firing again") == "reopened"
    assert stage_of("reopened") == "reopened" and stage_of("ticket") is None


def test_the_home_of_a_key() -> None:
    assert home_of("jira", "OPS-12") == "OPS" and home_of("jira", "A_B-1") == "A_B"
    assert home_of("github", "acme/ops#56") == "acme/ops" and home_of("github", "a-b/c.d_e#1") == "a-b/c.d_e"
    assert home_of("linear", "ENG-78") == "ENG"


@pytest.fixture
def github() -> Iterator[GithubIssuesStandIn]:
    server = GithubIssuesStandIn()
    yield server
    server.stop()


def _get(github: GithubIssuesStandIn) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{github.url}/repos/acme/ops/issues"
    asyncio.run(http.call("github", "GET", url, headers=headers, timeout=5, token="GITHUB_TOKEN", what="repo"))


@pytest.mark.parametrize(
    ("fault", "after"),
    [
        (Fault(403, {"Retry-After": "7", "X-RateLimit-Remaining": "4200"}, body={"message": "slow down"}), 7.0),
        (Fault(403, {"X-RateLimit-Remaining": "4200"},
               body={"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}), None),
        (Fault(429, {"Retry-After": "3"}, body={"message": "You have exceeded a secondary rate limit."}), 3.0),
        (Fault(403, {"X-RateLimit-Remaining": "0", "Retry-After": "1"}, body={"message": "API rate limit"}), 1.0),
    ],
)  # fmt: skip
def test_githubs_rate_limits_are_down_with_their_retry_after(
    github: GithubIssuesStandIn, fault: Fault, after: float | None
) -> None:
    github.fail(fault)
    with pytest.raises(Down, match=r"rate limited|429") as raised:
        _get(github)
    assert raised.value.retry_after == after and not raised.value.unsure


def test_a_403_that_is_no_rate_limit_is_a_refusal(github: GithubIssuesStandIn) -> None:
    github.fail(Fault(403, {"X-RateLimit-Remaining": "4200"}, body={"message": "Resource not accessible"}))
    with pytest.raises(TrackerRefused, match="403 Resource not accessible") as raised:
        _get(github)
    assert not isinstance(raised.value, Down)
    _get(github)  # answered as usual once the fault is spent
