"""One meeting, one identity: CalDAV, an Outlook invitation, a Google one-slot update and EWS agree on every key.

Also: content hashes ignore what changes between exports (DTSTAMP, property order, folding, line endings) and move
when what a person sees moves; UID-less events get a hash UID that survives re-export.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from agent.pipeline.parse_ical import (
    CalendarParse,
    meeting_identity,
    parse_calendar,
    recurrence_id_text,
)

WINDOW = {"window_start": datetime(2026, 1, 1, tzinfo=UTC), "window_end": datetime(2027, 1, 1, tzinfo=UTC)}
PARIS_VTIMEZONE = (
    "BEGIN:VTIMEZONE\nTZID:Europe/Paris\nBEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\n"
    "TZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\nBEGIN:DAYLIGHT\n"
    "DTSTART:19700329T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\n"
    "END:DAYLIGHT\nEND:VTIMEZONE\n"
)


def series_text(tzid: str, method: str = "", vtimezone: str = "") -> str:
    head = f"BEGIN:VCALENDAR\nVERSION:2.0\n{'METHOD:' + method + chr(10) if method else ''}{vtimezone}"
    return (
        head
        + f"BEGIN:VEVENT\nUID:copil@acme.fr\nDTSTART;TZID={tzid}:20261019T100000\nDTEND;TZID={tzid}:20261019T110000\n"
        "RRULE:FREQ=WEEKLY;COUNT=4\nSUMMARY:Copil\nEND:VEVENT\n"
        f"BEGIN:VEVENT\nUID:copil@acme.fr\nRECURRENCE-ID;TZID={tzid}:20261102T100000\n"
        f"DTSTART;TZID={tzid}:20261103T150000\nDTEND;TZID={tzid}:20261103T160000\nSUMMARY:Copil (moved)\n"
        "SEQUENCE:1\nEND:VEVENT\nEND:VCALENDAR\n"
    )


def identities(result: CalendarParse) -> list[str]:
    return [meeting_identity(m.uid, m.recurrence_id) for m in result.occurrences]


def test_identity_spelling() -> None:
    assert meeting_identity("abc@x", None) == "ical:abc@x"
    assert meeting_identity("abc@x", "20261102T090000Z") == "ical:abc@x#20261102T090000Z"
    assert recurrence_id_text(datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))) == "20261102T090000Z"
    assert recurrence_id_text(datetime(2026, 11, 2, 9, 0)) == "20261102T090000Z"  # naive is taken as UTC
    assert recurrence_id_text(date(2026, 11, 2)) == "20261102"
    assert recurrence_id_text(datetime(33, 1, 2, 3, 4, 5, tzinfo=UTC)) == "00330102T030405Z"


def test_caldav_outlook_google_and_ews_give_the_same_keys() -> None:
    caldav = parse_calendar(series_text("Europe/Paris", vtimezone=PARIS_VTIMEZONE).encode(), **WINDOW)
    outlook = parse_calendar(series_text("Romance Standard Time", method="REQUEST").encode(), **WINDOW)
    google_one_slot = parse_calendar(
        (
            "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:copil@acme.fr\nRECURRENCE-ID:20261102T090000Z\n"
            "DTSTART:20261103T140000Z\nDTEND:20261103T150000Z\nSUMMARY:Copil (moved)\nSEQUENCE:1\n"
            "END:VEVENT\nEND:VCALENDAR\n"
        ).encode(),
        **WINDOW,
    )
    # What the EWS connector holds for the moved occurrence: UID and OriginalStart, in UTC.
    ews_key = meeting_identity("copil@acme.fr", recurrence_id_text(datetime(2026, 11, 2, 9, 0, tzinfo=UTC)))

    expected = [f"ical:copil@acme.fr#{slot}" for slot in
                ("20261019T080000Z", "20261026T090000Z", "20261102T090000Z", "20261109T090000Z")]  # fmt: skip
    assert sorted(identities(caldav)) == expected
    assert sorted(identities(outlook)) == expected
    assert identities(google_one_slot) == [ews_key] == [expected[2]]
    moved = [m for m in caldav.occurrences if m.recurrence_id == "20261102T090000Z"][0]
    assert moved.start == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)  # moved start, original identity
    assert {m.content_hash for m in caldav.occurrences} == {m.content_hash for m in outlook.occurrences}
    assert moved.content_hash == google_one_slot.occurrences[0].content_hash


def test_all_day_slots_are_named_by_their_date() -> None:
    text = (
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:inventaire\nDTSTART;VALUE=DATE:20261102\nRRULE:FREQ=MONTHLY;COUNT=2\n"
        "END:VEVENT\nBEGIN:VEVENT\nUID:inventaire\nRECURRENCE-ID;VALUE=DATE:20261202\nDTSTART;VALUE=DATE:20261203\n"
        "END:VEVENT\nEND:VCALENDAR\n"
    )
    result = parse_calendar(text.encode(), **WINDOW)
    assert identities(result) == ["ical:inventaire#20261102", "ical:inventaire#20261202"]


def reexport(text: str) -> str:
    """What a second export of the same calendar looks like: new DTSTAMP, other property order, folded, CRLF."""
    lines = text.splitlines()
    out = []
    for line in lines:
        if line.startswith("SUMMARY"):
            out.insert(len(out) - 1, line)  # swap with the previous property
            continue
        if len(line) > 30:
            line = line[:30] + "\r\n " + line[30:]
        out.append(line)
    return "\r\n".join(out).replace("DTSTAMP:20261001T000000Z", "DTSTAMP:20261120T101010Z") + "\r\n"


ONE_EVENT = (
    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20261001T000000Z\nDTSTART:20261110T090000Z\n"
    "DTEND:20261110T100000Z\nSUMMARY:{summary}\nLOCATION:Nantes\n"
    "ATTENDEE;CN=Ann;PARTSTAT={partstat}:mailto:ann@client.fr\nSEQUENCE:{sequence}\nEND:VEVENT\nEND:VCALENDAR\n"
)


def one(uid: str = "one@x", summary: str = "Visite", partstat: str = "ACCEPTED", sequence: int = 0) -> str:
    return ONE_EVENT.format(uid=uid, summary=summary, partstat=partstat, sequence=sequence)


def hash_of(text: str) -> str:
    return parse_calendar(text.encode(), **WINDOW).occurrences[0].content_hash


def test_content_hash_ignores_export_noise_and_sequence() -> None:
    base = hash_of(one())
    assert reexport(one()) != one()
    assert hash_of(reexport(one())) == base
    assert hash_of(one(sequence=4)) == base


def test_content_hash_moves_with_what_a_person_sees() -> None:
    base = hash_of(one())
    assert hash_of(one(summary="Visite usine")) != base
    assert hash_of(one(partstat="DECLINED")) != base
    assert hash_of(one().replace("20261110T090000Z", "20261110T093000Z")) != base


def test_a_uid_less_event_keeps_its_hash_uid_across_exports_and_differs_from_its_neighbour() -> None:
    no_uid = one().replace("UID:one@x\n", "")
    first = parse_calendar(no_uid.encode(), **WINDOW)
    again = parse_calendar(reexport(no_uid).encode(), **WINDOW)
    other = parse_calendar(no_uid.replace("SUMMARY:Visite", "SUMMARY:Autre").encode(), **WINDOW)
    uid = first.occurrences[0].uid
    assert uid.startswith("hash:") and len(uid) == len("hash:") + 24
    assert again.occurrences[0].uid == uid
    assert other.occurrences[0].uid != uid
    assert f"uid:missing:{uid}" in first.repairs
