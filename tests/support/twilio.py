"""A stand-in of Twilio's REST API on loopback (``paging.twilio.api_url``): ``POST /2010-04-01/Accounts/{sid}/
Messages.json`` and ``Calls.json`` answered as Twilio answers them (201 with an ``SM…``/``CA…`` sid, status queued;
401 with error 20003 without the account's Basic auth; 400 with 21211 for a 'To' not in E.164, 21610 for a number
that replied STOP), every request recorded with its form fields, faults on demand (the base's: 500, 429 with
Retry-After, slow answers).

And Twilio's side of the webhooks: status callbacks, inbound SMS and a call's gathered key POSTed to the bot signed
exactly as Twilio signs them (``X-Twilio-Signature``: HMAC-SHA1 with the auth token over the URL and the sorted
fields, computed with the library's ``RequestValidator``), or forged."""

from __future__ import annotations

import base64
import re
import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from tests.support.standin import Fault, Reply, Request, StandIn

# Shaped like real ones, so that the log scan (tests/support/secrets_scan.py) would find them if they leaked.
ACCOUNT_SID = "AC" + "5f1e" * 8
AUTH_TOKEN = "9c2b7e41d0a64f3e8b15c7a2d9e0f4b6"
FROM_NUMBER = "+14155550100"
ALICE_PHONE = "+14155550142"  # people's numbers: personal data, never in a log (not the +1…0101 of help texts)
BOB_PHONE = "+14155550177"
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
RESOURCE = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/(?P<kind>Messages|Calls)\.json$")


@dataclass
class Posted:
    """One request to Messages or Calls: its form fields (last value of each) and how it was answered."""

    kind: str  # "Messages" or "Calls"
    fields: dict[str, str]
    lists: dict[str, list[str]]  # every value of each field (StatusCallbackEvent is repeated)
    status: int
    sid: str | None  # of what was created (201)


def error(status: int, code: int, message: str) -> Reply:
    """An error answered in Twilio's shape."""
    more = f"https://www.twilio.com/docs/errors/{code}"
    return Reply(status, {"code": code, "message": message, "more_info": more, "status": status})


def _twilio_date() -> str:
    return datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


