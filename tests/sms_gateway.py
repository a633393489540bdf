"""A local fake SMS gateway (``http.server`` on 127.0.0.1) for delivery tests and benchmarks."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeGateway:
    """An SMS gateway on 127.0.0.1 speaking HTTP/1.1 keep-alive; de-duplicates by ``id``."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay, self.status = delay, 200
        self.fail_to: set[str] = set()  # numbers the gateway refuses (500)
        self.posts: list[dict] = []          # every request, repeats included
        self.delivered: Counter[str] = Counter()  # what reached phones (after de-duplication)
        self.connections: set[tuple] = set()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if gateway.delay:
                    time.sleep(gateway.delay)
                status = 500 if body["to"] in gateway.fail_to else gateway.status
                with gateway.lock:
                    gateway.posts.append(body)
                    gateway.connections.add(self.client_address)
                    if status == 200 and body["id"] not in gateway.delivered:
                        gateway.delivered[body["id"]] += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
