"""What every command's text is made of, read the same way everywhere (pure): the verb, ``--key[=value]`` options,
namespaces and object names by Kubernetes' rules, the cluster named, free text without control characters. Every
rejection is a ``UserError`` that says what was wrong (names shown safely)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.errors import UserError
from runbooks.errors import BadRequest
from runbooks.kube import names

HELP_WORDS = ("help", "--help", "-h")


@dataclass(frozen=True)
class Help:
    """The command's usage, asked for (or the command was given with nothing)."""

    text: str


def verb(words: Sequence[str]) -> tuple[str, list[str]]:
    """The first word, lower case ("help" when there is none), and the rest."""
    return (words[0].lower() if words else "help"), list(words[1:])


def split_options(words: Sequence[str], allowed: set[str], usage: str) -> tuple[list[str], dict[str, str]]:
    """Positional words and ``--key[=value]`` options (only ``allowed`` ones)."""
    positional, options = [], {}
    for word in words:
        if not word.startswith("--"):
            positional.append(word)
            continue
        key, _, value = word[2:].partition("=")
        if key not in allowed:
            raise UserError(f"`{names.shown(word)}` is not an option here.\n{usage}")
        options[key] = value
    return positional, options


def namespaces(value: str) -> list[str]:
    """``a,b`` as namespace names."""
    try:
        return [names.label(n, "namespace") for n in value.split(",") if n] if value else []
    except BadRequest as exc:
        raise UserError(str(exc)) from None


def object_name(value: str, what: str, *, existing: bool = False) -> str:
    """A name the bot gives is a DNS-1123 label; one that exists may be any object name (a subdomain)."""
    try:
        return names.subdomain(value, what) if existing else names.label(value, what)
    except BadRequest as exc:
        raise UserError(str(exc)) from None


def cluster_name(value: str, configured: Sequence[str]) -> str:
    """One of ``kubernetes.clusters``, by name."""
    if value not in configured:
        known = ", ".join(f"`{c}`" for c in configured) or "none (the bot uses the cluster it runs in)"
        raise UserError(f"`{names.shown(value)}` is not a configured cluster. Configured: {known}.")
    return value


def check_text(text: str, what: str, limit: int, *, multiline: bool = False) -> str:
    """Reject control or invisible formatting characters and overlong text; return it stripped."""
    for ch in text:
        if multiline and ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise UserError(f"The {what} contains a control character (U+{ord(ch):04X}); use plain text.")
    text = text.strip()
    if len(text) > limit:
        raise UserError(f"The {what} is {len(text):,} characters long; keep it to {limit}.")
    return text
