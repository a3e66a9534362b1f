import {Class, DomEvent, DomUtil} from 'leaflet';

// "Jump to section": a select of every section; choosing one frames it on the map,
// outlines it and says its price range and free seats.

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
		const s = this._byIndex && this._byIndex.get(this._select.value);
		if (!s) {
			this._viewer.fitVenue();
			this._viewer.announcer.announce('Showing the whole venue.');
			return;
		}
		this._viewer.showSection(s.name);
	}
});