class TwilioStandIn(StandIn):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.unsubscribed: set[str] = set()  # numbers that replied STOP: 21610
        self.created: dict[str, dict[str, list[str]]] = {}  # sid -> the fields it was created with
        self._sids: dict[int, str] = {}  # id of a recorded request -> the sid it created
        self._created_lock = threading.Lock()
        self.start()

    # The REST API -------------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        found = RESOURCE.match(request.path)
        if request.method != "POST" or not found:
            return error(404, 20404, f"The requested resource {request.path} was not found")
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}" or found["sid"] != self.account_sid:
            return error(401, 20003, "Authenticate")
        fields = parse_qs(request.body.decode(), keep_blank_values=True)
        one = {k: v[-1] for k, v in fields.items()}
        to = one.get("To", "")
        kind = found["kind"]
        if not to:
            return error(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not one.get("From"):
            return error(400, 21603, "A 'From' phone number is required.")
        if kind == "Messages":
            if to in self.unsubscribed:
                return error(400, 21610, "Attempt to send to unsubscribed recipient")
            if not one.get("Body"):
                return error(400, 21602, "Message body is required.")
        elif not (one.get("Url") or one.get("Twiml") or one.get("ApplicationSid")):
            return error(400, 21205, "Url parameter is required.")
        sid = ("SM" if kind == "Messages" else "CA") + secrets.token_hex(16)
        with self._created_lock:
            self.created[sid] = fields
            self._sids[id(request)] = sid
        return Reply(201, self._resource(kind, sid, one))

    def _resource(self, kind: str, sid: str, one: dict[str, str]) -> dict[str, Any]:
        now = _twilio_date()
        common = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": one["To"],
            "from": one["From"],
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/{kind}/{sid}.json",
        }
        if kind == "Messages":
            return common | {
                "body": one["Body"],
                "num_segments": "1",
                "num_media": "0",
                "messaging_service_sid": None,
                "error_code": None,
                "error_message": None,
                "date_sent": None,
                "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            }
        return common | {
            "parent_call_sid": None,
            "phone_number_sid": None,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "answered_by": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "forwarded_from": None,
            "group_sid": None,
            "subresource_uris": {},
        }

    def posted(self, kind: str | None = None) -> list[Posted]:
        """Every request to Messages/Calls (``kind``: only those), in order, with its answer."""
        out = []
        with self.lock:
            requests = list(self.requests)
        for request, status in requests:
            found = RESOURCE.match(request.path)
            if not found or (kind and found["kind"] != kind):
                continue
            lists = parse_qs(request.body.decode(), keep_blank_values=True)
            with self._created_lock:
                sid = self._sids.get(id(request))
            out.append(Posted(found["kind"], {k: v[-1] for k, v in lists.items()}, lists, status, sid))
        return out

    def messages(self) -> list[Posted]:
        """The SMS Twilio took (201)."""
        return [p for p in self.posted("Messages") if p.status == 201]

    def calls(self) -> list[Posted]:
        """The calls Twilio took (201)."""
        return [p for p in self.posted("Calls") if p.status == 201]

    # Faults -------------------------------------------------------------------------------------------------------
    def fail_next(self, status: int = 500, times: int = 1, code: int | None = None, **headers: str) -> None:
        """The next ``times`` requests answered with ``status`` (Twilio's error shape; 429: pass Retry-After)."""
        body = {"code": code or 20500, "message": "stand-in fault", "more_info": "", "status": status}
        self.fail(*[Fault(status, dict(headers), body=body)] * times)

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` requests are answered (and carried out) only after ``seconds``."""
        self.fail(*[Fault(0, delay=seconds)] * times)

    # Webhooks, as Twilio sends them -------------------------------------------------------------------------------
    @staticmethod
    def signature(url: str, params: dict[str, str], token: str) -> str:
        from twilio.request_validator import RequestValidator

        return str(RequestValidator(token).compute_signature(url, params))

    def signed_post(
        self, url: str, params: dict[str, str], token: str, forged: bool = False, signed_url: str | None = None
    ) -> Any:
        """POST ``params`` form-encoded to ``url`` with Twilio's headers and ``X-Twilio-Signature`` over
        ``signed_url`` (default ``url``: the bot's PUBLIC_URL + path) and the fields; ``forged``: signed with another
        token. The ``httpx.Response``."""
        import httpx

        signature = self.signature(signed_url or url, params, "forged-" + token if forged else token)
        headers = {
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
            "Accept": "*/*",
        }
        return httpx.post(url, data=params, headers=headers, timeout=10)

    def callback(self, url: str, params: dict[str, str], auth_token: str | None = None, **kw: Any) -> Any:
        """A webhook (status callback, inbound SMS, gathered key) as Twilio POSTs it: the account and API version
        added, signed with ``auth_token`` (default the stand-in's)."""
        full = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", **params}
        return self.signed_post(url, full, auth_token or self.auth_token, **kw)

    def status(self, sid: str, status: str, error_code: str | None = None, **kw: Any) -> Any:
        """The status callback of a created SMS (queued, sent, delivered, undelivered, failed) or call (ringing,
        in-progress, completed, busy, no-answer, failed, canceled) to the StatusCallback it was created with."""
        with self._created_lock:
            fields = {k: v[-1] for k, v in self.created[sid].items()}
        url = fields["StatusCallback"]
        if sid.startswith("SM"):
            params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status}
        else:
            params = {
                "CallSid": sid,
                "CallStatus": status,
                "Direction": "outbound-api",
                "CallbackSource": "call-progress-events",
            }
            if status == "completed":
                params["CallDuration"] = "14"
        params |= {"To": fields["To"], "From": fields["From"]}
        if error_code:
            params["ErrorCode"] = error_code
        return self.callback(url, params, **kw)

    def inbound_sms(self, url: str, from_: str, body: str, to: str = FROM_NUMBER, **kw: Any) -> Any:
        """An SMS from ``from_`` to the bot's number, POSTed to the number's "a message comes in" webhook."""
        sid = "SM" + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
        }
        return self.callback(url, params, **kw)

    def gather_action(self, sid: str) -> str:
        """The ``action`` of the ``<Gather>`` in a created call's TwiML."""
        with self._created_lock:
            twiml = self.created[sid]["Twiml"][-1]
        gather = ET.fromstring(twiml).find("Gather")
        assert gather is not None, twiml
        return gather.attrib["action"]

    def press(self, sid: str, digits: str, url: str | None = None, **kw: Any) -> Any:
        """The person on call ``sid`` pressed ``digits``: POSTed to its Gather's action (or ``url``)."""
        with self._created_lock:
            fields = {k: v[-1] for k, v in self.created[sid].items()}
        params = {
            "CallSid": sid,
            "CallStatus": "in-progress",
            "Digits": digits,
            "From": fields["From"],
            "To": fields["To"],
            "Direction": "outbound-api",
            "FinishedOnKey": "",
        }
        return self.callback(url or self.gather_action(sid), params, **kw)
