"""The helpers under the calendar parser: zone resolution (ical_tz), line cleaning (ical_lines), TZID hiding."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest

from agent.pipeline.ical_blocks import VTIMEZONE_ALIAS, hide_tzid_parameter
from agent.pipeline.ical_lines import clean_lines, decode_text
from agent.pipeline.ical_tz import ZoneResolver, iana_zone, vtimezone_definitions, well_known_zone


@pytest.mark.parametrize(
    ("tzid", "expected"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/PARIS", "Europe/Paris"),
        ('"Europe/Paris"', "Europe/Paris"),
        ("Romance Standard Time", "Europe/Paris"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Eastern Standard Time", "America/New_York"),
        ("/mozilla.org/20050126_1/Europe/Paris", "Europe/Paris"),
        ("/softwarestudio.org/Olson_20011030_5/America/New_York", "America/New_York"),
        ("UTC", "UTC"),
        ("GMT", "UTC"),
    ],
)
def test_well_known_spellings(tzid: str, expected: str) -> None:
    zone = well_known_zone(tzid)
    assert zone is not None
    assert getattr(zone, "key", "UTC") == expected


@pytest.mark.parametrize("tzid", ["", "Mars/Olympus", "../../etc/passwd", "/", "x" * 500, "Europe/", "\x00"])
def test_unknown_or_hostile_names_resolve_to_none(tzid: str) -> None:
    assert well_known_zone(tzid) is None
    assert iana_zone(tzid) is None


def definition(tzid: str, body: str) -> icalendar.Component:
    """A VTIMEZONE as the parser hands it over: renamed, so that icalendar neither caches nor builds it."""
    text = f"BEGIN:{VTIMEZONE_ALIAS}\nTZID:{tzid}\n{body}END:{VTIMEZONE_ALIAS}\n"
    return icalendar.Component.from_ical(text)


def test_a_files_own_definition_answers_for_a_name_nobody_else_knows() -> None:
    fixed = definition(
        "Atelier", "BEGIN:STANDARD\nDTSTART:16010101T000000\nTZOFFSETFROM:+0400\nTZOFFSETTO:+0400\nEND:STANDARD\n"
    )
    resolver = ZoneResolver(vtimezone_definitions([fixed]))
    zone, name = resolver.resolve("Atelier")
    assert name == "Atelier"
    assert datetime(2026, 6, 1, 12, tzinfo=zone).astimezone(UTC).hour == 8


def test_the_tz_database_wins_over_a_stale_definition_and_broken_ones_are_unknown() -> None:
    stale = definition(
        "Europe/Paris", "BEGIN:STANDARD\nDTSTART:16010101T000000\nTZOFFSETFROM:+0500\nTZOFFSETTO:+0500\nEND:STANDARD\n"
    )
    broken = definition("Empty", "")
    resolver = ZoneResolver(vtimezone_definitions([stale, broken]))
    zone, name = resolver.resolve("Europe/Paris")
    assert name == "Europe/Paris" and datetime(2026, 1, 15, tzinfo=zone).utcoffset().total_seconds() == 3600
    assert resolver.resolve("Empty") is None


def test_hide_tzid_parameter_touches_only_parameters() -> None:
    assert hide_tzid_parameter("DTSTART;TZID=Europe/Paris:20260101T100000") == (
        "DTSTART;X-CRM-TZID=Europe/Paris:20260101T100000"
    )
    assert hide_tzid_parameter('DTSTART;tzid="(UTC+01:00) A: B":2026') == 'DTSTART;X-CRM-TZID="(UTC+01:00) A: B":2026'
    assert hide_tzid_parameter("DESCRIPTION:see ;TZID=x") == "DESCRIPTION:see ;TZID=x"
    assert hide_tzid_parameter("SUMMARY;LANGUAGE=fr:;TZID=") == "SUMMARY;LANGUAGE=fr:;TZID="


def test_decode_text_prefers_utf8_then_cp1252_and_removes_controls() -> None:
    assert decode_text("é".encode()) == ("é", [])
    assert decode_text("é".encode("cp1252")) == ("é", ["charset:cp1252"])
    assert decode_text(b"a\x00b\x07c\r\nd") == ("abc\r\nd", ["text:control-characters"])
    assert decode_text("ok".encode("utf-16")) == ("ok", ["charset:utf-16"])


def lines(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    cleaned = clean_lines(text, container="VCALENDAR", children=frozenset({"VEVENT"}))
    return cleaned.lines, cleaned.repairs


def test_clean_lines_balances_what_producers_leave_open_or_close_twice() -> None:
    text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VCALENDAR\nEND:VEVENT\n"
    out, repairs = lines(text)
    assert out == ("BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:a", "END:VEVENT", "END:VCALENDAR")
    assert repairs == ("component:unclosed:VEVENT", "line:stray-end:5")


def test_clean_lines_drops_a_component_cut_by_the_end_of_the_input() -> None:
    out, repairs = lines("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\n")
    assert out == ("BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:a", "END:VEVENT", "END:VCALENDAR")
    assert repairs == ("component:truncated:VEVENT",)


def test_clean_lines_skips_foreign_components_and_wraps_bare_children_once() -> None:
    text = "BEGIN:VCARD\nFN:x\nEND:VCARD\nBEGIN:VEVENT\nUID:a\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\nEND:VEVENT\n"
    out, repairs = lines(text)
    assert out[0] == "BEGIN:VCALENDAR" and out[-1] == "END:VCALENDAR"
    assert out.count("BEGIN:VCALENDAR") == 1 and "UID:a" in out and "UID:b" in out and "FN:x" not in out
    assert repairs == ("component:outside:VCARD", "vcalendar:missing")


def test_clean_lines_unfolds_and_reports_non_content_lines_by_number() -> None:
    out, repairs = lines("BEGIN:VCALENDAR\r\nSUMMARY:Long\r\n  title\r\nnot a line\r\nEND:VCALENDAR\r\n")
    assert out == ("BEGIN:VCALENDAR", "SUMMARY:Long title", "END:VCALENDAR")
    assert repairs == ("line:dropped:3",)
