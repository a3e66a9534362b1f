"""Colours: CSS colour strings as venue colours, and default colours for sections and categories.

Venue colours are canonical hex strings: "#rrggbb" when opaque, "#rrggbbaa"
when not (so "transparent" is "#00000000"). `parse_css_color` reads every
sRGB syntax of CSS Color 4: the named colours (the CSS3 table from
`webcolors`, plus `rebeccapurple` and `transparent`), `#rgb`, `#rgba`,
`#rrggbb`, `#rrggbbaa`, and the functions `rgb()`/`rgba()`, `hsl()`/`hsla()`
and `hwb()`, in both the comma and the space-and-slash forms, with numbers,
percentages, hue units and the `none` keyword. Colours in other colour spaces
(`lab()`, `color()`, ...) and `currentcolor` have no fixed sRGB value here.
"""

from __future__ import annotations

import colorsys
import logging
import math
import re

import webcolors

RGBA = tuple[int, int, int, int]

log = logging.getLogger(__name__)

# Light, distinct fills for section backgrounds (seats are drawn on top).
SECTION_COLORS = (
    "#dce6f2",
    "#e8dff0",
    "#def0e3",
    "#f5ead6",
    "#f2dede",
    "#dff0f0",
)

# Category colours from most to least expensive; distinct for common colour blindness.
CATEGORY_COLORS = (
    "#b2182b",
    "#ef8a62",
    "#7b3294",
    "#2166ac",
    "#1b7837",
    "#8c6d31",
)

_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")
_FUNCTION = re.compile(r"(rgba?|hsla?|hwb)\(\s*(.*?)\s*\)")
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"
_TOKEN = re.compile(rf"(?:({_NUMBER})(%|deg|grad|rad|turn)?|(none))")
_EXTRA_NAMES = {"rebeccapurple": (102, 51, 153, 255), "transparent": (0, 0, 0, 0)}
_HUE_UNIT_TURNS = {"": 1 / 360, "deg": 1 / 360, "grad": 1 / 400, "rad": 1 / math.tau, "turn": 1.0}

_Token = tuple[float, str]  # (value, unit); unit "" for a plain number, "none" for none


def parse_css_color(text: str) -> RGBA | None:
    """The (r, g, b, alpha) bytes of a CSS colour string, or None if it is not one."""
    value = text.strip().lower()
    if value in _EXTRA_NAMES:
        return _EXTRA_NAMES[value]
    if value.startswith("#"):
        return _hex(value)
    match = _FUNCTION.fullmatch(value)
    if match is None:
        return _named(value)
    name, body = match.group(1), match.group(2)
    tokens = None if name == "hwb" and "," in body else _tokens(body)  # hwb has no comma form
    if tokens is None:
        return None
    if name.startswith("rgb"):
        return _rgb(tokens)
    if name.startswith("hsl"):
        return _hsl(tokens)
    return _hwb(tokens)


def to_hex(color: RGBA) -> str:
    """"#rrggbb" for an opaque colour, "#rrggbbaa" otherwise."""
    r, g, b, a = color
    return f"#{r:02x}{g:02x}{b:02x}" + ("" if a == 255 else f"{a:02x}")


def css_hex(text: str) -> str | None:
    """A CSS colour string as a canonical venue colour, or None if it is not one."""
    parsed = parse_css_color(text)
    return None if parsed is None else to_hex(parsed)


def normalize_color(value: str, path: str, default: str) -> str:
    """A file's colour as a canonical venue colour; "" and "none" give `default`.

    A string that is no CSS colour also gives `default`, as a browser ignores
    such a colour; the place is logged, since the file most likely has a typo.
    """
    text = value.strip()
    if text.lower() in ("", "none"):
        return default
    parsed = css_hex(text)
    if parsed is None:
        log.warning("%s: %r is not a CSS colour; using %s", path, value, default or "none")
        return default
    return parsed


def section_color(index: int) -> str:
    """A default background colour for the section with this index."""
    return SECTION_COLORS[index % len(SECTION_COLORS)]


