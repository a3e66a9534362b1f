// The tile pyramid's geometry, read from the event's TileJSON. Venue units map to
// pixels as scale0 * 2^zoom; lat is y (growing downwards) and lng is x.

// {minZoom, maxZoom, seatZoom, detailZoom, tileSize, width, height, scale0}: asks the
// API for the venue's size when the TileJSON does not give it.
export async function loadVenueGrid(tileJson, api) {
	const tj = tileJson;
	const lod = tj.lod_zooms || {};
	const size = tj.venue_size || [];
	const grid = {
		minZoom: tj.minzoom || 0,
		maxZoom: tj.maxzoom,
		seatZoom: firstNumber(lod.seat, tj.seat_lod_zoom, tj.maxzoom),
		detailZoom: firstNumber(lod.detail, tj.detail_lod_zoom, tj.maxzoom),
		tileSize: tj.tile_size || 256,
		width: firstNumber(size[0], tj.venue_width),
		height: firstNumber(size[1], tj.venue_height)
	};
	if (!(grid.width > 0 && grid.height > 0)) {
		const data = await api.sections();
		grid.width = data.width;
		grid.height = data.height;
	}
	grid.scale0 = firstNumber(tj.venue_scale0) || grid.tileSize / Math.max(grid.width, grid.height);
	return grid;
}

// CSS pixels per venue unit at a zoom.
export function pixelsPerUnit(grid, zoom) {
	return grid.scale0 * Math.pow(2, zoom);
}

function firstNumber(...values) {
	for (const v of values) { if (typeof v === 'number' && Number.isFinite(v)) { return v; } }
	return undefined;
}
