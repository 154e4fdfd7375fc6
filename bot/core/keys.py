"""Every Redis key the bot uses, in one place; ``docs/architecture.md``'s key table is checked against
:data:`TABLE` (``python -m bot.core.keys`` prints it).

Keys that one Lua script or transaction touches together share a hash tag (``inc:{42}:…``), so every
script runs in a single Redis Cluster slot; global keys (counters, indexes, due-time sets) stand alone.
"""

from __future__ import annotations

from dataclasses import dataclass

# Incidents ---------------------------------------------------------------------------------------
SEQ = "inc:seq"
ACTIVE = "inc:active"


def doc(number: int) -> str:
    return f"inc:{{{number}}}:doc"


def timeline(number: int) -> str:
    return f"inc:{{{number}}}:timeline"


def announcing(number: int) -> str:
    return f"inc:{{{number}}}:announcing"


def room_claim(number: int) -> str:
    return f"inc:{{{number}}}:room"


def reminder(number: int, since: int, interval: int) -> str:
    return f"inc:{{{number}}}:remind:{since}:{interval}"


def room(channel: str) -> str:
    return f"chan:{channel}"


# Readiness: /readyz writes and reads this key (a server that answers PING but cannot serve keys is not ready).
READY_PROBE = "readyz:probe"


# Slack requests ----------------------------------------------------------------------------------
def seen_event(event_id: str) -> str:
    return f"seen:event:{event_id}"


def seen_trigger(trigger_id: str) -> str:
    return f"seen:trigger:{trigger_id}"


# Escalation and on-call --------------------------------------------------------------------------
DUE = "{esc}:due"
PENDING = "{esc}:pending"
ONCALL_ANCHOR = "oncall:anchor"
ONCALL_OVERRIDE = "oncall:override"
ONCALL_TIMELINE = "oncall:timeline"


def oncall_anchor(team: str) -> str:
    return f"oncall:anchor:{team}"


def oncall_covers(team: str) -> str:
    return f"oncall:covers:{team}"


def cover_request(request_id: str) -> str:
    return f"oncall:cover:{{{request_id}}}"


def team_handoff(team: str, at: str) -> str:
    return f"oncall:handoff:{team}:{at}"


def incident_changes(number: int) -> str:
    return f"inc:{{{number}}}:changes"


def changes_post(number: int) -> str:
    return f"inc:{{{number}}}:changes-post"


def changes_claim(number: int) -> str:
    return f"inc:{{{number}}}:changes-claim"


def escalation(number: int) -> str:
    return f"inc:{{{number}}}:esc"


def handoff(at: str) -> str:
    return f"oncall:handoff:{at}"


HANDOFF_POSTED = "oncall:handoff-post"  # where the last scheduled hand-off checklist was posted (its thread)


# Scheduled posts ---------------------------------------------------------------------------------
def digest_tick(fire_time: str) -> str:
    return f"digest:tick:{fire_time}"


DIGEST_LAST = "digest:last"  # the newest digest's verdict and time (the App Home shows it)


# Security audit and weekly report ------------------------------------------------------------------
def security_tick(fire_time: str) -> str:
    return f"security:tick:{fire_time}"


def security_last(cluster: str) -> str:
    return f"security:last:{cluster}"


def report_tick(fire_time: str) -> str:
    return f"report:tick:{fire_time}"


def report_cost(day: str) -> str:
    return f"report:cost:{day}"


def report_cost_claim(day: str) -> str:
    return f"report:cost:{day}:claim"


# Disaster-recovery drills -------------------------------------------------------------------------------------------
DR_LOCK = "dr:lock"  # the one drill running: who started it, when (JSON, with a TTL)
DR_REPORTS = "dr:reports"  # the last 12 drills' reports, newest first


def dr_tick(fire_time: str) -> str:
    return f"dr:tick:{fire_time}"


# Capacity review -------------------------------------------------------------------------------------------------
def capacity_tick(fire_time: str) -> str:
    return f"capacity:tick:{fire_time}"


