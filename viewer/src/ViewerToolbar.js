import {Class, DomEvent, DomUtil} from 'leaflet';
import {SectionList} from './SectionList.js';

// The tools above the map: the section jump, "List of free seats", the
// "Your seats (n)" button that opens the panel on small screens, a print link
// that highlights the buyer's seats, and a link to the other version (full or lite).

export const ViewerToolbar = Class.extend({
	// viewer: gives el.panel, cart, api, options.lite and openList() (and what SectionList needs).
	initialize(viewer, container) {
		this._viewer = viewer;
		new SectionList(viewer, container);
		const list = DomUtil.create('button', 'seatmap-button', container);
		list.type = 'button';
		list.textContent = 'List of free seats';
		DomEvent.on(list, 'click', () => viewer.openList());
		const panel = DomUtil.create('button', 'seatmap-button seatmap-panel-toggle', container);
		panel.type = 'button';
		panel.setAttribute('aria-controls', viewer.el.panel.id || '');
		panel.setAttribute('aria-expanded', 'false');
		this._panelButton = panel;
		this._renderPanelButton();
		DomEvent.on(panel, 'click', () => {
			const open = document.body.classList.toggle('seatmap-panel-open');
			panel.setAttribute('aria-expanded', String(open));
		});
		this._printLink = DomUtil.create('a', 'seatmap-mode-link', container);
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

	// Bring the seat count and the print link up to date with the cart.
	update() {
		this._renderPanelButton();
		this._renderPrintLink();
	},

	_renderPanelButton() {
		this._panelButton.textContent = `Your seats (${this._viewer.cart.mine().size})`;
	},

	_renderPrintLink() {
		const labels = this._viewer.cart.labels();
		const highlight = labels.length ? `&highlight=${encodeURIComponent(labels.join(','))}` : '';
		this._printLink.href = this._viewer.api.eventUrl(`/map.pdf?orientation=landscape${highlight}`);
	}
});
