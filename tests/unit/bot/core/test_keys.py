from __future__ import annotations

import re

from bot.core import keys
from tests.support.bot_process import REPO


def test_the_docs_key_table_is_the_one_in_keys_py() -> None:
    text = (REPO / "docs" / "architecture.md").read_text()
    match = re.search(r"<!-- keys table[^>]*-->\n(.*?)\n<!-- end keys table -->", text, re.S)
    assert match, "docs/architecture.md has no generated keys table"
    assert match.group(1).strip() == keys.markdown_table()


def test_every_key_of_one_incident_shares_its_hash_tag() -> None:
    per_incident = [keys.doc(42), keys.timeline(42), keys.announcing(42), keys.escalation(42), keys.room_claim(42)]
    assert {re.search(r"\{(.*?)\}", key).group(1) for key in per_incident} == {"42"}  # type: ignore[union-attr]
    assert keys.offer("x") in keys.offer_done("x")
