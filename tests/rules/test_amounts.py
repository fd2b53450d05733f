"""Amounts in French and English mail text: formats, currencies, tax markers, and which one is "the total"."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.rules.amounts import Amount, best_total, format_amount, parse_amounts

NBSP, NNBSP, THIN = "\u00a0", "\u202f", "\u2009"


@pytest.mark.parametrize(
    ("text", "value", "currency", "tax"),
    [
        ("12 450,00 € HT", "12450", "EUR", "HT"),
        ("12.450,00 EUR", "12450", "EUR", ""),
        ("12 450 €", "12450", "EUR", ""),
        ("€12,450.00", "12450", "EUR", ""),
        (f"12{NBSP}450,00{NBSP}€", "12450", "EUR", ""),
        (f"12{NNBSP}450,00{NNBSP}€ TTC", "12450", "EUR", "TTC"),
        (f"1{THIN}234{THIN}567,89 €", "1234567.89", "EUR", ""),
        ("12450 €", "12450", "EUR", ""),
        ("12450.50 EUR", "12450.50", "EUR", ""),
        ("12,5 €", "12.5", "EUR", ""),
        ("12,450 €", "12450", "EUR", ""),
        ("12.450 €", "12450", "EUR", ""),
        ("15 k€", "15000", "EUR", ""),
        ("15k€ HT", "15000", "EUR", "HT"),
        ("1,5 k€", "1500", "EUR", ""),
        ("1,2 M€", "1200000", "EUR", ""),
        ("20 kEUR", "20000", "EUR", ""),
        ("300 euros HT", "300", "EUR", "HT"),
        ("1 euro", "1", "EUR", ""),
        ("EUR 4 000", "4000", "EUR", ""),
        ("USD 1,200.50", "1200.50", "USD", ""),
        ("$99", "99", "USD", ""),
        ("£1,000", "1000", "GBP", ""),
        ("2 500 CHF", "2500", "CHF", ""),
        ("10 € H.T.", "10", "EUR", "HT"),
        ("10 € hors taxes", "10", "EUR", "HT"),
        ("10 € T.T.C.", "10", "EUR", "TTC"),
        ("10 € toutes taxes comprises", "10", "EUR", "TTC"),
        ("8 000,00 HT", "8000", "", "HT"),
        ("Total HT : 12 450,00 €", "12450", "EUR", "HT"),
        ("Montant TTC: 14 940 €", "14940", "EUR", "TTC"),
    ],
)
def test_single_amount_formats(text: str, value: str, currency: str, tax: str) -> None:
    assert parse_amounts(text) == [Amount(Decimal(value), currency, tax)]


@pytest.mark.parametrize(
    "text",
    ["Devis n°42 du 07/05/2026", "Réf. 2026-0042", "Rappel: 3 jours", "15k", "12,5 %", "EUR12", "", "€", "HT TTC"],
)
def test_numbers_that_are_not_money(text: str) -> None:
    assert parse_amounts(text) == []


def test_amount_keeps_its_source_text() -> None:
    [amount] = parse_amounts("Montant : 12 450,00 € HT, merci")
    assert amount.text == "12 450,00 € HT"


def test_several_amounts_in_reading_order() -> None:
    amounts = parse_amounts("Audit 2 000 € + formation 1 500 € = 3 500 € HT")
    assert [a.value for a in amounts] == [Decimal(2000), Decimal(1500), Decimal(3500)]
    assert [a.tax for a in amounts] == ["", "", "HT"]


QUOTE = """Bonjour,

Veuillez trouver notre proposition commerciale :

Désignation        Qté   PU HT
Audit              1     2 000,00 €
Formation          3     1 500,00 €
Sous-total HT : 6 500,00 €
Remise : 500,00 €
Total HT : 6 000,00 €
TVA (20 %) : 1 200,00 €
Total TTC : 7 200,00 €
"""


def test_best_total_prefers_total_line_ht_over_ttc() -> None:
    assert best_total(QUOTE) == Amount(Decimal("6000"), "EUR", "HT")


def test_best_total_takes_ttc_when_only_ttc_total() -> None:
    text = "Prix unitaire 100 € HT\nTotal TTC : 14 940,00 €\nTVA : 2 490,00 €"
    assert best_total(text) == Amount(Decimal("14940"), "EUR", "TTC")


def test_best_total_never_picks_vat() -> None:
    assert best_total("Montant TVA : 2 490 €") is None
    assert best_total("TVA 20 % : 2 490,00 €\nPrix : 12 450 €") == Amount(Decimal(12450), "EUR", "")


def test_best_total_reads_the_header_line_of_a_table() -> None:
    assert best_total("Total HT\n6 000,00 €\nTotal TTC\n7 200,00 €") == Amount(Decimal(6000), "EUR", "HT")


def test_best_total_without_total_line_takes_the_largest_ht() -> None:
    text = "Licence 1 200 € HT par an\nInstallation 800 € HT\nSoit 2 400 € TTC la première année"
    assert best_total(text) == Amount(Decimal(1200), "EUR", "HT")


def test_best_total_of_several_totals_is_the_grand_total() -> None:
    text = "Lot 1 — total HT : 4 000 €\nLot 2 — total HT : 2 000 €\nTotal général HT : 6 000 €"
    assert best_total(text).value == Decimal(6000)


def test_best_total_prefers_untaxed_total_over_ttc() -> None:
    assert best_total("Total : 12 000 €\nTotal TTC : 14 400 €").value == Decimal(12000)


@pytest.mark.parametrize("junk", [None, 42, b"12 \xe2\x82\xac", "", "   ", "\x00" * 10, "€" * 1000])
def test_never_raises_on_junk(junk: object) -> None:
    assert parse_amounts(junk) == []  # type: ignore[arg-type]
    assert best_total(junk) is None  # type: ignore[arg-type]


@given(st.text(alphabet=st.sampled_from(list("0123456789 ,.€kKMHTtc$£\u00a0\u202f\nEURhors")), max_size=200))
def test_never_raises_on_random_text(text: str) -> None:
    amounts = parse_amounts(text)
    assert all(a.value >= 0 for a in amounts)
    best = best_total(text)
    assert best is None or best in amounts


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
       st.sampled_from(["EUR", "USD", "GBP"]), st.sampled_from(["", "HT", "TTC"]))
def test_format_then_parse_round_trips(value: Decimal, currency: str, tax: str) -> None:
    amount = Amount(value, currency, tax)
    assert parse_amounts(format_amount(amount)) == [amount]


def test_format_amount_french_style() -> None:
    assert format_amount(Amount(Decimal("12450"), "EUR", "HT")) == f"12{NNBSP}450,00 € HT"
    assert str(Amount(Decimal("0.5"), "CHF")) == "0,50 CHF"


def test_only_the_first_max_scan_chars_are_read() -> None:
    tail = "\nTotal HT : 6 000 €"
    assert best_total("lorem ipsum 12 " * 1000 + tail).value == Decimal(6000)
    assert best_total("lorem ipsum 12 " * 20000 + tail) is None
