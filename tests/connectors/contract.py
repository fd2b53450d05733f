"""The connector contract (DESIGN.md §3), shared by every connector's test module.

A test module subclasses ``ConnectorContract`` and provides the ``source`` fixture: an object with
``connector()``, ``target()``, ``add(messages)``, ``delete(count)`` (removes the first ``count`` items) and
``invalidate()`` (makes the server refuse previously issued cursors, or None when the source cannot).
"""

from __future__ import annotations

import pytest

from agent.errors import CursorInvalid
from tests.support.messages import bulk


def list_all(connector, target, cursor: str, limit: int = 1000):
    """Follow ``more`` to the end; returns (upserts, deletes, final cursor, is_full of the first page)."""
    upserts, deletes, first_full = [], [], None
    while True:
        changes = connector.list_changes(target, cursor, limit=limit)
        first_full = changes.is_full if first_full is None else first_full
        upserts.extend(changes.upserts)
        deletes.extend(changes.deletes)
        cursor = changes.next_cursor
        if not changes.more:
            return upserts, deletes, cursor, first_full


class ConnectorContract:
    def test_empty_cursor_lists_everything(self, source):
        source.add(bulk(7))
        conn, target = source.connector(), source.target()
        upserts, deletes, _, full = list_all(conn, target, "")
        assert len(upserts) == 7
        assert len({r.location for r in upserts}) == 7
        assert deletes == []
        assert full is True

    def test_same_cursor_twice_lists_nothing_new(self, source):
        source.add(bulk(5))
        conn, target = source.connector(), source.target()
        _, _, cursor, _ = list_all(conn, target, "")
        upserts, deletes, cursor2, _ = list_all(conn, target, cursor)
        assert upserts == [] and deletes == []
        upserts, deletes, _, _ = list_all(conn, target, cursor2)
        assert upserts == [] and deletes == []

    def test_new_items_after_cursor_are_listed_alone(self, source):
        source.add(bulk(4))
        conn, target = source.connector(), source.target()
        first, _, cursor, _ = list_all(conn, target, "")
        source.add(bulk(3, start=100))
        upserts, _, _, full = list_all(conn, target, cursor)
        new = {r.location for r in upserts} - {r.location for r in first}
        assert len(new) == 3
        if not full:  # an incremental listing names only the new items
            assert len(upserts) == 3

    def test_deletes_are_reported(self, source):
        source.add(bulk(6))
        conn, target = source.connector(), source.target()
        first, _, cursor, _ = list_all(conn, target, "")
        source.delete(2)
        upserts, deletes, _, full = list_all(conn, target, cursor)
        remaining = {r.location for r in upserts}
        if full:  # a full re-listing reports deletes by leaving them out
            assert len(remaining) == 4
            assert len({r.location for r in first} - remaining) == 2
        else:
            assert len(deletes) == 2
            assert set(deletes) <= {r.location for r in first}

    def test_paging_lists_each_item_once(self, source):
        source.add(bulk(23))
        conn, target = source.connector(), source.target()
        upserts, _, _, _ = list_all(conn, target, "", limit=5)
        assert len(upserts) == 23
        assert len({r.location for r in upserts}) == 23

    def test_fetch_returns_the_bytes_and_skips_vanished(self, source):
        messages = bulk(3)
        source.add(messages)
        conn, target = source.connector(), source.target()
        upserts, _, _, _ = list_all(conn, target, "")
        raws = list(conn.fetch(target, upserts))
        assert len(raws) == 3
        assert all(b"Message-ID: <msg" in raw.data or b"Message-Id: <msg" in raw.data for raw in raws)
        assert {raw.ref.location for raw in raws} == {r.location for r in upserts}
        source.delete(1)
        assert len(list(conn.fetch(target, upserts))) == 2

    def test_garbage_cursor_raises_cursor_invalid(self, source):
        source.add(bulk(1))
        conn, target = source.connector(), source.target()
        with pytest.raises(CursorInvalid):
            conn.list_changes(target, '{"v": 999}', limit=10)
        with pytest.raises(CursorInvalid):
            conn.list_changes(target, "not json", limit=10)

    def test_server_side_invalidation_raises_cursor_invalid(self, source):
        source.add(bulk(3))
        conn, target = source.connector(), source.target()
        _, _, cursor, _ = list_all(conn, target, "")
        conn.close()  # a server rebuild (what changes UIDVALIDITY) also ends open sessions
        if source.invalidate() is None:
            pytest.skip("this source has no server-side cursor invalidation")
        with pytest.raises(CursorInvalid):
            conn.list_changes(target, cursor, limit=10)

    def test_probe_says_nothing_new_after_listing(self, source):
        source.add(bulk(2))
        conn, target = source.connector(), source.target()
        _, _, cursor, _ = list_all(conn, target, "")
        assert conn.probe(target, "") is True
        assert conn.probe(target, cursor) is False
        source.add(bulk(1, start=50))
        assert conn.probe(target, cursor) is True
