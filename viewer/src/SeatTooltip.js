import {Handler, Util, tooltip} from 'leaflet';
import {statusName} from './SeatStyle.js';
import {pixelsPerUnit} from './VenueGrid.js';

// With a mouse at the detail zoom, the seat under the pointer gets a tooltip
// of two short lines ("112 · Row F · Seat 7 · €80.00", then status and access) and the pointer
// says it can be clicked. Looked up once per animation frame.

export const SeatTooltip = Handler.extend({
	// viewer: gives grid, store, picker, info and cart.
	initialize(map, viewer) {
		this._map = map;
		this._viewer = viewer;
		this._hover = -1;
		this._frame = null;
		this._tooltip = tooltip({direction: 'top', className: 'seatmap-tooltip', offset: [0, -8]});
	},

	addHooks() {
		this._map.on('mousemove', this._onMouseMove, this);
		this._map.on('mouseout', this._hide, this);
	},

	removeHooks() {
		this._map.off('mousemove', this._onMouseMove, this);
		this._map.off('mouseout', this._hide, this);
		this._hide();
	},

	_onMouseMove(e) {
		// Mouse events a finger causes are no hover: a tooltip would only cover the seats.
		const caps = e.originalEvent && e.originalEvent.sourceCapabilities;
		if (caps && caps.firesTouchEvents) { return; }
		if (this._frame) { return; }
		this._frame = Util.requestAnimFrame(() => {
			this._frame = null;
			this._showAt(e.latlng);
		});
	},

	_showAt(pointer) {
		const map = this._map;
		const {grid, store, picker, info, cart} = this._viewer;
		if (map.getZoom() < grid.detailZoom) {
			this._hide();
			return;
		}
		const slot = picker.pick(pointer.lng, pointer.lat, pixelsPerUnit(grid, map.getZoom()), 3);
		const index = slot < 0 ? -1 : store.index[slot];
		if (index === this._hover) { return; }
		this._hover = index;
		map.getContainer().classList.toggle('seatmap-over-seat', index >= 0);
		if (index < 0) {
			this._hide();
			return;
		}
		const latlng = [store.pos[slot * 3 + 1], store.pos[slot * 3]];
		info.get(index).then((d) => {
			if (this._hover !== index) { return; }
			const status = store.statusOf(index);
			this._tooltip.setLatLng(latlng).setContent(compact(info, d, status, cart.has(index)));
			if (!map.hasLayer(this._tooltip)) { this._tooltip.addTo(map); }
		}, () => {});
	},

	_hide() {
		this._hover = -1;
		if (this._map.hasLayer(this._tooltip)) { this._tooltip.remove(); }
		this._map.getContainer().classList.remove('seatmap-over-seat');
	}
});

// Two lines: where and what it costs; then its status and accessibility.
function compact(info, d, status, mine) {
	const box = document.createElement('div');
	const where = document.createElement('div');
	where.textContent = [`${d.section} · Row ${d.row} · Seat ${d.seat}`, info.price(d)].filter(Boolean).join(' · ');
	const state = document.createElement('div');
	state.className = 'seatmap-tooltip-status';
	const words = statusName(status === undefined ? d.status : status, mine);
	state.textContent = [words.charAt(0).toUpperCase() + words.slice(1), info.access(d)].filter(Boolean).join(' · ');
	box.append(where, state);
	return box;
}
