import {DomEvent, DomUtil, Evented, Util} from 'leaflet';
import {formatPrice} from './SeatStyle.js';

// The buyer's seats: holds them through the lock service, shows them with their
// prices and a countdown to the earliest expiry, releases one or all, extends
// them, and asks for the best available block. Holds survive a reload of the
// tab (their tokens are kept in sessionStorage and checked again on start).
//
// Events: `seatheld` {index, label, at}, `seatreleased` {index, label},
// `holdexpired` {labels}, `change` {mine: Set of seat indices}, `error` {error}.

export const HoldCart = Evented.extend({
	// @option storageKey: String = 'seatmap:holds'
	// sessionStorage key of the hold tokens (the viewer adds the event id).
	// @option maxBestAvailable: Number = 8
	// Largest count offered by "best available".
	// @option currency: String = 'EUR'
	// ISO currency of prices.
	options: {
		storageKey: 'seatmap:holds',
		maxBestAvailable: 8,
		currency: 'EUR'
	},

	initialize(api, info, announcer, container, categories, options) {
		Util.setOptions(this, options);
		this._api = api;
		this._info = info;
		this._announcer = announcer;
		this._categories = categories || [];
		this._holds = new Map();  // hold token -> {token, fencing, expiresAt, seats: [{index, id, label, details}]}
		this._bySeat = new Map(); // seat index -> hold token
		this._busy = new Set();   // seat indices with a request in flight
		this._build(container);
		this._timer = window.setInterval(() => this._tick(), 1000);
	},

	// Check the holds remembered from before a reload; drop the ones that ended.
	async restore() {
		let saved = [];
		try { saved = JSON.parse(window.sessionStorage.getItem(this.options.storageKey) || '[]'); } catch (e) { saved = []; }
		for (const token of saved) {
			try {
				const hold = await this._api.getHold(token);
				if (hold) { await this._add(Object.assign({hold_token: token}, hold), false); }
			} catch (e) { /* ended while we were away */ }
		}
		this._save();
		this._render();
	},

	mine() {
		return new Set(this._bySeat.keys());
	},

	// Full labels ("112-F-7") of the buyer's seats, for "your seats" images and print.
	labels() {
		const out = [];
		this._holds.forEach((h) => h.seats.forEach((s) => { if (s.label) { out.push(s.label); } }));
		return out;
	},

	has(seatIndex) {
		return this._bySeat.has(seatIndex);
	},

	// Hold the seat if it is free, release it if it is ours.
	toggle(seatIndex) {
		return this.has(seatIndex) ? this.release(seatIndex) : this.hold(seatIndex);
	},

	// Hold one seat. Wheelchair and companion places are asked for only when the
	// buyer confirms they need one (the rule's error offers that button).
	async hold(seatIndex, accessible) {
		if (this._busy.has(seatIndex)) { return false; }
		this._busy.add(seatIndex);
		try {
			const reply = await this._api.hold([seatIndex], accessible ? {accessible: true} : undefined);
			const added = await this._add(reply, true);
			this._announcer.announce(`Held for you: ${added.map((s) => this._info.place(s.details)).join('; ')}. ${this._timeLeftWords()}`);
			return true;
		} catch (error) {
			if (error.code === 'accessible_only' && !accessible) {
				this._fail(error, {label: 'I need this place: hold it', run: () => this.hold(seatIndex, true)});
			} else {
				this._fail(error);
			}
			return false;
		} finally {
			this._busy.delete(seatIndex);
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
			this._announcer.announce(`Released ${this._info.place(seat.details)}.`);
			this.fire('seatreleased', {index: seatIndex, label: seat.label});
			return true;
		} catch (error) {
			if (error.status === 404 || error.status === 410) { this._remove(token, null); }
			this._fail(error);
			return false;
		}
	},

	async releaseAll() {
		const tokens = Array.from(this._holds.keys());
		let released = 0;
		for (const token of tokens) {
			const hold = this._holds.get(token);
			try {
				await this._api.release(token);
			} catch (error) {
				if (error.status !== 404 && error.status !== 410) { this._fail(error); continue; }
			}
			released += hold.seats.length;
			hold.seats.forEach((s) => this.fire('seatreleased', {index: s.index, label: s.label}));
			this._remove(token, null);
		}
		if (released) { this._announcer.announce(`Released all ${released} of your seats.`); }
	},

	async extend() {
		try {
			for (const hold of this._holds.values()) {
				const reply = await this._api.extend(hold.token);
				hold.expiresAt = parseTime(reply.expires_at) || hold.expiresAt;
			}
			this._render();
			this._announcer.announce(`Your seats are held longer. ${this._timeLeftWords()}`);
		} catch (error) {
			this._fail(error);
		}
	},

	async bestAvailable(count, category) {
		const request = {count};
		if (category !== '' && category !== undefined && category !== null) {
			const cat = this._categories.find((c) => String(c.index) === String(category));
			request.category = cat && cat.id !== undefined ? cat.id : (cat ? cat.name : category);
		}
		try {
			const reply = await this._api.bestAvailable(request);
			const added = await this._add(reply, true);
			this._announcer.announce(`Best available held for you: ${added.map((s) => this._info.place(s.details)).join('; ')}. ${this._timeLeftWords()}`);
			return added.map((s) => s.index);
		} catch (error) {
			this._fail(error);
			return [];
		}
	},

	// A live change: a seat of ours that turned available again was released by expiry.
	seatStatusChanged(seatIndex, status) {
		const token = this._bySeat.get(seatIndex);
		const hold = token !== undefined && this._holds.get(token);
		// Messages older than our own hold can still arrive just after its reply.
		if (hold && status === 0 && Date.now() - hold.addedAt > 3000) {
			this._expire(token);
		}
	},

	// Show an error in plain words; `action` {label, run} adds a button that fixes it.
	showError(text, action) {
		this._error.textContent = text;
		this._error.hidden = !text;
		if (action) {
			const b = button(this._error, action.label, () => {
				this.showError('');
				action.run();
			});
			b.classList.add('seatmap-error-action');
		}
		if (text) { this._announcer.announce(text, {assertive: true}); }
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
		const hold = {token, fencing: reply.fencing, expiresAt: parseTime(reply.expires_at), seats, addedAt: Date.now()};
		this._holds.set(token, hold);
		seats.forEach((s) => this._bySeat.set(s.index, token));
		this._save();
		this.showError('');
		if (fresh) {
			const at = Date.now();
			seats.forEach((s) => this.fire('seatheld', {index: s.index, label: s.label, at}));
		}
		this.fire('change', {mine: this.mine()});
		this._render();
		await Promise.all(seats.map((s) => this._info.get(s.index).then((d) => { s.details = d; }, () => {})));
		this._render();
		return seats;
	},

	_remove(token, seatIndices) {
		const hold = this._holds.get(token);
		if (!hold) { return; }
		const drop = seatIndices ? new Set(seatIndices) : new Set(hold.seats.map((s) => s.index));
		hold.seats = hold.seats.filter((s) => !drop.has(s.index));
		drop.forEach((i) => this._bySeat.delete(i));
		if (!hold.seats.length) { this._holds.delete(token); }
		this._save();
		this._render();
		this.fire('change', {mine: this.mine()});
	},

	_expire(token) {
		const hold = this._holds.get(token);
		if (!hold) { return; }
		const labels = hold.seats.map((s) => this._info.place(s.details));
		this._remove(token, null);
		this._announcer.announce(`Your hold has expired and these seats were released: ${labels.join('; ')}.`, {assertive: true});
		this.fire('holdexpired', {labels});
	},

	_tick() {
		const now = Date.now();
		for (const hold of Array.from(this._holds.values())) {
			if (hold.expiresAt && hold.expiresAt <= now) { this._expire(hold.token); }
		}
		this._renderTimer();
	},

	_fail(error, action) {
		this.showError(error.message || String(error), action);
		this.fire('error', {error});
	},

	_save() {
		try {
			window.sessionStorage.setItem(this.options.storageKey, JSON.stringify(Array.from(this._holds.keys())));
		} catch (e) { /* private mode */ }
	},

	_earliest() {
		let t = Infinity;
		this._holds.forEach((h) => { if (h.expiresAt) { t = Math.min(t, h.expiresAt); } });
		return t === Infinity ? 0 : t;
	},

	_timeLeftWords() {
		const t = this._earliest();
		if (!t) { return ''; }
		const s = Math.max(0, Math.round((t - Date.now()) / 1000));
		const m = Math.floor(s / 60);
		return `They are held for ${m ? m + ' minute' + (m === 1 ? '' : 's') : s + ' seconds'}.`;
	},

	// ---- the panel ----

	_build(container) {
		const root = DomUtil.create('section', 'seatmap-cart', container);
		root.setAttribute('aria-labelledby', 'seatmap-cart-heading');
		const h = DomUtil.create('h2', '', root);
		h.id = 'seatmap-cart-heading';
		h.textContent = 'Your seats';
		this._timerEl = DomUtil.create('p', 'seatmap-cart-timer', root);
		this._error = DomUtil.create('p', 'seatmap-error', root);
		this._error.hidden = true;
		this._empty = DomUtil.create('p', 'seatmap-cart-empty', root);
		this._empty.textContent = 'No seats yet. Tap an available seat on the map, use the list of seats, or let us pick the best ones.';
		this._list = DomUtil.create('ul', 'seatmap-cart-list', root);
		this._total = DomUtil.create('p', 'seatmap-cart-total', root);
		const actions = DomUtil.create('div', 'seatmap-cart-actions', root);
		this._extendBtn = button(actions, 'More time', () => this.extend());
		this._releaseAllBtn = button(actions, 'Release all', () => this.releaseAll());
		this._buildBest(root);
		this._root = root;
		this._render();
	},

	_buildBest(root) {
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
		for (const c of this._categories) {
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
			this.bestAvailable(parseInt(count.value, 10), cat.value).finally(() => { go.disabled = false; });
		});
	},

	_render() {
		if (!this._list) { return; }
		this._list.textContent = '';
		let total = 0;
		let n = 0;
		for (const hold of this._holds.values()) {
			for (const s of hold.seats) {
				n++;
				const li = DomUtil.create('li', 'seatmap-cart-item', this._list);
				const text = DomUtil.create('span', '', li);
				const price = this._info.priceCents(s.details) || 0;
				total += price;
				text.textContent = `${this._info.place(s.details)} — ${this._info.price(s.details)}`;
				const b = button(li, 'Release', () => this.release(s.index));
				b.setAttribute('aria-label', `Release ${this._info.place(s.details)}`);
			}
		}
		this._empty.hidden = n > 0;
		this._total.hidden = n === 0;
		this._total.textContent = `${n} seat${n === 1 ? '' : 's'}, total ${formatPrice(total, this.options.currency)}`;
		this._extendBtn.hidden = n === 0;
		this._releaseAllBtn.hidden = n === 0;
		this._renderTimer();
	},

	_renderTimer() {
		const t = this._earliest();
		if (!t) {
			this._timerEl.hidden = true;
			return;
		}
		const s = Math.max(0, Math.round((t - Date.now()) / 1000));
		this._timerEl.hidden = false;
		this._timerEl.textContent = `Held for ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
		this._timerEl.classList.toggle('seatmap-urgent', s < 60);
		// One spoken warning a minute before the end.
		if (s === 60) { this._announcer.announce('One minute left on your held seats.', {assertive: true}); }
	}
});

function button(parent, text, onClick) {
	const b = DomUtil.create('button', 'seatmap-button', parent);
	b.type = 'button';
	b.textContent = text;
	DomEvent.on(b, 'click', (e) => {
		DomEvent.stop(e);
		onClick();
	});
	return b;
}

// expires_at as ISO text, seconds or milliseconds since the epoch.
function parseTime(value) {
	if (value === undefined || value === null) { return 0; }
	if (typeof value === 'number') { return value > 1e12 ? value : value * 1000; }
	const n = Number(value);
	if (Number.isFinite(n)) { return n > 1e12 ? n : n * 1000; }
	const t = Date.parse(value);
	return Number.isFinite(t) ? t : 0;
}
