import {Class, Util} from 'leaflet';

// Finds the seat under a tap or the mouse among the loaded seats: the nearest
// seat centre within `radiusPx` screen pixels (22 px: a 44 px touch target, as
// WCAG 2.5.5 asks), or within the seat itself when it is drawn larger. Seats
// are bucketed on a grid of venue units as they load, so a pick looks at a few
// buckets instead of every seat.

export const SeatPicker = Class.extend({
	// @option radiusPx: Number = 22
	// Pick radius around a tap, in CSS pixels.
	// @option bucketsPerCell: Number = 4
	// Buckets across one fetch cell of the store.
	options: {
		radiusPx: 22,
		bucketsPerCell: 4
	},

	initialize(store, options) {
		Util.setOptions(this, options);
		this._store = store;
		this._bucketUnits = store.cellUnits / this.options.bucketsPerCell;
		this._cols = Math.ceil(store.grid.width / this._bucketUnits) + 1;
		this._buckets = new Map();
		this._indexed = 0;
		store.on('load', this._reindex, this);
	},

	// The slot of the seat nearest (x, y) in venue units within the pick radius, or -1.
	// scale: CSS pixels per venue unit at the current zoom.
	pick(x, y, scale, radiusPx) {
		this._reindex();
		const store = this._store;
		const reach = (radiusPx === undefined ? this.options.radiusPx : radiusPx) / scale;
		const search = reach + store.maxRadius;
		const b = this._bucketUnits;
		let best = -1;
		let bestD = Infinity;
		for (let by = Math.floor((y - search) / b); by <= Math.floor((y + search) / b); by++) {
			for (let bx = Math.floor((x - search) / b); bx <= Math.floor((x + search) / b); bx++) {
				const bucket = this._buckets.get(by * this._cols + bx);
				if (!bucket) { continue; }
				for (let k = 0; k < bucket.length; k++) {
					const s = bucket[k];
					const dx = store.pos[s * 3] - x;
					const dy = store.pos[s * 3 + 1] - y;
					const d = Math.sqrt(dx * dx + dy * dy);
					// Within the tap radius of the centre, or on the seat itself.
					if (d <= Math.max(reach, store.pos[s * 3 + 2]) && d < bestD) {
						best = s;
						bestD = d;
					}
				}
			}
		}
		return best;
	},

	// Slots of the seats whose centres lie within `radiusPx` of (x, y), nearest first.
	near(x, y, scale, radiusPx) {
		this._reindex();
		const store = this._store;
		const reach = radiusPx / scale;
		const b = this._bucketUnits;
		const found = [];
		for (let by = Math.floor((y - reach) / b); by <= Math.floor((y + reach) / b); by++) {
			for (let bx = Math.floor((x - reach) / b); bx <= Math.floor((x + reach) / b); bx++) {
				for (const s of this._buckets.get(by * this._cols + bx) || []) {
					const d = Math.hypot(store.pos[s * 3] - x, store.pos[s * 3 + 1] - y);
					if (d <= reach) { found.push([d, s]); }
				}
			}
		}
		return found.sort((a, c) => a[0] - c[0]).map((f) => f[1]);
	},

	// Buckets are rebuilt when the store compacted slots; otherwise new slots are added.
	_reindex() {
		const store = this._store;
		if (this._indexed > store.count) {
			this._buckets.clear();
			this._indexed = 0;
		}
		const b = this._bucketUnits;
		for (let s = this._indexed; s < store.count; s++) {
			const key = Math.floor(store.pos[s * 3 + 1] / b) * this._cols + Math.floor(store.pos[s * 3] / b);
			let bucket = this._buckets.get(key);
			if (!bucket) {
				bucket = [];
				this._buckets.set(key, bucket);
			}
			bucket.push(s);
		}
		this._indexed = store.count;
	}
});
