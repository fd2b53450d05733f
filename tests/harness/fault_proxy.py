"""A TCP proxy on 127.0.0.1 that injects network faults between a client under test and a real server.

Point the client at ``proxy.port`` instead of the server. Then:
- ``drop_all()`` resets every open connection (the client sees ECONNRESET or EOF mid-conversation);
- ``pause()`` / ``resume()`` hold all traffic, as a hung network does (the client's own timeouts fire);
- ``set_latency(ms)`` delays every chunk forwarded in either direction;
- ``refuse_new(True)`` resets new connections as soon as they arrive.
Threads, not asyncio, so it works beside any client library, blocking or not.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Self

from .process import LOOPBACK, LoopbackServer

_CHUNK = 65536
# SO_LINGER on, timeout 0: close() sends RST instead of FIN, like a dropped NAT entry or a crashed peer.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class _Link:
    """One proxied connection: the client's socket, the backend's, and the two threads that pump between them."""

    def __init__(self, client: socket.socket, backend: socket.socket) -> None:
        self.client = client
        self.backend = backend
        self.dropped = False
        self._lock = threading.Lock()
        self._pumps_left = 2

    def abort(self) -> None:
        """Reset both sides; the pump threads wake up (SHUT_RD) and the last one closes the sockets."""
        with self._lock:
            self.dropped = True
            for side in (self.client, self.backend):
                try:
                    side.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
                    side.shutdown(socket.SHUT_RD)
                except OSError:
                    pass

    def pump_finished(self) -> bool:
        with self._lock:
            self._pumps_left -= 1
            last = self._pumps_left == 0
        if last:
            self.client.close()
            self.backend.close()
        return last


class FaultProxy(LoopbackServer):
    """``with FaultProxy(LOOPBACK, dovecot.port) as proxy: connect to proxy.port; proxy.drop_all()``."""

    name = "fault-proxy"

    def __init__(self, target_host: str, target_port: int, *, host: str = LOOPBACK) -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.accepted = 0
        self._latency = 0.0
        self._refuse_new = False
        self._flowing = threading.Event()
        self._flowing.set()
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self) -> Self:
        started = time.monotonic()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(64)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._spawn(self._accept_loop, "accept")
        self.start_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._flowing.set()
        if self._listener is not None:
            try:
                # shutdown wakes the thread blocked in accept(); close alone would not.
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
        self.drop_all()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)

    # ---- faults -----------------------------------------------------------------------------------------------
    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._links)

    def drop_all(self) -> int:
        """Reset every open connection; returns how many were dropped. New connections are still accepted."""
        with self._lock:
            links = list(self._links)
        for link in links:
            link.abort()
        return len(links)

    def pause(self) -> None:
        """Stop forwarding in both directions (bytes wait in the proxy) until ``resume``."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def set_latency(self, milliseconds: float) -> None:
        """Delay each forwarded chunk by this much (0 to turn off)."""
        if milliseconds < 0:
            raise ValueError("latency must be >= 0 ms")
        self._latency = milliseconds / 1000

    def refuse_new(self, refuse: bool = True) -> None:
        """Reset new connections at once (the backend is never contacted) while ``refuse`` holds."""
        self._refuse_new = refuse

    # ---- plumbing ---------------------------------------------------------------------------------------------
    def _spawn(self, target: object, name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=f"fault-proxy-{name}", daemon=True)  # type: ignore
        with self._lock:
            self._threads = [running for running in self._threads if running.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self._refuse_new:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
                client.close()
                continue
            try:
                backend = socket.create_connection(self.target, timeout=10)
                backend.settimeout(None)
            except OSError:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
                client.close()
                continue
            link = _Link(client, backend)
            with self._lock:
                self._links.add(link)
            self._spawn(self._pump, "up", link, client, backend)
            self._spawn(self._pump, "down", link, backend, client)

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data or link.dropped:
                    break
                while not self._flowing.wait(0.05) and not link.dropped:
                    pass  # paused: hold the bytes, but notice a drop within 50 ms
                if self._latency:
                    time.sleep(self._latency)
                if link.dropped:
                    break
                sink.sendall(data)
        except OSError:
            pass
        if not link.dropped:
            try:
                # Pass an orderly end-of-stream on, so half-closed protocols keep working.
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        if link.pump_finished():
            with self._lock:
                self._links.discard(link)
