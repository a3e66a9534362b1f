import {Class, DomEvent, DomUtil, Util} from 'leaflet';
import {formatPrice} from './SeatStyle.js';

// The "Your seats" panel, the control of a HoldCart: a countdown, the seats with
// their prices (each row shows its seat on the map), the total, "More time",
// "Release all", "Continue" (the checkout hand-off) and "Best available".

export const CartPanel = Class.extend({
	// @option maxBestAvailable: Number = 8
	// Largest count offered by "best available".
	// @option currency: String = 'EUR'
	options: {
		maxBestAvailable: 8,
		currency: 'EUR'
	},

	// viewer: gives cart, info, categories, showSeats(indices), checkout(), canCheckout().
	initialize(viewer, container, options) {
		Util.setOptions(this, options);
		this._viewer = viewer;
		const cart = viewer.cart;
		const root = DomUtil.create('section', 'seatmap-cart', container);
		root.setAttribute('aria-labelledby', 'seatmap-cart-heading');
		const h = DomUtil.create('h2', '', root);
		h.id = 'seatmap-cart-heading';
		h.textContent = 'Your seats';
		this._timerEl = DomUtil.create('p', 'seatmap-cart-timer', root);
		this._empty = DomUtil.create('p', 'seatmap-cart-empty', root);
		this._empty.textContent = 'No seats yet. Tap an available seat on the map, use the list of seats, or let us pick the best ones.';
		this._list = DomUtil.create('ul', 'seatmap-cart-list', root);
		this._total = DomUtil.create('p', 'seatmap-cart-total', root);
		const actions = DomUtil.create('div', 'seatmap-cart-actions', root);
		this._continueBtn = button(actions, 'Continue', () => viewer.checkout(), 'seatmap-primary seatmap-continue');
		this._extendBtn = button(actions, 'More time', () => viewer.moreTime());
		this._releaseAllBtn = button(actions, 'Release all', () => viewer.releaseAll());
		this._buildBest(root);
		this.el = root;
		cart.on('change', this.render, this);
		cart.on('tick extended', this._renderTimer, this);
		this.render();
	},

	render() {
		const viewer = this._viewer;
		const info = viewer.info;
		const seats = viewer.cart.seats();
		this._list.textContent = '';
		for (const s of seats) {
			const li = DomUtil.create('li', 'seatmap-cart-item', this._list);
			const place = info.place(s.details);
			const show = button(li, `${place} — ${info.price(s.details)}`, () => viewer.showSeats([s.index]), 'seatmap-cart-show');
			show.setAttribute('aria-label', `Show ${place} on the map`);
			show.dataset.seat = String(s.index);
			const b = button(li, 'Release', () => viewer.cart.release(s.index));
			b.setAttribute('aria-label', `Release ${place}`);
		}
		const n = seats.length;
		this._empty.hidden = n > 0;
		this._total.hidden = n === 0;
		this._total.textContent = `${n} seat${n === 1 ? '' : 's'}, total ${formatPrice(viewer.cart.totalCents(), this.options.currency)}`;
		this._releaseAllBtn.hidden = n === 0;
		this._continueBtn.hidden = n === 0 || !viewer.canCheckout();
		this._renderTimer();
	},

	_renderTimer() {
		const cart = this._viewer.cart;
		const s = cart.secondsLeft();
		this._extendBtn.hidden = s === null || !cart.canExtend();
		if (s === null) {
			this._timerEl.hidden = true;
			return;
		}
		this._timerEl.hidden = false;
		this._timerEl.textContent = `Held for ${clock(s)}`;
		this._timerEl.classList.toggle('seatmap-urgent', s <= 120);
	},

	_buildBest(root) {
		const viewer = this._viewer;
		const form = DomUtil.create('form', 'seatmap-best', root);
		const h = DomUtil.create('h3', '', form);
		h.textContent = 'Best available';
		const countLabel = DomUtil.create('label', '', form);
		countLabel.textContent = 'Seats ';
		const count = DomUtil.create('select', 'seatmap-best-count', countLabel);
		for (let n = 1; n <= this.options.maxBestAvailable; n++) {
			const o = DomUtil.create('option', '', count);
			o.value = String(n);
			o.textContent = String(n);
			if (n === 2) { o.selected = true; }
		}
		const catLabel = DomUtil.create('label', '', form);
		catLabel.textContent = 'Category ';
		const cat = DomUtil.create('select', 'seatmap-best-category', catLabel);
		const any = DomUtil.create('option', '', cat);
		any.value = '';
		any.textContent = 'Any';
		for (const c of viewer.categories) {
			const o = DomUtil.create('option', '', cat);
			o.value = String(c.index);
			o.textContent = `${c.name} (${formatPrice(c.price_cents, this.options.currency)})`;
		}
		const go = DomUtil.create('button', 'seatmap-button seatmap-primary', form);
		go.type = 'submit';
		go.textContent = 'Find seats';
		DomEvent.on(form, 'submit', (e) => {
			DomEvent.preventDefault(e);
			go.disabled = true;
			viewer.bestAvailable(parseInt(count.value, 10), cat.value).finally(() => { go.disabled = false; });
		});
	}
});

// "4:05"
export function clock(seconds) {
	return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export function button(parent, text, onClick, className) {
	const b = DomUtil.create('button', 'seatmap-button' + (className ? ' ' + className : ''), parent);
	b.type = 'button';
	b.textContent = text;
	DomEvent.on(b, 'click', (e) => {
		DomEvent.stop(e);
		onClick();
	});
	return b;
}
