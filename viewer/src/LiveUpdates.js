import {Evented, Util} from 'leaflet';

// Follows the event's server-sent event stream. The browser's EventSource
// reconnects by itself after a drop and sends Last-Event-ID, so the server
// replays exactly what was missed. If the stream fails for good (the server
// answered with an error), a new EventSource is opened after a back-off, asking
// to resume from the last id; since that resume cannot be taken for granted,
// listeners are also told to resync. So are they after a drop that came before
// any message: the stream gives no id on connect, so there is nothing to resume.
//
// Events: `change` {id, seats: [[index, status], ...], dirty: {z: [[x0,y0,x1,y1]]}};
// `reset` {id} (reload every status); `open`; `reconnecting` {attempt};
// `resync` (reload statuses: changes may have been missed).

export const LiveUpdates = Evented.extend({
	// @option backoffMs: Array = [1000, 2000, 5000, 10000]
	// Delays before re-opening a stream that failed for good.
	options: {
		backoffMs: [1000, 2000, 5000, 10000]
	},

	initialize(url, options) {
		Util.setOptions(this, options);
		this._url = url;
		this.lastEventId = '';
		this.connected = false;
		this._attempt = 0;
		this._source = null;
		this._timer = null;
		this._stopped = true;
		this._dropped = false;
	},

	start() {
		this._stopped = false;
		this._open(false);
		return this;
	},

	stop() {
		this._stopped = true;
		clearTimeout(this._timer);
		if (this._source) { this._source.close(); }
		this._source = null;
		this.connected = false;
		return this;
	},

	_open(resume) {
		let url = this._url;
		if (resume && this.lastEventId) {
			url += (url.indexOf('?') < 0 ? '?' : '&') + 'last_event_id=' + encodeURIComponent(this.lastEventId);
		}
		const source = new EventSource(url);
		this._source = source;
		let reopened = resume;
		source.onopen = () => {
			this.connected = true;
			this._attempt = 0;
			this.fire('open');
			// Back after a drop with no id to resume from (no message had come yet), or on a
			// new EventSource whose resume cannot be taken for granted: reload everything.
			if (reopened || (this._dropped && !this.lastEventId)) {
				reopened = false;
				this.fire('resync');
			}
			this._dropped = false;
		};
		source.onmessage = (e) => this._onMessage(e);
		source.addEventListener('reset', (e) => {
			if (e.lastEventId) { this.lastEventId = e.lastEventId; }
			this.fire('reset', {id: e.lastEventId});
		});
		source.onerror = () => {
			if (this._stopped || source !== this._source) { return; }
			const wasConnected = this.connected;
			this.connected = false;
			this._dropped = true;
			if (source.readyState === EventSource.CONNECTING) {
				// The browser retries on its own, with Last-Event-ID.
				this.fire('reconnecting', {attempt: ++this._attempt, wasConnected});
				return;
			}
			source.close();
			const delays = this.options.backoffMs;
			const delay = delays[Math.min(this._attempt, delays.length - 1)];
			this.fire('reconnecting', {attempt: ++this._attempt, wasConnected});
			clearTimeout(this._timer);
			this._timer = setTimeout(() => { if (!this._stopped) { this._open(true); } }, delay);
		};
	},

	_onMessage(e) {
		if (e.lastEventId) { this.lastEventId = e.lastEventId; }
		let data;
		try {
			data = JSON.parse(e.data);
		} catch (error) {
			return;
		}
		this.fire('change', {id: e.lastEventId, seats: data.seats || [], dirty: data.dirty || {}});
	}
});
