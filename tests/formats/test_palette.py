"""CSS colour strings: every sRGB syntax of CSS Color 4, and what is not a colour."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings

from seatmap.formats.palette import (
    css_hex,
    normalize_color,
    parse_css_color,
    to_hex,
)
from tests.formats.pretix_strategy import css_colors

COLOURS = [
    ("red", (255, 0, 0, 255)),
    ("RebeccaPurple", (102, 51, 153, 255)),
    ("  LightGoldenRodYellow ", (250, 250, 210, 255)),
    ("transparent", (0, 0, 0, 0)),
    ("#0f8", (0, 255, 136, 255)),
    ("#0f88", (0, 255, 136, 136)),
    ("#00FF88", (0, 255, 136, 255)),
    ("#00ff8880", (0, 255, 136, 128)),
    ("rgb(1, 2, 3)", (1, 2, 3, 255)),
    ("rgba(1,2,3,.5)", (1, 2, 3, 128)),
    ("rgba(1, 2, 3, 25%)", (1, 2, 3, 64)),
    ("rgb(1 2 3 / 0.25)", (1, 2, 3, 64)),
    ("rgb(100%, 50%, 0%)", (255, 128, 0, 255)),
    ("RGB(300, -4, 127.6)", (255, 0, 128, 255)),
    ("rgb(none 10 20)", (0, 10, 20, 255)),
    ("rgb(1 2 3 / 2)", (1, 2, 3, 255)),
    ("hsl(120, 100%, 25%)", (0, 128, 0, 255)),
    ("hsla(0.5turn 100% 50% / 50%)", (0, 255, 255, 128)),
    ("hsl(3.14159265rad 100% 50%)", (0, 255, 255, 255)),
    ("hsl(-120 100% 50%)", (0, 0, 255, 255)),
    ("hsl(200grad 100% 50%)", (0, 255, 255, 255)),
    ("hwb(60 0% 0%)", (255, 255, 0, 255)),
    ("hwb(0 60% 60% / 1)", (128, 128, 128, 255)),
]

NOT_COLOURS = [
    "", "rot", "#12", "#12345", "#1234567", "#ggg", "rgb(1, 2)", "rgb(1, 2, 3, 4, 5)",
    "rgb(1 2, 3)", "rgb(1, 2, 3 / 1)", "rgb(1 2 3 /)", "rgb(10% 2 3)", "rgb(1px 2 3)",
    "hsl(120, 100%)", "hsl(1x 100% 50%)", "hwb(120, 0%, 0%)", "lab(50% 40 59)",
    "currentcolor", "url(#x)", "rgb(1 2 3",
]


@pytest.mark.parametrize(("text", "rgba"), COLOURS)
def test_every_css_colour_syntax_is_read(text: str, rgba: tuple[int, int, int, int]) -> None:
    assert parse_css_color(text) == rgba


@pytest.mark.parametrize("text", NOT_COLOURS)
def test_strings_that_are_no_css_colour_are_refused(text: str) -> None:
    assert parse_css_color(text) is None
    assert css_hex(text) is None


@settings(max_examples=300, deadline=None)
@given(css_colors())
def test_drawn_colours_read_as_what_they_mean(color: tuple[str, tuple[int, int, int, int]]) -> None:
    text, rgba = color
    assert parse_css_color(text) == rgba
    assert parse_css_color(to_hex(rgba)) == rgba


def test_venue_colours_are_canonical_hex() -> None:
    assert css_hex("Teal") == "#008080"
    assert css_hex("rgba(0, 128, 128, 0.5)") == "#00808080"
    assert css_hex("transparent") == "#00000000"


def test_file_colour_that_is_none_gives_the_default_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert normalize_color(" ", "$.a", "#010203") == "#010203"
    assert normalize_color("none", "$.a", "#010203") == "#010203"
    with caplog.at_level(logging.WARNING):
        assert normalize_color("rot", "$.zones[0].areas[1].color", "#d9d9d9") == "#d9d9d9"
    assert "$.zones[0].areas[1].color" in caplog.text and "'rot'" in caplog.text
