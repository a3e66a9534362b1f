import {Evented, Util} from 'leaflet';
import {pixelsPerUnit} from './VenueGrid.js';

// The full viewer's seats at the detail zoom: a seat store, a picker over it and
// a seat layer in a pane of its own above the tiles. After every move at the
// detail zoom the store fetches the seats in view. The first draw after reaching
// the detail zoom is timed into `metrics` (detailSince, seatsDrawnMs).
//
// Events: `seatsdrawn` {ms, seats}: seats were first drawn, ms after reaching the detail zoom.

export const DetailSeats = Evented.extend({
	// @option pickRadiusPx: Number = 22
	// Tap radius around a seat.
	// @option categories: Array = []
	// The event's price categories, for the seat layer's colours.
	options: {
		pickRadiusPx: 22,
		categories: []
	},

	// parts: {Store, Layer, Picker} classes; metrics: an object the timings are written to.
	initialize(map, api, grid, parts, metrics, options) {
		Util.setOptions(this, options);
		const {Store, Layer, Picker} = parts;
		this._map = map;
		this._grid = grid;
		this._metrics = metrics;
		map.createPane('seatPane').style.zIndex = 450;
		this.store = new Store(api, grid);
		this.picker = new Picker(this.store, {radiusPx: this.options.pickRadiusPx});
		this._wasDetail = false;
		// Registered before the layer's own handlers, so the first draw is timed from here.
		map.on('zoomend', this._onZoomEnd, this);
		this.layer = new Layer(this.store, {pane: 'seatPane', minZoom: grid.detailZoom, categories: this.options.categories});
		this.layer.addTo(map);
		if (map.getZoom() >= grid.detailZoom) {
			this._wasDetail = true;
			metrics.detailSince = performance.now();
		}
		this.layer.on('drawn', this._onDrawn, this);
		map.on('moveend zoomend', this.loadInView, this);
		this.loadInView();
	},

	// Fetch the seats in view, when at the detail zoom.
	loadInView() {
		const map = this._map;
		if (map.getZoom() < this._grid.detailZoom) { return; }
		// lat is y, growing downwards: "south" is the top edge of the view.
		const b = map.getBounds();
		this.store.ensureBox([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], pixelsPerUnit(this._grid, map.getZoom()));
	},

	// Where a loaded seat is on screen (container pixels), or null.
	containerPointOf(seatIndex) {
		const slot = this.store.slotOfSeat(seatIndex);
		if (slot < 0) { return null; }
		const p = this._map.latLngToContainerPoint([this.store.pos[slot * 3 + 1], this.store.pos[slot * 3]]);
		return {x: p.x, y: p.y};
	},

	_onZoomEnd() {
		const detail = this._map.getZoom() >= this._grid.detailZoom;
		if (detail && !this._wasDetail) {
			this._metrics.detailSince = performance.now();
			this._metrics.seatsDrawnMs = undefined;
		}
		this._wasDetail = detail;
	},

	_onDrawn(e) {
		const m = this._metrics;
		if (m.detailSince !== undefined && m.seatsDrawnMs === undefined) {
			m.seatsDrawnMs = performance.now();
			this.fire('seatsdrawn', {ms: m.seatsDrawnMs - m.detailSince, seats: e.seats});
		}
	}
});
