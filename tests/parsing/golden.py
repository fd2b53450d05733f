"""Golden files for email parsing: each tests/golden/email/NAME.eml has NAME.json, a stable JSON projection.

The projection holds every ParsedEmail field (dates in ISO 8601, tuples as lists, calendar parts as their
sha256) plus what the pipeline derives from it: thread key, normalized subject, noise reason, auto-reply and
bounce flags. Parsing uses ``Visibility.FULL`` and a fixed ``received_at`` so the missing-date fallback shows.

Regenerate after a deliberate change, then review the diff by eye before committing:

    CRM_UPDATE_GOLDEN=1 .venv/bin/pytest tests/parsing/test_golden.py
    # or: .venv/bin/python -m tests.parsing.golden
    git diff tests/golden/email/
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from agent.pipeline.noise import classify_noise, is_auto_reply, is_bounce
from agent.pipeline.parse_email import parse_email
from agent.pipeline.threads import normalize_subject, thread_key
from agent.records import ParsedEmail, Visibility

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "email"
RECEIVED_AT = datetime(2024, 7, 10, 8, 0, tzinfo=UTC)  # the INTERNALDATE stand-in for a missing Date
UPDATE_ENV = "CRM_UPDATE_GOLDEN"


def golden_inputs() -> list[Path]:
    return sorted(GOLDEN_DIR.glob("*.eml"))


def project(parsed: ParsedEmail) -> dict:
    """A JSON-ready view of a parse result; stable across runs (no object ids, no dict-order surprises)."""
    return {
        "message_id": parsed.message_id,
        "subject": parsed.subject,
        "date": parsed.date.isoformat(),
        "from": [[m.address, m.name] for m in parsed.from_],
        "to": [[m.address, m.name] for m in parsed.to],
        "cc": [[m.address, m.name] for m in parsed.cc],
        "bcc": [[m.address, m.name] for m in parsed.bcc],
        "reply_to": [[m.address, m.name] for m in parsed.reply_to],
        "in_reply_to": parsed.in_reply_to,
        "references": _shorten(list(parsed.references)),
        "noise_headers": [[name, value] for name, value in parsed.noise_headers],
        "content_type": parsed.content_type,
        "snippet": parsed.snippet,
        "body": parsed.body,
        "attachments": list(parsed.attachments),
        "calendar_parts_sha256": [hashlib.sha256(part).hexdigest() for part in parsed.calendar_parts],
        "content_hash": parsed.content_hash,
        "repairs": list(parsed.repairs),
        "size": parsed.size,
        "derived": {
            "thread_key": thread_key(parsed),
            "normalized_subject": normalize_subject(parsed.subject),
            "noise": classify_noise(parsed),
            "is_auto_reply": is_auto_reply(parsed),
            "is_bounce": is_bounce(parsed),
        },
    }


def _shorten(references: list[str]) -> list[str] | dict:
    """A 50-id list is unreadable in review: keep its ends and length (the test on the file checks the rest)."""
    if len(references) <= 12:
        return references
    return {"count": len(references), "first": references[:3], "last": references[-3:]}


def parse_golden(path: Path) -> ParsedEmail:
    return parse_email(path.read_bytes(), received_at=RECEIVED_AT, visibility=Visibility.FULL)


def expected_path(path: Path) -> Path:
    return path.with_suffix(".json")


def render(path: Path) -> str:
    return json.dumps(project(parse_golden(path)), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def regenerate() -> list[Path]:
    """Write every NAME.json from the current parser; returns the files whose content changed."""
    changed = []
    for path in golden_inputs():
        target = expected_path(path)
        text = render(path)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            changed.append(target)
    return changed


def update_requested() -> bool:
    return os.environ.get(UPDATE_ENV, "") not in ("", "0")


if __name__ == "__main__":
    for changed_file in regenerate():
        print(f"updated {changed_file.relative_to(GOLDEN_DIR.parents[2])}")
