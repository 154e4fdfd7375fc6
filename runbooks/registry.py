"""The runbook registry: every module in ``runbooks/books/`` that defines ``RUNBOOK`` is a runbook.

A runbook has a pydantic params model (validated from chat words), ordered steps (read-only ones run
at once; mutating ones are offered as buttons, executed only through the bot's safety path), a
``run(cluster, params)`` that returns a typed report, and optionally ``propose(report, cluster, now)``:
the changes it offers after reading the cluster. Adding a runbook is adding one module to
``runbooks/books/`` (and one render function for its report in the bot).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from runbooks import changes
from runbooks.changes import Change, Proposal
from runbooks.errors import BadRequest
from runbooks.kube.client import Cluster

BOOKS = "runbooks.books"  # scanned by name: the books sit above the registry, which must not import them
Propose = Callable[[Any, str | None, datetime], list[Proposal]]


@dataclass(frozen=True)
class Runbook:
    name: str
    summary: str
    usage: str
    params: type[BaseModel]
    steps: tuple[str, ...]
    run: Callable[[Cluster, Any], BaseModel]
    mutating_steps: tuple[str, ...] = ()
    propose: Propose | None = None
    shows_logs: bool = False  # its report quotes pod logs (posted only to the person who ran it, by default)


class RunbookArgsError(BadRequest):
    """Arguments from chat that do not fit the runbook's params; the message gives the right form."""


@cache
def registry() -> Mapping[str, Runbook]:
    """Every runbook by name (the book modules are imported once)."""
    found: dict[str, Runbook] = {}
    package = importlib.import_module(BOOKS)
    for module in pkgutil.iter_modules(package.__path__):
        loaded = importlib.import_module(f"{BOOKS}.{module.name}")
        book = getattr(loaded, "RUNBOOK", None)
        if isinstance(book, Runbook):
            found[book.name] = book
    return dict(sorted(found.items()))


@cache
def _every_change() -> None:
    """Load every module that defines a Change: the runbooks' own, and ``runbooks/changes/`` (restores, node
    changes, upgrades, renewals)."""
    registry()
    for module in pkgutil.iter_modules(changes.__path__):
        importlib.import_module(f"{changes.__name__}.{module.name}")


def parse_change(data: Mapping[str, Any] | None) -> Change | None:
    """A stored offer as the Change its module defined (every such module is loaded first)."""
    _every_change()
    return changes.parse(data)


def target(params: BaseModel) -> str:
    """What a runbook's params point at: ``namespace/name``."""
    name = getattr(params, "workload", None) or getattr(params, "deployment", "?")
    return f"{getattr(params, 'namespace', '?')}/{name}"


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
