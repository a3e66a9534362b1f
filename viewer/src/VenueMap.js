import {CRS, Map as LeafletMap, Transformation, control, extend, latLngBounds} from 'leaflet';
import {LiveTileLayer} from './LiveTileLayer.js';

// The Leaflet map of a venue, in venue units, and its raster tiles.

// The venue's extent as Leaflet bounds (lat = y, lng = x).
export function venueBounds(grid) {
	return latLngBounds([0, 0], [grid.height, grid.width]);
}

// A map in the container whose coordinates are venue units: zoom z draws them at
// scale0 * 2^z px per unit, y down. It has a zoom control and is announced as a
// seat map to screen readers; panning stops a quarter of the venue past its edges.
// It zooms in no further than the pyramid's deepest zoom (tiles are never
// enlarged; that zoom puts seats a finger apart) and only by whole zooms, where
// every tile is drawn at its own size (a fractional zoom scales tiles, which
// leaves hairline seams and mixes levels of detail).
export function createVenueMap(container, grid) {
	const crs = extend({}, CRS.Simple, {transformation: new Transformation(grid.scale0, 0, grid.scale0, 0)});
	const pad = Math.max(grid.width, grid.height) * 0.25;
	const map = new LeafletMap(container, {
		crs,
		minZoom: grid.minZoom - 2,
		maxZoom: grid.maxZoom,
		zoomSnap: 1,
		zoomDelta: 1,
		wheelPxPerZoomLevel: 90,
		keyboard: false,
		attributionControl: false,
		zoomControl: false,
		maxBounds: latLngBounds([-pad, -pad], [grid.height + pad, grid.width + pad]),
		maxBoundsViscosity: 0.9,
		bounceAtZoomLimits: false
	});
	control.zoom({position: 'topright', zoomInTitle: 'Zoom in (+)', zoomOutTitle: 'Zoom out (-)'}).addTo(map);
	container.setAttribute('tabindex', '0');
	container.setAttribute('role', 'application');
	container.setAttribute('aria-roledescription', 'seat map');
	container.setAttribute('aria-label', 'Seat map. Arrow keys move between seats, Enter holds the seat, ' +
		'Page Up and Page Down change section, plus and minus zoom, Shift with arrows pans.');
	return map;
}

// The event's tiles from a URL template, shrunk below the pyramid's first zoom by two
// levels (whole-venue views on small screens), never enlarged past its deepest, and
// kept inside the venue.
export function createVenueTiles(urlTemplate, grid) {
	return new LiveTileLayer(urlTemplate, {
		tileSize: grid.tileSize,
		minNativeZoom: grid.minZoom,
		maxNativeZoom: grid.maxZoom,
		minZoom: grid.minZoom - 2,
		maxZoom: grid.maxZoom,
		bounds: venueBounds(grid),
		pyramid: {width: grid.width, height: grid.height, scale0: grid.scale0, tileSize: grid.tileSize},
		noWrap: true,
		keepBuffer: 1,
		className: 'seatmap-tiles'
	});
}
