"""The connector contract against real CalDAV servers: Radicale (sync-token), Xandikos (sync-token), Radicale behind
a proxy refusing sync-collection (ctag + ETag fallback), and the local .ics folder connector."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.connectors.caldav import IcsFolderConnector
from agent.connectors.caldav.cursor import CTAG, SYNC, CalDavCursor
from agent.records import TargetRef
from tests.connectors.caldav_support import (
    CalDavSource,
    NoSyncCollectionProxy,
    RadicaleSource,
    XandikosSource,
    event_from_mail,
)
from tests.connectors.contract import ConnectorContract, list_all
from tests.support.messages import bulk


@pytest.fixture
def radicale_source(radicale, caldav_user):
    source = RadicaleSource(radicale, caldav_user)
    yield source
    source.close()


class TestRadicaleContract(ConnectorContract):
    @pytest.fixture
    def source(self, radicale_source):
        return radicale_source

    def test_cursor_is_a_sync_token(self, source):
        source.add(bulk(2))
        _, _, cursor, _ = list_all(source.connector(), source.target(), "")
        state = CalDavCursor.from_json(cursor)
        assert state.mode == SYNC and state.token.startswith("http://radicale.org/ns/sync/")
        assert state.etags == {}

    def test_an_edit_is_listed_with_its_new_etag(self, source):
        source.add(bulk(2))
        conn, target = source.connector(), source.target()
        first, _, cursor, _ = list_all(conn, target, "")
        name = sorted(source.hrefs)[0]
        source.put(name, source.items[name].replace(b"SUMMARY:", b"SUMMARY:moved "))
        upserts, deletes, _, _ = list_all(conn, target, cursor)
        assert [r.location for r in upserts] == [r.location for r in first if r.key.endswith(name)]
        assert upserts[0].version not in {r.version for r in first}
        assert deletes == []

    def test_discover_names_calendars_and_honours_the_list(self, radicale, caldav_user):
        source = RadicaleSource(radicale, caldav_user)
        radicale.write_ics_files(caldav_user, "perso", {}, displayname="Perso")
        targets = {t.display: t for t in source.connector().discover()}
        assert set(targets) == {"Agenda cal", "Perso"}
        assert targets["Perso"].kind == "calendar" and targets["Perso"].name == f"/{caldav_user}/perso/"
        only = RadicaleSource.__new__(RadicaleSource)
        CalDavSource.__init__(only, source.calendar_url, source.client,
                              source.account.model_copy(update={"calendars": ["Perso"]}))
        assert [t.display for t in only.connector().discover()] == ["Perso"]


class TestXandikosContract(ConnectorContract):
    @pytest.fixture
    def source(self, xandikos):
        source = XandikosSource(xandikos)
        yield source
        source.close()


class TestCtagFallbackContract(ConnectorContract):
    """Radicale seen through a proxy that refuses sync-collection: the connector lists by getctag + ETag map."""

    @pytest.fixture
    def source(self, radicale, caldav_user):
        source = RadicaleSource(radicale, caldav_user)
        proxy = NoSyncCollectionProxy(radicale.url)
        source.account = source.account.model_copy(update={"url": proxy.url + caldav_user + "/"})
        source.proxy = proxy
        source.invalidate = lambda: None  # an ETag map cannot be refused by the server
        yield source
        source.close()
        proxy.stop()

    def test_cursor_falls_back_to_ctag_and_etags(self, source):
        source.add(bulk(3))
        _, _, cursor, full = list_all(source.connector(), source.target(), "")
        state = CalDavCursor.from_json(cursor)
        assert full is True
        assert state.mode == CTAG and len(state.etags) == 3 and state.ctag
        assert source.proxy.refused >= 1

    def test_forced_ctag_mode_never_asks_for_sync_collection(self, source):
        source.account = source.account.model_copy(update={"sync_method": "ctag"})
        source.add(bulk(2))
        list_all(source.connector(), source.target(), "")
        assert source.proxy.refused == 0


class FolderSource:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def connector(self) -> IcsFolderConnector:
        return IcsFolderConnector("local-cal", self.root)

    def target(self) -> TargetRef:
        return TargetRef("local-cal", self.root.name, "calendar", "calendar")

    def add(self, messages) -> None:
        for data in messages:
            self.count += 1
            (self.root / f"event-{self.count:04d}.ics").write_bytes(event_from_mail(data))

    def delete(self, count: int) -> None:
        for path in sorted(self.root.glob("*.ics"))[:count]:
            path.unlink()

    def invalidate(self):
        return None


class TestIcsFolderContract(ConnectorContract):
    @pytest.fixture
    def source(self, tmp_path):
        return FolderSource(tmp_path / "calendar")


def test_folder_of_folders_is_one_target_per_calendar(tmp_path):
    for name in ("travail", "perso"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.ics").write_bytes(event_from_mail(bulk(1)[0]))
    (tmp_path / "empty").mkdir()
    assert [t.name for t in IcsFolderConnector("c", tmp_path).discover()] == ["perso", "travail"]
    single = tmp_path / "perso" / "a.ics"
    conn = IcsFolderConnector("c", single)
    [target] = conn.discover()
    upserts, _, _, _ = list_all(conn, target, "")
    assert [r.location for r in upserts] == ["c/a.ics/a.ics"]
