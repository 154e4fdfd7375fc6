"""Prometheus metrics exported on ``GET /metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "chatops_slack_requests_total",
    "Slack requests handled, by kind (command, action, view, event), name and outcome.",
    ["kind", "name", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "chatops_slack_request_seconds",
    "Time handling a Slack request: commands and forms until acknowledged; buttons until stored and announced.",
    ["kind", "name"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
TRANSITIONS = Counter(
    "chatops_incident_transitions_total",
    "Incident state changes, by action and severity.",
    ["action", "severity"],
)
REFUSED = Counter(
    "chatops_incident_refused_total",
    "Incident actions refused by the lifecycle (wrong state, already done).",
    ["action"],
)
SLACK_API_ERRORS = Counter(
    "chatops_slack_api_errors_total",
    "Slack Web API calls that failed after retries, by method.",
    ["method"],
)
STORE_ERRORS = Counter(
    "chatops_store_errors_total",
    "Requests answered with 'state store unavailable'.",
)
PAGES_SENT = Counter("chatops_pages_sent_total", "Pages delivered (DM sent), by role in the chain.", ["role"])
PAGES_FAILED = Counter(
    "chatops_pages_failed_total", "Pages that failed after retries and were rescheduled, by Slack error.", ["error"]
)
ESCALATION_TICK_SECONDS = Histogram(
    "chatops_escalation_tick_seconds",
    "Time of escalation's part of one poller tick (claim due pages and send them).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
HANDOFFS_POSTED = Counter("chatops_handoffs_posted_total", "On-call hand-off checklists posted.", ["trigger"])
_DURATION_BUCKETS = (60, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)
TIME_TO_ACKNOWLEDGE = Histogram(
    "chatops_time_to_acknowledge_seconds",
    "From open to acknowledgement, by severity.",
    ["severity"],
    buckets=_DURATION_BUCKETS,
)
TIME_TO_RESOLVE = Histogram(
    "chatops_time_to_resolve_seconds", "From open to resolution, by severity.", ["severity"], buckets=_DURATION_BUCKETS
)
DIGESTS_POSTED = Counter("chatops_digests_posted_total", "Health digests posted, by trigger.", ["trigger"])
ALERT_WEBHOOKS = Counter(
    "chatops_alert_webhooks_total",
    "Alert webhook deliveries by outcome (opened, updated, unchanged, resolved, notice, storm, ignored, "
    "unauthorized, bad_payload, unavailable)",
    ["outcome"],
)
STATUSPAGE_CALLS = Counter(
    "chatops_statuspage_calls_total", "Status page API calls by outcome (ok, retried, failed)", ["outcome"]
)
TICKET_CALLS = Counter(
    "chatops_ticket_calls_total",
    "Issue tracker API calls by tracker and outcome (ok, down, refused)",
    ["tracker", "outcome"],
)
PAGE_ATTEMPTS = Counter(
    "chatops_page_attempts_total",
    "SMS and call attempts by provider (twilio, sns), method (sms, call) and outcome (sent; failed; fallback: Twilio "
    "failed and the SMS went on to SNS)",
    ["provider", "method", "outcome"],
)
