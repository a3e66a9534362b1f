import {Handler, Util} from 'leaflet';
import {FLAG, STATUS, publicStatus, statusCode, statusName} from './SeatStyle.js';
import {pixelsPerUnit} from './VenueGrid.js';

// Taps and clicks on the map. Below the detail zoom a tap zooms in where it
// landed, unless it turns out to be half of a double tap. At the detail zoom it
// acts on the seat within `pickRadiusPx` of the tap: holds it, releases it when it
// is the buyer's, or says why not. The full viewer picks among its loaded seats;
// lite mode asks the server which seat is there.

export const TapHandler = Handler.extend({
	// @option pickRadiusPx: Number = 22
	// Tap radius around a seat (a 44 px target).
	// @option tapDelayMs: Number = 250
	// A single tap below the detail zoom waits this long in case it is a double tap.
	options: {
		pickRadiusPx: 22,
		tapDelayMs: 250
	},

	// viewer: gives grid, store and picker (full mode), api, places, info, cart and announcer.
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
			this._timer = setTimeout(() => map.setView(latlng, grid.detailZoom), this.options.tapDelayMs);
			return;
		}
		if (store) {
			const slot = picker.pick(latlng.lng, latlng.lat, pixelsPerUnit(grid, zoom));
			if (slot < 0) { return; }
			this._actOn(store.index[slot], store.attr[slot * 4], store.attr[slot * 4 + 2]);
		} else {
			this._askServer(latlng);
		}
	},

	_onDoubleTap() {
		clearTimeout(this._timer);
	},

	async _askServer(latlng) {
		const {api, grid, info, cart, places} = this._viewer;
		const r = this.options.pickRadiusPx / pixelsPerUnit(grid, this._map.getZoom());
		let seat;
		try {
			seat = await api.seatAt(latlng.lng, latlng.lat, r);
		} catch (error) {
			cart.showError(error.message);
			return;
		}
		if (!seat) { return; }
		const d = info.put(seat.index, seat);
		if (typeof seat.x === 'number') { places.remember(seat.index, [seat.index, seat.x, seat.y, seat.radius]); }
		const flags = (d.accessible ? FLAG.ACCESSIBLE : 0) | (d.seat_type === 1 || d.seat_type === 'wheelchair' ? FLAG.WHEELCHAIR : 0) |
			(d.seat_type === 2 || d.seat_type === 'companion' ? FLAG.COMPANION : 0);
		this._actOn(seat.index, statusCode(seat.status), flags);
	},

	_actOn(seatIndex, status, flags) {
		const {cart, info, announcer} = this._viewer;
		if (cart.has(seatIndex)) {
			cart.release(seatIndex);
		} else if (publicStatus(status) === STATUS.AVAILABLE) {
			cart.hold(seatIndex, (flags & (FLAG.ACCESSIBLE | FLAG.WHEELCHAIR | FLAG.COMPANION)) !== 0);
		} else {
			info.get(seatIndex).then((d) => {
				announcer.announce(`${info.place(d)} is ${statusName(publicStatus(status), false)}.`);
			}, () => {});
		}
	}
});
