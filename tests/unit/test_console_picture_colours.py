"""The upgrade-path picture's text is readable: every colour it writes text in has a WCAG
contrast of at least 4.5:1 against every colour it is drawn on.

axe-core cannot check text inside an <svg role="img"> (it reports the check as incomplete), so
this test does it for the picture the console renders.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from bridge.api.console.picture import render
from bridge.catalog_file import load_yaml
from bridge.domain.catalog import Policy, parse_catalog
from bridge.domain.paths import upgrade_paths

ROOT = Path(__file__).resolve().parents[2]
PAGE_BACKGROUND = "#ffffff"  # the console's body (templates/console/base.html)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_matches_the_wcag_formula() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48


def test_every_text_colour_of_the_picture_is_readable_on_every_fill() -> None:
    data = load_yaml(ROOT / "examples" / "catalog-console-journey.yaml")
    catalog = parse_catalog(data["catalog"])
    svg = str(render(upgrade_paths(catalog, Policy(), datetime.now(UTC)), catalog.currency))
    text_colours = set(re.findall(r'<text[^>]*\bfill="(#[0-9a-fA-F]{6})"', svg))
    fills = set(re.findall(r'<rect[^>]*\bfill="(#[0-9a-fA-F]{6})"', svg)) | {PAGE_BACKGROUND}
    assert len(text_colours) >= 3, "the picture should write plan names and arrow labels"
    for text in text_colours:
        for fill in fills:
            assert contrast(text, fill) >= 4.5, (text, fill, round(contrast(text, fill), 2))
