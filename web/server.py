"""Serving the WSGI app with waitress: in the foreground (``disaster serve``) or in a thread."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from waitress import create_server
from waitress import serve as _waitress_serve


def serve(app: Flask, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> None:
    """Serve ``app`` until interrupted (waitress: pure Python, fine on Windows and Linux).

    The map layers' geometry cache fills in the background as the server starts.
    """
    from web.api.geojson import warm_in_background

    warm_in_background(app)
    _waitress_serve(app, host=host, port=port, threads=threads, ident="disaster",
                    clear_untrusted_proxy_headers=True)


class ServerThread:
    """A waitress server in a background thread (tests, benchmarks, the embedded demo).

    ``port=0`` picks a free port; :attr:`url` is the address to open.
    """

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 4) -> None:
        self.server: Any = create_server(app, host=host, port=port, threads=threads,
                                         ident="disaster")
        self.host = host
        self.port = int(self.server.effective_port)
        self.url = f"http://{host}:{self.port}"
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="waitress", daemon=True)

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:
            # Closing the socket under the select loop ends it with EBADF: that is the stop.
            if not self._stopping:
                raise

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Finish the requests in hand, then close the socket and end the loop."""
        self._stopping = True
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=10)
        self.server.close()
        self._thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
