import {Evented} from 'leaflet';
import {publicStatus} from './SeatStyle.js';

// Keeps what the buyer sees in step with the live stream. A change reloads the
// raster tiles it marks dirty and recolours its seats in place: in the seat store,
// the status board and the cart. A reset, or a gap the stream cannot replay,
// reloads every tile and every status. A banner shows while the stream is down.
//
// Events: `seatschanged` {id, seats} after a change was applied; `statusesreloaded`
// after every status was fetched again.

export const LiveSync = Evented.extend({
	// live: a LiveUpdates; parts: {api, tiles, store (null in lite mode), statuses, cart, banner (element or null)}.
	initialize(live, parts) {
		this._api = parts.api;
		this._tiles = parts.tiles;
		this._store = parts.store || null;
		this._statuses = parts.statuses;
		this._cart = parts.cart;
		this._banner = parts.banner || null;
		live.on('change', this._onChange, this);
		live.on('reset resync', this._resync, this);
		live.on('open', () => this._showBanner(''));
		live.on('reconnecting', () => this._showBanner('Reconnecting to live seat updates…'));
	},

	_onChange(e) {
		this._tiles.markDirty(e.dirty, e.id);
		if (this._store) { this._store.applyChanges(e.seats); }
		this._statuses.applyChanges(e.seats);
		for (const [i, s] of e.seats) { this._cart.seatStatusChanged(i, publicStatus(s)); }
		this.fire('seatschanged', {id: e.id, seats: e.seats});
	},

	async _resync(e) {
		this._tiles.refreshAll(e && e.id);
		if (!this._store && !this._statuses.isRequested()) { return; }
		try {
			const fresh = await this._api.statusBytes();
			if (this._store) { this._store.resetStatuses(fresh); }
			this._statuses.replace(fresh);
			this.fire('statusesreloaded');
		} catch (error) {
			this._showBanner('Live seat updates are paused. Reload the page if this lasts.');
		}
	},

	_showBanner(text) {
		const el = this._banner;
		if (!el) { return; }
		el.textContent = text;
		el.hidden = !text;
	}
});