def capacity_samples(cluster: str, group: str) -> str:
    return f"capacity:samples:{cluster}:{group}"


def capacity_sampled(cluster: str, day: str) -> str:
    return f"capacity:sampled:{cluster}:{day}"


# Alerts ------------------------------------------------------------------------------------------------------------
ALERTS_OPENED = "alerts:opened"  # the last minute's incidents opened from alerts (storm control)


def alerts_storm(severity: str) -> str:
    """The storm incident of one severity (a storm of warnings never gathers, and hides, a critical group)."""
    return f"alerts:storm:{severity}"


def alert_group(group: str) -> str:
    return f"alerts:{{{group}}}:incident"


def alert_fingerprints(group: str, number: int) -> str:
    return f"alerts:{{{group}}}:fp:{number}"


def alert_notice(group: str) -> str:
    return f"alerts:{{{group}}}:notice"


def alert_opening(group: str) -> str:
    return f"alerts:{{{group}}}:opening"


def alert_ended(group: str) -> str:
    return f"alerts:{{{group}}}:ended"


def alert_seen(group: str) -> str:
    return f"alerts:{{{group}}}:seen"


def alert_groups(number: int) -> str:
    return f"inc:{{{number}}}:alert-groups"


def enriched(number: int, what: str) -> str:
    """One enrichment of INC-n (``what``: a digest of its rule and target), claimed by the one request running it."""
    return f"inc:{{{number}}}:enriched:{what}"


def enrich_logs(logs_id: str) -> str:
    """What a "Show logs" button reads at click time (its value is only this opaque id)."""
    return f"alerts:logs:{{{logs_id}}}"


# Paging by SMS and calls -----------------------------------------------------------------------------------------
PAGING_PHONES = "paging:phones"  # verified number → person (replies by SMS)
PAGING_DUE = "{paging}:due"  # an attempt (INC:step:person:method) → when it is due
PAGING_PENDING = "{paging}:pending"  # an attempt → lease expiry while a replica makes it


PAGING_DOWN = "paging:down"  # provider → when it last failed a page and why (the morning digest says it)


def paging_contact(user: str) -> str:
    return f"paging:contact:{{{user}}}"


def paging_attempts(number: int) -> str:
    return f"inc:{{{number}}}:paging"


def paging_sid(sid: str) -> str:
    return f"paging:sid:{{{sid}}}"


def paging_test(user: str) -> str:
    return f"paging:test:{{{user}}}"


PAGING_TESTING = "paging:testing"  # a person under test → when the test is due to be confirmed


def paging_tests_tick(tick: str) -> str:
    return f"paging:tests:{tick}"


def paging_last(user: str) -> str:
    return f"paging:last:{{{user}}}"


def heartbeat(name: str) -> str:
    return f"heartbeat:{{{name}}}:last"


def heartbeat_incident(name: str) -> str:
    return f"heartbeat:{{{name}}}:incident"


def statuspage_claim(number: int) -> str:
    return f"inc:{{{number}}}:statuspage"


# Tickets (the incident's ticket in the issue tracker, its action items) -----------------------------
def ticket(number: int) -> str:
    return f"inc:{{{number}}}:ticket"


def ticket_claim(number: int) -> str:
    return f"inc:{{{number}}}:ticket-claim"


def actions(number: int) -> str:
    return f"inc:{{{number}}}:actions"


def action_claim(number: int, index: int) -> str:
    return f"inc:{{{number}}}:action-claim:{index}"


ACTIONS_INDEX = "actions:index"


# Operations (offers of mutating actions, the audit stream) ---------------------------------------
AUDIT = "audit"


def audit_once(entry_id: str) -> str:
    """An audit entry written once however often its write is tried (the outbox's retries); in ``audit``'s slot."""
    return f"{{audit}}:once:{entry_id}"


def offer(offer_id: str) -> str:
    return f"offer:{{{offer_id}}}"


def offer_done(offer_id: str) -> str:
    return f"offer:{{{offer_id}}}:done"


