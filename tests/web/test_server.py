"""Serving: the page in a thread (start, stop, stop event), refused binds, and the read-only store access."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import httpx
import pytest
from sqlalchemy import text

from agent.errors import TemporaryError, UserError
from agent.service import AgentService
from agent.web.server import read_only_service, serve


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_page_listens_until_stopped(service):
    handle = serve(service, host="127.0.0.1", port=0)
    try:
        assert handle.url == f"http://127.0.0.1:{handle.port}/" and handle.port > 0
        answer = httpx.get(handle.url + "api/overview", timeout=10)
        assert answer.status_code == 200 and answer.json()["status"]["healthy"] is True
    finally:
        handle.stop()
    assert not handle.running
    handle.stop()  # stopping twice is harmless
    with pytest.raises(httpx.ConnectError):
        httpx.get(handle.url + "healthz", timeout=2)


def test_the_owners_stop_event_ends_the_page(service):
    stop = threading.Event()
    handle = serve(service, host="127.0.0.1", port=0, stop_event=stop)
    assert httpx.get(handle.url + "healthz", timeout=10).status_code == 200
    stop.set()
    handle.thread.join(10)
    assert not handle.running


def test_binding_beyond_loopback_needs_a_token(service):
    with pytest.raises(UserError, match=r"web\.bind: '0\.0\.0\.0' is not loopback.*token"):
        serve(service, host="0.0.0.0", port=0)
    handle = serve(service, host="0.0.0.0", port=0, token="t0ken")
    try:
        local = httpx.get(f"http://127.0.0.1:{handle.port}/api/overview", timeout=10)
        assert local.status_code == 200  # from this machine, reading needs nothing
    finally:
        handle.stop()


def test_a_busy_port_is_a_clear_error(service):
    first = serve(service, host="127.0.0.1", port=0)
    try:
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            serve(service, host="127.0.0.1", port=first.port)
    finally:
        first.stop()


def test_read_only_access_never_writes(web_world, world_db):
    before = digest(world_db)
    service = read_only_service(web_world.settings(world_db))
    try:
        assert service.status()["totals"]["interactions"] == 11
        assert service.feature("rules").tasks(open_only=True)[0]["status"] == "open"
        with pytest.raises(TemporaryError, match="readonly"):
            service.feature("rules").task_done(1)  # the connection itself refuses, whatever the caller does
    finally:
        service.close()
    assert digest(world_db) == before


def test_read_only_access_refuses_an_outdated_schema(web_world, world_db):
    with sqlite3.connect(world_db) as connection:
        newest = connection.execute("SELECT max(version_num) FROM alembic_version").fetchone()[0]
        connection.execute("DELETE FROM alembic_version WHERE version_num = ?", (newest,))
    before = digest(world_db)
    with pytest.raises(UserError, match="crm-agent db upgrade"):
        read_only_service(web_world.settings(world_db))
    assert digest(world_db) == before


def test_read_only_access_never_creates_a_store(web_world, tmp_path):
    missing = tmp_path / "nowhere" / "crm.db"
    with pytest.raises(UserError, match="does not exist"):
        read_only_service(web_world.settings(missing))
    assert not missing.exists()


def test_read_only_access_on_postgresql_refuses_writes(web_world, pg_url):
    from tests.support.env import make_settings

    settings = make_settings(web_world.root, database=pg_url)
    writer = AgentService(settings)
    writer.import_contacts(web_world.contacts_csv)  # the store exists and holds contacts
    writer.close()
    service = read_only_service(settings)
    try:
        assert len(service.contacts()) == 5
        with pytest.raises(Exception, match="read-only transaction"):  # whatever code would try to write
            with service.store.unit_of_work() as session:
                session.execute(text("INSERT INTO meta (key, value) VALUES ('probe', 'x')"))
    finally:
        service.close()
