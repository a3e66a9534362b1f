"""The "your seats" image of a confirmation e-mail, and its words (map.json)."""

from __future__ import annotations

import httpx
import numpy as np

from seatmap.context import ServiceContext
from seatmap.status import SeatStatus
from tests.tileserver.conftest import EventFactory, Hall, decode, set_status_and_wait
from tests.tileserver.imagecheck import is_color, label_text_height
from tileserver.params import MapParams
from tileserver.render import style
from tileserver.render.scene import Scene
from tileserver.yourseats import NEUTRAL_SEAT, layout, seat_pixel


def two_seats(hall: Hall) -> list[int]:
    """Two neighbours in the middle of row 4 of section 2."""
    row = [r for r in hall.venue.rows if r.section_index == 2][4]
    return list(row.seat_indices[8:10])


async def get_image(client: httpx.AsyncClient, event_id: int, seats: list[str],
                    scale: int = 1) -> np.ndarray:
    resp = await client.get(f"/events/{event_id}/map.png", params={
        "highlight": ",".join(seats), "width": 600, "height": 400, "scale": scale})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    return decode(resp.content)


async def test_your_seats_are_marked_in_a_frame_of_their_section(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    venue = hall.venue
    mine = two_seats(hall)
    rgba = await get_image(client, event_id, [venue.full_label(s) for s in mine])
    assert rgba.shape == (400, 600, 4)
    params = MapParams(600, 400, 1, "png", None, None, frozenset(mine))
    scene = Scene(venue)
    for seat in mine:
        x, y = seat_pixel(scene, params, seat)
        assert is_color(rgba, style.HIGHLIGHT)[int(y), int(x)]
    # Every seat of the section is in the frame, drawn neutral.
    others = [s for s in np.flatnonzero(venue.seats.section == 2).tolist() if s not in mine]
    for seat in (others[0], others[-1]):
        x, y = seat_pixel(scene, params, seat)
        assert 0 <= x < 600 and 34 <= y < 374, (x, y)
        assert is_color(rgba, NEUTRAL_SEAT)[int(y), int(x)]


async def test_other_buyers_holds_do_not_show(
    client: httpx.AsyncClient, ctx: ServiceContext, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    venue = hall.venue
    mine = two_seats(hall)
    neighbour = mine[-1] + 1
    await set_status_and_wait(ctx, event_id, [neighbour], SeatStatus.HELD)
    rgba = await get_image(client, event_id, [venue.seats.external_ids[s] for s in mine])
    params = MapParams(600, 400, 1, "png", None, None, frozenset(mine))
    x, y = seat_pixel(Scene(venue), params, neighbour)
    assert is_color(rgba, NEUTRAL_SEAT)[int(y), int(x)]


async def test_label_digits_are_ten_pixels_high_at_1x_and_twenty_at_2x(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    venue = hall.venue
    seat = two_seats(hall)[0]
    for scale in (1, 2):
        rgba = await get_image(client, event_id, [venue.full_label(seat)], scale)
        params = MapParams(600, 400, scale, "png", None, None, frozenset([seat]))
        scene = Scene(venue)
        xy = seat_pixel(scene, params, seat)
        _, _, (px_per_unit, _, _) = layout(scene, params)
        drawn = max(float(venue.seats.radius[seat]) * px_per_unit, 4.0 * scale) + 3 * scale
        # "Row E · 9": capitals and digits only, so the text's height is the digits'.
        assert label_text_height(rgba, xy, drawn) >= 10 * scale


async def test_title_legend_and_locator_inset_are_drawn(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    venue = hall.venue
    mine = two_seats(hall)
    rgba = await get_image(client, event_id, [venue.full_label(s) for s in mine])
    dark = rgba[..., :3].max(axis=-1) < 80
    assert dark[:34].sum() > 100, "no title in the top band"
    highlight = is_color(rgba, style.HIGHLIGHT, tolerance=24)
    assert highlight[374:, :120].sum() > 20, "no legend swatch in the bottom band"
    # The inset marks the section in the highlight colour, away from the seats' label.
    x, y = seat_pixel(Scene(venue), MapParams(600, 400, 1, "png", None, None,
                                              frozenset(mine)), mine[0])
    far_x = slice(0, 300) if x > 300 else slice(300, 600)
    far_y = slice(34, 204) if y > 204 else slice(204, 374)
    assert highlight[far_y, far_x].sum() > 20, "no locator inset with the section marked"


async def test_map_json_gives_the_alt_text(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    venue = hall.venue
    mine = two_seats(hall)
    names = ",".join(venue.full_label(s) for s in reversed(mine))
    resp = await client.get(f"/events/{event_id}/map.json", params={"highlight": names})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    section = venue.sections[2].name
    row = venue.rows[int(venue.seats.row[mine[0]])].label
    first, last = (venue.seats.labels[s] for s in mine)
    assert body["alt"].startswith(f"Section {section}, row {row}, seats {first}-{last}, ")
    assert any(w in body["alt"] for w in ("near the", "midway from the", "far from the"))
    assert [s["label"] for s in body["seats"]] == [venue.full_label(s) for s in mine]
    image = await client.get(f"/events/{event_id}/{body['image']}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


async def test_unknown_seats_are_422_naming_them(
    client: httpx.AsyncClient, hall: Hall, new_event: EventFactory,
) -> None:
    event_id = await new_event()
    real = hall.venue.full_label(0)
    for path in ("map.png", "map.json", "map.webp"):
        resp = await client.get(f"/events/{event_id}/{path}",
                                params={"highlight": f"{real},Z-Z-99,nope"})
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert body["field"] == "highlight"
        assert body["unknown"] == ["Z-Z-99", "nope"]
