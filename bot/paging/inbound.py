"""What Twilio sends the bot (SMS replies, a call's gathered key, status callbacks): its signature checked with the
library's ``RequestValidator`` over ``PUBLIC_URL`` + the path (+ the query), as Twilio signs it; and the TwiML the bot
answers with (the library's ``VoiceResponse`` and ``MessagingResponse``), built by the pure helpers below."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

if TYPE_CHECKING:
    from starlette.requests import Request

SIGNATURE_HEADER = "X-Twilio-Signature"
NO_KEY = "No key was pressed: the page is not acknowledged."


class _Form(dict[str, list[str]]):
    """A form's fields, each with its values: the validator signs every value of a repeated field (``getlist``)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


async def verified_form(request: Request, public_url: str, token: str) -> dict[str, str] | None:
    """The form's fields (a repeated field: its last value) when ``X-Twilio-Signature`` is Twilio's signature of
    ``public_url`` + the request's path (and query) and the fields with ``token``; otherwise None (answer 403)."""
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature or not token or not public_url:
        return None
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        return None
    form = _Form()
    for name, value in parse_qsl(text, keep_blank_values=True):
        form.setdefault(name, []).append(value)
    url = public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not RequestValidator(token).validate(url, form, signature):
        return None
    return {name: values[-1] for name, values in form.items()}


def twiml_empty() -> str:
    """An empty answer: Twilio sends nothing back (an SMS from an unknown number, a status callback)."""
    return str(MessagingResponse())


def twiml_say(text: str) -> str:
    """A call that reads ``text`` and hangs up."""
    response = VoiceResponse()
    response.say(text)
    return str(response)


def twiml_sms(text: str) -> str:
    """An SMS answered with ``text``."""
    response = MessagingResponse()
    response.message(text)
    return str(response)


def twiml_gather(say: str, action_url: str) -> str:
    """A call that reads ``say`` while listening for one key, POSTed with ``Digits`` to ``action_url``; no key in
    Twilio's wait (5 s after the reading) says that the page stays unacknowledged."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action_url, method="POST")
    gather.say(say)
    response.append(gather)
    response.say(NO_KEY)
    return str(response)
