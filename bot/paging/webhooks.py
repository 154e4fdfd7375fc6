"""Twilio's webhooks to the bot, each signed (``X-Twilio-Signature`` over ``PUBLIC_URL`` + the path) and answered
403 otherwise: ``POST /paging/twilio/sms`` (a reply by SMS: "1" acknowledges as the verified number's person),
``POST /paging/twilio/voice`` (a call's gathered key: "1" acknowledges) and ``POST /paging/twilio/status`` (status
callbacks: a failed SMS or an unanswered call moves the person to their next method at once). A number nobody
verified gets an empty answer and changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.core import keys
from bot.core.errors import DependencyError
from bot.core.text import as_text
from bot.incidents.model import State
from bot.paging.engine import Pager, parse_member
from bot.paging.inbound import twiml_empty, twiml_say, twiml_sms, verified_form

log = logging.getLogger(__name__)

XML = "application/xml"


def routes(pager: Pager, public_url: str, token: str) -> list[Route]:
    def signed(handle: Callable[[dict[str, str]], Awaitable[str]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            form = await verified_form(request, public_url, token)
            if form is None:
                log.warning("a Twilio webhook to %s refused: its signature does not match", request.url.path)
                return PlainTextResponse("forbidden: not signed by Twilio\n", status_code=403)
            try:
                return Response(await handle(form), media_type=XML)
            except DependencyError as exc:
                log.warning("a Twilio webhook to %s not handled: %s", request.url.path, exc)
                return PlainTextResponse("not handled, send it again\n", status_code=503)

        return endpoint

    async def sms(form: dict[str, str]) -> str:
        person = await pager.contacts.who(form.get("From", ""))
        if person is None:
            return twiml_empty()
        body = form.get("Body", "").strip()
        if body == "2":
            escalated = await pager.escalate(person, "SMS")
            if escalated is None:
                return twiml_sms("Nothing to escalate: no page of yours in the last day.")
            if escalated.state is not State.OPEN:
                return twiml_sms(f"{escalated.ref} is {escalated.state.value}: nothing to escalate.")
            return twiml_sms(f"{escalated.ref}: the next person on call is paged now.")
        if body != "1":
            return twiml_sms("Reply 1 to acknowledge the incident you were paged for, 2 to pass it on.")
        tests = pager.tests
        if tests is not None and not await pager.open_page(person) and await tests.confirm(person, "sms"):
            return twiml_sms("Test page confirmed: SMS reaches you.")
        incident = await pager.acknowledge(person, "SMS")
        if incident is None:
            return twiml_sms("Nothing to acknowledge: no page of yours in the last day.")
        if incident.acknowledged_by == person and incident.state is not State.OPEN:
            return twiml_sms(f"{incident.ref} is acknowledged by you.")
        return twiml_sms(f"{incident.ref} is {incident.state.value}.")

    async def voice(form: dict[str, str]) -> str:
        async with pager.io():
            attempt = await pager.redis.get(keys.paging_sid(form.get("CallSid", "")))
        if not attempt:
            return twiml_say("This call is not a page of chatops-bot.")
        if as_text(attempt).startswith("test:"):  # a test page's call
            person, tests = as_text(attempt).removeprefix("test:"), pager.tests
            if form.get("Digits", "") == "1" and tests is not None and await tests.confirm(person, "call"):
                return twiml_say("Test page confirmed. Thank you.")
            return twiml_say("The test page is not confirmed.")
        number, _, person, _ = parse_member(as_text(attempt))
        if form.get("Digits", "") != "1":
            return twiml_say("No 1 was pressed: the page is not acknowledged.")
        incident = await pager.acknowledge(person, "phone", number)
        if incident is None:
            return twiml_say("That incident is gone.")
        return twiml_say(f"Incident {incident.number} is {incident.state.value}. Thank you.")

    async def status(form: dict[str, str]) -> str:
        sid = form.get("MessageSid") or form.get("CallSid") or ""
        state = form.get("MessageStatus") or form.get("CallStatus") or ""
        if sid:
            await pager.status(sid, state)
        return twiml_empty()

    return [
        Route("/paging/twilio/sms", signed(sms), methods=["POST"]),
        Route("/paging/twilio/voice", signed(voice), methods=["POST"]),
        Route("/paging/twilio/status", signed(status), methods=["POST"]),
    ]
