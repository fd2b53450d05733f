"""A small threaded HTTP(S) server on 127.0.0.1 for the protocol servers of this suite (EWS, Graph, sign-in).

Each server subclass answers ``handle(request) -> Response``; the base records every request (method, path,
headers, body) so tests can assert what the client really sent, and can be told to fail the next matching
requests (throttling, outages) without any sleeping.
"""

from __future__ import annotations

import itertools
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.harness import LOOPBACK, SelfSignedCert, make_self_signed_cert


@dataclass
class Request:
    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    raw_path: str = ""
    connection: int = 0  # which TCP connection carried it (NTLM authenticates a connection, not a request)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Response:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **headers})


@dataclass
class Failure:
    """Answer the next ``count`` requests whose path contains ``path_part`` with this response."""

    path_part: str
    response: Response
    count: int = 1


class ProtocolServer:
    """Base: ``start()`` binds a free port (TLS with a throwaway certificate when ``tls``), ``stop()`` closes it."""

    name = "protocol-server"

    def __init__(self, directory: Path | None = None, *, tls: bool = False, cert: SelfSignedCert | None = None) -> None:
        self.directory = directory
        self.tls = tls or cert is not None
        self.cert = cert
        self.cert_path: Path | None = cert.cert_path if cert else None
        self.requests: list[Request] = []
        self.failures: list[Failure] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- life cycle -----------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{LOOPBACK}:{self.port}"

    def start(self) -> ProtocolServer:
        owner = self

        connections = itertools.count(1)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection_number = next(connections)

            def log_message(self, *args: Any) -> None:  # quiet: the request list is the log
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    self.path,
                    self.connection_number,
                )
                response = owner._dispatch(request)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        if self.tls:
            if self.cert is None:
                assert self.directory is not None, "TLS needs a directory for the certificate"
                self.cert = make_self_signed_cert(self.directory / "tls")
            cert = self.cert
            self.cert_path = cert.cert_path
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert.cert_path, cert.key_path)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ProtocolServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- behaviour ------------------------------------------------------------------------------------------
    def fail_next(self, path_part: str, response: Response, count: int = 1) -> None:
        with self.lock:
            self.failures.append(Failure(path_part, response, count))

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()

    def _dispatch(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            for failure in self.failures:
                if failure.count > 0 and failure.path_part in request.raw_path:
                    failure.count -= 1
                    return failure.response
        try:
            return self.handle(request)
        except Exception as exc:  # a bug in the fake server must show up in the test, not hang the client
            return Response(
                500, f"test server error: {type(exc).__name__}: {exc}".encode(), {"Content-Type": "text/plain"}
            )

    def handle(self, request: Request) -> Response:
        raise NotImplementedError
