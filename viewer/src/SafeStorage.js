import {Class} from 'leaflet';

// One JSON value kept in the tab's sessionStorage under a key, or in memory
// where the browser forbids storage: a third-party iframe with third-party
// storage blocked throws on the very access to `window.sessionStorage`. Holds
// then survive a reload only when the embedding page hands them back (see
// EmbedBridge), which is why nothing here ever fails.

export const SafeStorage = Class.extend({
	initialize(key, fallback) {
		this.key = key;
		this._fallback = fallback === undefined ? null : fallback;
		this._memory = undefined;
		this.persistent = storageWorks();
	},

	// The value saved last (from storage when it works), or the fallback.
	load() {
		if (this._memory !== undefined) { return this._memory; }
		try {
			const raw = window.sessionStorage.getItem(this.key);
			return raw ? JSON.parse(raw) : this._fallback;
		} catch (e) {
			return this._fallback;
		}
	},

	save(value) {
		this._memory = value;
		try {
			window.sessionStorage.setItem(this.key, JSON.stringify(value));
		} catch (e) { /* storage blocked or full: memory only */ }
	}
});

function storageWorks() {
	try {
		const s = window.sessionStorage;
		s.setItem('seatmap:probe', '1');
		s.removeItem('seatmap:probe');
		return true;
	} catch (e) {
		return false;
	}
}
