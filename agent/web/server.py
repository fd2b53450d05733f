"""Serving the page: uvicorn in a background thread (the daemon embeds it), and the read-only store access that
`crm-agent web --read-only` uses on a second machine.

``serve()`` binds the socket before it returns, so a busy port or a refused bind is a UserError at start-up, and
``handle.url`` is the real address even for port 0.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from sqlalchemy import event

from agent.errors import UserError
from agent.web.security import is_loopback_bind

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 3  # open browser connections get this long to finish, so the daemon exits well within 10 s


class _ThreadServer(uvicorn.Server):
    """uvicorn's server without signal handling (the owner stops it), reporting when it listens."""

    def __init__(self, config: uvicorn.Config, stop_event: threading.Event | None) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._stop_event = stop_event

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    async def on_tick(self, counter: int) -> bool:
        if self._stop_event is not None and self._stop_event.is_set():
            return True
        return await super().on_tick(counter)


@dataclass
class WebHandle:
    """A running page: ``url`` to print, ``stop()`` to end it (idempotent, waits for the thread)."""

    url: str
    host: str
    port: int
    server: _ThreadServer = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = STOP_GRACE_SECONDS + 5) -> None:
        self.server.should_exit = True
        if self.thread is not threading.current_thread():
            self.thread.join(timeout)

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


def check_bind(host: str, token: str | None) -> None:
    if not is_loopback_bind(host) and not token:
        raise UserError(f"web.bind: {host!r} is not loopback, so the page needs a token "
                        '(set [web] token = "env:CRM_AGENT_WEB_TOKEN"), or bind 127.0.0.1')


def _listen(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"web.bind: cannot resolve {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UserError(f"web: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def _url(sock: socket.socket) -> tuple[str, int, str]:
    host, port = sock.getsockname()[:2]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    return host, port, f"http://{shown}:{port}/"


def serve(service, *, host: str = "127.0.0.1", port: int = 8765, read_only: bool = False, token: str | None = None,
          stop_event: threading.Event | None = None) -> WebHandle:
    """Start the page in a thread and return once it listens. Refuses a non-loopback bind without a token."""
    from agent.web.app import create_app

    check_bind(host, token)
    app = create_app(service, read_only=read_only, token=token)
    sock = _listen(host, port)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False, proxy_headers=False,
                            server_header=False, timeout_graceful_shutdown=STOP_GRACE_SECONDS)
    server = _ThreadServer(config, stop_event)
    thread = threading.Thread(target=_run, args=(server, sock), name="crm-agent-web", daemon=True)
    thread.start()
    server.ready.wait(30)
    if not server.started:
        server.should_exit = True
        raise UserError(f"web: the page did not start on {host}:{port} (see the log)")
    bound_host, bound_port, url = _url(sock)
    log.info("status page at %s%s", url, " (read-only)" if read_only else "")
    return WebHandle(url, bound_host, bound_port, server, thread)


def _run(server: _ThreadServer, sock: socket.socket) -> None:
    try:
        server.run(sockets=[sock])
    except BaseException:  # noqa: BLE001 - a dying page thread must say why, not vanish (SystemExit included)
        log.exception("the status page stopped unexpectedly")
    finally:
        server.ready.set()
        sock.close()


def serve_foreground(service, *, host: str, port: int, read_only: bool = False, token: str | None = None,
                     announce: Callable[[str], None] | None = None, any_port_if_busy: bool = False) -> None:
    """Serve the page until Ctrl-C or SIGTERM (`crm-agent web`, the demo), then stop it cleanly.

    ``any_port_if_busy``: when ``port`` is taken, take any free one rather than fail (the demo prints the URL).
    """
    stop_event = threading.Event()
    try:
        handle = serve(service, host=host, port=port, read_only=read_only, token=token, stop_event=stop_event)
    except UserError:
        if not any_port_if_busy or port == 0:
            raise
        handle = serve(service, host=host, port=0, read_only=read_only, token=token, stop_event=stop_event)
    previous = signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    if announce is not None:
        announce(handle.url)
    try:
        while not stop_event.wait(0.5) and handle.running:
            pass
    except KeyboardInterrupt:
        stop_event.set()
    finally:
        signal.signal(signal.SIGTERM, previous)
        handle.stop()


def serve_demo(config: Path, anchor, *, announce: Callable[[str], None]) -> None:
    """The demo's page: its store, with the clock fixed at the story's anchor like the demo run itself."""
    from agent.clock import FakeClock
    from agent.config import load_config
    from agent.service import AgentService

    settings = load_config(config)
    service = AgentService(settings, clock=FakeClock(anchor))
    try:
        serve_foreground(service, host="127.0.0.1", port=settings.web.port, announce=announce, any_port_if_busy=True)
    finally:
        service.close()


# ---------------------------------------------------------------------------------------------------- read-only


def read_only_service(settings, *, clock=None):
    """An AgentService over an existing store that cannot write to it: no schema preparation, and every
    connection set read-only (SQLite ``query_only``, PostgreSQL read-only transactions). Refuses a store whose
    schema is not the one this code knows, since upgrading it is a write."""
    from agent.service import AgentService
    from agent.store.db import Store

    _require_existing_sqlite(settings.database)
    store = Store(settings.database)
    for engine in {store.engine, store._reader}:  # noqa: SLF001 - both engines of the store must refuse writes
        event.listen(engine, "connect", _read_only_connection(store.dialect))
    try:
        current, head = store.schema_state()
    except Exception as exc:  # noqa: BLE001 - any driver error opening the store is a configuration problem
        store.dispose()
        raise UserError(f"database: cannot open {store.url_for_display} read-only: {exc}") from None
    if current != head:
        store.dispose()
        found = "empty" if current is None else f"at schema {current}"
        raise UserError(f"database: {store.url_for_display} is {found}, this crm-agent needs {head}; "
                        "read-only mode never changes the schema: run `crm-agent db upgrade` where the agent runs")
    return AgentService(settings, clock=clock, store=store, prepare=False)


def _require_existing_sqlite(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            raise UserError(f"database: {path} does not exist (read-only mode never creates a store)")


def _read_only_connection(dialect: str):
    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        if dialect == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cursor.close()
        if dialect != "sqlite":
            dbapi_connection.commit()

    return on_connect
