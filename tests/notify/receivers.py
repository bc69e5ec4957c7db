"""Test servers on loopback that stand in for the other end: a webhook receiver and an SMTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from usageledger.notify import verify_webhook
from usageledger.notify.signing import WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived
    answered: int


@dataclass
class WebhookReceiver:
    """Answers POSTs with the next status of `script` (then `default`). With a `secret`, it checks the
    Standard Webhooks signature like a careful receiver: 401 for a bad or stale signature, 409 for a
    message id it has already accepted (a replay)."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    default: int = 200
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    rejections: list[str] = field(default_factory=list)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        if self.secret is not None:
            try:
                verify_webhook(self.secret, body, headers)
            except WebhookVerificationError as exc:
                self.rejections.append(str(exc))
                return 401
            message_id = headers.get("webhook-id", "")
            if message_id in self.seen_ids:
                self.rejections.append("replayed message id")
                return 409
        status = self.script.pop(0) if self.script else self.default
        if self.secret is not None and 200 <= status < 300:
            self.seen_ids.add(headers.get("webhook-id", ""))
        return status


@contextmanager
def webhook_receiver(**options: Any) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(**options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.answer(headers, body)
            receiver.received.append(Received(self.path, headers, body, time.monotonic(), status))
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
