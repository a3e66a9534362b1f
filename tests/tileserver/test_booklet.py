"""The print booklet (map.pdf) and the e-mail image at the 100,000-seat stadium's scale."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import numpy as np
import pytest

from seatmap.generator import generate_venue
from seatmap.model import Venue
from tests.tileserver.conftest import EventFactory, Hall, decode
from tests.tileserver.imagecheck import (
    label_text_height,
    pdf_fonts_embedded,
    pdf_info,
    pdf_page_png,
    pdf_page_text,
    pdf_word_heights,
    save_artifact,
)
from tileserver.booklet import NUMBER_PT, plan, render_booklet
from tileserver.livestate import derive
from tileserver.params import MapParams, PrintParams
from tileserver.render.scene import Scene
from tileserver.yourseats import layout, render_your_seats, seat_pixel

MAX_BOOKLET_BYTES = 5 * 1024 * 1024
PAPERS = {"a4": (595.28, 841.89), "letter": (612.0, 792.0), "a3": (841.89, 1190.55)}


async def get_pdf(client: httpx.AsyncClient, event_id: int, tmp_path: Path, **query: str) -> Path:
    resp = await client.get(f"/events/{event_id}/map.pdf", params=query)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    path = tmp_path / f"booklet-{len(list(tmp_path.iterdir()))}.pdf"
    path.write_bytes(resp.content)
    return path


def section_page_words(pdf: Path, page: int) -> list[str]:
    return pdf_page_text(pdf, page).split()


async def test_booklet_has_an_overview_then_every_section_with_every_seat_number(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory, tmp_path: Path,
) -> None:
    event_id = await new_event()
    venue = hall.venue
    pdf = await get_pdf(client, event_id, tmp_path, paper="a4", orientation="portrait")
    pages = int(pdf_info(pdf)["Pages"])
    assert pages >= 2
    overview = pdf_page_text(pdf, 1)
    assert "Tile Night" in overview
    assert all(s.name in overview for s in venue.sections)
    assert "held" in overview and "sold" in overview  # the legend
    seen: set[str] = set()
    for page in range(2, pages + 1):
        words = section_page_words(pdf, page)
        for section in venue.sections:
            if f"Section {section.name}" in pdf_page_text(pdf, page):
                seen.add(section.name)
                # Every seat of the section is on its page by number, every row by letter.
                numbers = [venue.seats.labels[i]
                           for i in np.flatnonzero(venue.seats.section == section.index)]
                for label in set(numbers):
                    assert words.count(label) >= numbers.count(label), (section.name, label)
                rows = {r.label for r in venue.rows if r.section_index == section.index}
                assert rows <= set(words)
    assert seen == {s.name for s in venue.sections}
    assert pdf_fonts_embedded(pdf)


async def test_sections_select_the_pages(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory, tmp_path: Path,
) -> None:
    event_id = await new_event()
    names = [hall.venue.sections[1].name, hall.venue.sections[4].name]
    pdf = await get_pdf(client, event_id, tmp_path, sections=",".join(names))
    pages = int(pdf_info(pdf)["Pages"])
    headers = " ".join(pdf_page_text(pdf, p).split("\n")[0] for p in range(2, pages + 1))
    assert all(name in headers for name in names)
    others = {s.name for s in hall.venue.sections} - set(names)
    assert not any(f"Section {name}" in headers for name in others)


@pytest.mark.parametrize("paper", sorted(PAPERS))
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
async def test_every_paper_and_orientation(
    client: httpx.AsyncClient, new_event: EventFactory, tmp_path: Path, paper: str,
    orientation: str,
) -> None:
    event_id = await new_event()
    pdf = await get_pdf(client, event_id, tmp_path, paper=paper, orientation=orientation)
    w, h = PAPERS[paper]
    if orientation == "landscape":
        w, h = h, w
    for page in (1, int(pdf_info(pdf)["Pages"])):
        found = pdf_info(pdf, page)
        key = next(k for k in found if k.endswith("size"))
        width, _, height = found[key].split()[:3]
        assert abs(float(width) - w) < 1 and abs(float(height) - h) < 1, found[key]


async def test_a_box_prints_as_one_page(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory, tmp_path: Path,
) -> None:
    event_id = await new_event()
    pdf = await get_pdf(client, event_id, tmp_path, bbox="0,0,800,400")
    assert pdf_info(pdf)["Pages"] == "1"


@pytest.fixture(scope="module")
def stadium() -> Iterator[tuple[Venue, Scene, Any]]:
    """The generated 100,000-seat stadium, its scene and an event view of it."""
    venue = generate_venue("stadium", 100_000, seed=1)
    event = SimpleNamespace(title="Stadium Night", starts_at=datetime.datetime(2027, 6, 5, 20))
    yield venue, Scene(venue), SimpleNamespace(event=event, venue=venue)


@pytest.mark.slow
def test_stadium_booklet_is_small_legible_and_searchable(
    stadium: tuple[Venue, Scene, Any], tmp_path: Path,
) -> None:
    venue, scene, view = stadium
    live = derive(venue, np.zeros(venue.seat_count, dtype=np.uint8), 1)
    params = PrintParams("a4", False, None, None, frozenset(), None)
    body = render_booklet(scene, view, live, params)
    assert len(body) < MAX_BOOKLET_BYTES, f"{len(body) / 1e6:.1f} MB"
    pdf = save_artifact("stadium-booklet.pdf", body)
    assert pdf_fonts_embedded(pdf)
    pages = plan(scene, params)
    assert int(pdf_info(pdf)["Pages"]) == len(pages) + 1
    # A sampled section: every seat label is on its page, and seat numbers are >= 6 pt.
    number, page = next((n, p) for n, p in enumerate(pages, start=2)
                        if venue.sections[p.sections[0]].name.endswith("17"))
    section = page.sections[0]
    words = pdf_page_text(pdf, number).split()
    labels = [venue.seats.labels[i] for i in np.flatnonzero(venue.seats.section == section)]
    for label in set(labels):
        assert words.count(label) >= labels.count(label), label
    heights = pdf_word_heights(pdf, number)
    numeric = [h for word, hs in heights.items() if word.isdigit() for h in hs]
    assert numeric and min(numeric) >= 6.0, min(numeric)
    assert NUMBER_PT >= 6.0
    for n in (1, 2):
        pdf_page_png(pdf, n, pdf.parent / f"stadium-booklet-page-{n}")


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1, 2])
def test_stadium_your_seats_image_has_legible_labels(
    stadium: tuple[Venue, Scene, Any], scale: int,
) -> None:
    venue, scene, view = stadium
    row = venue.rows[len(venue.rows) // 3]
    mine = frozenset(row.seat_indices[6:8])
    params = MapParams(600, 400, scale, "png", None, None, mine)
    body = render_your_seats(scene, view, params)
    save_artifact(f"stadium-your-seats@{scale}x.png", body)
    rgba = decode(body)
    seat = min(mine)
    _, _, (px_per_unit, _, _) = layout(scene, params)
    drawn = max(float(venue.seats.radius[seat]) * px_per_unit, 4.0 * scale) + 3 * scale
    # Two seats: "Row X · 7, 8" — the comma reaches below the digits by a pixel or two.
    assert label_text_height(rgba, seat_pixel(scene, params, seat), drawn) >= 10 * scale