def legacy_offer(offer_id: str) -> str:
    """An offer stored before offers had their own name (read, and carried out, until it expires)."""
    return f"action:{{{offer_id}}}"


def legacy_offer_done(offer_id: str) -> str:
    return f"action:{{{offer_id}}}:done"


# Maintenance windows ------------------------------------------------------------------------------
MW_SEQ = "mw:seq"
MW_INDEX = "mw:index"
MW_DUE = "{mw}:due"
MW_PENDING = "{mw}:pending"


def window(number: int) -> str:
    return f"mw:{{{number}}}:doc"


def window_timeline(number: int) -> str:
    return f"mw:{{{number}}}:timeline"


def window_sent(number: int) -> str:
    return f"mw:{{{number}}}:sent"


@dataclass(frozen=True)
class KeyDoc:
    key: str
    type: str
    written_by: str


TABLE: tuple[KeyDoc, ...] = (
    KeyDoc("`inc:seq`", "counter", "open (INCR → INC-n)"),
    KeyDoc("`inc:active`", "sorted set", "open (ZADD), close (ZREM); healed lazily by `list`"),
    KeyDoc("`inc:{n}:doc`", "hash: `doc` (JSON), `version`, `ann_channel`, `ann_ts`", "Lua create / compare-and-set"),
    KeyDoc("`inc:{n}:timeline`", "stream", "the same Lua scripts, atomically with the change"),
    KeyDoc("`inc:{n}:announcing`", "string, 30 s TTL", "the one replica that posts the announcement"),
    KeyDoc("`seen:event:<id>`, `seen:trigger:<id>`", "string, 1 h TTL", "dedupe middleware (Slack retries, replays)"),
    KeyDoc(
        "`{esc}:due`",
        "sorted set: incident → next page time",
        "open (arm), severity change (move), ack/resolve/close (cancel)",
    ),
    KeyDoc(
        "`{esc}:pending`",
        "sorted set: incident → claim lease expiry",
        "the poller's Lua claim; a lapsed lease is claimed again",
    ),
    KeyDoc(
        "`inc:{n}:esc`",
        "hash: `next_step`, `sent:<step>`, `early:<step>`, `paged_as`, `held:<user>`, `gen`, `since`",
        "Lua: marks a step done and appends its timeline entry, once; `early` makes the next step due at once; "
        "`paged_as`: the severity of the last page (made more urgent, that step is paged again); `held:<user>`: "
        "paged while the chain's paging is held (a P1 in a maintenance window's scope pages its owner), once; "
        "`gen`: the chain's generation, the incident's `handovers` (a hand-over to another team starts the chain "
        "again, by the hand-over or by the first page after it, once; a page out in an older chain is not recorded "
        "in the new); `since`: when it started again (each person paged then has their full time to respond)",
    ),
    KeyDoc(
        "`oncall:anchor`, `oncall:override`, `oncall:timeline`",
        "string, string (TTL), stream",
        "roster; `/oncall override`",
    ),
    KeyDoc(
        "`oncall:anchor:<team>`, `oncall:covers:<team>`",
        "string; hash: cover id → JSON (person, start, until, whom it replaces, by, kind, and its shift: schedule, "
        "number from the anchor, offset and length; resolved with the config of the moment)",
        "a team's rotation anchor (SET NX on first use); its covers and swaps taken or accepted (`/oncall cover`, "
        "`/oncall swap`, a take-over request let), dropped once over",
    ),
    KeyDoc(
        "`oncall:cover:{id}`",
        "hash: `team`, `kind`, `by`, `start`, `until`, `for`, `taker`, `answer`, `told`, `channel`, `ts` (TTL: a "
        "day past the span's end)",
        "a cover, swap or take-over request: Lua HSETNX of `taker` or `answer` (the first of any number of clicks "
        "wins; the rest are told who took it); `told`: the requester told and the covers noted on "
        "`oncall:timeline`, once, after they are kept (given back when the note fails); an operator's take-over "
        "(`take-over:<person>:<minute>`, kind `operator take-over`) keeps only its `told`",
    ),
    KeyDoc(
        "`oncall:handoff:<team>:<time>`",
        "string: the tick's claim (as `oncall:handoff:<time>`), 8 d TTL",
        "a team's hand-off checklist at its own hand-off time (with `teams` configured)",
    ),
    KeyDoc(
        "`oncall:handoff:<time>`",
        "string: `run` (replica, attempt, lease end), `retry` (attempt, not before), `done` or `failed`; 8 d TTL",
        "a hand-off checklist's tick: taken with a 5 min lease (renewed while posting), retried by any replica",
    ),
    KeyDoc("`chan:<channel id>`", "string", "incident channels: the incident a channel belongs to"),
    KeyDoc(
        "`digest:tick:<fire time>`",
        "string: the tick's claim (as `oncall:handoff:<time>`), 2 d TTL",
        "the one replica that posts a scheduled digest, retried by any replica after a failure",
    ),
    KeyDoc("`digest:last`", "string: JSON (when, verdict), 7 d TTL", "every digest built: the App Home's health line"),
    KeyDoc(
        "`offer:{id}`, `offer:{id}:done`",
        "string, 30 min / 1 d TTL",
        "an offer (roll-back, restart, scale, …); who carried it out (SET NX; deleted again when refused or failed)",
    ),
    KeyDoc(
        "`action:{id}`, `action:{id}:done`",
        "string, TTL",
        "offers made before the rename, read and carried out until they expire; never written",
    ),
    KeyDoc("`audit`", "stream (capped ~100k)", "every runbook run and mutating action, with actor and result"),
    KeyDoc(
        "`{audit}:once:<id>`",
        "string (1 day)",
        "an audit entry kept through the outbox: written once, however often its write is tried",
    ),
    KeyDoc(
        "`inc:{n}:room`, `inc:{n}:remind:<since>:<k>`",
        "string with TTL",
        "the one replica creating the channel; one reminder per interval",
    ),
    KeyDoc("`readyz:probe`", "string, 10 s TTL", "`/readyz`: a real write and read"),
    KeyDoc("`mw:seq`", "counter", "`/maintenance schedule` (INCR → MW-n)"),
    KeyDoc("`mw:index`", "sorted set: window → start", "schedule (ZADD); done and cancel (ZREM)"),
    KeyDoc(
        "`mw:{n}:doc`, `mw:{n}:timeline`",
        "hash: `doc` (JSON), `version`; stream",
        "Lua create / compare-and-set, each change with its timeline entry",
    ),
    KeyDoc(
        "`{mw}:due`, `{mw}:pending`",
        "sorted sets: `<n>:<reminder>` → due time / claim lease",
        "schedule (arm), cancel and done (cancel); the poller's Lua claim",
    ),
    KeyDoc(
        "`security:tick:<fire time>`, `report:tick:<fire time>`",
        "string: the tick's claim (as `oncall:handoff:<time>`), 2 d TTL",
        "the one replica that posts a scheduled security audit / weekly report, retried by any replica",
    ),
    KeyDoc(
        "`security:last:<cluster>`",
        "string: JSON (when, finding keys)",
        "every audit: what the next one compares with (new, fixed)",
    ),
    KeyDoc("`report:cost:<day>`", "string: JSON, 1 d TTL", "the weekly report: Cost Explorer's answer, once a day"),
    KeyDoc(
        "`dr:tick:<fire time>`",
        "string: the tick's claim (as `report:tick:<fire time>`), 2 d TTL",
        "the one replica that runs and posts a scheduled DR drill; any replica retries (the kept report posted again)",
    ),
    KeyDoc(
        "`dr:lock`",
        "string: JSON (drill, by whom, started, token), 2 min TTL renewed every 30 s while the drill runs",
        "one drill at a time: SET NX by `/dr drill` or the schedule, deleted by its holder (Lua compare-and-delete); "
        "the sweep deletes scratch copies of any other drill",
    ),
    KeyDoc(
        "`dr:reports`",
        "list of JSON reports, newest first (the last 12, 400 d TTL)",
        "every drill: `/dr last`, the weekly report's verdict and RTO trend",
    ),
    KeyDoc(
        "`capacity:tick:<fire time>`",
        "string: the tick's claim (as `oncall:handoff:<time>`), 2 d TTL",
        "the one replica that posts a scheduled capacity review, retried by any replica",
    ),
    KeyDoc(
        "`capacity:samples:<cluster>:<group>`, `capacity:sampled:<cluster>:<day>`",
        "hash: day number → `cpu_req,mem_req,cpu_alloc,mem_alloc` (m, MiB; 90 days kept, 91 d TTL); string, 2 d TTL",
        "the capacity trend: one sample a day per node group, written once a day per cluster (SET NX on the day) "
        "by the review, the digest's sampling job or any replica's",
    ),
    KeyDoc(
        "`report:cost:<day>:claim`",
        "string: `run:<token>` (2 min TTL), or `failed:<why>` (30 s TTL)",
        "the one request (of any replica) asking Cost Explorer for the day; the others wait for its answer",
    ),
    KeyDoc(
        "`alerts:{g}:incident`",
        "string: INC number, or `opening:<token>` while one request opens it (30 d TTL)",
        "the webhook: one incident per alert group (compare-and-set in Lua)",
    ),
    KeyDoc(
        "`alerts:{g}:fp:<n>`, `alerts:{g}:notice`",
        "set of fingerprints (30 d TTL); string, 4 h TTL",
        "the alerts of the group firing on INC-n; one notice per group below `alerts.min_severity`",
    ),
    KeyDoc(
        "`alerts:{g}:opening`",
        "string, 1 d TTL",
        "a request is opening the group's incident; left by a replica that died before settling the group",
    ),
    KeyDoc(
        "`alerts:{g}:seen`",
        "sorted set: `<fingerprint>@<startsAt>` → when first seen (30 d TTL, the newest 5,000)",
        "every firing of the group's alerts: a re-send or a stale firing after the group's end opens nothing",
    ),
    KeyDoc(
        "`alerts:{g}:ended`",
        "sorted set: `<fingerprint>@<startsAt>` → when it resolved (30 d TTL, the newest 5,000)",
        "a firing of a resolved alert within 2 min is stale (a late delivery); later it fired again (a restart)",
    ),
    KeyDoc(
        "`inc:{n}:alert-groups`",
        "set of group ids (30 d TTL)",
        "the alert groups firing on INC-n: a storm incident is mitigated only when the last of them resolves",
    ),
    KeyDoc(
        "`inc:{n}:enriched:<digest>`",
        "string: the rule and target (30 d TTL)",
        "an enrichment of INC-n (`alerts.enrich`), SET NX: run once per rule and target however often the group "
        "is re-sent, by one replica",
    ),
    KeyDoc(
        "`alerts:logs:{id}`",
        "string: JSON (runbook, cluster, namespace, workload, options, incident; 7 d TTL)",
        'an enrichment whose report quotes pod logs: its "Show logs" button (value: the opaque id) reads them again '
        "at click time for the responder who clicks",
    ),
    KeyDoc(
        "`alerts:opened`, `alerts:storm:<P>`",
        "sorted set (the last minute); string per severity, 10 min TTL",
        "storm control: incidents opened from alerts in the last minute; the storm incident of each severity "
        "gathering the rest",
    ),
    KeyDoc(
        "`paging:down`",
        "hash: provider → JSON (when, why; 2 d TTL)",
        "the last page a provider failed: the morning digest says it for the last 24 h",
    ),
    KeyDoc(
        "`paging:contact:{id}`, `paging:phones`",
        "hash: phone, verified, the code's SHA-256, expiry, tries left; hash: number → person",
        "numbers people added with `/oncall phone` (used once verified); verified numbers, for replies by SMS",
    ),
    KeyDoc(
        "`{paging}:due`, `{paging}:pending`",
        "sorted sets: `<n>:<step>:<person>:<method index>` → due time, → lease expiry",
        "each SMS or call of a page, made once across replicas and resumed after a crash (as escalation's pages)",
    ),
    KeyDoc(
        "`inc:{n}:paging`",
        "hash: `<step>:<person>:<method index>` → what happened; `down:<method>`, `now:<person>:<why>`, "
        "`emergency:escalated`, `dm:<person>:<why>` (30 d TTL)",
        "the attempts made for INC-n: HSETNX after each, never made twice; a provider down said once; the "
        "emergency contacts reached once",
    ),
    KeyDoc(
        "`paging:test:{id}`, `paging:tests:<tick>`",
        "hash: started, by, due, each method's outcome, told (8 d TTL); the hand-off tick's claim",
        "test pages: who confirmed which method when, and the lead told once of what was not; one test per hand-off",
    ),
    KeyDoc(
        "`paging:testing`, `oncall:handoff-post`",
        "sorted set: person → when their test is due; string: JSON (channel, ts, when; 8 d TTL)",
        "the tests still to check (anyone tested, in the rotation or not); the thread of the last scheduled "
        "hand-off, where an unconfirmed test of it is said to the lead",
    ),
    KeyDoc(
        "`paging:sid:{id}`, `paging:last:{id}`",
        "string: the attempt (1 d TTL); string: INC number (1 d TTL)",
        "a Twilio status callback finds its attempt; a reply by SMS or a key press acknowledges the last page",
    ),
    KeyDoc(
        "`heartbeat:{id}:last`, `heartbeat:{id}:incident`",
        "string: JSON (when, from whom; 40 d TTL); string: INC number, or `opening:<token>` (40 d TTL)",
        "the dead man's switches (`watchdog`: Alertmanager's; `job:<name>`: a job's check-ins): the last beat, "
        "and the one incident a silence opened (until a beat returns)",
    ),
    KeyDoc(
        "`inc:{n}:changes`, `inc:{n}:changes-post`, `inc:{n}:changes-claim`",
        "string: JSON timeline entries (90 d TTL); hash: `channel`, `ts` (30 d TTL); string, 60 s TTL",
        'what changed in the clusters before INC-n (its post-mortem\'s timeline); its one "What changed" message, '
        "posted once across replicas, edited when more arrives",
    ),
    KeyDoc("`inc:{n}:statuspage`", "string, 5 min TTL", "the one request creating INC-n's status page incident"),
    KeyDoc(
        "`inc:{n}:ticket`, `inc:{n}:ticket-claim`",
        "hash: `tracker`, `key`, `id`, `url`, `tried`, `said:<what>` (90 d TTL); string: the creating replica's token, "
        "TTL past its calls",
        "INC-n's ticket: the one replica creating it (SET NX), `tried` before each create (the next attempt looks it "
        "up by its marker first), each trouble said once in the thread (HSETNX)",
    ),
    KeyDoc(
        "`inc:{n}:actions`, `inc:{n}:action-claim:<k>`",
        "hash: `seq`, `<k>` → JSON action item, `tried:<k>`, `linked:<k>` (400 d TTL); string, TTL past its calls",
        "`/incident action`: INC-n's action items (HINCRBY numbers them); the one replica making item k's ticket",
    ),
    KeyDoc(
        "`actions:index`",
        "sorted set: `<n>:<k>` → when recorded",
        "`/incident action` (ZADD): `/incident actions --mine \\| --open`, the weekly report's open and overdue items",
    ),
    KeyDoc(
        "`mw:{n}:sent`",
        "hash: reminder → when posted; `<reminder>:<destination>` → when posted there, or `refused: <error>`",
        "HSETNX after each destination and each whole reminder: never posted twice, a refusal never retried",
    ),
)


def markdown_table() -> str:
    rows = ["| key | type | written by |", "|---|---|---|"]
    rows += [f"| {k.key} | {k.type} | {k.written_by} |" for k in TABLE]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
