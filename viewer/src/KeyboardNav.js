import {DomEvent, Handler, Util, circle} from 'leaflet';
import {actOnSeat} from './SeatActions.js';
import {COLORS} from './SeatStyle.js';

// Keyboard control of the map, for people who do not use a mouse or touch:
//   arrow keys      move between seats of a row (left/right) and rows of a section (up/down)
//   Page Up/Down    previous / next section
//   Home / End      first / last seat of the row
//   Enter or Space  hold the seat under the cursor (or release it if it is yours)
//   + / -           zoom in / out;  Shift + arrows pan the map
//   Escape          leave the seats
// The seat under the cursor gets a ring on the map and is read out by the live region.
//
// Events (on the map): `seatfocus` {index, details}.

export const KeyboardNav = Handler.extend({
	// @option panStepPx: Number = 100
	// How far Shift + arrow pans.
	// @option edgePaddingPx: Number = 80
	// The cursor is kept at least this far inside the map's edges.
	options: {
		panStepPx: 100,
		edgePaddingPx: 80
	},

	initialize(map, viewer, options) {
		Util.setOptions(this, options);
		this._map = map;
		this._viewer = viewer;
		this._cursor = null; // {section, row, pos, data}
		this._ring = null;
	},

	addHooks() {
		DomEvent.on(this._map.getContainer(), 'keydown', this._onKeyDown, this);
	},

	removeHooks() {
		DomEvent.off(this._map.getContainer(), 'keydown', this._onKeyDown, this);
		this._clear();
	},

	// The seat index under the cursor, or -1.
	current() {
		return this._cursor ? this._seat()[0] : -1;
	},

	// Put the cursor on a seat (the list view uses this too).
	async focusSeat(seatIndex) {
		const where = this._viewer.sections.whereIs(seatIndex);
		if (!where) { return; }
		const data = await this._viewer.sections.rows(where[0]);
		this._cursor = {section: where[0], row: where[1], pos: where[2], data};
		this._show();
	},

	_onKeyDown(e) {
		if (e.altKey || e.ctrlKey || e.metaKey) { return; }
		const target = e.target;
		if (target !== this._map.getContainer()) { return; }
		const map = this._map;
		const step = this.options.panStepPx;
		const arrows = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
		let handled = true;
		if (arrows[e.key] && e.shiftKey) {
			map.panBy([arrows[e.key][0] * step, arrows[e.key][1] * step]);
		} else if (arrows[e.key]) {
			this._move(arrows[e.key][0], arrows[e.key][1]);
		} else if (e.key === '+' || e.key === '=') {
			map.zoomIn();
		} else if (e.key === '-' || e.key === '_') {
			map.zoomOut();
		} else if (e.key === 'PageDown' || e.key === 'PageUp') {
			this._moveSection(e.key === 'PageDown' ? 1 : -1);
		} else if (e.key === 'Home' || e.key === 'End') {
			this._rowEnd(e.key === 'End');
		} else if (e.key === 'Enter' || e.key === ' ') {
			this._activate();
		} else if (e.key === 'Escape') {
			handled = !!this._cursor;
			this._clear();
		} else {
			handled = false;
		}
		if (handled) { DomEvent.preventDefault(e); }
	},

	async _move(dx, dy) {
		if (!this._cursor) {
			await this._start();
			return;
		}
		const c = this._cursor;
		const rows = c.data.rows;
		if (dx) {
			const row = rows[c.row];
			const dir = rowDirection(row) * dx;
			const next = c.pos + dir;
			if (next < 0 || next >= row.seats.length) {
				this._viewer.announcer.announce(`End of row ${row.label}.`);
				return;
			}
			c.pos = next;
		} else {
			const dir = sectionDirection(rows) * dy;
			const nextRow = c.row + dir;
			if (nextRow < 0 || nextRow >= rows.length) {
				this._viewer.announcer.announce(`No more rows in section ${c.data.name}. Page Up and Page Down change section.`);
				return;
			}
			const from = rows[c.row].seats[c.pos];
			c.pos = nearestInRow(rows[nextRow], from[2], from[3]);
			c.row = nextRow;
		}
		this._show();
	},

	// The first arrow key lands on the seat nearest the middle of the map.
	async _start() {
		const centre = this._map.getCenter();
		const section = await this._viewer.sections.nearest(centre.lng, centre.lat);
		if (!section) { return; }
		const data = await this._viewer.sections.rows(section.index);
		let best = [0, 0];
		let bestD = Infinity;
		data.rows.forEach((row, r) => row.seats.forEach((s, k) => {
			const d = (s[2] - centre.lng) ** 2 + (s[3] - centre.lat) ** 2;
			if (d < bestD) {
				bestD = d;
				best = [r, k];
			}
		}));
		if (!data.rows.length) { return; }
		this._cursor = {section: section.index, row: best[0], pos: best[1], data};
		this._show();
	},

	async _moveSection(step) {
		const sections = (await this._viewer.sections.list()).filter((s) => s.seat_count > 0);
		if (!sections.length) { return; }
		let at = this._cursor ? sections.findIndex((s) => s.index === this._cursor.section) : -1;
		at = (at + step + sections.length) % sections.length;
		const data = await this._viewer.sections.rows(sections[at].index);
		if (!data.rows.length) { return; }
		this._cursor = {section: sections[at].index, row: 0, pos: 0, data};
		this._show();
	},

	_rowEnd(last) {
		if (!this._cursor) { return; }
		const row = this._cursor.data.rows[this._cursor.row];
		const toRight = rowDirection(row) > 0;
		this._cursor.pos = last === toRight ? row.seats.length - 1 : 0;
		this._show();
	},

	async _activate() {
		const index = this.current();
		if (index < 0) {
			await this._start();
			return;
		}
		const viewer = this._viewer;
		const status = viewer.cart.has(index) ? 0 : await viewer.statusOf(index);
		await actOnSeat(viewer, index, status === undefined ? 0 : status);
		this._show(true);
	},

	_seat() {
		const c = this._cursor;
		return c.data.rows[c.row].seats[c.pos];
	},

	async _show(quiet) {
		const c = this._cursor;
		if (!c) { return; }
		const seat = this._seat();
		const viewer = this._viewer;
		const map = this._map;
		const latlng = [seat[3], seat[2]];
		if (map.getZoom() < viewer.grid.detailZoom) {
			map.setView(latlng, viewer.grid.detailZoom);
		} else {
			map.panInside(latlng, {padding: [this.options.edgePaddingPx, this.options.edgePaddingPx]});
		}
		if (!this._ring) {
			this._ring = circle(latlng, {
				radius: seat[4] * 1.7, color: COLORS.focus, weight: 3, fill: false,
				interactive: false, className: 'seatmap-focus-ring'
			}).addTo(map);
		} else {
			this._ring.setLatLng(latlng).setRadius(seat[4] * 1.7);
		}
		const details = viewer.detailsFromRow(c.data, c.data.rows[c.row], seat);
		map.fire('seatfocus', {index: seat[0], details});
		if (quiet) { return; }
		const status = await viewer.statusOf(seat[0]);
		if (this._cursor !== c || this._seat() !== seat) { return; }
		viewer.announcer.announce(viewer.info.describe(details, status, viewer.cart.has(seat[0])));
	},

	_clear() {
		this._cursor = null;
		if (this._ring) {
			this._ring.remove();
			this._ring = null;
		}
	}
});

// +1 when the row's seats run left to right on screen, -1 when right to left.
function rowDirection(row) {
	const s = row.seats;
	return s.length < 2 || s[s.length - 1][2] >= s[0][2] ? 1 : -1;
}

// +1 when later rows lie lower on screen than earlier ones.
function sectionDirection(rows) {
	if (rows.length < 2) { return 1; }
	const meanY = (row) => row.seats.reduce((a, s) => a + s[3], 0) / Math.max(1, row.seats.length);
	return meanY(rows[rows.length - 1]) >= meanY(rows[0]) ? 1 : -1;
}

function nearestInRow(row, x, y) {
	let best = 0;
	let bestD = Infinity;
	row.seats.forEach((s, k) => {
		const d = (s[2] - x) ** 2 + (s[3] - y) ** 2;
		if (d < bestD) {
			bestD = d;
			best = k;
		}
	});
	return best;
}
