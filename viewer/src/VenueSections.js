import {Class} from 'leaflet';

// The venue's sections (names and bounds) and, loaded one section at a time,
// their rows in seat order: what the section jump list, keyboard navigation and
// the list view need. Seats of a row are [index, label, x, y, radius, category, flags].

export const VenueSections = Class.extend({
	initialize(api) {
		this._api = api;
		this._list = null;
		this._rows = new Map();
		this._sectionOfSeat = new Map();
	},

	// [{index, name, bounds: [x0, y0, x1, y1], seat_count}]
	async list() {
		if (!this._list) {
			this._list = this._api.sections().then((data) => data.sections);
			this._list.catch(() => { this._list = null; });
		}
		return this._list;
	},

	// {index, name, rows: [{label, seats: [...]}]}, with each row's screen direction noted.
	rows(sectionIndex) {
		let found = this._rows.get(sectionIndex);
		if (!found) {
			found = this._api.sectionRows(sectionIndex).then((data) => {
				data.rows.forEach((row, r) => {
					row.index = r;
					row.seats.forEach((seat, k) => this._sectionOfSeat.set(seat[0], [sectionIndex, r, k]));
				});
				return data;
			});
			found.catch(() => this._rows.delete(sectionIndex));
			this._rows.set(sectionIndex, found);
		}
		return found;
	},

	// [section, row, position] of a seat whose section was loaded, or undefined.
	whereIs(seatIndex) {
		return this._sectionOfSeat.get(seatIndex);
	},

	// The section whose bounds contain (x, y), else the one with the nearest bounds.
	async nearest(x, y) {
		const sections = await this.list();
		let best = null;
		let bestD = Infinity;
		for (const s of sections) {
			if (!s.bounds.length || !s.seat_count) { continue; }
			const [x0, y0, x1, y1] = s.bounds;
			const dx = Math.max(x0 - x, 0, x - x1);
			const dy = Math.max(y0 - y, 0, y - y1);
			const d = dx * dx + dy * dy + 1e-6 * ((x - (x0 + x1) / 2) ** 2 + (y - (y0 + y1) / 2) ** 2);
			if (d < bestD) {
				bestD = d;
				best = s;
			}
		}
		return best;
	}
});