def _hex(value: str) -> RGBA | None:
    if not _HEX.fullmatch(value):
        return None
    digits = value[1:]
    if len(digits) <= 4:
        digits = "".join(c * 2 for c in digits)
    if len(digits) == 6:
        digits += "ff"
    r, g, b, a = (int(digits[k : k + 2], 16) for k in range(0, 8, 2))
    return (r, g, b, a)


def _named(value: str) -> RGBA | None:
    try:
        r, g, b = webcolors.name_to_rgb(value, spec=webcolors.CSS3)
    except ValueError:
        return None
    return (r, g, b, 255)


def _tokens(body: str) -> list[_Token] | None:
    """The arguments of a colour function: three, and an optional alpha after "," or "/".

    The comma form separates all arguments with commas; the space form puts
    spaces between the first three and a "/" before the alpha.
    """
    if "," in body:
        parts = [p.strip() for p in body.split(",")]
        if "/" in body or len(parts) not in (3, 4):
            return None
    else:
        head, slash, alpha = body.partition("/")
        parts = head.split()
        if len(parts) != 3 or (slash and not alpha.strip()):
            return None
        if slash:
            parts.append(alpha.strip())
    out: list[_Token] = []
    for part in parts:
        match = _TOKEN.fullmatch(part)
        if match is None:
            return None
        if match.group(3):
            out.append((0.0, "none"))
        else:
            out.append((float(match.group(1)), match.group(2) or ""))
    return out


def _alpha(tokens: list[_Token]) -> int | None:
    if len(tokens) < 4:
        return 255
    value, unit = tokens[3]
    if unit not in ("", "%", "none"):
        return None
    share = value / 100.0 if unit == "%" else value
    return _byte(share * 255.0)


def _byte(value: float) -> int:
    # Rounds halves up, as browsers serialise colours.
    return math.floor(min(max(value, 0.0), 255.0) + 0.5)


def _rgb(tokens: list[_Token]) -> RGBA | None:
    units = {unit for _, unit in tokens[:3]} - {"none"}
    if not units <= {"", "%"} or len(units) > 1:
        return None  # channels are all numbers or all percentages
    channels = [value * 255 / 100 if unit == "%" else value for value, unit in tokens[:3]]
    alpha = _alpha(tokens)
    if alpha is None:
        return None
    r, g, b = (_byte(c) for c in channels)
    return (r, g, b, alpha)


def _hue(token: _Token) -> float | None:
    value, unit = token
    if unit == "none":
        return 0.0
    turns = _HUE_UNIT_TURNS.get(unit)
    return None if turns is None else (value * turns) % 1.0


def _shares(tokens: list[_Token]) -> tuple[float, float] | None:
    """The second and third arguments (saturation/lightness, whiteness/blackness) as 0..1."""
    out = []
    for value, unit in tokens[1:3]:
        if unit not in ("%", "", "none"):
            return None
        out.append(min(max(value / 100.0, 0.0), 1.0))
    return out[0], out[1]


def _hsl(tokens: list[_Token]) -> RGBA | None:
    hue, shares, alpha = _hue(tokens[0]), _shares(tokens), _alpha(tokens)
    if hue is None or shares is None or alpha is None:
        return None
    saturation, lightness = shares
    r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
    return (_byte(r * 255), _byte(g * 255), _byte(b * 255), alpha)


def _hwb(tokens: list[_Token]) -> RGBA | None:
    hue, shares, alpha = _hue(tokens[0]), _shares(tokens), _alpha(tokens)
    if hue is None or shares is None or alpha is None:
        return None
    white, black = shares
    if white + black >= 1.0:
        grey = _byte(white / (white + black) * 255)
        return (grey, grey, grey, alpha)
    pure = colorsys.hls_to_rgb(hue, 0.5, 1.0)
    r, g, b = (_byte((c * (1.0 - white - black) + white) * 255) for c in pure)
    return (r, g, b, alpha)
