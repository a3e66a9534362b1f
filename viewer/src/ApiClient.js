import {Evented, Util} from 'leaflet';
import {SafeStorage} from './SafeStorage.js';

// Talks to the seatmap HTTP API for one event: map metadata, seat data, the
// buyer session and holds. Every failure becomes an ApiError whose message is
// plain words a buyer can act on; `code`, `status`, `seats`, `alternative` and
// `retryAfterS` carry the details for the code that shows it.
//
// Events: `session` {session} when a new buyer session was started (an embedding
// page keeps it so that the buyer's holds survive a reload of the frame).

export class ApiError extends Error {
	constructor(message, details) {
		super(message);
		this.name = 'ApiError';
		Object.assign(this, {status: 0, code: 'error', seats: [], alternative: null, retryAfterS: 0}, details);
	}
}

// Rule codes the lock service answers with (422) and what they mean to a buyer.
const RULE_WORDS = {
	max_seats_per_buyer: 'You already hold as many seats as one buyer may have for this event.',
	orphan_seat: 'That would leave a single empty seat beside your seats, which nobody could buy.',
	not_contiguous: 'Seats in one row must be next to each other.',
	accessible_only: 'This is a wheelchair or companion place, kept for buyers who need it.',
	unknown_seats: 'That seat does not exist in this venue.'
};

