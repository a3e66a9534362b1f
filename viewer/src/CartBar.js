import {Class, DomEvent, DomUtil} from 'leaflet';
import {clock} from './CartPanel.js';
import {formatPrice} from './SeatStyle.js';

// On phones and small frames the panel folds into a bar along the bottom of the
// map: how many seats, their total and the time left. Tapping it opens the panel
// as a sheet over the lower part of the map (and closes it again); the viewer then
// pans the map so the seat just held stays in sight above the sheet.

export const CartBar = Class.extend({
	// viewer: gives cart, options.currency, togglePanel().
	initialize(viewer, parent, currency) {
		this._viewer = viewer;
		this._currency = currency;
		const b = DomUtil.create('button', 'seatmap-cart-bar', parent);
		b.type = 'button';
		b.setAttribute('aria-controls', viewer.el.panel.id || '');
		b.setAttribute('aria-expanded', 'false');
		this._count = DomUtil.create('span', 'seatmap-cart-bar-count', b);
		this._total = DomUtil.create('span', 'seatmap-cart-bar-total', b);
		this._time = DomUtil.create('span', 'seatmap-cart-bar-time', b);
		DomEvent.on(b, 'click', (e) => {
			DomEvent.stop(e);
			viewer.togglePanel();
		});
		DomEvent.disableClickPropagation(b);
		this.el = b;
		viewer.cart.on('change', this.render, this);
		viewer.cart.on('tick extended', this._renderTime, this);
		this.render();
	},

	// The panel was opened or closed.
	setOpen(open) {
		this.el.setAttribute('aria-expanded', String(open));
		this.el.classList.toggle('seatmap-open', open);
	},

	render() {
		const cart = this._viewer.cart;
		const n = cart.mine().size;
		this._count.textContent = n ? `Your seats (${n})` : 'Your seats';
		this._total.textContent = n ? formatPrice(cart.totalCents(), this._currency) : 'Best available';
		this._renderTime();
	},

	_renderTime() {
		const s = this._viewer.cart.secondsLeft();
		this._time.textContent = s === null ? '' : clock(s);
		this._time.classList.toggle('seatmap-urgent', s !== null && s <= 120);
	}
});
