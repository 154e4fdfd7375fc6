"""The runbook registry: every module in ``runbooks/`` that defines ``RUNBOOK`` is a runbook.

A runbook has a pydantic params model (validated from chat words), ordered steps (read-only ones run
at once; mutating ones are offered as buttons, executed only through the bot's safety path), and a
``run(cluster, params)`` that returns a typed report. Adding a runbook is adding one module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

import runbooks
from runbooks.cluster import Cluster


@dataclass(frozen=True)
class Runbook:
    name: str
    summary: str
    usage: str
    params: type[BaseModel]
    steps: tuple[str, ...]
    run: Callable[[Cluster, Any], BaseModel]
    mutating_steps: tuple[str, ...] = ()


class RunbookArgsError(ValueError):
    """Arguments from chat that do not fit the runbook's params; the message gives the right form."""


def registry() -> dict[str, Runbook]:
    found: dict[str, Runbook] = {}
    for module in pkgutil.iter_modules(runbooks.__path__):
        loaded = importlib.import_module(f"runbooks.{module.name}")
        book = getattr(loaded, "RUNBOOK", None)
        if isinstance(book, Runbook):
            found[book.name] = book
    return dict(sorted(found.items()))


def parse_args(book: Runbook, words: Sequence[str]) -> BaseModel:
    """Positional words fill the params in declaration order; ``--key=value`` sets one by name."""
    fields = list(book.params.model_fields)
    values: dict[str, str] = {}
    positional = [w for w in words if not w.startswith("--")]
    for word in words:
        if word.startswith("--"):
            key, sep, value = word[2:].partition("=")
            if not sep or key not in fields:
                raise RunbookArgsError(f"`{word[:40]}` is not an option of {book.name}. Usage: `{book.usage}`")
            values[key] = value
    if len(positional) > len(fields):
        raise RunbookArgsError(f"Too many arguments. Usage: `{book.usage}`")
    for field, word in zip(fields, positional, strict=False):
        values.setdefault(field, word)
    try:
        return book.params.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ').rstrip('.')}"
            for e in exc.errors()
        )
        raise RunbookArgsError(f"{problems}. Usage: `{book.usage}`") from None
