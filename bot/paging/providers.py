"""The providers that reach a person's phone: Twilio for SMS and calls (the official library with its async HTTP
client; ``paging.twilio.api_url`` is its API's base, a stand-in in the tests), Amazon SNS for SMS when Twilio fails.

An SMS is one Twilio attempt (within ``TWILIO_TIMEOUT``); a 5xx, 429, timeout, connection error, refused credentials
or any other refusal that is not the number's fault hands the same text to SNS at once (``publish`` to the number, in
a thread). A refusal of the number itself (not a valid number, unsubscribed) is not tried elsewhere: another provider
would not reach it either. A call is Twilio's only, with its TwiML inline. Every attempt is counted in
``chatops_page_attempts_total``. A number is never logged or put in an error's message (``mask``), nor is Twilio's
error text (it quotes the number), nor the token.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, quote_plus

import aiohttp
from twilio.base.exceptions import TwilioException

from bot.core import telemetry
from bot.core.errors import DependencyError
from bot.core.logs import redact_value
from bot.core.settings.paging import Paging, mask
from bot.paging.inbound import twiml_gather, twiml_say

if TYPE_CHECKING:
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

log = logging.getLogger(__name__)

TWILIO_TIMEOUT = 5.0  # seconds for Twilio's answer; then SNS (an SMS) or the call failed
STATUS_PATH = "/paging/twilio/status"
CALL_EVENTS = ["completed"]  # a call's end: its CallStatus says completed, no-answer, busy, failed or canceled
NUMBER_FAULTS = {  # Twilio's error codes that say the number itself cannot be reached
    21211: "is not a valid phone number",
    21217: "is not a valid phone number",
    21610: "has unsubscribed from these messages (replied STOP)",
    21614: "is not a mobile number",
}
AUTH_CODES = {20003}
SNS_SMS_TYPE = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}  # a page, not an ad
Provider = Literal["twilio", "sns"]
NAMES = {"twilio": "Twilio", "sns": "Amazon SNS"}


@dataclass(frozen=True)
class Sent:
    provider: Provider  # "twilio" or "sns"
    sid: str | None  # Twilio's MessageSid or CallSid, SNS's MessageId


class ProviderDown(DependencyError):
    """No provider took the SMS or call; the message names each one tried and why (never the number)."""

    def __init__(self, message: str, providers: tuple[Provider, ...] = ()) -> None:
        super().__init__(message)
        self.providers = providers


class NumberRefused(ProviderDown):
    """Twilio refused the number itself (not a valid number, unsubscribed): no other provider was tried."""


class _Failed(Exception):
    def __init__(self, why: str, number_fault: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.number_fault = number_fault


class Providers:
    """SMS and calls to a number in E.164. One instance per process (its HTTP session lives on the event loop that
    first used it); ``close`` at shutdown."""

    def __init__(
        self,
        settings: Paging,
        twilio_token: str | None,
        public_url: str | None,
        sns_client_factory: Callable[[], Any] | None,
        *,
        twilio_timeout: float = TWILIO_TIMEOUT,
    ) -> None:
        """``sns_client_factory`` makes the boto3 SNS client; None: a boto3 client in ``paging.sns.region`` (the
        standard credentials chain, AWS_ENDPOINT_URL too). SNS is used only when ``paging.sns`` is set."""
        self.settings = settings
        self._token = twilio_token or None
        self.public_url = public_url.rstrip("/") if public_url else None
        self._sns_factory = sns_client_factory
        self.timeout = twilio_timeout
        self._client: Client | None = None
        self._http: AsyncTwilioHttpClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sns: Any = None
        self._sns_lock = threading.Lock()

    @property
    def has_twilio(self) -> bool:
        return self.settings.twilio is not None and self._token is not None

    @property
    def has_sns(self) -> bool:
        return self.settings.sns is not None

    @property
    def can_sms(self) -> bool:
        return self.has_twilio or self.has_sns

    @property
    def can_call(self) -> bool:
        return self.has_twilio

    @property
    def status_callback(self) -> str | None:
        return f"{self.public_url}{STATUS_PATH}" if self.public_url else None

    # SMS ----------------------------------------------------------------------------------------------------------
    async def sms(self, to: str, body: str) -> Sent:
        """Send ``body`` to ``to``: by Twilio, or by SNS when Twilio fails. ProviderDown (NumberRefused for the
        number's own fault) when none took it."""
        _never_logged(to)
        reasons: list[str] = []
        tried: list[Provider] = []
        if self.has_twilio:
            tried.append("twilio")
            try:
                sid = await self._twilio_sms(to, body)
            except _Failed as failed:
                fallback = self.has_sns and not failed.number_fault
                telemetry.PAGE_ATTEMPTS.labels("twilio", "sms", "fallback" if fallback else "failed").inc()
                log.warning(
                    "SMS to %s: Twilio %s%s", mask(to), failed.why, "; sending it by Amazon SNS" if fallback else ""
                )
                if failed.number_fault:
                    raise NumberRefused(f"Twilio refused the number: it {failed.why}", ("twilio",)) from None
                reasons.append(f"Twilio {failed.why}")
            else:
                telemetry.PAGE_ATTEMPTS.labels("twilio", "sms", "sent").inc()
                log.info("SMS to %s sent by Twilio (%s)", mask(to), sid)
                return Sent("twilio", sid)
        if self.has_sns:
            tried.append("sns")
            try:
                message_id = await asyncio.to_thread(self._sns_publish, to, body)
            except _Failed as failed:
                telemetry.PAGE_ATTEMPTS.labels("sns", "sms", "failed").inc()
                log.warning("SMS to %s: Amazon SNS %s", mask(to), failed.why)
                reasons.append(f"Amazon SNS {failed.why}")
            else:
                telemetry.PAGE_ATTEMPTS.labels("sns", "sms", "sent").inc()
                log.info("SMS to %s sent by Amazon SNS (%s)", mask(to), message_id)
                return Sent("sns", message_id)
        if not tried:
            raise ProviderDown("no SMS provider is set up (paging.twilio with TWILIO_AUTH_TOKEN, or paging.sns)")
        raise ProviderDown("SMS not sent: " + "; ".join(reasons), tuple(tried))

    async def _twilio_sms(self, to: str, body: str) -> str | None:
        assert self.settings.twilio is not None
        client = self._twilio()
        fields: dict[str, Any] = {"to": to, "from_": self.settings.twilio.from_number, "body": body}
        if self.status_callback:
            fields["status_callback"] = self.status_callback
        message = await self._attempt(lambda: client.messages.create_async(**fields))
        sid = getattr(message, "sid", None)
        return str(sid) if sid else None

    # Calls --------------------------------------------------------------------------------------------------------
    async def call(self, to: str, say: str, gather_url: str | None) -> Sent:
        """Call ``to`` and read ``say``; with ``gather_url`` it listens for one key, POSTed there (``Digits``).
        Twilio only: ProviderDown (NumberRefused for the number's own fault) when it did not take the call."""
        if not self.has_twilio:
            raise ProviderDown("no provider for calls is set up (paging.twilio with TWILIO_AUTH_TOKEN)")
        assert self.settings.twilio is not None
        _never_logged(to)
        client = self._twilio()
        fields: dict[str, Any] = {
            "to": to,
            "from_": self.settings.twilio.from_number,
            "twiml": twiml_gather(say, gather_url) if gather_url else twiml_say(say),
        }
        if self.status_callback:
            fields |= {
                "status_callback": self.status_callback,
                "status_callback_method": "POST",
                "status_callback_event": CALL_EVENTS,
            }
        try:
            created = await self._attempt(lambda: client.calls.create_async(**fields))
        except _Failed as failed:
            telemetry.PAGE_ATTEMPTS.labels("twilio", "call", "failed").inc()
            log.warning("call to %s: Twilio %s", mask(to), failed.why)
            if failed.number_fault:
                raise NumberRefused(f"Twilio refused the number: it {failed.why}", ("twilio",)) from None
            raise ProviderDown(f"call not made: Twilio {failed.why}", ("twilio",)) from None
        telemetry.PAGE_ATTEMPTS.labels("twilio", "call", "sent").inc()
        sid = str(created.sid) if getattr(created, "sid", None) else None
        log.info("call to %s placed by Twilio (%s)", mask(to), sid)
        return Sent("twilio", sid)

    # Twilio -------------------------------------------------------------------------------------------------------
    async def _attempt(self, create: Callable[[], Awaitable[Any]]) -> Any:
        """One request to Twilio within the timeout; every failure as ``_Failed`` saying why, without the number."""
        try:
            async with asyncio.timeout(self.timeout):
                return await create()
        except TimeoutError:
            raise _Failed(f"did not answer within {self.timeout:g}s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _Failed(f"could not be reached ({type(exc).__name__})") from None
        except TwilioException as exc:
            raise _twilio_refusal(exc) from None

    def _twilio(self) -> Client:
        """The client, made on first use in the running event loop (its aiohttp session belongs to that loop)."""
        loop = asyncio.get_running_loop()
        if self._client is not None and self._loop is loop:
            return self._client
        from twilio.http.async_http_client import AsyncTwilioHttpClient  # noqa: PLC0415 - only a process that pages
        from twilio.rest import Client  # noqa: PLC0415

        assert self.settings.twilio is not None
        http = AsyncTwilioHttpClient(pool_connections=False, timeout=self.timeout)
        http.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=500))  # 200 pages at once
        client = Client(self.settings.twilio.account_sid, self._token, http_client=http)
        client.api.base_url = str(self.settings.twilio.api_url).rstrip("/")  # the REST API's domain (tests: a stand-in)
        self._client, self._http, self._loop = client, http, loop
        return client

    async def close(self) -> None:
        """Close the HTTP session (at shutdown)."""
        http, self._http, self._client = self._http, None, None
        if http is not None and http.session is not None:
            await http.session.close()

    # SNS ----------------------------------------------------------------------------------------------------------
    def _sns_client(self) -> Any:
        with self._sns_lock:
            if self._sns is None:
                self._sns = self._sns_factory() if self._sns_factory is not None else self._default_sns()
            return self._sns

    def _default_sns(self) -> Any:
        import boto3  # noqa: PLC0415 - only a process that pages by SNS pays for boto3
        from botocore.config import Config  # noqa: PLC0415

        assert self.settings.sns is not None
        config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=3, read_timeout=5)
        return boto3.session.Session().client("sns", region_name=self.settings.sns.region, config=config)

    def _sns_publish(self, to: str, body: str) -> str | None:
        """One SMS through Amazon SNS (sns:Publish to the phone number, no topic)."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            answer = self._sns_client().publish(PhoneNumber=to, Message=body, MessageAttributes=SNS_SMS_TYPE)
        except ClientError as exc:  # its message may quote the number: only the code
            code = exc.response.get("Error", {}).get("Code", "error")
            raise _Failed(f"refused the message ({code})") from None
        except BotoCoreError as exc:
            raise _Failed(f"could not be reached ({type(exc).__name__})") from None
        message_id = answer.get("MessageId")
        return str(message_id) if message_id else None


def _never_logged(number: str) -> None:
    """The log redactor learns the number, as it is and form-encoded, in case a library logs it (botocore's debug
    lines carry the request's parameters)."""
    for form in {number, quote(number, safe=""), quote_plus(number)}:
        redact_value(form)


def _twilio_refusal(exc: TwilioException) -> _Failed:
    """Why Twilio refused, from its HTTP status and error code (its message quotes the number: never used)."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    if code in NUMBER_FAULTS:
        return _Failed(f"{NUMBER_FAULTS[code]} (error {code})", number_fault=True)
    if status in (401, 403) or code in AUTH_CODES:
        return _Failed(
            f"refused the credentials (HTTP {status}, error {code}): check TWILIO_AUTH_TOKEN and "
            "paging.twilio.account_sid"
        )
    if isinstance(status, int) and status >= 500:
        return _Failed(f"answered HTTP {status}" + (f" (error {code})" if code and code != status else ""))
    if status == 429:
        return _Failed("is limiting the rate of requests (HTTP 429)")
    if status is None:
        return _Failed(f"failed ({type(exc).__name__})")
    return _Failed(f"refused the request (HTTP {status}, error {code})")
