"""The paging providers over the wire: Twilio's REST API played by the stand-in (tests/support/twilio.py) through the
official library's async client, Amazon SNS by moto's server (boto3); the verification of Twilio's webhooks by a
small Starlette app served by uvicorn on loopback, signed as Twilio signs them. Nothing of the project is mocked."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import boto3
import pytest
import uvicorn
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.core.logs import RedactingFormatter, Redactor
from bot.core.settings.paging import Paging
from bot.paging.inbound import twiml_empty, verified_form
from bot.paging.providers import NumberRefused, ProviderDown, Providers, Sent
from tests.support.aws import ACCESS_KEY, SECRET_KEY, Moto
from tests.support.net import free_port, wait_for
from tests.support.twilio import ACCOUNT_SID, ALICE_PHONE, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn

T = TypeVar("T")
BODY = "INC-42 P1 Checkout API returns 500s — reply 1 to acknowledge, 2 to escalate"


# Fixtures ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def twilio() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn()
    yield stand_in
    stand_in.stop()


@pytest.fixture(autouse=True)
def _fresh(twilio: TwilioStandIn) -> None:
    with twilio.lock:
        twilio.requests.clear()
        twilio.faults.clear()
    twilio.unsubscribed.clear()


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = Moto().start()
    yield server
    server.stop()


class Webhooks:
    """A minimal Starlette app on loopback: ``POST /paging/twilio/{kind}`` answers the verified form as JSON, or 403."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.received: list[dict[str, str]] = []

        async def hook(request: Request) -> Response:
            form = await verified_form(request, self.url, AUTH_TOKEN)
            if form is None:
                return Response("forbidden", status_code=403)
            self.received.append(form)
            if request.url.path.endswith("/status"):
                return Response(twiml_empty(), media_type="application/xml")
            return JSONResponse(form)

        app = Starlette(routes=[Route("/paging/twilio/{kind}", hook, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> Webhooks:
        self.thread.start()
        wait_for(lambda: self.server.started, what="the webhook app")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def webhooks() -> Iterator[Webhooks]:
    app = Webhooks().start()
    yield app
    app.stop()


def paging(twilio: TwilioStandIn | None, sns: bool = True, api_url: str | None = None) -> Paging:
    fields: dict[str, Any] = {}
    if twilio is not None:
        fields["twilio"] = {"account_sid": ACCOUNT_SID, "from_number": FROM_NUMBER, "api_url": api_url or twilio.url}
    if sns:
        fields["sns"] = {"region": "us-east-1"}
    return Paging.model_validate(fields)


def sns_factory(moto: Moto) -> Callable[[], Any]:
    def make() -> Any:
        return boto3.session.Session().client(
            "sns",
            region_name="us-east-1",
            endpoint_url=moto.front.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    return make


def run(providers: Providers, work: Callable[[Providers], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await work(providers)
        finally:
            await providers.close()

    return asyncio.run(main())


def sns_messages() -> list[tuple[str, str]]:
    """What moto's SNS delivered as SMS (its backend, in this process with ThreadedMotoServer)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())


def attempts(provider: str, method: str, outcome: str) -> float:
    labels = {"provider": provider, "method": method, "outcome": outcome}
    return REGISTRY.get_sample_value("chatops_page_attempts_total", labels) or 0.0


# SMS --------------------------------------------------------------------------------------------------------------
def test_sms_goes_by_twilio_with_its_fields_and_status_callback(twilio: TwilioStandIn, moto: Moto) -> None:
    before, sns_before = attempts("twilio", "sms", "sent"), len(sns_messages())
    providers = Providers(paging(twilio), AUTH_TOKEN, "https://bot.example.com/", sns_factory(moto))
    assert providers.can_sms and providers.can_call

    sent = run(providers, lambda p: p.sms(ALICE_PHONE, BODY))

    assert sent.provider == "twilio" and sent.sid and sent.sid.startswith("SM")
    [message] = twilio.messages()
    assert message.sid == sent.sid
    assert message.fields["To"] == ALICE_PHONE
    assert message.fields["From"] == FROM_NUMBER
    assert message.fields["Body"] == BODY
    assert message.fields["StatusCallback"] == "https://bot.example.com/paging/twilio/status"
    assert attempts("twilio", "sms", "sent") == before + 1
    assert len(sns_messages()) == sns_before


def test_without_public_url_no_status_callback(twilio: TwilioStandIn, moto: Moto) -> None:
    providers = Providers(paging(twilio), AUTH_TOKEN, None, sns_factory(moto))
    run(providers, lambda p: p.sms(ALICE_PHONE, BODY))
    [message] = twilio.messages()
    assert "StatusCallback" not in message.fields


@pytest.mark.parametrize(
    ("status", "headers"), [(500, {}), (503, {}), (429, {"Retry-After": "30"})], ids=["500", "503", "429"]
)
def test_twilio_failing_hands_the_sms_to_sns(
    twilio: TwilioStandIn, moto: Moto, status: int, headers: dict[str, str]
) -> None:
    fallback, sns_sent = attempts("twilio", "sms", "fallback"), attempts("sns", "sms", "sent")
    sns_before = len(sns_messages())
    twilio.fail_next(status, **headers)
    providers = Providers(paging(twilio), AUTH_TOKEN, None, sns_factory(moto))

    started = time.monotonic()
    sent = run(providers, lambda p: p.sms(ALICE_PHONE, BODY))

    assert time.monotonic() - started < 5
    assert sent.provider == "sns" and sent.sid
    assert sns_messages()[sns_before:] == [(ALICE_PHONE, BODY)]
    assert [p.status for p in twilio.posted("Messages")] == [status]  # one Twilio attempt, not retried
    assert attempts("twilio", "sms", "fallback") == fallback + 1
    assert attempts("sns", "sms", "sent") == sns_sent + 1


def test_twilio_not_answering_within_5s_hands_the_sms_to_sns(twilio: TwilioStandIn, moto: Moto) -> None:
    sns_before = len(sns_messages())
    twilio.slow_next(7)
    providers = Providers(paging(twilio), AUTH_TOKEN, None, sns_factory(moto))

    started = time.monotonic()
    sent = run(providers, lambda p: p.sms(ALICE_PHONE, BODY))
    took = time.monotonic() - started

    assert sent.provider == "sns"
    assert 4.9 < took < 6.5, took  # the 5 s of Twilio's one attempt, then SNS at once
    assert sns_messages()[sns_before:] == [(ALICE_PHONE, BODY)]


def test_refused_credentials_and_an_unreachable_twilio_go_by_sns(twilio: TwilioStandIn, moto: Moto) -> None:
    sns_before = len(sns_messages())
    wrong_token = Providers(paging(twilio), "0" * 32, None, sns_factory(moto))
    assert run(wrong_token, lambda p: p.sms(ALICE_PHONE, BODY)).provider == "sns"
    [refused] = twilio.posted("Messages")
    assert refused.status == 401

    unreachable = Providers(
        paging(twilio, api_url=f"http://127.0.0.1:{free_port()}"), AUTH_TOKEN, None, sns_factory(moto)
    )
    assert run(unreachable, lambda p: p.sms(ALICE_PHONE, BODY)).provider == "sns"
    assert len(sns_messages()) == sns_before + 2


@pytest.mark.parametrize(
    ("number", "code"), [(ALICE_PHONE.lstrip("+"), 21211), (ALICE_PHONE, 21610)], ids=["invalid", "stop"]
)
def test_the_numbers_own_fault_is_not_sent_by_sns(twilio: TwilioStandIn, moto: Moto, number: str, code: int) -> None:
    twilio.unsubscribed.add(ALICE_PHONE)
    failed, sns_before = attempts("twilio", "sms", "failed"), len(sns_messages())
    providers = Providers(paging(twilio), AUTH_TOKEN, None, sns_factory(moto))

    with pytest.raises(NumberRefused) as refused:
        run(providers, lambda p: p.sms(number, BODY))

    assert isinstance(refused.value, ProviderDown)
    assert f"error {code}" in str(refused.value) and "Twilio" in str(refused.value)
    assert ALICE_PHONE.lstrip("+") not in str(refused.value)
    assert [p.status for p in twilio.posted("Messages")] == [400]
    assert len(sns_messages()) == sns_before
    assert attempts("twilio", "sms", "failed") == failed + 1


def test_both_providers_down_names_each(twilio: TwilioStandIn, moto: Moto) -> None:
    sns_failed = attempts("sns", "sms", "failed")
    twilio.fail_next(500)
    providers = Providers(paging(twilio), AUTH_TOKEN, None, sns_factory(moto))

    with moto.denied(), pytest.raises(ProviderDown) as down:
        run(providers, lambda p: p.sms(ALICE_PHONE, BODY))

    message = str(down.value)
    assert "Twilio answered HTTP 500" in message and "Amazon SNS refused the message (AccessDenied)" in message
    assert down.value.providers == ("twilio", "sns")
    assert ALICE_PHONE not in message
    assert attempts("sns", "sms", "failed") == sns_failed + 1


def test_sns_alone_and_no_provider(moto: Moto) -> None:
    sns_only = Providers(paging(None), None, None, sns_factory(moto))
    assert sns_only.can_sms and not sns_only.can_call
    assert run(sns_only, lambda p: p.sms(ALICE_PHONE, BODY)).provider == "sns"

    twilio_without_token = Providers(paging(None, sns=False), None, None, None)
    assert not twilio_without_token.can_sms
    with pytest.raises(ProviderDown, match="no SMS provider"):
        run(twilio_without_token, lambda p: p.sms(ALICE_PHONE, BODY))
    with pytest.raises(ProviderDown, match="no provider for calls"):
        run(twilio_without_token, lambda p: p.call(ALICE_PHONE, "hello", None))


# Calls ------------------------------------------------------------------------------------------------------------
def test_a_call_reads_the_incident_and_gathers_one_key(twilio: TwilioStandIn, moto: Moto) -> None:
    sent_before = attempts("twilio", "call", "sent")
    providers = Providers(paging(twilio), AUTH_TOKEN, "https://bot.example.com", sns_factory(moto))
    gather = "https://bot.example.com/paging/twilio/voice?incident=42"

    sent = run(providers, lambda p: p.call(ALICE_PHONE, "INC-42, P1: Checkout <API> & co. Press 1.", gather))

    assert sent == Sent("twilio", sent.sid) and sent.sid and sent.sid.startswith("CA")
    [call] = twilio.calls()
    assert call.fields["To"] == ALICE_PHONE and call.fields["From"] == FROM_NUMBER
    twiml = call.fields["Twiml"]
    assert (
        '<Gather action="https://bot.example.com/paging/twilio/voice?incident=42" method="POST" numDigits="1">'
        "<Say>INC-42, P1: Checkout &lt;API&gt; &amp; co. Press 1.</Say></Gather><Say>" in twiml
    )
    assert twilio.gather_action(sent.sid) == gather
    assert call.fields["StatusCallback"] == "https://bot.example.com/paging/twilio/status"
    assert call.fields["StatusCallbackMethod"] == "POST"
    assert call.lists["StatusCallbackEvent"] == ["completed"]  # no-answer, busy, failed: its CallStatus
    assert attempts("twilio", "call", "sent") == sent_before + 1


def test_a_call_without_gather_only_says(twilio: TwilioStandIn, moto: Moto) -> None:
    providers = Providers(paging(twilio), AUTH_TOKEN, None, sns_factory(moto))
    run(providers, lambda p: p.call(ALICE_PHONE, "INC-42 P1. Acknowledge in Slack.", None))
    [call] = twilio.calls()
    assert call.fields["Twiml"].endswith("<Response><Say>INC-42 P1. Acknowledge in Slack.</Say></Response>")
    assert "StatusCallback" not in call.fields


def test_a_failed_call_is_not_sent_elsewhere(twilio: TwilioStandIn, moto: Moto) -> None:
    failed, sns_before = attempts("twilio", "call", "failed"), len(sns_messages())
    twilio.fail_next(500)
    providers = Providers(paging(twilio), AUTH_TOKEN, None, sns_factory(moto))
    with pytest.raises(ProviderDown, match="call not made: Twilio answered HTTP 500") as down:
        run(providers, lambda p: p.call(ALICE_PHONE, "hello", None))
    assert not isinstance(down.value, NumberRefused)
    assert len(sns_messages()) == sns_before
    assert attempts("twilio", "call", "failed") == failed + 1


# Webhooks ---------------------------------------------------------------------------------------------------------
def test_a_signed_status_callback_is_accepted_and_a_forged_one_refused(
    twilio: TwilioStandIn, moto: Moto, webhooks: Webhooks
) -> None:
    providers = Providers(paging(twilio), AUTH_TOKEN, webhooks.url, sns_factory(moto))
    sent = run(providers, lambda p: p.sms(ALICE_PHONE, BODY))
    assert sent.sid

    answer = twilio.status(sent.sid, "undelivered", error_code="30003")
    assert answer.status_code == 200 and answer.text == twiml_empty()
    got = webhooks.received[-1]
    assert got["MessageSid"] == sent.sid and got["MessageStatus"] == "undelivered" and got["ErrorCode"] == "30003"
    assert got["AccountSid"] == ACCOUNT_SID and got["To"] == ALICE_PHONE

    received = len(webhooks.received)
    assert twilio.status(sent.sid, "delivered", forged=True).status_code == 403
    assert len(webhooks.received) == received


def test_inbound_sms_and_gathers_are_verified_over_public_url_path_and_query(
    twilio: TwilioStandIn, webhooks: Webhooks
) -> None:
    reply = twilio.inbound_sms(f"{webhooks.url}/paging/twilio/sms", ALICE_PHONE, "1")
    assert reply.status_code == 200 and reply.json()["Body"] == "1" and reply.json()["From"] == ALICE_PHONE

    with_query = f"{webhooks.url}/paging/twilio/voice?incident=42&step=call"
    pressed = twilio.callback(with_query, {"CallSid": "CA" + "0" * 32, "Digits": "1"})
    assert pressed.status_code == 200 and pressed.json()["Digits"] == "1"

    url = f"{webhooks.url}/paging/twilio/sms"
    params = {"From": ALICE_PHONE, "Body": "1"}
    assert twilio.signed_post(url, params, AUTH_TOKEN, forged=True).status_code == 403
    assert twilio.signed_post(url, params, "another-accounts-token").status_code == 403
    elsewhere = twilio.signed_post(url, params, AUTH_TOKEN, signed_url="https://attacker.example/paging/twilio/sms")
    assert elsewhere.status_code == 403
    # signed for one body, sent with another: the signature covers every field
    signature = twilio.signature(url, params, AUTH_TOKEN)
    import httpx

    tampered = httpx.post(url, data={**params, "Body": "2"}, headers={"X-Twilio-Signature": signature})
    assert tampered.status_code == 403
    assert httpx.post(url, data=params).status_code == 403  # no signature at all


def test_the_stand_in_answers_as_twilio(twilio: TwilioStandIn) -> None:
    import httpx

    url = f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    fields = {"To": ALICE_PHONE, "From": FROM_NUMBER, "Body": "x"}
    unauthenticated = httpx.post(url, data=fields)
    assert unauthenticated.status_code == 401 and unauthenticated.json()["code"] == 20003
    ok = httpx.post(url, data=fields, auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert ok.status_code == 201 and ok.json()["status"] == "queued" and ok.json()["sid"].startswith("SM")
    bad = httpx.post(url, data=fields | {"To": "0101"}, auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert bad.status_code == 400 and bad.json()["code"] == 21211


# Logs -------------------------------------------------------------------------------------------------------------
def test_the_number_and_the_token_are_never_logged(
    twilio: TwilioStandIn, moto: Moto, caplog: pytest.LogCaptureFixture
) -> None:
    def everything(p: Providers) -> Awaitable[None]:
        async def go() -> None:
            await p.sms(ALICE_PHONE, BODY)
            twilio.fail_next(500)
            await p.sms(ALICE_PHONE, BODY)  # by SNS
            twilio.fail_next(500)
            with moto.denied(), pytest.raises(ProviderDown):
                await p.sms(ALICE_PHONE, BODY)
            twilio.unsubscribed.add(ALICE_PHONE)
            with pytest.raises(NumberRefused):
                await p.sms(ALICE_PHONE, BODY)
            await p.call(ALICE_PHONE, "hello", "https://bot.example.com/paging/twilio/voice")
            twilio.fail_next(500)
            with pytest.raises(ProviderDown):
                await p.call(ALICE_PHONE, "hello", None)

        return go()

    providers = Providers(paging(twilio), AUTH_TOKEN, "https://bot.example.com", sns_factory(moto))
    with caplog.at_level(logging.INFO):
        run(providers, everything)
    digits = ALICE_PHONE.lstrip("+")
    assert f"•••• {ALICE_PHONE[-4:]}" in caplog.text  # the masked number is what is said
    assert digits not in caplog.text and AUTH_TOKEN not in caplog.text

    # At DEBUG libraries log more (botocore: the request's parameters): the product's formatter redacts the number.
    caplog.clear()
    twilio.unsubscribed.clear()
    twilio.fail_next(500)
    providers = Providers(paging(twilio), AUTH_TOKEN, "https://bot.example.com", sns_factory(moto))
    with caplog.at_level(logging.DEBUG):
        run(providers, lambda p: p.sms(ALICE_PHONE, BODY))
    formatter = RedactingFormatter(Redactor([AUTH_TOKEN]), json_lines=True)
    lines = "\n".join(formatter.format(record) for record in caplog.records)
    assert digits not in lines and AUTH_TOKEN not in lines


def test_without_a_factory_sns_is_boto3s_default_chain(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in moto.env().items():  # AWS_ENDPOINT_URL and the credentials, as the bot's process has them
        monkeypatch.setenv(name, value)
    sns_before = len(sns_messages())
    providers = Providers(paging(None), None, None, None)
    assert run(providers, lambda p: p.sms(ALICE_PHONE, BODY)).provider == "sns"
    assert sns_messages()[sns_before:] == [(ALICE_PHONE, BODY)]
