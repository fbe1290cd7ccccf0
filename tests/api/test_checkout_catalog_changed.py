"""A commit refused because the catalog changed is answered with "the prices changed" (en, ms,
id, nb) on the re-quoted Change page, not the generic "your membership changed"."""

from __future__ import annotations

import pytest

from bridge.api.checkout.i18n import habits_for
from bridge.api.checkout.pages.confirm import _conflict_sentence
from bridge.errors import CatalogChanged, StaleQuote


@pytest.mark.parametrize(
    ("locale", "sentence"),
    [
        ("en_US", "The prices changed while you were looking. Check the new amounts."),
        ("ms_MY", "Harga berubah semasa anda melihat. Semak jumlah baharu."),
        ("id_ID", "Harga berubah saat Anda melihat. Periksa jumlah yang baru."),
        ("nb_NO", "Prisene ble endret mens du så på dem. Sjekk de nye beløpene."),
    ],
)
def test_a_catalog_change_says_the_prices_changed(locale: str, sentence: str) -> None:
    h = habits_for(locale, None)
    assert _conflict_sentence(h, CatalogChanged("x")) == sentence
    assert _conflict_sentence(h, StaleQuote("x")) != sentence
