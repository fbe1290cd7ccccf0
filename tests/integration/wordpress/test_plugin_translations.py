"""The plugin's translations are complete, built, current, and use the glossary's terms."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.parts import require_part

PLUGIN = Path(__file__).resolve().parents[3] / "wp-plugin-stub"
LANGUAGES = PLUGIN / "languages"
LOCALES = ("ms_MY", "id_ID", "nb_NO")
# A few rows of docs/glossary.md as they must appear in each catalogue.
GLOSSARY = {
    "Account": ("Akaun", "Akun", "Konto"),
    "Your Membership": ("Keahlian Anda", "Keanggotaan Anda", "Ditt medlemskap"),
    "Change": ("Tukar", "Ubah", "Endre"),
    "unlimited": ("tanpa had", "tanpa batas", "ubegrenset"),
    "Temporarily unavailable": (
        "Tidak tersedia buat sementara",
        "Sementara tidak tersedia",
        "Midlertidig utilgjengelig",
    ),
    "This change leaves your membership as it is.": (
        "Perubahan ini tidak mengubah keahlian anda.",
        "Perubahan ini tidak mengubah keanggotaan Anda.",
        "Denne endringen endrer ikke medlemskapet ditt.",
    ),
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    require_part(name, path is not None, "install the Debian package gettext (make deps)")
    assert path is not None
    return path


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete_with_nothing_fuzzy(locale: str) -> None:
    result = subprocess.run(
        [
            _tool("msgfmt"),
            "--check",
            "--statistics",
            "-o",
            os.devnull,
            str(LANGUAGES / f"plan-bridge-{locale}.po"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
    assert "translated message" in result.stderr


@pytest.mark.parametrize("locale", LOCALES)
def test_shipped_mo_is_built_from_the_po(locale: str, tmp_path: Path) -> None:
    built = tmp_path / "built.mo"
    subprocess.run(
        [_tool("msgfmt"), "-o", str(built), str(LANGUAGES / f"plan-bridge-{locale}.po")],
        check=True,
        timeout=30,
    )
    assert built.read_bytes() == (LANGUAGES / f"plan-bridge-{locale}.mo").read_bytes()


def _msgids(path: Path) -> set[str]:
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


def test_template_and_catalogues_hold_every_string_of_the_code(tmp_path: Path) -> None:
    pot = tmp_path / "fresh.pot"
    sources = [str(p.relative_to(PLUGIN)) for p in sorted(PLUGIN.glob("*.php"))]
    sources += [str(p.relative_to(PLUGIN)) for p in sorted((PLUGIN / "includes").glob("*.php"))]
    subprocess.run(
        [
            _tool("xgettext"),
            "--language=PHP",
            "--from-code=UTF-8",
            "--keyword=__",
            "--keyword=_e",
            "--keyword=esc_html__",
            "--keyword=esc_html_e",
            "--keyword=esc_attr__",
            "--keyword=esc_attr_e",
            "--keyword=_x:1,2c",
            "--keyword=_n:1,2",
            "-o",
            str(pot),
            *sources,
        ],
        cwd=PLUGIN,
        check=True,
        timeout=30,
        capture_output=True,
    )
    fresh = pot.read_text().replace("charset=CHARSET", "charset=UTF-8")
    # With plural forms (_n) xgettext writes a placeholder Babel cannot read.
    pot.write_text(
        fresh.replace("nplurals=INTEGER; plural=EXPRESSION;", "nplurals=2; plural=(n != 1);")
    )
    in_code = _msgids(pot)
    assert _msgids(LANGUAGES / "plan-bridge.pot") == in_code
    for locale in LOCALES:
        assert _msgids(LANGUAGES / f"plan-bridge-{locale}.po") == in_code, locale


@pytest.mark.parametrize(("index", "locale"), list(enumerate(LOCALES)))
def test_catalogues_use_the_glossary_terms(index: int, locale: str) -> None:
    from babel.messages.pofile import read_po

    with (LANGUAGES / f"plan-bridge-{locale}.po").open("rb") as handle:
        catalogue = read_po(handle)
    for english, terms in GLOSSARY.items():
        message = catalogue.get(english)
        assert message is not None, english
        assert message.string == terms[index], (locale, english)
