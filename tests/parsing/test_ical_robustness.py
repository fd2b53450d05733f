"""Bad input never raises: garbage, truncation, broken lines and mutated real files degrade into repairs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.pipeline.parse_ical import CalendarParse, parse_calendar

WINDOW = {"window_start": datetime(2026, 1, 1, tzinfo=UTC), "window_end": datetime(2027, 1, 1, tzinfo=UTC)}
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "ical"
SEEDS = [path.read_bytes() for path in sorted(GOLDEN.glob("*.ics")) if path.stem != "ten_thousand"]
EVENT = "BEGIN:VEVENT\nUID:{uid}\nDTSTART:20260505T090000Z\nDTEND:20260505T100000Z\nEND:VEVENT\n"


def parse(data: bytes, **options: object) -> CalendarParse:
    return parse_calendar(data, **{**WINDOW, **options})  # type: ignore[arg-type]


def assert_sane(result: CalendarParse) -> None:
    assert not any(code.startswith("internal:") for code in result.repairs), result.repairs
    for meeting in result.occurrences:
        assert meeting.start.tzinfo is not None and meeting.start.utcoffset().total_seconds() == 0
        assert meeting.end >= meeting.start
        assert meeting.uid
        assert meeting.content_hash


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 100, b"BEGIN:VCALENDAR", b"END:VCALENDAR\n", "<html>Erreur 502</html>".encode(), b"\xff\xfe\x00"],
    ids=["empty", "nul", "begin-only", "end-only", "html", "utf16-bom-only"],
)
def test_garbage_gives_an_empty_parse_with_a_repair(data: bytes) -> None:
    result = parse(data)
    assert result.occurrences == () and result.replies == ()
    assert_sane(result)
    if b"BEGIN" not in data:
        assert "ical:unparseable" in result.repairs


def test_a_bare_vevent_without_its_calendar_is_wrapped() -> None:
    result = parse(EVENT.format(uid="bare").encode())
    assert [m.uid for m in result.occurrences] == ["bare"]
    assert "vcalendar:missing" in result.repairs


def test_two_calendars_in_one_file_both_count() -> None:
    text = "".join(f"BEGIN:VCALENDAR\n{EVENT.format(uid=uid)}END:VCALENDAR\n" for uid in ("a", "b"))
    assert parse(text.encode()).uids == ("a", "b")


def test_a_truncated_file_keeps_the_complete_events() -> None:
    text = f"BEGIN:VCALENDAR\n{EVENT.format(uid='whole')}BEGIN:VEVENT\nUID:cut\nDTSTART:2026050"
    result = parse(text.encode())
    assert result.uids == ("whole",)
    assert "component:truncated:VEVENT" in result.repairs


def test_deep_nesting_is_cut_and_the_rest_survives() -> None:
    nest = "BEGIN:X-NEST\n" * 500 + "END:X-NEST\n" * 500
    text = f"BEGIN:VCALENDAR\n{nest}{EVENT.format(uid='after')}END:VCALENDAR\n"
    result = parse(text.encode())
    assert result.uids == ("after",)
    assert "component:too-deep:X-NEST" in result.repairs


def test_thousands_of_broken_lines_give_a_short_repair_list() -> None:
    text = "BEGIN:VCALENDAR\n" + "not a line\n" * 5000 + EVENT.format(uid="ok") + "END:VCALENDAR\n"
    result = parse(text.encode())
    assert result.uids == ("ok",)
    assert len(result.repairs) < 30 and "line:dropped:more" in result.repairs


def test_windows_1252_text_is_read() -> None:
    text = f"BEGIN:VCALENDAR\n{EVENT.format(uid='cp')}".replace("END:VEVENT", "SUMMARY:Réunion\nEND:VEVENT")
    result = parse((text + "END:VCALENDAR\n").encode("cp1252"))
    assert result.occurrences[0].summary == "Réunion"
    assert "charset:cp1252" in result.repairs


def test_utf16_with_a_bom_is_read() -> None:
    text = f"BEGIN:VCALENDAR\n{EVENT.format(uid='u16')}END:VCALENDAR\n"
    assert parse(text.encode("utf-16")).uids == ("u16",)


def test_a_fold_splitting_a_utf8_character_is_joined_before_decoding() -> None:
    summary = "SUMMARY:Réunion".encode()
    split_at = summary.index("é".encode()) + 1  # between the two bytes of é
    folded = summary[:split_at] + b"\r\n " + summary[split_at:]
    text = f"BEGIN:VCALENDAR\n{EVENT.format(uid='fold')}".encode().replace(b"END:VEVENT", folded + b"\r\nEND:VEVENT")
    result = parse(text + b"END:VCALENDAR\n")
    assert result.occurrences[0].summary == "Réunion"
    assert "charset:cp1252" not in result.repairs


def test_bad_default_zone_and_naive_window_are_repaired_not_raised() -> None:
    text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:f\nDTSTART:20260505T090000\nEND:VEVENT\nEND:VCALENDAR\n"
    result = parse_calendar(
        text.encode(), window_start=datetime(2026, 1, 1), window_end=datetime(2027, 1, 1), default_tz="Nowhere/Land"
    )
    assert result.occurrences[0].start == datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    assert {"tz:default-unknown:Nowhere/Land", "window:naive-taken-as-utc"} <= set(result.repairs)


def test_one_files_custom_zone_never_leaks_into_the_next_file() -> None:
    def with_zone(offset: str) -> bytes:
        return (
            "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Shared Name\nBEGIN:STANDARD\nDTSTART:16010101T000000\n"
            f"TZOFFSETFROM:{offset}\nTZOFFSETTO:{offset}\nEND:STANDARD\nEND:VTIMEZONE\nBEGIN:VEVENT\nUID:z\n"
            "DTSTART;TZID=Shared Name:20260505T100000\nEND:VEVENT\nEND:VCALENDAR\n"
        ).encode()

    first, second = parse(with_zone("+0100")), parse(with_zone("+0500"))
    assert first.occurrences[0].start.hour == 9
    assert second.occurrences[0].start.hour == 5
    bare = b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:z\nDTSTART;TZID=Shared Name:20260505T100000\nEND:VEVENT\nEND:VCALENDAR\n"
    assert "tzid:unknown:Shared Name" in parse(bare).repairs


def test_a_reply_without_uid_is_skipped_and_said() -> None:
    text = "BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.fr\nEND:VEVENT\nEND:VCALENDAR\n"
    result = parse(text.encode())
    assert result.replies == () and "reply:no-uid" in result.repairs


def test_refresh_and_declinecounter_carry_no_meeting() -> None:
    for method in ("REFRESH", "DECLINECOUNTER"):
        text = f"BEGIN:VCALENDAR\nMETHOD:{method}\n{EVENT.format(uid='m')}END:VCALENDAR\n"
        result = parse(text.encode())
        assert result.method == method and result.occurrences == ()


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    buffer = bytearray(data)
    for position, delete, insert in edits:
        at = position % (len(buffer) + 1)
        buffer[at : at + delete] = insert
    return bytes(buffer)


TOKENS = st.sampled_from(
    [b"\r\n", b"\n ", b":", b";", b"=", b'"', b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n", b"END:VCALENDAR\r\n",
     b"BEGIN:VTIMEZONE\r\n", b"RRULE:FREQ=SECONDLY\r\n", b"RRULE:FREQ=DAILY;BYSETPOS=-9;BYHOUR=1\r\n",
     b"RECURRENCE-ID:20261102T090000Z\r\n", b"TZID=", b"DTSTART;VALUE=DATE:2026", b"\x00", b"\xff\xfe", "é".encode(),
     b"EXDATE:junk\r\n", b"DURATION:-P1D\r\n", b"METHOD:REPLY\r\n", b"METHOD:CANCEL\r\n", b"SEQUENCE:99999999999999\r\n"]
)  # fmt: skip
EDITS = st.lists(
    st.tuples(st.integers(0, 1 << 16), st.integers(0, 40), st.one_of(TOKENS, st.binary(max_size=12))), max_size=8
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), edits=EDITS)
def test_mutated_real_files_never_raise(seed: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    assert_sane(parse(mutate(seed, edits)))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    assert_sane(parse(b"BEGIN:VCALENDAR\r\n" + data))


RULE_PARTS = st.lists(
    st.sampled_from(
        ["FREQ=SECONDLY", "FREQ=MINUTELY", "FREQ=HOURLY", "FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY",
         "INTERVAL=2", "INTERVAL=0", "COUNT=3", "COUNT=-1", "UNTIL=20261231T000000Z", "UNTIL=20261231",
         "UNTIL=20261231T000000", "BYMONTH=2", "BYMONTHDAY=30", "BYMONTHDAY=-1", "BYYEARDAY=366", "BYWEEKNO=53",
         "BYDAY=MO", "BYDAY=5FR", "BYDAY=-1SU", "BYHOUR=9,10", "BYMINUTE=0,30", "BYSECOND=0", "BYSETPOS=2",
         "BYSETPOS=-1", "WKST=SU"]
    ),
    min_size=1,
    max_size=6,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(parts=RULE_PARTS, all_day=st.booleans())
def test_any_rule_combination_parses_quickly(parts: list[str], all_day: bool) -> None:
    start = "DTSTART;VALUE=DATE:20200130" if all_day else "DTSTART;TZID=Europe/Paris:20200130T100000"
    text = f"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:r\n{start}\nRRULE:{';'.join(parts)}\nEND:VEVENT\nEND:VCALENDAR\n"
    began = datetime.now(UTC)
    assert_sane(parse(text.encode()))
    assert (datetime.now(UTC) - began).total_seconds() < 3, parts


def test_text_and_byte_buffers_are_accepted_and_anything_else_is_unparseable() -> None:
    text = f"BEGIN:VCALENDAR\n{EVENT.format(uid='t')}END:VCALENDAR\n"
    assert parse(text).uids == ("t",)  # type: ignore[arg-type]
    assert parse(bytearray(text.encode())).uids == ("t",)  # type: ignore[arg-type]
    assert parse(None).repairs == ("ical:unparseable",)  # type: ignore[arg-type]
