import {Class, latLngBounds, point} from 'leaflet';
import {Highlights} from './Highlights.js';

// Takes the buyer to what they asked about: seats (best available, a row of the
// cart) brought into view at the detail zoom and ringed; a section framed,
// outlined and described. On small screens the cart sheet covers the lower part
// of the map, so a seat is kept in sight above it.

export const MapFocus = Class.extend({
	// viewer: gives map, grid, places, sections, sectionLabels, messages, el.panel, el.map, cartBar.
	initialize(viewer) {
		this._viewer = viewer;
		this.highlights = new Highlights().addTo(viewer.map);
	},

	async showSeats(indices) {
		if (!indices.length) { return; }
		const viewer = this._viewer;
		const map = viewer.map;
		const places = await viewer.places.lookup(indices);
		if (!places.length) { return; }
		const b = latLngBounds(places.map(([, x, y]) => [y, x]));
		const zoom = Math.max(viewer.grid.detailZoom, Math.min(map.getBoundsZoom(b.pad(0.5)), map.getMaxZoom()));
		map.setView(b.getCenter(), Math.max(map.getZoom(), zoom), {animate: false});
		this._keepClearOfSheet(b);
		this.highlights.seats(places);
	},

	async showSection(which) {
		const viewer = this._viewer;
		const list = await viewer.sections.list();
		const s = list.find((x) => String(x.name) === String(which)) || list.find((x) => String(x.index) === String(which));
		if (!s || s.bounds.length !== 4) { return false; }
		const [x0, y0, x1, y1] = s.bounds;
		const b = latLngBounds([y0, x0], [y1, x1]);
		// The map has whole zooms only: the deepest one at which the section fits, with a
		// margin of 16 px where that zoom leaves room for it. (Asking for the margin
		// alone could leave the section at not much more than a quarter of the map.)
		const map = viewer.map;
		const zoom = Math.max(map.getBoundsZoom(b, false, point(32, 32)), map.getBoundsZoom(b, false));
		map.setView(b.getCenter(), zoom, {animate: false});
		this.highlights.section(s.bounds);
		const words = await viewer.sectionLabels.summary(s).catch(() => `Section ${s.name}`);
		viewer.messages.show(words, {kind: 'info', topic: 'section'});
		return true;
	},

	// Pan, if need be, so these seats are not under the open sheet or the bar.
	async keepInSight(indices) {
		const places = await this._viewer.places.lookup(indices);
		if (places.length) { this._keepClearOfSheet(latLngBounds(places.map(([, x, y]) => [y, x]))); }
	},

	_keepClearOfSheet(bounds) {
		const viewer = this._viewer;
		const map = viewer.map;
		const sheet = viewer.el.panel;
		const open = document.body.classList.contains('seatmap-panel-open') && getComputedStyle(sheet).position === 'absolute';
		const covered = open ? Math.max(0, viewer.el.map.getBoundingClientRect().bottom - sheet.getBoundingClientRect().top) : 0;
		const bar = viewer.cartBar.el.offsetParent ? viewer.cartBar.el.offsetHeight : 0;
		const p = map.latLngToContainerPoint(bounds.getCenter());
		const visibleBottom = map.getSize().y - Math.max(covered, bar) - 24;
		if (p.y > visibleBottom || p.y < 24) {
			map.panBy([0, p.y - Math.max(48, visibleBottom / 2)], {animate: false});
		}
	}
});
