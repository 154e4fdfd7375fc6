from __future__ import annotations

import json
import logging

from bot.core.logs import RedactingFormatter, Redactor


def test_redactor_patterns() -> None:
    r = Redactor(["my-signing-secret-123"])
    samples = {
        "token=xoxb-1-2-abc and xapp-1-A-2-xyz": "xox",
        "secret my-signing-secret-123 here": "my-signing",
        '{"response_url": "https://hooks.slack.com/commands/T1/2/abc"}': "hooks.slack",
        "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1&trigger_id=1": "hooks.slack",
        "payload=%7B%22response_url%22%3A%22http%3A%2F%2F127.0.0.1%3A9%2Fresponse%2Fsecretpart%22%7D": "secretpart",
        "{'response_url': 'http://127.0.0.1:9/response/secretpart2'}": "secretpart2",
        "Authorization: Bearer abc.def": "abc.def",
        "key AKIAABCDEFGHIJKLMNOP": "AKIA",
        "{'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEJr//wEaCXVz'}": "IQoJb3JpZ2lu",
        "X-Amz-Security-Token: IQoJb3JpZ2luX2VjEJr%2F%2FwEa": "IQoJb3JpZ2lu",
        "{'ok': True, 'user': {'profile': {'email': 'alice@acme.io', 'real_name': 'Alice'}}}": "alice@acme",
        '{"profile": {"email": "bob@acme.io"}}': "bob@acme",
    }
    for text, needle in samples.items():
        assert needle not in r(text), text


def test_learned_values_and_exceptions_are_redacted() -> None:
    r = Redactor()
    r.learn("http://example.test/response/learned-value")
    formatter = RedactingFormatter(r, json_lines=True)
    try:
        raise ValueError("boom http://example.test/response/learned-value")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("xoxb-9-9-zz",), sys.exc_info())
    out = formatter.format(record)
    assert "learned-value" not in out and "xoxb-9" not in out and json.loads(out)["level"] == "error"
