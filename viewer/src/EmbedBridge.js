import {Class} from 'leaflet';

// The embed's postMessage API (version 1), for the partner page around the
// iframe. The partner page owns the buyer session: the frame tells it every
// change of the cart (with the session and hold tokens), and after a reload the
// partner hands them back with `setSession`, so holds survive without any
// third-party storage. Messages go only to the partner's origin (`?origin=` on
// the embed URL, else the origin of the page that loaded the frame) and only
// commands from the parent window at that origin are obeyed.
//
// Every message is {protocol: 'seatmap', version: 1, type, ...}.
// Events (frame to partner): ready, session, seatheld, seatreleased, cartchanged,
// holdexpiring, holdexpired, checkout, result (the answer to a command with an id).
// Commands (partner to frame): setSession {session, holds}, showSection {section},
// bestAvailable {count, category}, releaseAll.

export const PROTOCOL = 'seatmap';
export const VERSION = 1;

export const EmbedBridge = Class.extend({
	// viewer: a started SeatmapViewer; target: the parent window; origin: the partner's origin.
	initialize(viewer, target, origin) {
		this._viewer = viewer;
		this._target = target;
		this.origin = origin;
		this._onMessage = this._onMessage.bind(this);
		window.addEventListener('message', this._onMessage);
		const cart = viewer.cart;
		cart.on('seatheld', (e) => this.post('seatheld', {seat: seatOf(e)}));
		cart.on('seatreleased', (e) => this.post('seatreleased', {seat: seatOf(e)}));
		cart.on('change', () => this.post('cartchanged', this._cart()));
		cart.on('holdexpiring', (e) => this.post('holdexpiring', {seconds_left: e.secondsLeft, can_extend: e.canExtend}));
		cart.on('holdexpired', (e) => this.post('holdexpired', {seats: e.seats, places: e.labels}));
		viewer.api.on('session', (e) => this.post('session', {session: e.session}));
	},

	// Tell the partner page that the frame is ready for commands.
	ready() {
		this.post('ready', Object.assign({event_id: this._viewer.options.eventId}, this._cart()));
	},

	// The buyer pressed "Continue": the partner takes them to its checkout.
	checkout() {
		this.post('checkout', this._cart());
	},

	post(type, data) {
		if (!this._target || !this.origin) { return; }
		this._target.postMessage(Object.assign({protocol: PROTOCOL, version: VERSION, type}, data || {}), this.origin);
	},

	remove() {
		window.removeEventListener('message', this._onMessage);
	},

	_cart() {
		const viewer = this._viewer;
		const cart = viewer.cart;
		return {
			seats: cart.seats().map((s) => ({index: s.index, label: s.label, place: viewer.info.place(s.details),
				price_cents: viewer.info.priceCents(s.details)})),
			total_cents: cart.totalCents(),
			currency: viewer.currency,
			holds: cart.tokens(),
			seconds_left: cart.secondsLeft(),
			session: viewer.api.session()
		};
	},

	async _onMessage(e) {
		const m = e.data;
		if (e.source !== this._target || e.origin !== this.origin) { return; }
		if (!m || m.protocol !== PROTOCOL || typeof m.type !== 'string') { return; }
		if (m.version !== VERSION) {
			this._answer(m, false, `unsupported version ${m.version}; this frame speaks version ${VERSION}`);
			return;
		}
		const viewer = this._viewer;
		try {
			switch (m.type) {
			case 'setSession':
				if (!viewer.api.setSession(m.session)) { throw new Error('setSession needs session.token'); }
				await viewer.cart.restore(Array.isArray(m.holds) ? m.holds.filter((t) => typeof t === 'string') : []);
				break;
			case 'showSection':
				if (!(await viewer.showSection(m.section))) { throw new Error(`no section ${m.section}`); }
				break;
			case 'bestAvailable':
				await viewer.bestAvailable(parseInt(m.count, 10) || 2, m.category);
				break;
			case 'releaseAll':
				await viewer.releaseAll();
				break;
			default:
				throw new Error(`unknown command ${m.type}`);
			}
			this._answer(m, true, '');
		} catch (error) {
			this._answer(m, false, error.message || String(error));
		}
	},

	_answer(m, ok, detail) {
		this.post('result', {id: m.id === undefined ? null : m.id, command: m.type, ok, detail});
	}
});

function seatOf(e) {
	return {index: e.index, label: e.label, place: e.place};
}
