"""RDS identifiers: the restore's default target id is always one RDS accepts."""

from __future__ import annotations

import pytest

from runbooks.aws import names


@pytest.mark.parametrize(
    "source",
    [
        "prod-db",
        "payments-ledger-primary-eu-central-1-replica-a",  # 46: cut at a "-"
        "a" * 63,
        "a" + "-b" * 31,  # 63, a "-" at every other place
        "Mixed-Case-DB",
    ],
)
def test_the_restored_id_is_a_legal_instance_identifier(source: str) -> None:
    made = names.restored(source, "restored-20261202")
    assert names.instance(made) == made
    assert len(made) <= 63 and "--" not in made and not made.endswith("-")
    assert made.endswith("-restored-20261202") and made.startswith(source.lower()[:10].rstrip("-"))
