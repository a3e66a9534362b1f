import {Class, DomUtil, Util} from 'leaflet';

// ARIA live regions that tell screen reader users what happened: holds,
// releases, expiries, errors and the seat under the keyboard focus. Polite
// messages wait for a pause; assertive ones (errors, expiry) interrupt.

export const Announcer = Class.extend({
	// @option clearAfterMs: Number = 7000
	// Messages are removed after this long, so the region never reads stale news.
	options: {
		clearAfterMs: 7000
	},

	initialize(parent, options) {
		Util.setOptions(this, options);
		this._polite = this._region(parent, 'polite', 'status');
		this._assertive = this._region(parent, 'assertive', 'alert');
		this._timers = new Map();
		this.last = '';
	},

	// Say `text`; {assertive: true} for errors and expiries.
	announce(text, opts) {
		const region = opts && opts.assertive ? this._assertive : this._polite;
		this.last = text;
		// Emptying first makes a repeated identical message be read again.
		region.textContent = '';
		window.setTimeout(() => { region.textContent = text; }, 30);
		clearTimeout(this._timers.get(region));
		this._timers.set(region, window.setTimeout(() => { region.textContent = ''; }, this.options.clearAfterMs));
	},

	_region(parent, politeness, role) {
		const el = DomUtil.create('div', 'seatmap-visually-hidden', parent);
		el.setAttribute('aria-live', politeness);
		el.setAttribute('role', role);
		el.setAttribute('aria-atomic', 'true');
		return el;
	}
});
