"""Suite-wide fixtures: real loopback servers started lazily (only when a test asks), plus per-test isolation.

Servers are session-scoped and shared; each test isolates itself through what it gets: a fresh IMAP or CalDAV
user, a fresh PostgreSQL database, an emptied SMTP sink. The servers are not optional: when one is missing the
test fails and says to run scripts/install-test-deps. Only tests marked ``live`` may skip (no credentials).
The servers' directory (configs and logs) is kept after a run with failures, or with CRM_TEST_KEEP_SERVER_DIRS=1.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

# The suite imports its helpers as the package ``tests`` (tests.harness, tests.support...). pytest puts the repo
# root on sys.path only while tests/__init__.py exists; do it here too so the imports never depend on that file.
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.harness import (  # noqa: E402  (needs the sys.path line above)
    LOOPBACK, Dovecot, FaultProxy, HarnessError, LoopbackServer, MissingServerSoftware, Postgres, Radicale, SmtpSink,
    Xandikos, chromium_launch_args, leftover_processes, make_base_dir,
)

SMTP_SINK_CREDENTIALS = {"agent@example.org": "secret"}
SERVER_FIXTURES = frozenset({"dovecot", "imap_user", "radicale", "caldav_user", "xandikos", "smtp_sink",
                             "smtp_sink_server", "postgres", "pg_url"})
BROWSER_FIXTURES = frozenset({"page", "context", "browser", "browser_type", "launch_browser"})

ServerT = TypeVar("ServerT", bound=LoopbackServer)
_unique = itertools.count(1)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the servers they use, so ``-m "not servers"`` or ``-m browser`` select without bookkeeping."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & SERVER_FIXTURES:
            item.add_marker(pytest.mark.servers)
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After every fixture is torn down, fail the run if any server process the harness started is still alive."""
    left = leftover_processes()
    if not left:
        return
    for pgid in left:
        try:
            os.killpg(pgid, 9)
        except ProcessLookupError:
            pass
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"ERROR: test servers left processes behind (killed now): {left}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@contextmanager
def _running(server: ServerT) -> Iterator[ServerT]:
    """Start a server for the session; a missing server is a failure with the fix, never a silent skip."""
    problem = None
    try:
        server.start()
    except MissingServerSoftware as missing:
        problem = str(missing)
    if problem is not None:
        server.stop()
        pytest.fail(problem, pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        left = leftover_processes(server.process_groups())
        if left:
            raise HarnessError(f"{server.name} left processes behind after stop: {left}")


@pytest.fixture(scope="session")
def harness_base_dir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """One short directory for every server of the session (unix socket paths must stay under 108 bytes).

    Removed at the end, unless a test failed (the servers' logs are then worth reading) or
    CRM_TEST_KEEP_SERVER_DIRS=1.
    """
    base = make_base_dir()
    yield base
    if request.session.testsfailed or os.environ.get("CRM_TEST_KEEP_SERVER_DIRS") == "1":
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"test servers' configs and logs kept in {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def tmp_workspace(harness_base_dir: Path) -> Iterator[Path]:
    """An empty, short-pathed directory for one test's own files (config, SQLite file, Maildir...)."""
    workspace = harness_base_dir / "w" / str(next(_unique))
    workspace.mkdir(parents=True)
    workspace.chmod(0o755)
    yield workspace
    shutil.rmtree(workspace, ignore_errors=True)


# ---- IMAP ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dovecot(harness_base_dir: Path) -> Iterator[Dovecot]:
    """The session's Dovecot, with TLS on (``tls_port``, ``cert_path``, ``ssl_context()``) and STARTTLS."""
    with _running(Dovecot(harness_base_dir / "imap", tls=True)) as server:
        yield server


@pytest.fixture
def imap_user(dovecot: Dovecot) -> str:
    """A new IMAP login with an empty mailbox; its password is ``dovecot.users[imap_user]``."""
    name = f"user{next(_unique)}@example.org"
    dovecot.add_user(name, f"secret-{uuid.uuid4().hex[:8]}")
    return name


# ---- CalDAV -------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def radicale(harness_base_dir: Path) -> Iterator[Radicale]:
    with _running(Radicale(harness_base_dir / "dav")) as server:
        yield server


@pytest.fixture
def caldav_user(radicale: Radicale) -> str:
    """A new Radicale login with no calendar; its password is ``radicale.users[caldav_user]``."""
    name = f"user{next(_unique)}"
    radicale.add_user(name, f"secret-{uuid.uuid4().hex[:8]}")
    return name


@pytest.fixture(scope="session")
def xandikos(harness_base_dir: Path) -> Iterator[Xandikos]:
    """The session's Xandikos (one principal, no auth); tests share it, so they should create their own calendar."""
    with _running(Xandikos(harness_base_dir / "xdav")) as server:
        yield server


# ---- SMTP ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def smtp_sink_server() -> Iterator[SmtpSink]:
    with _running(SmtpSink(SMTP_SINK_CREDENTIALS)) as server:
        yield server


@pytest.fixture
def smtp_sink(smtp_sink_server: SmtpSink) -> Iterator[SmtpSink]:
    """The session's SMTP sink, emptied for this test. AUTH is offered (not required): ``SMTP_SINK_CREDENTIALS``."""
    smtp_sink_server.reset()
    yield smtp_sink_server
    smtp_sink_server.reset()


# ---- PostgreSQL ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres(harness_base_dir: Path) -> Iterator[Postgres]:
    with _running(Postgres(harness_base_dir / "pg")) as server:
        yield server


@pytest.fixture
def pg_url(postgres: Postgres) -> Iterator[str]:
    """A fresh, empty database for this test, as a SQLAlchemy URL (postgresql+psycopg://...); dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


# ---- faults -------------------------------------------------------------------------------------------------------
@pytest.fixture
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """Factory: ``proxy = fault_proxy(dovecot.port)`` forwards to 127.0.0.1:port; stopped after the test."""
    proxies: list[FaultProxy] = []

    def make(target_port: int, target_host: str = LOOPBACK) -> FaultProxy:
        proxy = FaultProxy(target_host, target_port).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


# ---- browser ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright launches the distribution's Chromium (Playwright cannot download its own here)."""
    try:
        return chromium_launch_args(browser_type_launch_args)
    except MissingServerSoftware as missing:
        problem = str(missing)
    pytest.fail(problem, pytrace=False)


# ---- live tests ---------------------------------------------------------------------------------------------------
@pytest.fixture
def live_credentials(request: pytest.FixtureRequest) -> Callable[..., dict[str, str]]:
    """For ``live`` tests only: ``live_credentials("M365_TENANT_ID", ...)`` returns them or skips the test."""
    if request.node.get_closest_marker("live") is None:
        pytest.fail("live_credentials is only for tests marked @pytest.mark.live", pytrace=False)

    def read(*names: str) -> dict[str, str]:
        missing = [name for name in names if not os.environ.get(name)]
        if missing:
            pytest.skip(f"live test: set {', '.join(missing)} to run it")
        return {name: os.environ[name] for name in names}

    return read
