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


def _built_keys() -> list[str]:
    """Every key ``bot.core.keys`` builds: its constants, and each function called with marker arguments."""
    import inspect

    built = []
    for name, value in vars(keys).items():
        if name.startswith("_") or name in ("TABLE", "markdown_table", "KeyDoc", "dataclass"):
            continue
        if isinstance(value, str) and name.isupper():
            built.append(value)
        elif inspect.isfunction(value) and value.__module__ == keys.__name__:
            params = inspect.signature(value).parameters
            built.append(value(*(f"X{i}" for i, _ in enumerate(params))))
    return built


def _patterns() -> dict[str, re.Pattern[str]]:
    """Each key the table names, as a pattern: ``{n}``, ``{id}``, ``{g}`` a hash tag of any value, ``<…>`` any part."""
    out = {}
    for row in keys.TABLE:
        for shown in re.findall(r"`([^`]+)`", row.key):
            pattern = re.escape(shown)
            pattern = re.sub(r"\\\{(?:n|id|g)\\\}", r"\\{[^}]+\\}", pattern)
            pattern = re.sub(r"<[^>]+>", "[^:]+", pattern)
            out[shown] = re.compile(f"^{pattern}$")
    return out


def test_the_key_table_names_every_key_and_only_keys_that_are_built() -> None:
    built, patterns = _built_keys(), _patterns()
    assert [k for k in built if not any(p.match(k) for p in patterns.values())] == []  # each key is documented
    assert [s for s, p in patterns.items() if not any(p.match(k) for k in built)] == []  # each row is a real key
