import {Handler, Util} from 'leaflet';
import {actOnSeat} from './SeatActions.js';
import {statusCode} from './SeatStyle.js';
import {pixelsPerUnit} from './VenueGrid.js';

// Taps and clicks on the map. Below the detail zoom a tap zooms in where it
// landed (unless it is half of a double tap) and says which section that is. At
// the detail zoom it acts on the seat within `pickRadiusPx` of the tap. A finger
// is not a mouse pointer: a touch holds a seat only when no other seat centre lies
// within `touchSpacingPx` of it (seats a finger's width apart); otherwise the map
// zooms in until they are, or, at the deepest zoom, the nearest seats are offered
// as big buttons. The full viewer picks among its loaded seats; lite mode asks
// the server which seat is there.

export const TapHandler = Handler.extend({
	// @option pickRadiusPx: Number = 22
	// Tap radius around a seat (a 44 px target).
	// @option touchSpacingPx: Number = 44
	// A touch holds only seats at least this far from their neighbours on screen.
	// @option tapDelayMs: Number = 250
	// A single tap below the detail zoom waits this long in case it is a double tap.
	// @option choices: Number = 4
	// Most seats offered as buttons when a touch is ambiguous at the deepest zoom.
	options: {
		pickRadiusPx: 22,
		touchSpacingPx: 44,
		tapDelayMs: 250,
		choices: 4
	},

	// viewer: gives grid, store and picker (full mode), api, places, info, cart, messages, sectionLabels.
	initialize(map, viewer, options) {
		Util.setOptions(this, options);
		this._map = map;
		this._viewer = viewer;
		this._timer = null;
	},

	addHooks() {
		this._map.on('click', this._onTap, this);
		this._map.on('dblclick', this._onDoubleTap, this);
	},

	removeHooks() {
		this._map.off('click', this._onTap, this);
		this._map.off('dblclick', this._onDoubleTap, this);
		clearTimeout(this._timer);
	},

	_onTap(e) {
		const map = this._map;
		const {grid, store, picker} = this._viewer;
		const zoom = map.getZoom();
		const latlng = e.latlng;
		clearTimeout(this._timer);
		if (zoom < grid.detailZoom - 0.01) {
			this._timer = setTimeout(() => this._zoomIntoSection(latlng), this.options.tapDelayMs);
			return;
		}
		const touch = isTouch(e.originalEvent);
		if (!store) {
			this._askServer(latlng, touch);
			return;
		}
		const scale = pixelsPerUnit(grid, zoom);
		const slot = picker.pick(latlng.lng, latlng.lat, scale);
		if (slot < 0) { return; }
		if (touch) {
			// Other seats closer to this one than a finger is wide: the tap could have meant them.
			const x = store.pos[slot * 3];
			const y = store.pos[slot * 3 + 1];
			const close = picker.near(x, y, scale, this.options.touchSpacingPx - 0.5);
			if (close.length > 1) {
				const other = close.find((s) => s !== slot);
				const spacing = Math.hypot(store.pos[other * 3] - x, store.pos[other * 3 + 1] - y) * scale;
				const nearTap = picker.near(latlng.lng, latlng.lat, scale, this.options.touchSpacingPx);
				this._ambiguous(latlng, spacing, nearTap.slice(0, this.options.choices).map((s) => store.index[s]));
				return;
			}
		}
		actOnSeat(this._viewer, store.index[slot], store.attr[slot * 4]);
	},

	_onDoubleTap() {
		clearTimeout(this._timer);
	},

	// Seats too close for a finger: zoom in until they are far enough apart, or offer them.
	async _ambiguous(latlng, spacingPx, seatIndices) {
		const map = this._map;
		const viewer = this._viewer;
		const want = map.getZoom() + Math.log2(this.options.touchSpacingPx / Math.max(1, spacingPx));
		const zoom = Math.ceil(want / map.options.zoomSnap) * map.options.zoomSnap;
		if (zoom <= map.getMaxZoom()) {
			map.setView(latlng, zoom);
			viewer.messages.show('Zoomed in so each seat is big enough to tap.', {kind: 'info', topic: 'zoom', quiet: true});
			return;
		}
		const details = await Promise.all(seatIndices.map((i) => viewer.info.get(i).catch(() => null)));
		const actions = [];
		seatIndices.forEach((index, k) => {
			const d = details[k];
			if (!d) { return; }
			actions.push({label: `Row ${d.row}, seat ${d.seat}`, run: () => this._choose(index)});
		});
		viewer.messages.show('Which seat did you mean?', {kind: 'warning', actions, topic: 'choose'});
	},

	_choose(seatIndex) {
		const {store, statusOf} = this._viewer;
		const status = store ? store.statusOf(seatIndex) : undefined;
		if (status !== undefined) { return actOnSeat(this._viewer, seatIndex, status); }
		return statusOf.call(this._viewer, seatIndex).then((s) => actOnSeat(this._viewer, seatIndex, s));
	},

	async _zoomIntoSection(latlng) {
		const viewer = this._viewer;
		this._map.setView(latlng, viewer.grid.detailZoom);
		const section = viewer.sectionLabels && viewer.sectionLabels.sectionAt(latlng.lng, latlng.lat);
		if (!section) { return; }
		try {
			viewer.messages.show(await viewer.sectionLabels.summary(section), {kind: 'info', topic: 'section'});
		} catch (e) { /* the zoom is answer enough */ }
	},

	async _askServer(latlng, touch) {
		const {api, grid, info, places, messages} = this._viewer;
		const scale = pixelsPerUnit(grid, this._map.getZoom());
		const pitchPx = (this._viewer.tileJson.seat_diameter || 0) * 1.15 * scale;
		if (touch && pitchPx && pitchPx < this.options.touchSpacingPx) {
			const want = this._map.getZoom() + Math.log2(this.options.touchSpacingPx / pitchPx);
			if (want <= this._map.getMaxZoom()) {
				this._map.setView(latlng, Math.ceil(want / this._map.options.zoomSnap) * this._map.options.zoomSnap);
				return;
			}
		}
		let seat;
		try {
			seat = await api.seatAt(latlng.lng, latlng.lat, this.options.pickRadiusPx / scale);
		} catch (error) {
			messages.show(error.message, {kind: 'error'});
			return;
		}
		if (!seat) { return; }
		info.put(seat.index, seat);
		if (typeof seat.x === 'number') { places.remember(seat.index, [seat.index, seat.x, seat.y, seat.radius]); }
		actOnSeat(this._viewer, seat.index, statusCode(seat.status));
	}
});

// Whether a click came from a finger (pointer events say so; touch-only browsers fire touch events).
function isTouch(ev) {
	if (!ev) { return false; }
	if (ev.pointerType) { return ev.pointerType === 'touch'; }
	return !!(ev.sourceCapabilities && ev.sourceCapabilities.firesTouchEvents);
}
