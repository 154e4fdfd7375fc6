"""Parsing ``/incident`` text into typed commands (pure; no Slack, no Redis).

Every rejection is a ParseError whose message says what was wrong and the right form.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import words as chat_words
from bot.core.errors import UserError
from bot.core.ids import mentioned_user
from bot.core.settings.teams import TEAM_NAME
from bot.core.severity import Severity
from bot.incidents.model import TITLE_MAX, Action, parse_ref
from runbooks.errors import BadRequest
from runbooks.kube import names

__all__ = ["check_text", "parse_ref"]

MAX_TEXT = 4000
NOTE_MAX = 500

USAGE = """*`/incident` commands*
• `/incident open P1 <title> [--service=ns/deployment] [--team=data]` — open one (no arguments: a form)
• `/incident team INC-n <team>` — hand it over, paging that team's on-call
• `/incident ack|mitigate|resolve INC-n [note]` — lifecycle steps
• `/incident reopen INC-n [note]`, `/incident close INC-n` — after resolve
• `/incident status INC-n`, `/incident list [--recent]` — one incident; all not closed; the last 30 days
• `/incident update INC-n [--public] <text>` — a status update for responders, stakeholders (and the status page)
• `/incident severity INC-n P2`, `/incident assign INC-n @user` — re-assess; set the commander
• `/incident timeline INC-n [page]`, `/incident postmortem INC-n` — every step; a post-mortem draft
• `/incident escalate INC-n emergency` — call and DM the severity's emergency contacts now (commander or operators)
• `/incident ticket INC-n [link|relink OPS-1234]` — its ticket in the tracker now, or link an existing one
• `/incident action INC-n <text> [@owner] [--due=YYYY-MM-DD]`, `/incident actions [INC-n | --mine | --open]`
Inside an incident's own channel the INC-n may be left out.
Severities: P1 (critical), P2 (high), P3 (medium), P4 (low).
Also: `/oncall` (who is on call), `/health` (the cluster digest now), `/runbook list` (diagnose; roll back,
restart or scale with a confirmed button), `/rollback <deployment> [namespace]`."""

LIFECYCLE_VERBS = {
    "ack": Action.ACKNOWLEDGE,
    "acknowledge": Action.ACKNOWLEDGE,
    "mitigate": Action.MITIGATE,
    "mitigated": Action.MITIGATE,
    "resolve": Action.RESOLVE,
    "resolved": Action.RESOLVE,
    "reopen": Action.REOPEN,
    "close": Action.CLOSE,
}
UPDATE_MAX = 2000


class ParseError(UserError):
    """Bad input; the message is shown to the user as is."""


class MissingIncidentId(ParseError):
    """No usable INC-n where one belongs: inside an incident channel the channel's incident is meant."""


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class OpenModal:
    pass


@dataclass(frozen=True)
class Open:
    severity: Severity
    title: str
    service: str | None = None  # ``--service=namespace[/workload]``: what it is about (its changes are read there)
    team: str | None = None  # ``--team=data``: whose it is (else the default team)


@dataclass(frozen=True)
class HandOver:
    """``/incident team INC-n data``: the incident is the named team's from now."""

    number: int
    team: str


@dataclass(frozen=True)
class Lifecycle:
    action: Action
    number: int
    note: str


@dataclass(frozen=True)
class Status:
    number: int


@dataclass(frozen=True)
class ListOpen:
    recent: bool = False


@dataclass(frozen=True)
class ChangeSeverity:
    number: int
    severity: Severity
    note: str


@dataclass(frozen=True)
class Timeline:
    number: int
    page: int = 1


@dataclass(frozen=True)
class Update:
    number: int
    text: str
    public: bool = False  # --public: the status page too


@dataclass(frozen=True)
class Assign:
    number: int
    commander: str


@dataclass(frozen=True)
class Postmortem:
    number: int


@dataclass(frozen=True)
class Escalate:
    """``/incident escalate INC-n emergency``: the severity's emergency contacts, now."""

    number: int


Command = (
    Help
    | OpenModal
    | Open
    | Lifecycle
    | Status
    | ListOpen
    | ChangeSeverity
    | Timeline
    | Update
    | Assign
    | Postmortem
    | Escalate
    | HandOver
)


def unescape_slack(text: str) -> str:
    """Slack sends &, < and > as HTML entities; store the characters themselves."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def check_text(text: str, what: str, limit: int, *, multiline: bool = False) -> str:
    """``bot.core.words.check_text``, refusing with this parser's own error."""
    try:
        return chat_words.check_text(text, what, limit, multiline=multiline)
    except UserError as exc:
        raise ParseError(str(exc)) from None


def _number(token: str | None, verb: str, form: str) -> int:
    if token is None:
        raise MissingIncidentId(
            f"Which incident? Write `/incident {verb} INC-n{form}`, e.g. `/incident {verb} INC-42`."
        )
    number = parse_ref(token)
    if number is None:
        raise MissingIncidentId(f"`{clip_token(token)}` is not an incident id; write it as INC-42.")
    return number


def with_incident(text: str, number: int) -> str:
    """``resolve rolled back`` typed in INC-7's channel means ``resolve INC-7 rolled back``."""
    verb, _, rest = text.strip().partition(" ")
    return f"{verb} INC-{number} {rest}".strip()


def clip_token(token: str) -> str:
    shown = token if len(token) <= 30 else token[:29] + "…"
    return shown.replace("`", "'")


def _severity(token: str | None, form: str) -> Severity:
    if token is None:
        raise ParseError(f"Give a severity, P1 to P4: `{form}`.")
    severity = Severity.parse(token)
    if severity is None:
        raise ParseError(f"`{clip_token(token)}` is not a severity; use P1, P2, P3 or P4: `{form}`.")
    return severity


