import {Class, DomEvent, DomUtil} from 'leaflet';
import {SectionList} from './SectionList.js';

// The tools above the map: the section jump, "List of free seats", a print
// link that highlights the buyer's seats, and a link to the other version (full
// or lite). "Your seats" is the panel beside the map, or the cart bar on small screens.

export const ViewerToolbar = Class.extend({
	// viewer: gives cart, api, options.lite, openList() and showSection().
	initialize(viewer, container) {
		this._viewer = viewer;
		new SectionList(viewer, container);
		const list = DomUtil.create('button', 'seatmap-button seatmap-list-open', container);
		list.type = 'button';
		list.textContent = 'List of free seats';
		DomEvent.on(list, 'click', () => viewer.openList(list));
		this._printLink = DomUtil.create('a', 'seatmap-mode-link seatmap-print-link', container);
		this._printLink.textContent = 'Print (PDF)';
		this._printLink.target = '_blank';
		this._printLink.rel = 'noopener';
		this._renderPrintLink();
		const lite = viewer.options.lite;
		const mode = DomUtil.create('a', 'seatmap-mode-link', container);
		const params = new URLSearchParams(window.location.search);
		params.set('lite', lite ? '0' : '1');
		mode.href = `${window.location.pathname}?${params}`;
		mode.textContent = lite ? 'Full version' : 'Lite version';
	},

	// Bring the print link up to date with the cart.
	update() {
		this._renderPrintLink();
	},

	_renderPrintLink() {
		const labels = this._viewer.cart.labels();
		const highlight = labels.length ? `&highlight=${encodeURIComponent(labels.join(','))}` : '';
		this._printLink.href = this._viewer.api.eventUrl(`/map.pdf?orientation=landscape${highlight}`);
	}
});
