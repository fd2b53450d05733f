"""Properties of parse_email: it never raises, it agrees with the stdlib on what the stdlib writes, and a header-only
fetch reads the same headers as the whole message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import email
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, default

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from agent.pipeline.parse_email import _split_message, parse_email
from agent.records import Visibility
from tests.parsing.golden import RECEIVED_AT, golden_inputs

GOLDEN_BYTES = [data for path in golden_inputs() if len(data := path.read_bytes()) < 20_000]  # 200 KB: see goldens
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_clean(data: bytes) -> None:
    """Parsed without raising and without reaching the internal-error safety net (which would be a bug)."""
    for visibility in (Visibility.METADATA, Visibility.FULL):
        parsed = parse_email(data, received_at=RECEIVED_AT, visibility=visibility)
        assert not [r for r in parsed.repairs if r.startswith("parse:internal-error")], parsed.repairs
        assert parsed.date.tzinfo is UTC
        assert len(parsed.subject) <= 1000 and len(parsed.references) <= 50
        assert len(parsed.snippet) <= 300


@FAST
@given(st.binary(max_size=4000))
def test_arbitrary_bytes(data: bytes) -> None:
    assert_clean(data)


HEADER_NAMES = [b"From", b"To", b"Cc", b"Subject", b"Date", b"Message-ID", b"References", b"Content-Type",
                b"Content-Transfer-Encoding", b"List-Id", b"Auto-Submitted", b"In-Reply-To"]


@FAST
@given(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), st.binary(max_size=200)), max_size=12),
       st.binary(max_size=2000))
def test_arbitrary_header_values_and_bodies(headers, body) -> None:
    assert_clean(b"".join(name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body)


@st.composite
def mutated_golden(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(GOLDEN_BYTES)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "duplicate"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from([b"\r\n", b"\n\n", b"=?", b"?=", b"--", b"\x00", b":", b"<", b'"',
                                                b"=?utf-8?b?", b"boundary=", b"\xff\xfe", b" "]))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 50))]
        elif kind == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 300))]
    return bytes(data)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_golden())
def test_mutated_goldens(data: bytes) -> None:
    assert_clean(data)


def test_deep_mime_nesting_degrades() -> None:
    depth = 200
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    data = ("From: a@x.fr\r\nSubject: deep\r\n" + head + "Content-Type: text/plain\r\n\r\nfond\r\n").encode()
    parsed = parse_email(data, visibility=Visibility.FULL)
    assert "mime:too-deep" in parsed.repairs and parsed.subject == "deep"


# ---------------------------------------------------------------------------------------------- stdlib oracle

names = (
    # No "@" in names: when Python's generator folds such a name together with its address into encoded words,
    # the address list cannot be read back unambiguously (names that look like addresses: see the unit tests).
    st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs"], include_characters=",.'-()\"é\\"),
            min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda n: n and not (len(n) > 1 and n[0] == n[-1] in "'\""))  # wrapping quotes are dropped on purpose
)
locals_ = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}[a-z0-9]", fullmatch=True).filter(lambda s: ".." not in s)
domains = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]\.(fr|com|de|io)", fullmatch=True)
addresses = st.builds(lambda n, l, d: (n, f"{l}@{d}"), st.one_of(st.just(""), names), locals_, domains)
subjects = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp", "Co", "Cn"]),
                   max_size=120).map(lambda s: " ".join(s.split()))
dates = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(microsecond=0))
offsets = st.integers(-12 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))


@settings(max_examples=300, deadline=None)
@given(st.lists(addresses, min_size=1, max_size=1), st.lists(addresses, max_size=6, unique_by=lambda a: a[1]),
       subjects, dates, offsets, st.booleans())
def test_reads_what_the_stdlib_writes(sender, recipients, subject, date, offset, header_only) -> None:
    message = EmailMessage(policy=SMTP)
    message["From"] = [Address(display_name=n, addr_spec=a) for n, a in sender]
    if recipients:
        message["To"] = [Address(display_name=n, addr_spec=a) for n, a in recipients]
    message["Subject"] = subject
    message["Date"] = date.replace(tzinfo=offset)
    message["Message-ID"] = "<abc.123@example.fr>"
    message.set_content("Bonjour,\n\nTexte du message.\n")
    data = message.as_bytes()
    # Python 3.11's generator sometimes folds a long encoded name together with its address and the next comma
    # into encoded words; its own parser cannot read those back either. Compare only what round-trips there
    # (test_recovers_lists_python_folded_badly pins what this parser still recovers).
    readback = email.message_from_bytes(data, policy=default)
    assume([(a.display_name, a.addr_spec) for a in readback["To"].addresses] == recipients if recipients else True)
    if header_only:
        data = _split_message(data)[0]
    note(repr(data))
    parsed = parse_email(data)
    # Blanks are compared loosely: the stdlib writes a name as several encoded words without the blank between
    # them inside any word, and RFC 2047 readers (this one included) drop blanks between encoded words.
    assert [(m.address, squeeze(m.name)) for m in parsed.from_] == [(a, squeeze(n)) for n, a in sender]
    assert [(m.address, squeeze(m.name)) for m in parsed.to] == [(a, squeeze(n)) for n, a in recipients]
    assert squeeze(parsed.subject) == squeeze(subject)
    assert parsed.date == date.replace(tzinfo=offset).astimezone(UTC)
    assert parsed.message_id == "abc.123@example.fr"
    assert parsed.repairs == ()


def squeeze(text: str) -> str:
    return "".join(text.split())


def test_recovers_lists_python_folded_badly() -> None:
    """Two outputs of Python 3.11's generator for long accented names: an encoded comma, an encoded address."""
    encoded_comma = (
        b"To:\r\n =?utf-8?b?xYXElsOrw77wrKemxKzqibnDnSnCs8Orwr0=?= <w.70@tztf.de>\r\n =?utf-8?q?=2C?="
        b" =?utf-8?b?6o+ow6o=?= <z_p@dnrcf.de>, a@yi.fr\r\n"
    )
    assert [m.address for m in parse_email(encoded_comma).to] == ["w.70@tztf.de", "z_p@dnrcf.de", "a@yi.fr"]
    encoded_address = (
        b"To: =?utf-8?b?w5BHw5R3xLk=?=\r\n =?utf-8?b?xZVYxLHDjsO9xZbFjkzDjMSCSsO7xKfEo+OVkiA8dHp0OHByQGJ6OXJnZGx6c3hp?="
        b"\r\n =?utf-8?q?f=2Efr=3E=2C?= zosx@fm900.fr, mst@c4h.io\r\n"
    )
    parsed = parse_email(encoded_address)
    assert [m.address for m in parsed.to] == ["tzt8pr@bz9rgdlzsxif.fr", "zosx@fm900.fr", "mst@c4h.io"]
    assert parsed.to[0].name == "ÐGÔwĹŕXıÎýŖŎLÌĂJûħģ㕒"


# ---------------------------------------------------------------------------------------------- header-only fetch

HEADER_FIELDS = ("message_id", "subject", "date", "from_", "to", "cc", "bcc", "reply_to", "in_reply_to",
                 "references", "noise_headers", "content_type")


@pytest.mark.parametrize("path", golden_inputs(), ids=[p.stem for p in golden_inputs()])
def test_header_only_fetch_reads_the_same_headers(path) -> None:
    data = path.read_bytes()
    head, body = _split_message(data)
    if not body:
        return
    whole = parse_email(data, received_at=RECEIVED_AT)
    header_only = parse_email(head + b"\r\n", received_at=RECEIVED_AT)
    for field in HEADER_FIELDS:
        assert getattr(header_only, field) == getattr(whole, field), field
    assert header_only.body == header_only.snippet == "" and header_only.attachments == ()