export const ApiClient = Evented.extend({
	// @option baseUrl: String = ''
	// Origin and path prefix of the API; empty means the page's own origin.
	// @option sessionStorageKey: String = 'seatmap:session'
	// Where the buyer session token is kept for this tab.
	// @option timeoutMs: Number = 15000
	// Requests taking longer than this fail with a "no answer" error.
	options: {
		baseUrl: '',
		sessionStorageKey: 'seatmap:session',
		timeoutMs: 15000
	},

	initialize(eventId, options) {
		Util.setOptions(this, options);
		this.eventId = eventId;
		this._store = new SafeStorage(this.options.sessionStorageKey);
		this._session = this._store.load();
		this._sessionPromise = null;
	},

	// The buyer session {token, buyer_id, expires_at}, or null before the first buyer call.
	session() {
		return this._session;
	},

	// Take over a buyer session handed in from outside (a partner page, a hand-off link).
	setSession(session) {
		if (!session || typeof session.token !== 'string') { return false; }
		this._session = session;
		this._store.save(session);
		return true;
	},

	eventUrl(path) {
		return `${this.options.baseUrl}/events/${this.eventId}${path}`;
	},

	// The event's TileJSON: the copy the page carries when it is this event's (same origin), else fetched.
	tileJson() {
		const inline = !this.options.baseUrl && document.getElementById('seatmap-tilejson');
		if (inline) {
			try {
				const doc = JSON.parse(inline.textContent);
				if (doc.event_id === this.eventId) { return Promise.resolve(doc); }
			} catch (e) { /* fetched below */ }
		}
		return this._json('GET', this.eventUrl('/tiles.json'));
	},

	// Seats whose centres lie in the venue-unit box, parsed from the binary format.
	async seatsBin(box, signal) {
		const bbox = box.map((v) => Math.round(v * 100) / 100).join(',');
		const response = await this._fetch('GET', this.eventUrl(`/seats.bin?bbox=${bbox}`), {signal});
		return response.arrayBuffer();
	},

	seatAt(x, y, r) {
		const q = `x=${x.toFixed(2)}&y=${y.toFixed(2)}&r=${r.toFixed(2)}`;
		return this._json('GET', this.eventUrl(`/seats/at?${q}`), {notFoundIsNull: true});
	},

	seat(index) {
		return this._json('GET', this.eventUrl(`/seats/${index}`));
	},

	async statusBytes() {
		const response = await this._fetch('GET', this.eventUrl('/status.bin'));
		return new Uint8Array(await response.arrayBuffer());
	},

	sections() {
		return this._json('GET', `${this.options.baseUrl}/events/${this.eventId}/sections.json`);
	},

	sectionRows(sectionIndex) {
		return this._json('GET', `${this.options.baseUrl}/events/${this.eventId}/sections/${sectionIndex}.json`);
	},

	streamUrl() {
		return this.eventUrl('/stream');
	},

	async hold(seatIds, extra) {
		return this._buyer('POST', this.eventUrl('/holds'), Object.assign({seats: seatIds}, extra || {}));
	},

	getHold(token) {
		return this._buyer('GET', this.eventUrl(`/holds/${encodeURIComponent(token)}`));
	},

	release(token, seatIds) {
		const body = seatIds ? {seats: seatIds} : undefined;
		return this._buyer('DELETE', this.eventUrl(`/holds/${encodeURIComponent(token)}`), body);
	},

	extend(token) {
		return this._buyer('POST', this.eventUrl(`/holds/${encodeURIComponent(token)}/extend`), {});
	},

	bestAvailable(request) {
		return this._buyer('POST', this.eventUrl('/best-available'), request);
	},

	// A buyer call: carries the session token, and gets a new session once if it expired.
	async _buyer(method, url, body) {
		const token = await this._ensureSession();
		try {
			return await this._json(method, url, {body, token});
		} catch (error) {
			if (error.status !== 401) { throw error; }
			this._session = null;
			const fresh = await this._ensureSession();
			return this._json(method, url, {body, token: fresh});
		}
	},

	async _ensureSession() {
		const s = this._session;
		if (s && Date.parse(s.expires_at) - Date.now() > 60000) { return s.token; }
		if (!this._sessionPromise) {
			this._sessionPromise = this._json('POST', `${this.options.baseUrl}/sessions`, {body: {}})
				.then((session) => {
					this.setSession(session);
					this.fire('session', {session});
					return session.token;
				})
				.finally(() => { this._sessionPromise = null; });
		}
		return this._sessionPromise;
	},

	async _json(method, url, opts) {
		const o = opts || {};
		let response;
		try {
			response = await this._fetch(method, url, o);
		} catch (error) {
			if (o.notFoundIsNull && error.status === 404) { return null; }
			throw error;
		}
		if (response.status === 204) { return null; }
		return response.json();
	},

	async _fetch(method, url, opts) {
		const o = opts || {};
		const headers = {};
		if (o.body !== undefined) { headers['Content-Type'] = 'application/json'; }
		if (o.token) { headers.Authorization = `Bearer ${o.token}`; }
		const timeout = new AbortController();
		const timer = setTimeout(() => timeout.abort(), this.options.timeoutMs);
		if (o.signal) { o.signal.addEventListener('abort', () => timeout.abort(), {once: true}); }
		let response;
		try {
			response = await fetch(url, {
				method,
				headers,
				body: o.body === undefined ? undefined : JSON.stringify(o.body),
				signal: timeout.signal
			});
		} catch (error) {
			if (o.signal && o.signal.aborted) { throw new ApiError('Cancelled.', {code: 'aborted'}); }
			const words = timeout.signal.aborted ?
				'The box office did not answer in time. Please try again.' :
				'We cannot reach the box office. Check your connection and try again.';
			this.fire('networkerror', {url});
			throw new ApiError(words, {code: 'network'});
		} finally {
			clearTimeout(timer);
		}
		if (!response.ok) {
			throw await this._error(response);
		}
		return response;
	},

	async _error(response) {
		let body = {};
		try { body = await response.json(); } catch (e) { /* not JSON: keep the status only */ }
		const status = response.status;
		const details = {
			status,
			code: body.error || 'error',
			seats: body.seats || [],
			alternative: body.alternative || null,
			detail: body.detail || ''
		};
		if (status === 429) {
			const retry = parseInt(response.headers.get('Retry-After') || body.retry_after_s || '5', 10);
			details.retryAfterS = Number.isFinite(retry) ? retry : 5;
			return new ApiError(`Too many tries in a short time. Please wait ${details.retryAfterS} seconds and try again.`, details);
		}
		if (status === 409 && details.code === 'no_seats_available') {
			return new ApiError('No seats together fit that request right now. Try fewer seats or another category.', details);
		}
		if (status === 409 && details.code === 'confirm_in_progress') {
			return new ApiError('Those seats are being paid for right now and cannot be changed.', details);
		}
		if (status === 409) {
			const names = details.seats.map((s) => (typeof s === 'object' ? s.label || s.id : s)).filter(Boolean);
			const which = names.length ? ` (${names.join(', ')})` : '';
			return new ApiError(`Sorry, someone else has just taken ${names.length > 1 ? 'those seats' : 'that seat'}${which}.`, details);
		}
		if (status === 422) {
			let words = RULE_WORDS[details.code] || (details.detail ? capitalise(details.detail) + '.' : 'That choice breaks a rule of this event.');
			const alt = details.alternative;
			if (alt) {
				const seats = Array.isArray(alt) ? alt : (alt.seats || [alt]);
				const labels = seats.map((s) => (typeof s === 'object' ? s.label || s.id : s)).filter(Boolean);
				if (labels.length) { words += ` Try ${labels.join(', ')} instead.`; }
			}
			return new ApiError(words, details);
		}
		if (status === 404 || status === 410) {
			if (details.code === 'hold_not_found' || details.code === 'hold_gone') {
				return new ApiError('That hold has ended: its time ran out or it was released.', details);
			}
			return new ApiError(status === 404 ? 'We could not find that. It may have been removed.' : 'That has ended.', details);
		}
		if (status === 401) {
			return new ApiError('Your session has ended. Please try again.', details);
		}
		if (status >= 500) {
			return new ApiError('The box office has a problem right now. Please try again in a moment.', details);
		}
		return new ApiError(details.detail ? capitalise(details.detail) + '.' : `The request failed (${status}).`, details);
	},
});

function capitalise(text) {
	const t = String(text).replace(/\.$/, '');
	return t.charAt(0).toUpperCase() + t.slice(1);
}
