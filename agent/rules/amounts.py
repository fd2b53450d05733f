"""Money amounts found in mail text ("Total HT : 12 450,00 €"), for amount conditions and deals; never raises.

What counts as an amount: a number with a currency before or after it (€, EUR, euro(s), $, USD, £, GBP, CHF,
with a k or M multiplier: "15 k€", "1,2 M€") or followed by a tax marker (HT, H.T., TTC, hors taxes, toutes
taxes comprises). A bare number is never an amount: "devis n°42" or "2026" must not look like money.

Number formats:

- Thousands grouped by spaces, including the no-break spaces mail clients insert (U+00A0, U+202F, U+2009):
  "12 450,00", "12 450".
- "12.450,00" (dot thousands, comma decimals) and "12,450.00" (comma thousands, dot decimals).
- One separator only: followed by exactly three digits it groups thousands ("12,450" and "12.450" are 12450),
  otherwise it is the decimal mark ("12,5" and "12.50").

Tax: the marker after the amount ("12 450 € HT") or, failing that, the last HT/TTC written before it on its line
("Total TTC : 14 940 €"); "" when none.

``best_total`` picks the figure a person would call "the amount of this quote":

1. amounts on a total line ("total", "montant", "net à payer", "amount due"), sub-totals excluded; if there is
   none, every amount;
2. VAT lines ("TVA : 2 490 €") never count;
3. HT over an untaxed figure over TTC: a French B2B quote is negotiated and compared HT, TTC includes VAT;
4. the largest value left (a grand total is at least each partial total); the first one on a tie.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

MAX_SCAN_CHARS = 200_000  # a mail body longer than this is a log or an export, not a quote to read

_SPACE = "[ \u00a0\u202f\u2009]"
_NUMBER = (
    rf"(?P<number>\d{{1,3}}(?:{_SPACE}\d{{3}})+(?:[.,]\d{{1,2}})?"
    r"|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?"
    r"|\d+(?:[.,]\d{1,2})?)(?!\d)"
)
_CURRENCY = r"€|\$|£|(?i:(?:euros?|eur|usd|gbp|chf)\b)"
_TAX = r"(?i:h\.?t\.?|t\.?t\.?c\.?|hors\s+taxes?|toutes\s+taxes\s+comprises)(?!\w)"
_AMOUNT_RE = re.compile(
    rf"(?:(?P<prefix>{_CURRENCY}){_SPACE}?)?"
    rf"(?<![\w.,]){_NUMBER}"
    rf"(?:{_SPACE}?(?P<multiplier>[kKM])?{_SPACE}?(?P<suffix>{_CURRENCY}))?"
    rf"(?:{_SPACE}?(?P<tax>{_TAX}))?"
)
_TAX_WORD_RE = re.compile(rf"(?<!\w)(?P<tax>{_TAX})")
_CURRENCY_CODES = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "usd": "USD",
                   "£": "GBP", "gbp": "GBP", "chf": "CHF"}
_MULTIPLIERS = {"k": Decimal(1000), "K": Decimal(1000), "M": Decimal(1_000_000)}
_TOTAL_RE = re.compile(r"\b(total|montant|net a payer|a payer|amount due|grand total|somme)\b")
_SUBTOTAL_RE = re.compile(r"\b(sous[- ]?total|sub[- ]?total)\b")
_VAT_RE = re.compile(r"\b(tva|vat|t\.v\.a)\b")


@dataclass(frozen=True, slots=True)
class Amount:
    """A sum of money: ``value`` in ``currency`` ("EUR", "USD", "GBP", "CHF"; "" when only a tax marker told
    it was money), ``tax`` "HT", "TTC" or "". ``text`` is the matched source text, for explanations."""

    value: Decimal
    currency: str
    tax: str = ""
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return format_amount(self)


@dataclass(frozen=True, slots=True)
class _Found:
    amount: Amount
    is_total: bool
    is_subtotal: bool
    is_vat: bool


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _to_decimal(number: str) -> Decimal | None:
    digits = re.sub(_SPACE, "", number)
    if "." in digits and "," in digits:
        decimal_mark = "." if digits.rfind(".") > digits.rfind(",") else ","
    elif re.fullmatch(r"\d{1,3}([.,]\d{3})+", digits):
        decimal_mark = None  # one kind of separator before groups of three: thousands
    else:
        decimal_mark = "," if "," in digits else "."
    grouping = {".", ","} - {decimal_mark}
    for mark in grouping:
        digits = digits.replace(mark, "")
    if decimal_mark:
        digits = digits.replace(decimal_mark, ".")
    if len(digits) > 18:
        return None
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def _normalize_tax(marker: str) -> str:
    letters = re.sub(r"[^a-z]", "", _plain(marker))
    return "TTC" if letters.startswith(("ttc", "toutes")) else "HT"


def _scan_line(line: str, context_before: str) -> list[_Found]:
    found: list[_Found] = []
    previous_end = 0
    for match in _AMOUNT_RE.finditer(line):
        currency_text = match["prefix"] or match["suffix"]
        if not currency_text and not match["tax"]:
            continue
        value = _to_decimal(match["number"])
        if value is None:
            continue
        if match["multiplier"] and match["suffix"]:
            value *= _MULTIPLIERS[match["multiplier"]]
        label = line[previous_end : match.start()]
        if not re.search(r"[^\W\d_]", line[: match.start()]):
            label = f"{context_before} {label}"  # a table cell under its header line
        previous_end = match.end()
        tax = _normalize_tax(match["tax"]) if match["tax"] else ""
        if not tax:
            before = list(_TAX_WORD_RE.finditer(label))
            tax = _normalize_tax(before[-1]["tax"]) if before else ""
        plain_label = _plain(label)
        amount = Amount(value, _CURRENCY_CODES.get((currency_text or "").lower(), ""), tax, match.group(0).strip())
        found.append(
            _Found(
                amount,
                is_total=bool(_TOTAL_RE.search(plain_label)),
                is_subtotal=bool(_SUBTOTAL_RE.search(plain_label)),
                is_vat=not tax and bool(_VAT_RE.search(plain_label)),
            )
        )
    return found


def _scan(text: object) -> list[_Found]:
    if not isinstance(text, str) or not text:
        return []
    found: list[_Found] = []
    previous_line = ""
    for line in text[:MAX_SCAN_CHARS].splitlines():
        if not line.strip():
            continue
        found.extend(_scan_line(line, previous_line))
        previous_line = line
    return found


def parse_amounts(text: str) -> list[Amount]:
    """Every amount in ``text``, in reading order; [] for anything that is not text or holds no amount."""
    return [item.amount for item in _scan(text)]


_TAX_PREFERENCE = {"HT": 0, "": 1, "TTC": 2}


def best_total(text: str) -> Amount | None:
    """The amount that best stands for the whole text (see the module docstring), or None."""
    found = [item for item in _scan(text) if not item.is_vat]
    if not found:
        return None
    totals = [item for item in found if item.is_total and not item.is_subtotal]
    pool = totals or found
    best_tax = min(_TAX_PREFERENCE[item.amount.tax] for item in pool)
    pool = [item for item in pool if _TAX_PREFERENCE[item.amount.tax] == best_tax]
    return max(pool, key=lambda item: item.amount.value).amount


def format_amount(amount: Amount) -> str:
    """French display: "12 450,00 € HT" (narrow no-break space between thousands)."""
    quantized = amount.value.quantize(Decimal("0.01"))
    whole, _, cents = f"{quantized:f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", "\u202f")
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(amount.currency, amount.currency)
    parts = [f"{grouped},{cents}", symbol, amount.tax]
    return " ".join(part for part in parts if part)
