import {Class, DomEvent, DomUtil, latLngBounds} from 'leaflet';

// "Jump to section": a select of every section that fits the map to it.

export const SectionList = Class.extend({
	initialize(viewer, container) {
		this._viewer = viewer;
		const label = DomUtil.create('label', 'seatmap-jump', container);
		const span = DomUtil.create('span', '', label);
		span.textContent = 'Section ';
		this._select = DomUtil.create('select', '', label);
		const first = DomUtil.create('option', '', this._select);
		first.value = '';
		first.textContent = 'Whole venue';
		DomEvent.on(this._select, 'change', this._onChange, this);
		// Filled when the browser is idle: the first view does not wait for it.
		const idle = window.requestIdleCallback || ((fn) => window.setTimeout(fn, 300));
		idle(() => this._fill());
	},

	async _fill() {
		let sections = [];
		try {
			sections = await this._viewer.sections.list();
		} catch (error) {
			return;
		}
		this._byIndex = new Map();
		for (const s of sections) {
			if (!s.seat_count || s.bounds.length !== 4) { continue; }
			const o = DomUtil.create('option', '', this._select);
			o.value = String(s.index);
			o.textContent = s.name;
			this._byIndex.set(String(s.index), s);
		}
	},

	_onChange() {
		const map = this._viewer.map;
		const s = this._byIndex && this._byIndex.get(this._select.value);
		if (!s) {
			this._viewer.fitVenue();
			this._viewer.announcer.announce('Showing the whole venue.');
			return;
		}
		const [x0, y0, x1, y1] = s.bounds;
		map.fitBounds(latLngBounds([y0, x0], [y1, x1]), {padding: [16, 16]});
		this._viewer.announcer.announce(`Showing section ${s.name}, ${s.seat_count} seats.`);
	}
});
