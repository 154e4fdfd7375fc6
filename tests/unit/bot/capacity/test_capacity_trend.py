"""The capacity samples (a few bytes each) and their trend said as a sentence; the review and the digest's resource use
as Slack takes them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from slack_sdk.models.blocks import Block

from bot.capacity import render
from bot.capacity.trend import KEEP_DAYS, MIN_SAMPLES, Sample, day_number, decode, sentence, slope
from bot.core.blocks import messages
from bot.shell import blockkit
from runbooks.checklist.capacity import Amount, Group, Node, PinnedHpa, Review

GIB, MIB = 1024**3, 1024**2
TODAY = day_number(date(2026, 3, 2))
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def series(days: int, mem_now: int, mem_per_week: float, mem_alloc: int, cpu: int = 4000) -> list[Sample]:
    return [
        Sample(TODAY - back, cpu, round(mem_now - mem_per_week / 7 * back), 8000, mem_alloc)
        for back in reversed(range(days))
    ]


def test_a_sample_is_a_few_bytes_and_reads_back() -> None:
    group = Group("general", 3, Amount(12, 48 * GIB), Amount(7.25, 30.5 * GIB))
    sample = Sample.of(TODAY, group)
    assert sample.encode() == "7250,31232,12000,49152"
    assert len(sample.encode()) + len(str(TODAY)) <= 30
    assert decode({str(TODAY): sample.encode(), str(TODAY - 1): "1,2,3,4", "x": "1,2,3,4", "9": "a,b"}) == [
        Sample(TODAY - 1, 1, 2, 3, 4),
        sample,
    ]  # by day; what is not a sample skipped
    assert day_number(date(1970, 1, 2)) == 1 and KEEP_DAYS == 90


def test_slope_is_the_least_squares_rate() -> None:
    assert slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2)
    assert slope([(5, 1), (5, 9)]) == 0.0


@pytest.mark.parametrize(
    ("mem_per_week", "alloc", "said"),
    [
        (400, 12_000, "memory requests grow 4 %/week; full in ~5 weeks at this rate"),
        (400, 10_000, "memory requests grow 4 %/week; already at allocatable"),
        (2_500, 12_000, "memory requests grow 25 %/week; full within a week at this rate"),
        (10, 30_000, "memory requests steady (0.1 %/week)"),
        (100, 30_000, "memory requests grow 1 %/week; full in over a year at this rate"),
        (-600, 12_000, "memory requests shrink 6 %/week"),
    ],
)
def test_the_trend_as_a_rate_and_a_time_to_full(mem_per_week: float, alloc: int, said: str) -> None:
    text = sentence(series(28, 10_000, mem_per_week, alloc))
    assert text.startswith("trend over 28 days: CPU requests steady (0.0 %/week); ")
    assert said in text


def test_no_trend_before_a_week_of_samples() -> None:
    assert sentence(series(MIN_SAMPLES - 1, 10_000, 400, 12_000)) == "trend: not enough samples yet (6 days)"
    assert sentence([]) == "trend: not enough samples yet (0 days)"
    assert sentence(series(1, 10_000, 0, 12_000)) == "trend: not enough samples yet (1 day)"


def slack_takes(blocks: list[Block]) -> None:
    blockkit.check_message("Capacity review", [b.to_dict() for b in blocks])  # raises what Slack would refuse


def review(groups: int, pending: int = 0) -> Review:
    made = [Group(f"group-{i:03d}-" + "x" * 40, 5, Amount(20, 80 * GIB), Amount(15, 60 * GIB), Amount(9, 40 * GIB))
            for i in range(groups)]  # fmt: skip
    reasons = {"Insufficient memory": pending}
    pods = [("shop", f"pod-{i}", "Insufficient memory") for i in range(min(pending, 200))]
    pinned = [PinnedHpa("shop", f"hpa-{i}", 10, NOW) for i in range(50)]
    return Review("prod", groups=made, pending=reasons if pending else {}, pending_pods=pods, pinned=pinned, over=[])


def test_the_review_of_any_size_is_messages_slack_takes() -> None:
    reviews = [review(300, pending=5_000), review(3)]
    trends = {"prod": {g.name: "trend over 90 days: " + "y" * 200 for g in reviews[0].groups}}
    parts = messages(render.review_blocks(reviews, trends, NOW), most=3)
    assert 1 <= len(parts) <= 3
    for part in parts:
        slack_takes(part)
    text = "\n".join(str(b.to_dict()) for part in parts for b in part)
    assert "and 270 smaller node groups (1350 nodes)" in text and "• and 4995 more" in text


def test_the_review_says_what_it_could_not_read() -> None:
    gone = Review("gone", notes=["could not reach the Kubernetes API for nodes (MaxRetryError)"], complete=False)
    assert render.review_lines(gone, {}, NOW) == [
        "⚠️ no nodes read: could not reach the Kubernetes API for nodes (MaxRetryError)"
    ]
    assert render.summary([gone, review(2, pending=3)]) == (
        "Capacity review — gone: no nodes read; prod: 2 node groups, 3 pending pods, 50 HPAs at max"
    )


def test_the_digest_names_nodes_above_the_warning_and_the_total() -> None:
    nodes = [
        Node(f"n{i}", "general", Amount(4, 16 * GIB), used=Amount(3.6 if i < 12 else 1, 4 * GIB)) for i in range(20)
    ]
    nodes.append(Node("unmeasured", "general", Amount(4, 16 * GIB)))
    lines, hot = render.use_lines("prod", nodes, 85, None)
    assert hot == 12
    assert lines[0] == "*prod*: CPU 64 % of 80.0 cores, memory 25 % of 320 GiB in use (20 nodes); 12 above 85 %"
    assert lines[1] == "• `n0` (general): CPU 90 %"
    assert lines[-1] == "• and 2 more" and len(lines) == 12
    assert render.use_lines("prod", nodes, 95, None)[1] == 0
    assert render.use_lines("prod", nodes, 85, "no metrics API (metrics.k8s.io does not answer): use unknown") == (
        ["*prod*: no metrics API (metrics.k8s.io does not answer): use unknown"],
        0,
    )
