import {Class, Util} from 'leaflet';

// The cart's clock: once a second it ends the holds whose time is up and says how
// long the earliest one has left, and it warns (once per threshold) before that one
// ends, so the buyer can ask for more time (WCAG 2.2.1). It reads the cart's holds
// and tells the cart what happened through the callbacks it was given.

export const HoldClock = Class.extend({
	// @option warnAtS: Array = [120, 30]
	// Seconds before the end of a hold at which the buyer is warned.
	options: {
		warnAtS: [120, 30]
	},

	// holds: Map hold token -> {token, expiresAt, maxExpiresAt, addedAt, extendedAt};
	// on: {expire(token), tick(secondsLeft), expiring(secondsLeft, canExtend)}.
	initialize(holds, on, options) {
		Util.setOptions(this, options);
		this._holds = holds;
		this._on = on;
		this._warned = new Map(); // earliest expiry -> thresholds already warned of
		this._timer = window.setInterval(() => this.tick(), 1000);
	},

	// Seconds until the earliest hold ends, or null without holds.
	secondsLeft() {
		const t = this._earliest();
		return t ? Math.max(0, Math.round((t - Date.now()) / 1000)) : null;
	},

	// Whether "more time" can still lengthen the earliest hold.
	canExtend() {
		for (const h of this._holds.values()) {
			if (!h.maxExpiresAt || h.expiresAt < h.maxExpiresAt - 1000) { return true; }
		}
		return false;
	},

	tick() {
		const now = Date.now();
		for (const hold of Array.from(this._holds.values())) {
			if (hold.expiresAt && hold.expiresAt <= now) { this._on.expire(hold.token); }
		}
		const left = this.secondsLeft();
		this._on.tick(left);
		if (left === null) { return; }
		// Warn once per threshold the earliest hold crosses; more time starts the count again.
		const earliest = this._earliest();
		const warned = this._warned.get(earliest) || new Set();
		this._warned.clear();
		this._warned.set(earliest, warned);
		const held = Math.round((earliest - this._heldSince(earliest)) / 1000);
		for (const at of this.options.warnAtS) {
			if (left <= at && held > at && !warned.has(at)) {
				this.options.warnAtS.forEach((t) => { if (t >= at) { warned.add(t); } });
				this._on.expiring(left, this.canExtend());
				break;
			}
		}
	},

	// When the hold ending at `expiresAt` was made or last extended (for the crossing test).
	_heldSince(expiresAt) {
		for (const h of this._holds.values()) {
			if (h.expiresAt === expiresAt) { return h.extendedAt || h.addedAt; }
		}
		return Date.now();
	},

	_earliest() {
		let t = Infinity;
		this._holds.forEach((h) => { if (h.expiresAt) { t = Math.min(t, h.expiresAt); } });
		return t === Infinity ? 0 : t;
	}
});
