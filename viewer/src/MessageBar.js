import {DomEvent, DomUtil, Evented, Util} from 'leaflet';

// The one place where the outcome of a tap, a key or a command is shown: a
// banner over the top of the map, so it is where the buyer is looking on every
// viewport (the panel may be folded away on a phone or in a small frame). Each
// message is said once by the screen reader (the banner itself is not a live
// region, so it is never read twice). A message may carry buttons that act on
// it ("Hold 112-F-9 instead", "More time"), and names the seats it is about, so
// that it can be cleared when one of them is free again.
//
// Events: `show` {text, kind}, `clear`.

export const MessageBar = Evented.extend({
	// @option infoMs: Number = 6000
	// Plain news ("Held for you") fades after this long; errors and warnings stay until
	// the situation changes or the buyer closes them.
	options: {
		infoMs: 6000
	},

	// parent: the element the banner is laid over (the map's holder); announcer: an Announcer.
	initialize(parent, announcer, options) {
		Util.setOptions(this, options);
		this._announcer = announcer;
		this._timer = null;
		this._current = null;
		const el = DomUtil.create('div', 'seatmap-message', parent);
		el.hidden = true;
		this._text = DomUtil.create('p', 'seatmap-message-text', el);
		this._actions = DomUtil.create('div', 'seatmap-message-actions', el);
		const close = DomUtil.create('button', 'seatmap-message-close', el);
		close.type = 'button';
		close.setAttribute('aria-label', 'Close message');
		close.textContent = '×';
		DomEvent.on(close, 'click', (e) => {
			DomEvent.stop(e);
			this.clear();
		});
		DomEvent.disableClickPropagation(el);
		DomEvent.disableScrollPropagation(el);
		this.el = el;
	},

	// Show a message. opts: {kind: 'error' | 'warning' | 'info', actions: [{label, run, primary}],
	// seats: [seat index] it is about, topic: a name to clear it by, quiet: do not announce}.
	show(text, opts) {
		const o = opts || {};
		const kind = o.kind || 'info';
		clearTimeout(this._timer);
		this._current = {text, kind, seats: new Set(o.seats || []), topic: o.topic || ''};
		this.el.className = `seatmap-message seatmap-message-${kind}`;
		this._text.textContent = text;
		this._actions.textContent = '';
		for (const action of o.actions || []) {
			const b = DomUtil.create('button', 'seatmap-button' + (action.primary ? ' seatmap-primary' : ''), this._actions);
			b.type = 'button';
			b.textContent = action.label;
			DomEvent.on(b, 'click', (e) => {
				DomEvent.stop(e);
				this.clear();
				action.run();
			});
		}
		this.el.hidden = false;
		if (!o.quiet) { this._announcer.announce(text, {assertive: kind !== 'info'}); }
		if (kind === 'info' && !(o.actions && o.actions.length)) {
			this._timer = setTimeout(() => this.clear(), this.options.infoMs);
		}
		this.fire('show', {text, kind});
		return this;
	},

	// Remove the message; with a topic, only a message of that topic.
	clear(topic) {
		if (!this._current || (topic && this._current.topic !== topic)) { return this; }
		clearTimeout(this._timer);
		this._current = null;
		this.el.hidden = true;
		this._text.textContent = '';
		this._actions.textContent = '';
		this.fire('clear');
		return this;
	},

	// Live changes [[seat index, status], ...]: a message about a seat that is free
	// again ("taken", "sold", "someone else has just taken it") no longer holds.
	seatsChanged(changes) {
		const c = this._current;
		if (!c || !c.seats.size) { return; }
		for (const [i, status] of changes) {
			if (status === 0 && c.seats.has(i)) {
				this.clear();
				return;
			}
		}
	},

	// {text, kind, topic} of the message on show, or null.
	current() {
		const c = this._current;
		return c ? {text: c.text, kind: c.kind, topic: c.topic} : null;
	}
});
