"""Static maps (PNG/WebP of any size, box or section) and print output (PDF/SVG)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest

from seatmap.context import ServiceContext
from seatmap.status import SeatStatus
from tests.tileserver.conftest import EventFactory, Hall, decode, hex_rgb, set_status_and_wait
from tileserver.render import style


def pixel_of(hall: Hall, seat: int, box: tuple[float, float, float, float],
             width: int, height: int) -> tuple[int, int]:
    """Where a seat's centre lands in a static map of `box` fitted into width x height."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    s = min(width / bw, height / bh)
    ox, oy = (width - bw * s) / 2, (height - bh * s) / 2
    x = (float(hall.venue.seats.x[seat]) - box[0]) * s + ox
    y = (float(hall.venue.seats.y[seat]) - box[1]) * s + oy
    return int(x), int(y)


async def test_live_map_of_a_box_marks_highlighted_seats(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    venue = hall.venue
    mine = [venue.full_label(300), venue.seats.external_ids[301]]
    whole = f"0,0,{venue.width:g},{venue.height:g}"
    url = (f"/events/{event_id}/map.png?width=900&height=300&bbox={whole}"
           f"&highlight={','.join(mine)}")
    resp = await client.get(url)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "image/png"
    rgba = decode(resp.content)
    assert rgba.shape == (300, 900, 4)
    box = (0.0, 0.0, venue.width, venue.height)
    for seat in (300, 301):
        x, y = pixel_of(hall, seat, box, 900, 300)
        assert tuple(int(v) for v in rgba[y, x, :3]) == hex_rgb(style.HIGHLIGHT)
    x, y = pixel_of(hall, 310, box, 900, 300)
    assert tuple(int(v) for v in rgba[y, x, :3]) != hex_rgb(style.HIGHLIGHT)


async def test_static_map_of_a_section_at_2x_shows_live_statuses(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    venue = hall.venue
    seat = int(np.flatnonzero(venue.seats.section == 2)[45])
    await set_status_and_wait(ctx, event_id, [seat], SeatStatus.SOLD)
    section = venue.sections[2].name
    resp = await client.get(
        f"/events/{event_id}/map.webp?width=400&height=200&scale=2&section={section}")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "image/webp"
    rgba = decode(resp.content)
    assert rgba.shape == (400, 800, 4)
    xs = [p[0] for p in venue.sections[2].outline]
    ys = [p[1] for p in venue.sections[2].outline]
    mx, my = (max(xs) - min(xs)) * 0.06, (max(ys) - min(ys)) * 0.06
    box = (min(xs) - mx, min(ys) - my, max(xs) + mx, max(ys) + my)
    x, y = pixel_of(hall, seat, box, 800, 400)
    got = rgba[y, x, :3].astype(int)
    assert np.abs(got - hex_rgb(style.SOLD)).max() < 40


@pytest.mark.parametrize("query", [
    "width=5000&height=100",
    "width=0&height=100",
    "width=abc",
    "scale=3",
    "bbox=1,2,3",
    "format=gif",
    "format=webp",
    "width=%C2%B2",
])
async def test_static_map_rejects_bad_parameters(
    client: httpx.AsyncClient, new_event: EventFactory, query: str,
) -> None:
    event_id = await new_event()
    resp = await client.get(f"/events/{event_id}/map.png?{query}")
    assert resp.status_code == 400
    assert resp.json()["error"] == "bad_request"


async def test_static_map_of_a_box_turned_inside_out_is_422(
    client: httpx.AsyncClient, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    resp = await client.get(f"/events/{event_id}/map.png?bbox=5,5,1,1")
    assert resp.status_code == 422 and resp.json()["field"] == "bbox"


async def test_static_map_of_unknown_section_is_404_and_unknown_seat_422(
    client: httpx.AsyncClient, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    assert (await client.get(f"/events/{event_id}/map.png?section=nope")).status_code == 404
    assert (await client.get(f"/events/{event_id}/map.png?highlight=nope")).status_code == 422


async def test_static_map_bbox_and_304(client: httpx.AsyncClient, new_event: EventFactory) -> None:
    event_id = await new_event()
    url = f"/events/{event_id}/map.png?width=200&height=100&bbox=0,0,800,400"
    first = await client.get(url)
    assert first.status_code == 200
    assert decode(first.content).shape == (100, 200, 4)
    again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "map.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


async def test_pdf_has_title_legend_and_seat_labels_as_text(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory, tmp_path: Path,
) -> None:
    event_id = await new_event()
    section = hall.venue.sections[0].name
    resp = await client.get(f"/events/{event_id}/map.pdf?section={section}&paper=a4")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    assert pdf_pages(resp.content, tmp_path) == 2  # the overview, then the section
    text = pdf_text(resp.content, tmp_path)
    assert "Tile Night" in text
    assert "held" in text and "sold" in text and "accessible" in text
    for category in hall.venue.categories:
        assert category.name in text
    words = set(text.split())
    assert {str(n) for n in range(1, 21)} <= words  # seat numbers
    assert {"A", "B", "J"} <= words  # row letters
    assert section in words


async def test_whole_venue_pdf_on_letter_portrait_keeps_every_label(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory, tmp_path: Path,
) -> None:
    event_id = await new_event()
    resp = await client.get(
        f"/events/{event_id}/map.pdf?paper=letter&orientation=portrait&title=My%20Show")
    assert resp.status_code == 200
    assert pdf_pages(resp.content, tmp_path) >= 2
    text = pdf_text(resp.content, tmp_path)
    assert "My Show" in text
    assert all(s.name in text for s in hall.venue.sections)
    # Every seat number is drawn as text: 120 seats per section, numbers 1..20.
    assert sum(text.split().count(str(n)) for n in range(1, 21)) >= hall.venue.seat_count


async def test_svg_is_vector_with_text(client: httpx.AsyncClient, hall: Hall,
                                       new_event: EventFactory) -> None:
    event_id = await new_event()
    resp = await client.get(f"/events/{event_id}/map.svg?orientation=portrait")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("image/svg+xml")
    svg = resp.text
    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    assert "<text" in svg and ("<circle" in svg or "<path" in svg)
    assert hall.venue.sections[0].name in svg


@pytest.mark.parametrize("query", ["paper=a5", "orientation=diagonal", "bbox=1,1", "sections="])
async def test_print_rejects_bad_parameters(client: httpx.AsyncClient, new_event: EventFactory,
                                            query: str) -> None:
    event_id = await new_event()
    resp = await client.get(f"/events/{event_id}/map.pdf?{query}")
    assert resp.status_code == 400
