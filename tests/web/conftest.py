"""Fixtures for the status page: the built store (once per session, copied per test), the service over the copy,
and TestClients that look like a browser on this machine or on another one."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.web.app import create_app
from tests.web.world import World, build_world

LOCAL_CLIENT = ("127.0.0.1", 50123)
REMOTE_CLIENT = ("10.0.0.5", 1234)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@pytest.fixture(scope="session")
def web_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("web-world"))


@pytest.fixture
def world_db(web_world: World, tmp_path: Path) -> Path:
    return web_world.copy_to(tmp_path / "store")


@pytest.fixture
def service(web_world: World, world_db: Path):
    service = web_world.service(world_db)
    yield service
    service.close()


@pytest.fixture
def make_client(service) -> Iterator[Callable[..., TestClient]]:
    """``make_client(token=..., read_only=..., client=(ip, port), host="127.0.0.1:8765")``."""
    clients: list[TestClient] = []

    def make(*, token: str | None = None, read_only: bool = False, client: tuple[str, int] = LOCAL_CLIENT,
             host: str = "127.0.0.1:8765", app_service=None) -> TestClient:
        app = create_app(app_service or service, read_only=read_only, token=token)
        test_client = TestClient(app, base_url=f"http://{host}", client=client, follow_redirects=False)
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        test_client.close()


@pytest.fixture
def local(make_client) -> TestClient:
    """A browser on the agent's own machine, no token configured."""
    return make_client()


def csrf_of(client: TestClient) -> str:
    """The CSRF token for this client's cookie (fetching a page sets the cookie)."""
    return client.get("/api/csrf").json()["csrf_token"]


def form_csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def artifact_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
