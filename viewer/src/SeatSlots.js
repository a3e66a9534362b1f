import {Evented} from 'leaflet';
import {publicStatus} from './SeatStyle.js';

// The loaded seats in flat typed arrays that the seat layers upload to the GPU as
// they are, one "slot" per seat, and their live patching: statuses from the live
// stream (remembered a few seconds, to re-apply to responses that may predate them),
// a reset of every status, and the buyer's own seats ("mine"). SeatStore fills it.
//
// pos: x, y, radius per slot; attr: status, category, flags, mine per slot;
// index: the seat index of a slot; slotOf: the slot of a seat index (-1: not loaded).
//
// Events: `statuschange` {first, end, indices} when statuses or the "mine" marks of
// slots [first, end) changed (indices: the seats, or null when not listed).

// Changes seen on the live stream are re-applied to responses that may predate them.
const CHANGE_MEMORY_MS = 5000;

export const SeatSlots = Evented.extend({
	initialize() {
		this.count = 0;
		this.maxRadius = 0;
		this._capacity = 0;
		this._grow(4096);
		this.slotOf = new Int32Array(0);
		this._recent = [];
		this._mine = new Set();
	},

	statusOf(seatIndex) {
		const slot = seatIndex < this.slotOf.length ? this.slotOf[seatIndex] : -1;
		return slot >= 0 ? this.attr[slot * 4] : undefined;
	},

	slotOfSeat(seatIndex) {
		return seatIndex < this.slotOf.length ? this.slotOf[seatIndex] : -1;
	},

	// Apply live changes [[seat_index, status], ...] to the loaded seats.
	applyChanges(changes) {
		const now = performance.now();
		this._recent.push({at: now, changes});
		while (this._recent.length && now - this._recent[0].at > CHANGE_MEMORY_MS) { this._recent.shift(); }
		this._applyChanges(changes, true);
	},

	// Replace every loaded status from a full status array (after a reset).
	resetStatuses(statusBytes) {
		for (let s = 0; s < this.count; s++) {
			const i = this.index[s];
			if (i < statusBytes.length) { this.attr[s * 4] = publicStatus(statusBytes[i]); }
		}
		this._recent = [];
		this.fire('statuschange', {first: 0, end: this.count, indices: null});
	},

	// Mark which seats the buyer holds (drawn as "mine").
	setMine(indices) {
		const next = new Set(indices);
		let first = this.count;
		let end = 0;
		const touch = (i, value) => {
			const slot = this.slotOfSeat(i);
			if (slot < 0) { return; }
			this.attr[slot * 4 + 3] = value;
			first = Math.min(first, slot);
			end = Math.max(end, slot + 1);
		};
		this._mine.forEach((i) => { if (!next.has(i)) { touch(i, 0); } });
		next.forEach((i) => { if (!this._mine.has(i)) { touch(i, 1); } });
		this._mine = next;
		if (end > first) { this.fire('statuschange', {first, end, indices: null}); }
	},

	isMine(seatIndex) {
		return this._mine.has(seatIndex);
	},

	_applyChanges(changes, notify) {
		let first = this.count;
		let end = 0;
		const touched = [];
		for (let k = 0; k < changes.length; k++) {
			const seatIndex = changes[k][0];
			const slot = this.slotOfSeat(seatIndex);
			if (slot < 0) { continue; }
			this.attr[slot * 4] = publicStatus(changes[k][1]);
			touched.push(seatIndex);
			if (slot < first) { first = slot; }
			if (slot + 1 > end) { end = slot + 1; }
		}
		if (notify && end > first) { this.fire('statuschange', {first, end, indices: touched}); }
	},

	// The live changes seen since `since` (performance.now() time), oldest first.
	_changesSince(since) {
		return this._recent.filter((entry) => entry.at >= since);
	},

	// Close the holes left by seats already loaded from another request.
	_compact(first, cellFirst, perCell, n) {
		let write = first;
		let read = first;
		for (let c = 0; c < perCell.length; c++) {
			const start = read;
			// Cells were sized before duplicates were dropped; their holes sit at each cell's end.
			const sized = (c + 1 < cellFirst.length ? cellFirst[c + 1] : first + n) - start;
			cellFirst[c] = write;
			for (let k = 0; k < perCell[c]; k++) {
				const from = start + k;
				if (from !== write) {
					this.index[write] = this.index[from];
					this.slotOf[this.index[write]] = write;
					this.pos.copyWithin(write * 3, from * 3, from * 3 + 3);
					this.attr.copyWithin(write * 4, from * 4, from * 4 + 4);
				}
				write++;
			}
			read = start + sized;
		}
	},

	_ensureIndex(size) {
		if (size <= this.slotOf.length) { return; }
		const next = new Int32Array(Math.max(size, this.slotOf.length * 2)).fill(-1);
		next.set(this.slotOf);
		this.slotOf = next;
	},

	_grow(size) {
		if (size <= this._capacity) { return; }
		const capacity = Math.max(size, this._capacity * 2);
		const pos = new Float32Array(capacity * 3);
		const attr = new Uint8Array(capacity * 4);
		const index = new Uint32Array(capacity);
		if (this.pos) {
			pos.set(this.pos);
			attr.set(this.attr);
			index.set(this.index);
		}
		// pos: x, y, radius per slot; attr: status, category, flags, mine per slot.
		this.pos = pos;
		this.attr = attr;
		this.index = index;
		this._capacity = capacity;
	}
});
