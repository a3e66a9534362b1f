import {Class} from 'leaflet';

// Where seats are, as [index, x, y, radius] in venue units, for marking the buyer's
// seats over the tiles: from seats already found by a tap, from the seat store when
// it has them all loaded, else from the server.

export const SeatPlaces = Class.extend({
	// url: the event's places.json; store: the full viewer's SeatStore, or null.
	initialize(url, store) {
		this._url = url;
		this._store = store || null;
		this._known = new Map();
	},

	// Keep a place the viewer learnt some other way.
	remember(seatIndex, place) {
		this._known.set(seatIndex, place);
	},

	// A promise of the places of these seats; seats the server does not know are left out.
	async lookup(indices) {
		if (indices.every((i) => this._known.has(i))) { return indices.map((i) => this._known.get(i)); }
		const store = this._store;
		if (store) {
			const fromStore = indices.map((i) => {
				const s = store.slotOfSeat(i);
				return s < 0 ? null : [i, store.pos[s * 3], store.pos[s * 3 + 1], store.pos[s * 3 + 2]];
			});
			if (fromStore.every(Boolean)) { return fromStore; }
		}
		const response = await fetch(`${this._url}?seats=${indices.join(',')}`);
		return response.ok ? response.json() : [];
	}
});