def parse(text: str) -> Command:
    """Parse the text after ``/incident``."""
    if len(text) > MAX_TEXT:
        raise ParseError(f"That command is {len(text):,} characters long; commands stop at {MAX_TEXT}.")
    text = unescape_slack(text)
    check_text(text, "command", MAX_TEXT, multiline=True)
    words = text.split(maxsplit=1)
    if not words:
        return Help()
    verb = words[0].lower()
    rest = words[1].strip() if len(words) > 1 else ""
    if verb in ("help", "-h", "--help", "?"):
        return Help()
    if verb in ("open", "new", "declare"):
        return _parse_open(rest)
    if verb in LIFECYCLE_VERBS:
        head, _, note = rest.partition(" ")
        number = _number(head or None, verb, " [note]")
        return Lifecycle(LIFECYCLE_VERBS[verb], number, check_text(note, "note", NOTE_MAX))
    if verb == "status":
        return Status(_number(rest.split()[0] if rest else None, verb, ""))
    if verb in ("list", "ls"):
        if rest.lower() in ("--recent", "recent"):
            return ListOpen(recent=True)
        if rest:
            raise ParseError("Write `/incident list` (not closed) or `/incident list --recent` (last 30 days).")
        return ListOpen()
    if verb == "update":
        head, _, body = rest.partition(" ")
        number = _number(head or None, verb, " [--public] <text>")
        public = body.startswith("--public")
        if public:
            body = body.removeprefix("--public").lstrip()
        body = check_text(body, "update", UPDATE_MAX, multiline=True)
        if not body:
            raise ParseError(f"Say what is happening: `/incident update INC-{number} [--public] <text>`.")
        return Update(number, body, public)
    if verb == "assign":
        parts = rest.split()
        number = _number(parts[0] if parts else None, verb, " @user")
        commander = mentioned_user(parts[1]) if len(parts) == 2 else None
        if commander is None:
            raise ParseError(f"Name one person: `/incident assign INC-{number} @user`.")
        return Assign(number, commander)
    if verb == "escalate":
        parts = rest.split()
        number = _number(parts[0] if parts else None, verb, " emergency")
        if len(parts) != 2 or parts[1].lower() != "emergency":
            raise ParseError(
                f"Write `/incident escalate INC-{number} emergency` to call the emergency contacts of its severity."
            )
        return Escalate(number)
    if verb == "team":
        parts = rest.split()
        number = _number(parts[0] if parts else None, verb, " <team>")
        if len(parts) != 2 or not TEAM_NAME.match(parts[1].lower()):
            raise ParseError(f"Name one team: `/incident team INC-{number} data`.")
        return HandOver(number, parts[1].lower())
    if verb in ("postmortem", "post-mortem", "pm"):
        return Postmortem(_number(rest.split()[0] if rest else None, verb, ""))
    if verb in ("severity", "sev"):
        parts = rest.split(maxsplit=2)
        form = "/incident severity INC-n P2 [reason]"
        number = _number(parts[0] if parts else None, verb, " P2")
        severity = _severity(parts[1] if len(parts) > 1 else None, form)
        return ChangeSeverity(number, severity, check_text(parts[2] if len(parts) > 2 else "", "reason", NOTE_MAX))
    if verb == "timeline":
        parts = rest.split()
        number = _number(parts[0] if parts else None, verb, " [page]")
        page = parts[1] if len(parts) > 1 else "1"
        if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= 1000:
            raise ParseError(f"`{clip_token(page)}` is not a page number: `/incident timeline INC-{number} 2`.")
        return Timeline(number, int(page))
    raise ParseError(f"`{clip_token(verb)}` is not an /incident command.\n{USAGE}")


def _parse_open(rest: str) -> Command:
    if not rest:
        return OpenModal()
    form = "/incident open P1 <title>"
    head, _, title = rest.partition(" ")
    severity = Severity.parse(head)
    if severity is None:
        if head.upper().startswith("P") and head[1:].isdigit():
            raise ParseError(f"`{clip_token(head)}` is not a severity; use P1, P2, P3 or P4: `{form}`.")
        raise ParseError(f"Start with the severity: `{form}` (or `/incident open` alone for a form).")
    service = team = None
    words = title.split(" ")
    given = [w for w in words if w.startswith("--service=")]
    if len(given) > 1:
        raise ParseError(f"Name one service: `{form} --service=namespace/deployment`.")
    if given:
        service = parse_service(given[0].removeprefix("--service="), "Name it as `--service=namespace/deployment`.")
    teams = [w.removeprefix("--team=").lower() for w in words if w.startswith("--team=")]
    if len(teams) > 1 or (teams and not TEAM_NAME.match(teams[0])):
        raise ParseError(f"Name one team: `{form} --team=data`.")
    team = teams[0] if teams else None
    title = " ".join(w for w in words if not w.startswith(("--service=", "--team=")))
    title = check_text(title, "title", TITLE_MAX)
    if not title:
        raise ParseError(f"Give the incident a title: `{form}`.")
    return Open(severity, title, service, team)


def parse_service(value: str, form: str) -> str:
    """``namespace`` or ``namespace/workload`` (``production/api-gateway``), each a valid Kubernetes name; a
    refusal ends with ``form``."""
    namespace, _, workload = value.partition("/")
    try:
        names.label(namespace, "namespace")
        if workload:
            names.subdomain(workload, "workload")
    except BadRequest as exc:
        raise ParseError(f"{exc} {form}") from None
    return f"{namespace}/{workload}" if workload else namespace
