import {Evented, Util} from 'leaflet';
import {HoldClock} from './HoldClock.js';

// The buyer's seats: holds them through the lock service, releases one or all,
// extends them and asks for the best available block. A HoldClock keeps time: it
// warns before the earliest hold ends (WCAG 2.2.1: the buyer can ask for more
// time) and tells which seats were released when one ends. Hold tokens are kept in a
// TokenStore (sessionStorage, or memory where the browser forbids storage) and
// can be handed in from outside (an embedding partner page, a hand-off link).
// What happened is told with events; the viewer shows and announces it.
//
// Events: `seatheld` {index, label, at, place}, `seatreleased` {index, label, place},
// `held` {seats, places} once per granted hold,
// `holdexpiring` {secondsLeft, canExtend, labels}, `holdexpired` {labels, seats},
// `extended` {secondsLeft}, `change` {mine: Set of seat indices}, `tick` {secondsLeft},
// `failed` {error, seats, retry} where retry {label, run} offers the fix.

export const HoldCart = Evented.extend({
	// @option warnAtS: Array = [120, 30]
	// Seconds before the end of a hold at which the buyer is warned.
	// @option recentMs: Number = 3000
	// Live messages this soon after our own hold may predate it.
	options: {
		warnAtS: [120, 30],
		recentMs: 3000
	},

	// api: ApiClient; info: SeatInfo; tokens: a TokenStore of hold tokens.
	initialize(api, info, tokens, options) {
		Util.setOptions(this, options);
		this._api = api;
		this._info = info;
		this._tokens = tokens;
		this._holds = new Map();  // hold token -> {token, fencing, expiresAt, maxExpiresAt, seats, addedAt}
		this._bySeat = new Map(); // seat index -> hold token
		this._busy = new Set();   // seat indices with a request in flight
		this._clock = new HoldClock(this._holds, {
			expire: (token) => this._expire(token),
			tick: (secondsLeft) => this.fire('tick', {secondsLeft}),
			expiring: (secondsLeft, canExtend) => this.fire('holdexpiring', {secondsLeft, canExtend, labels: this.labels()})
		}, {warnAtS: this.options.warnAtS});
	},

	// Check the holds remembered from before a reload (or handed in); drop the ones that ended.
	async restore(tokens) {
		const wanted = tokens || this._tokens.load();
		for (const token of wanted) {
			if (this._holds.has(token)) { continue; }
			try {
				const hold = await this._api.getHold(token);
				if (hold && hold.state !== 'confirmed') { await this._add(Object.assign({hold_token: token}, hold), false); }
			} catch (e) { /* ended while we were away, or another buyer's */ }
		}
		this._tokens.save(this.tokens());
		this.fire('change', {mine: this.mine()});
	},

	tokens() {
		return Array.from(this._holds.keys());
	},

	mine() {
		return new Set(this._bySeat.keys());
	},

	// The buyer's seats, in the order they were held: [{index, id, label, details}].
	seats() {
		const out = [];
		this._holds.forEach((h) => h.seats.forEach((s) => out.push(s)));
		return out;
	},

	// Full labels ("112-F-7") of the buyer's seats, for "your seats" images and print.
	labels() {
		return this.seats().map((s) => s.label).filter(Boolean);
	},

	totalCents() {
		return this.seats().reduce((sum, s) => sum + (this._info.priceCents(s.details) || 0), 0);
	},

	has(seatIndex) {
		return this._bySeat.has(seatIndex);
	},

	// Seconds until the earliest hold ends, or null without holds.
	secondsLeft() {
		return this._clock.secondsLeft();
	},

	// Whether "more time" can still lengthen the earliest hold.
	canExtend() {
		return this._clock.canExtend();
	},

	// Hold the seat if it is free, release it if it is ours.
	toggle(seatIndex) {
		return this.has(seatIndex) ? this.release(seatIndex) : this.hold(seatIndex);
	},

	// Hold one seat. Wheelchair and companion places are asked for only when the
	// buyer confirms they need one (`accessible`).
	async hold(seatIndex, accessible) {
		if (this._busy.has(seatIndex)) { return []; }
		this._busy.add(seatIndex);
		try {
			return await this.holdSeats([seatIndex], accessible);
		} finally {
			this._busy.delete(seatIndex);
		}
	},

	// Hold seats (indices, ids or labels) all or none; resolves to the seats held ([] on failure).
	async holdSeats(seatIds, accessible) {
		try {
			const reply = await this._api.hold(seatIds, accessible ? {accessible: true} : undefined);
			return await this._add(reply, true);
		} catch (error) {
			let retry = null;
			if (error.code === 'accessible_only' && !accessible) {
				retry = {label: 'I need this place: hold it', run: () => this.holdSeats(seatIds, true)};
			} else if (error.alternative) {
				const labels = alternativeLabels(error.alternative);
				if (labels.length) {
					retry = {label: `Hold ${labels.join(', ')} instead`, run: () => this.holdSeats(labels, accessible)};
				}
			}
			this._failed(error, seatIds, retry);
			return [];
		}
	},

	async release(seatIndex) {
		const token = this._bySeat.get(seatIndex);
		const hold = token && this._holds.get(token);
		if (!hold) { return false; }
		const seat = hold.seats.find((s) => s.index === seatIndex);
		try {
			const all = hold.seats.length === 1;
			await this._api.release(token, all ? undefined : [seat.id]);
			this._remove(token, [seatIndex]);
			this.fire('seatreleased', {index: seatIndex, label: seat.label, place: this._info.place(seat.details)});
			return true;
		} catch (error) {
			if (error.status === 404 || error.status === 410) { this._remove(token, null); }
			this._failed(error, [seatIndex], null);
			return false;
		}
	},

	// Release every seat; resolves to how many were released.
	async releaseAll() {
		let released = 0;
		for (const token of this.tokens()) {
			const hold = this._holds.get(token);
			try {
				await this._api.release(token);
			} catch (error) {
				if (error.status !== 404 && error.status !== 410) {
					this._failed(error, hold.seats.map((s) => s.index), null);
					continue;
				}
			}
			const seats = hold.seats.slice();
			released += seats.length;
			this._remove(token, null);
			seats.forEach((s) => this.fire('seatreleased', {index: s.index, label: s.label, place: this._info.place(s.details)}));
		}
		return released;
	},

	// More time on every hold (up to the event's maximum); resolves to true when it worked.
	async extend() {
		try {
			for (const hold of this._holds.values()) {
				const reply = await this._api.extend(hold.token);
				hold.expiresAt = parseTime(reply.expires_at) || hold.expiresAt;
				hold.maxExpiresAt = parseTime(reply.max_expires_at) || hold.maxExpiresAt;
				hold.extendedAt = Date.now();
			}
			this.fire('extended', {secondsLeft: this.secondsLeft()});
			this._clock.tick();
			return true;
		} catch (error) {
			this._failed(error, [], null);
			return false;
		}
	},

	// Hold the best `count` seats (of a category index, or any); resolves to the seats held.
	async bestAvailable(count, category, categories) {
		const request = {count};
		if (category !== '' && category !== undefined && category !== null) {
			const cat = (categories || []).find((c) => String(c.index) === String(category));
			request.category = cat && cat.id !== undefined ? cat.id : (cat ? cat.name : category);
		}
		try {
			const reply = await this._api.bestAvailable(request);
			return await this._add(reply, true);
		} catch (error) {
			this._failed(error, [], null);
			return [];
		}
	},

	// A live change: a seat of ours that turned available again was released by expiry.
	seatStatusChanged(seatIndex, status) {
		const token = this._bySeat.get(seatIndex);
		const hold = token !== undefined && this._holds.get(token);
		if (hold && status === 0 && Date.now() - hold.addedAt > this.options.recentMs) {
			this._expire(token);
		}
	},

	// A hold the server granted: the seats are ours at once ("mine" on the map), their
	// words and prices follow when their details have loaded.
	async _add(reply, fresh) {
		const token = reply.hold_token || reply.token;
		const seats = (reply.seats || []).map((s) => {
			const index = typeof s === 'object' ? s.index : s;
			const label = typeof s === 'object' ? s.label : String(s);
			const parts = String(label).split('-');
			const guess = {index, label, section: parts[0], row: parts[1], seat: parts.slice(2).join('-')};
			return {index, id: s.id || label, label, details: guess};
		});
		const hold = {
			token, fencing: reply.fencing, seats, addedAt: Date.now(),
			expiresAt: parseTime(reply.expires_at), maxExpiresAt: parseTime(reply.max_expires_at)
		};
		this._holds.set(token, hold);
		seats.forEach((s) => this._bySeat.set(s.index, token));
		this._tokens.save(this.tokens());
		this.fire('change', {mine: this.mine()});
		await Promise.all(seats.map((s) => this._info.get(s.index).then((d) => { s.details = d; }, () => {})));
		if (fresh) {
			const at = Date.now();
			seats.forEach((s) => this.fire('seatheld', {index: s.index, label: s.label, at, place: this._info.place(s.details)}));
			this.fire('held', {seats: seats.map((s) => s.index), places: seats.map((s) => this._info.place(s.details))});
		}
		this.fire('change', {mine: this.mine()});
		return seats;
	},

	_remove(token, seatIndices) {
		const hold = this._holds.get(token);
		if (!hold) { return; }
		const drop = seatIndices ? new Set(seatIndices) : new Set(hold.seats.map((s) => s.index));
		hold.seats = hold.seats.filter((s) => !drop.has(s.index));
		drop.forEach((i) => this._bySeat.delete(i));
		if (!hold.seats.length) { this._holds.delete(token); }
		this._tokens.save(this.tokens());
		this.fire('change', {mine: this.mine()});
	},

	_expire(token) {
		const hold = this._holds.get(token);
		if (!hold) { return; }
		const labels = hold.seats.map((s) => this._info.place(s.details));
		const seats = hold.seats.map((s) => s.index);
		this._remove(token, null);
		this.fire('holdexpired', {labels, seats});
	},

	_failed(error, seats, retry) {
		const indices = seats.filter((s) => typeof s === 'number');
		this.fire('failed', {error, seats: indices, retry});
	}
});

// Seat labels out of a rule's suggested alternative (labels, or objects with a label).
function alternativeLabels(alt) {
	const seats = Array.isArray(alt) ? alt : (alt.seats || [alt]);
	return seats.map((s) => (typeof s === 'object' ? s.label || s.id : s)).filter(Boolean);
}

// expires_at as ISO text, seconds or milliseconds since the epoch.
export function parseTime(value) {
	if (value === undefined || value === null) { return 0; }
	if (typeof value === 'number') { return value > 1e12 ? value : value * 1000; }
	const n = Number(value);
	if (Number.isFinite(n)) { return n > 1e12 ? n : n * 1000; }
	const t = Date.parse(value);
	return Number.isFinite(t) ? t : 0;
}
