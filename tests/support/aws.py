"""moto's server on a free loopback port (the bot reaches it with AWS_ENDPOINT_URL), and a stand-in that refuses
every call with AccessDenied, as an identity without the permission is answered."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer  # here: the log scan imports only the keys above

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> Moto:
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.url}

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
        self.server.stop()


class Denying:
    """Answers every AWS call with AccessDenied: the Query protocol's 403 error document (RDS), the JSON protocol's
    AccessDeniedException (Cost Explorer)."""

    def __init__(self) -> None:
        self.calls = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.calls += 1
                if self.headers.get("X-Amz-Target"):  # the JSON protocol (Cost Explorer): AWS answers 400 with JSON
                    status, kind = 400, "application/x-amz-json-1.1"
                    body = (
                        b'{"__type": "AccessDeniedException", "Message": "User: arn:aws:sts::123456789012:'
                        b'assumed-role/chatops-bot is not authorized to perform: ce:GetCostAndUsage"}'
                    )
                else:
                    status, kind = 403, "text/xml"
                    body = (
                        b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                        b"<Message>User: arn:aws:sts::123456789012:assumed-role/chatops-bot is not authorized to "
                        b"perform: rds:DescribeDBInstances</Message></Error><RequestId>1</RequestId></ErrorResponse>"
                    )
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.url}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
