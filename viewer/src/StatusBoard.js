import {Class} from 'leaflet';
import {publicStatus} from './SeatStyle.js';

// Every seat's public status, for the keyboard and list views: `status.bin` is
// fetched on first use and then kept current from the live stream. A seat the
// seat store has loaded is answered from the store, which the stream updates too.

export const StatusBoard = Class.extend({
	// store: the full viewer's SeatStore, or null in lite mode.
	initialize(api, store) {
		this._api = api;
		this._store = store || null;
		this._bytes = null;
	},

	// A promise of the status bytes, one per seat index; asked for again after a failure.
	load() {
		if (!this._bytes) {
			this._bytes = this._api.statusBytes();
			this._bytes.catch(() => { this._bytes = null; });
		}
		return this._bytes;
	},

	// Whether the bytes have been asked for: only then are they kept current.
	isRequested() {
		return !!this._bytes;
	},

	// A promise of one seat's status.
	async statusOf(seatIndex) {
		if (this._store) {
			const s = this._store.statusOf(seatIndex);
			if (s !== undefined) { return s; }
		}
		const bytes = await this.load();
		return bytes[seatIndex];
	},

	// changes: [[seat index, status], ...] from the live stream.
	applyChanges(changes) {
		if (!this._bytes) { return; }
		this._bytes.then((bytes) => {
			for (const [i, s] of changes) { if (i < bytes.length) { bytes[i] = publicStatus(s); } }
		});
	},

	// Every status fetched again; kept only if the bytes had been asked for.
	replace(bytes) {
		if (this._bytes) { this._bytes = Promise.resolve(bytes); }
	}
});
