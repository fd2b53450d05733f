"""Contacts from files: CSV (French or English headers, ``;`` or ``,``, Excel's BOM) and vCard, validated row by row."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from agent.errors import UserError
from agent.matching.addresses import normalize_address

_HEADERS = {
    "email": {"email", "e-mail", "mail", "courriel", "adresse email", "adresse e-mail", "adresse mail", "email address",
              "e-mail address", "adresse electronique", "email 1", "e-mail 1", "primary email"},
    "email2": {"email 2", "e-mail 2", "autre email", "email secondaire", "other email", "secondary email"},
    "first_name": {"prenom", "first name", "firstname", "given name", "prenoms"},
    "last_name": {"nom", "last name", "lastname", "surname", "nom de famille", "family name"},
    "full_name": {"nom complet", "name", "full name", "contact", "display name", "nom et prenom"},
    "company": {"societe", "entreprise", "company", "organisation", "organization", "raison sociale", "compte",
                "account", "client", "company name"},
    "phone": {"telephone", "tel", "tel.", "phone", "mobile", "portable", "tel mobile", "phone number", "numero"},
    "title": {"fonction", "poste", "title", "job title", "titre"},
    "status": {"statut", "status", "etape", "stage"},
    "website": {"site", "site web", "website", "domaine", "domain", "url"},
    "tags": {"tags", "etiquettes", "labels"},
}
_LOOKUP = {alias: key for key, aliases in _HEADERS.items() for alias in aliases}


@dataclass(frozen=True)
class ContactRow:
    line: int  # 1-based line (CSV) or card number (vCard), for error messages
    emails: tuple[str, ...]
    first_name: str = ""
    last_name: str = ""
    full_name: str = ""
    company: str = ""
    phone: str = ""
    title: str = ""
    status: str = ""
    website: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def display_name(self) -> str:
        return self.full_name or " ".join(p for p in (self.first_name, self.last_name) if p)


def _fold(header: str) -> str:
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return " ".join(plain.casefold().replace("_", " ").replace("-", "-").strip().split())


def read_contacts(path: Path) -> list[ContactRow]:
    """Rows of a .csv or .vcf file. Raises UserError naming every bad line (nothing is imported then)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.suffix.lower() in (".vcf", ".vcard") or data.lstrip().upper().startswith(b"BEGIN:VCARD"):
        return _from_vcard(path, data)
    return _from_csv(path, data)


def _decode(path: Path, data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):  # Excel FR writes UTF-8 with a BOM, or Windows-1252
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(f"{path}: not a text file")


def _from_csv(path: Path, data: bytes) -> list[ContactRow]:
    text = _decode(path, data)
    if not text.strip():
        raise UserError(f"{path}: empty file")
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise UserError(f"{path}:1: cannot read the header line: {exc}") from None
    columns = [_LOOKUP.get(_fold(h)) for h in header]
    if "email" not in columns and "full_name" not in columns and "last_name" not in columns:
        raise UserError(f"{path}:1: no email or name column found in header {header!r} (expected e.g. nom;prénom;email;société)")
    rows: list[ContactRow] = []
    problems: list[str] = []
    for number, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        values: dict[str, str] = {}
        for column, cell in zip(columns, record, strict=False):
            if column and cell.strip() and column not in values:
                values[column] = cell.strip()
        if len(record) > len(columns) and any(c.strip() for c in record[len(columns):]):
            problems.append(f"{path}:{number}: {len(record)} cells but the header has {len(columns)}")
            continue
        emails = []
        for key in ("email", "email2"):
            for raw in values.get(key, "").replace(",", " ").replace(";", " ").split():
                address = normalize_address(raw)
                if address is None:
                    problems.append(f"{path}:{number}: {raw!r} is not an email address")
                else:
                    emails.append(address)
        if not emails and not any(values.get(k) for k in ("full_name", "last_name", "first_name")):
            problems.append(f"{path}:{number}: a contact needs an email address or a name")
            continue
        rows.append(ContactRow(
            line=number, emails=tuple(dict.fromkeys(emails)), first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""), full_name=values.get("full_name", ""), company=values.get("company", ""),
            phone=values.get("phone", ""), title=values.get("title", ""), status=values.get("status", "").lower(),
            website=values.get("website", ""), tags=tuple(t.strip() for t in values.get("tags", "").split(",") if t.strip()),
        ))
    if problems:
        raise UserError("\n".join(problems[:50]) + (f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""))
    return rows


def _from_vcard(path: Path, data: bytes) -> list[ContactRow]:
    from agent.pipeline.parse_vcard import parse_vcard

    cards = parse_vcard(data)
    if not cards:
        raise UserError(f"{path}: no vCard found")
    rows = []
    problems = []
    for number, card in enumerate(cards, start=1):
        emails = [normalize_address(e) for e in card.emails]
        bad = [e for e, n in zip(card.emails, emails, strict=True) if n is None]
        if bad:
            problems.append(f"{path}: card {number}: {bad[0]!r} is not an email address")
            continue
        if not emails and not card.full_name:
            problems.append(f"{path}: card {number}: a contact needs an email address or a name")
            continue
        rows.append(ContactRow(
            line=number, emails=tuple(dict.fromkeys(e for e in emails if e)), first_name=card.first_name,
            last_name=card.last_name, full_name=card.full_name, company=card.org, phone=(card.phones or ("",))[0],
            title=card.title,
        ))
    if problems:
        raise UserError("\n".join(problems))
    return rows
