"""moto's server on a free loopback port, behind a front the bot reaches with AWS_ENDPOINT_URL that can refuse
every call with AccessDenied, as an identity without the permission is answered."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.standin import Reply, Request, StandIn, forward

# Shaped like real ones, so that the log scan (tests/support/secrets_scan.py) would find them if they leaked.
ACCESS_KEY = "AKIAZ7TESTKEY0000042"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTSECRET"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDtestsessiontoken"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_SESSION_TOKEN": SESSION_TOKEN,
    "AWS_DEFAULT_REGION": "us-east-1",
}


class Moto:
    """moto behind a front the bot is pointed at (``env()``): the front forwards every call to moto, or, while
    ``denied()``, answers each with AccessDenied as AWS answers an identity without the permission."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer  # here: the log scan imports only the keys above

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.front = AwsFront()

    def start(self) -> Moto:
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        # moto's backends are the process's, not the server's: a module before this one in the same worker left
        # its clusters and instances there. Each module starts from an empty AWS.
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10).close()
        self.front.moto_url = self.url
        self.front.start()
        return self

    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.front.url}

    @contextmanager
    def denied(self) -> Iterator[AwsFront]:
        """Every call is refused with AccessDenied meanwhile; ``calls`` counts them."""
        self.front.calls = 0
        self.front.denying = True
        try:
            yield self.front
        finally:
            self.front.denying = False

    def client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session().client(
            service,
            region_name="us-east-1",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def stop(self) -> None:
        self.front.stop()
        self.server.stop()


class AwsFront(StandIn):
    """In front of moto: forwards, or refuses with AccessDenied in the protocol's own shape: the Query protocol's
    403 error document (RDS), the JSON protocol's AccessDeniedException (Cost Explorer)."""

    def __init__(self) -> None:
        super().__init__()
        self.moto_url = ""
        self.denying = False
        self.calls = 0

    def handle(self, request: Request) -> Reply:
        if not self.denying:
            return forward(request, self.moto_url)
        self.calls += 1
        if request.headers.get("X-Amz-Target"):  # the JSON protocol (Cost Explorer): AWS answers 400 with JSON
            body = (
                b'{"__type": "AccessDeniedException", "Message": "User: arn:aws:sts::123456789012:'
                b'assumed-role/chatops-bot is not authorized to perform: ce:GetCostAndUsage"}'
            )
            return Reply(400, body, {"Content-Type": "application/x-amz-json-1.1"})
        body = (
            b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            b"<Message>User: arn:aws:sts::123456789012:assumed-role/chatops-bot is not authorized to "
            b"perform: rds:DescribeDBInstances</Message></Error><RequestId>1</RequestId></ErrorResponse>"
        )
        return Reply(403, body, {"Content-Type": "text/xml"})
