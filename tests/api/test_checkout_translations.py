"""The checkout's gettext catalogs: complete, not fuzzy, placeholders kept, .mo files current."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "bridge" / "translations"
TRANSLATED = ("ms", "id", "nb")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _po(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


def _mo(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        return read_mo(f)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def _key(message_id: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (message_id,) if isinstance(message_id, str) else tuple(message_id)


def _strings(message_string: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if message_string is None:
        return ()
    return (message_string,) if isinstance(message_string, str) else tuple(message_string)


def test_every_text_of_the_pages_is_in_the_template() -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template = _ids(read_po(f))
    extracted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(ROOT),
            method_map=[
                ("bridge/api/checkout/**.py", "python"),
                ("bridge/api/checkout/templates/**.html", "jinja2"),
            ],
        )
    }
    assert extracted - template == set(), "run pybabel extract and update the catalogs"
    assert template - extracted == set(), "the template holds texts no page uses any more"


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_each_catalog_has_exactly_the_templates_texts(language: str) -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template = _ids(read_po(f))
    assert _ids(_po(language)) == template


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_are_complete_and_none_is_fuzzy(language: str) -> None:
    catalog = _po(language)
    untranslated = [m.id for m in catalog if m.id and not all(_strings(m.string))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert not catalog.fuzzy


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    catalog = _po(language)
    for message in catalog:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in _strings(message.string):
            assert set(PLACEHOLDER.findall(text)) == wanted, (message.id, text)


@pytest.mark.parametrize("language", TRANSLATED)
def test_gnu_msgfmt_accepts_the_catalog(language: str, tmp_path: Path) -> None:
    po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "out.mo"), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_the_compiled_catalog_is_current(language: str) -> None:
    source = {
        _key(m.id): _strings(m.string) for m in _po(language) if m.id and all(_strings(m.string))
    }
    # Babel writes an untranslated plural with the English forms: the same as no entry.
    compiled = {
        _key(m.id): _strings(m.string)
        for m in _mo(language)
        if m.id and (isinstance(m.id, str) or _strings(m.string) != _key(m.id))
    }
    assert compiled == source, "run pybabel compile -d bridge/translations"


@pytest.mark.parametrize(
    ("language", "term", "translation"),
    [
        ("ms", "Due now", "Perlu dibayar sekarang"),
        ("id", "Due now", "Harus dibayar sekarang"),
        ("nb", "Due now", "Å betale nå"),
        ("ms", "Next billing date", "Tarikh pengebilan seterusnya"),
        ("id", "Next billing date", "Tanggal penagihan berikutnya"),
        ("nb", "Next billing date", "Neste faktureringsdato"),
        ("ms", "Confirm and pay", "Sahkan dan bayar"),
        ("id", "Confirm and pay", "Konfirmasi dan bayar"),
        ("nb", "Confirm and pay", "Bekreft og betal"),
        ("ms", "Scheduled change", "Perubahan berjadual"),
        ("id", "Scheduled change", "Perubahan terjadwal"),
        ("nb", "Scheduled change", "Planlagt endring"),
    ],
)
def test_the_glossary_terms_are_used(language: str, term: str, translation: str) -> None:
    message = _po(language).get(term)
    assert message is not None and message.string == translation


@pytest.mark.parametrize(
    ("language", "invoice", "renewal"),
    [
        ("ms", "Invois", "pembaharuan"),
        ("id", "Faktur", "perpanjangan"),
        ("nb", "Fornyelses", "faktura"),
    ],
)
def test_payment_due_and_billing_not_offered_have_translated_sentences(
    language: str, invoice: str, renewal: str
) -> None:
    from bridge.api.checkout.pages.choice import _REFUSALS

    catalog = _po(language)
    for code in ("payment_due", "billing_not_offered"):
        message = catalog.get(_REFUSALS[code])
        assert message is not None and message.string, code
    payment_due = catalog.get(_REFUSALS["payment_due"]).string
    assert invoice in payment_due and renewal in payment_due


@pytest.mark.parametrize(
    ("language", "term", "translation"),
    [
        ("ms", "Keep the change", "Kekalkan perubahan"),
        ("id", "Keep the change", "Pertahankan perubahan"),
        ("nb", "Keep the change", "Behold endringen"),
        ("ms", "Cancel the scheduled change", "Batalkan perubahan berjadual"),
        ("nb", "Unlimited", "Ubegrenset"),
        ("id", "Disk space", "Ruang penyimpanan"),
    ],
)
def test_the_reviews_terms_follow_the_glossary(language: str, term: str, translation: str) -> None:
    message = _po(language).get(term)
    assert message is not None and message.string == translation


def test_indonesian_blocking_sentences_say_what_to_do_in_order_to_downgrade() -> None:
    """The review: "… to downgrade" is a purpose ("untuk"), not a next step ("lalu")."""
    catalog = _po("id")
    blocking = [m for m in catalog if m.id and _key(m.id)[0].endswith("to downgrade.")]
    assert len(blocking) == 7
    for message in blocking:
        for text in _strings(message.string):
            assert "untuk menurunkan" in text and "lalu" not in text, text


def test_indonesian_says_kuantitas_for_a_quantity() -> None:
    catalog = _po("id")
    for term in (
        "Pick a quantity between 0 and 999.",
        "Packages and services you can add to the plan you picked. Set a quantity of 0 to remove one.",
    ):
        message = catalog.get(term)
        assert (
            message is not None and "kuantitas" in message.string and "jumlah" not in message.string
        )
