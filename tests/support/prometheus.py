"""A local stand-in for the Prometheus HTTP API: /api/v1/query answers from a table of canned values."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakePrometheus:
    def __init__(self, values: dict[str, float | str | None]) -> None:
        """``values``: PromQL → number, None (empty result) or "error:<message>"."""
        self.values = values
        self.queries: list[str] = []
        self.authorizations: list[str | None] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query).get("query", [""])[0]
                owner.queries.append(query)
                owner.authorizations.append(self.headers.get("Authorization"))
                value = owner.values.get(query)
                if isinstance(value, str) and value.startswith("error:"):
                    status, body = 400, {"status": "error", "errorType": "bad_data", "error": value[6:]}
                elif value is None:
                    status, body = 200, {"status": "success", "data": {"resultType": "vector", "result": []}}
                else:
                    sample = {"metric": {}, "value": [1700000000.0, str(value)]}
                    status, body = 200, {"status": "success", "data": {"resultType": "vector", "result": [sample]}}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
