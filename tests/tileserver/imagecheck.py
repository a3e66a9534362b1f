"""Reading "your seats" images and print booklets the way a reviewer would: pixels and text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.tileserver.conftest import hex_rgb
from tileserver.render import style

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "maps"
RGBA = npt.NDArray[np.uint8]


def is_color(rgba: RGBA, color: str, tolerance: int = 8) -> npt.NDArray[np.bool_]:
    """Mask of pixels within `tolerance` of a "#rrggbb" colour."""
    target = np.array(hex_rgb(color), dtype=np.int16)
    return np.abs(rgba[..., :3].astype(np.int16) - target).max(axis=-1) <= tolerance


def label_text_height(rgba: RGBA, seat_xy: tuple[float, float], clear_px: float) -> int:
    """Height in pixels of the white text in the highlight-coloured label above a seat
    whose drawing reaches `clear_px` above its centre."""
    bubble = is_color(rgba, style.HIGHLIGHT, tolerance=24)
    x, y = int(seat_xy[0]), int(seat_xy[1] - clear_px)
    columns = slice(max(0, x - 200), x + 200)
    above = bubble[: max(0, y), columns]
    rows = np.flatnonzero(above.sum(axis=1) > 20)
    assert len(rows), "no label above the seat"
    # The label: the run of bubble rows nearest the seat.
    bottom = rows[-1]
    top = bottom
    while top - 1 in set(rows.tolist()):
        top -= 1
    box = rgba[top : bottom + 1, columns]
    inside = bubble[top : bottom + 1, columns]
    cols = np.flatnonzero(inside.any(axis=0))
    white = (box[..., :3].min(axis=-1) >= 200)[:, cols.min() : cols.max() + 1]
    text_rows = np.flatnonzero(white.any(axis=1))
    assert len(text_rows), "the label has no text"
    return int(text_rows[-1] - text_rows[0] + 1)


def save_artifact(name: str, body: bytes) -> Path:
    """Keep an output of the test run under artifacts/maps for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(body)
    return path


def pdf_page_text(pdf: Path, page: int) -> str:
    """The text of one page (1-based) as pdftotext extracts it."""
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
        check=True, capture_output=True, text=True).stdout


def pdf_word_heights(pdf: Path, page: int) -> dict[str, list[float]]:
    """Each word of a page with the heights (points) of its boxes, from pdftotext -bbox."""
    html = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
        check=True, capture_output=True, text=True).stdout
    words: dict[str, list[float]] = {}
    for line in html.splitlines():
        line = line.strip()
        if not line.startswith("<word "):
            continue
        attrs = dict(part.split("=", 1) for part in line[6 : line.index(">")].split())
        text = line[line.index(">") + 1 : line.rindex("</word>")]
        height = float(attrs["yMax"].strip('"')) - float(attrs["yMin"].strip('"'))
        words.setdefault(text, []).append(height)
    return words


def pdf_info(pdf: Path, page: int = 1) -> dict[str, str]:
    """pdfinfo's fields for one page (page count, page size)."""
    out = subprocess.run(["pdfinfo", "-f", str(page), "-l", str(page), str(pdf)],
                         check=True, capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def pdf_fonts_embedded(pdf: Path) -> bool:
    """True when every font of the PDF is embedded (pdffonts' "emb" column)."""
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                         text=True).stdout.splitlines()[2:]
    return bool(out) and all(line.split()[-5] == "yes" for line in out)


def pdf_page_png(pdf: Path, page: int, out_prefix: Path, dpi: int = 60) -> Path:
    """One page rendered to PNG with pdftoppm."""
    subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-png",
                    "-singlefile", str(pdf), str(out_prefix)], check=True)
    return out_prefix.with_suffix(".png")
