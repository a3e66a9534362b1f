import {Evented, Util} from 'leaflet';
import {publicStatus} from './SeatStyle.js';

// The seats of the view, fetched from `seats.bin` in square cells of venue units
// and kept in flat typed arrays that the seat layers upload to the GPU as they
// are. A seat lives in one "slot"; the seats of one cell occupy consecutive
// slots, so a layer can draw or skip a whole cell with one range.
//
// seats.bin: 'SEAT', u32 version, u32 count, then count records of
// {u32 seat_index, f32 x, f32 y, f32 radius, u8 status, u8 category, u8 flags, u8 pad}.
//
// Events: `load` {slots: [first, end)} when seats were added; `statuschange`
// {first, end, indices} when statuses or the "mine" marks of slots changed.

const MAGIC = 0x54414553; // 'SEAT' read as a little-endian u32
const HEADER_BYTES = 12;
const RECORD_BYTES = 20;
// Changes seen on the live stream are re-applied to responses that may predate them.
const CHANGE_MEMORY_MS = 5000;

export const SeatStore = Evented.extend({
	// @option cellPx: Number = 256
	// Side of a cell in pixels at the detail zoom. Cells are also what the layers
	// cull by, so small cells mean few seats drawn off screen; requests join cells.
	// @option marginPx: Number = 256
	// Seats are fetched this far beyond the view, so a short pan finds them loaded.
	// @option maxRequestCells: Number = 1024
	// Most cells asked for in one request.
	options: {
		cellPx: 256,
		marginPx: 256,
		maxRequestCells: 1024
	},

	// grid: {width, height, scale0, detailZoom} of the event's pyramid.
	initialize(api, grid, options) {
		Util.setOptions(this, options);
		this._api = api;
		this.grid = grid;
		this.cellUnits = this.options.cellPx / (grid.scale0 * Math.pow(2, grid.detailZoom));
		this.cellsX = Math.max(1, Math.ceil(grid.width / this.cellUnits));
		this.cellsY = Math.max(1, Math.ceil(grid.height / this.cellUnits));
		this.count = 0;
		this.maxRadius = 0;
		this._capacity = 0;
		this._grow(4096);
		this.slotOf = new Int32Array(0);
		// Per cell: -1 not asked, -2 loading, else the first slot; cellCount holds the length.
		this.cellStart = new Int32Array(this.cellsX * this.cellsY).fill(-1);
		this.cellCount = new Int32Array(this.cellsX * this.cellsY);
		this._recent = [];
		this._mine = new Set();
		this.pending = 0;
	},

	// Fetch the cells touching the venue-unit box [x0, y0, x1, y1] plus the margin.
	// scale: pixels per venue unit now (for the margin); defaults to the detail zoom's.
	ensureBox(box, scale) {
		const m = this.options.marginPx / (scale || this.grid.scale0 * Math.pow(2, this.grid.detailZoom));
		const range = this.cellRange([box[0] - m, box[1] - m, box[2] + m, box[3] + m], 0);
		const requests = [];
		for (let cy = range[1]; cy <= range[3]; cy++) {
			let run = null;
			for (let cx = range[0]; cx <= range[2] + 1; cx++) {
				const missing = cx <= range[2] && this.cellStart[cy * this.cellsX + cx] === -1;
				if (missing && (!run || run[1] - run[0] + 1 < this.options.maxRequestCells)) {
					if (run) { run[1] = cx; } else { run = [cx, cx]; }
				} else {
					if (run) { requests.push([run[0], cy, run[1], cy]); }
					run = missing ? [cx, cx] : null;
				}
			}
		}
		return Promise.all(this._mergeRows(requests).map((r) => this._fetchCells(r)));
	},

	// The whole venue: what the benchmark loads to draw every seat.
	ensureAll() {
		return this.ensureBox([0, 0, this.grid.width, this.grid.height]);
	},

	cellRange(box, margin) {
		const m = margin || 0;
		const u = this.cellUnits;
		return [
			clamp(Math.floor(box[0] / u) - m, 0, this.cellsX - 1),
			clamp(Math.floor(box[1] / u) - m, 0, this.cellsY - 1),
			clamp(Math.floor(box[2] / u) + m, 0, this.cellsX - 1),
			clamp(Math.floor(box[3] / u) + m, 0, this.cellsY - 1)
		];
	},

	// Slot ranges [first, end) of the loaded cells touching the box, adjacent ones merged.
	rangesIn(box) {
		const pad = this.maxRadius;
		const range = this.cellRange([box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad], 0);
		const out = [];
		for (let cy = range[1]; cy <= range[3]; cy++) {
			for (let cx = range[0]; cx <= range[2]; cx++) {
				const c = cy * this.cellsX + cx;
				const first = this.cellStart[c];
				if (first < 0 || this.cellCount[c] === 0) { continue; }
				const end = first + this.cellCount[c];
				const last = out[out.length - 1];
				if (last && last[1] === first) { last[1] = end; } else { out.push([first, end]); }
			}
		}
		return out;
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

	// Requests of one cell row each; rows asking for the same columns are joined.
	_mergeRows(requests) {
		const out = [];
		for (const r of requests) {
			const last = out[out.length - 1];
			if (last && last[0] === r[0] && last[2] === r[2] && last[3] + 1 === r[1] &&
				(last[3] - last[1] + 2) * (r[2] - r[0] + 1) <= this.options.maxRequestCells) {
				last[3] = r[1];
			} else {
				out.push(r.slice());
			}
		}
		return out;
	},

	async _fetchCells(r) {
		const [cx0, cy0, cx1, cy1] = r;
		for (let cy = cy0; cy <= cy1; cy++) {
			for (let cx = cx0; cx <= cx1; cx++) { this.cellStart[cy * this.cellsX + cx] = -2; }
		}
		const u = this.cellUnits;
		const startedAt = performance.now();
		this.pending++;
		let buffer;
		try {
			buffer = await this._api.seatsBin([cx0 * u, cy0 * u, (cx1 + 1) * u, (cy1 + 1) * u]);
		} catch (error) {
			for (let cy = cy0; cy <= cy1; cy++) {
				for (let cx = cx0; cx <= cx1; cx++) { this.cellStart[cy * this.cellsX + cx] = -1; }
			}
			this.pending--;
			this.fire('error', {error});
			return;
		}
		this.pending--;
		// Live changes that arrived while the response was on its way win over it.
		this._add(buffer, r, this._recent.filter((entry) => entry.at >= startedAt - 1000));
	},

	_add(buffer, r, replay) {
		const view = new DataView(buffer);
		if (buffer.byteLength < HEADER_BYTES || view.getUint32(0, true) !== MAGIC) {
			this.fire('error', {error: new Error('seats.bin: bad magic')});
			return;
		}
		const n = Math.min(view.getUint32(8, true), Math.floor((buffer.byteLength - HEADER_BYTES) / RECORD_BYTES));
		const [cx0, cy0, cx1, cy1] = r;
		const cols = cx1 - cx0 + 1;
		const cellOf = new Int32Array(n);
		const perCell = new Int32Array(cols * (cy1 - cy0 + 1));
		const u = this.cellUnits;
		let maxIndex = 0;
		for (let k = 0; k < n; k++) {
			const o = HEADER_BYTES + k * RECORD_BYTES;
			const cx = clamp(Math.floor(view.getFloat32(o + 4, true) / u), cx0, cx1) - cx0;
			const cy = clamp(Math.floor(view.getFloat32(o + 8, true) / u), cy0, cy1) - cy0;
			cellOf[k] = cy * cols + cx;
			perCell[cellOf[k]]++;
			maxIndex = Math.max(maxIndex, view.getUint32(o, true));
		}
		this._ensureIndex(maxIndex + 1);
		this._grow(this.count + n);
		// Seats are laid out cell by cell; `cursor` is the next free slot of each cell.
		const first = this.count;
		const cursor = new Int32Array(perCell.length);
		let at = first;
		for (let c = 0; c < perCell.length; c++) { cursor[c] = at; at += perCell[c]; }
		const cellFirst = cursor.slice();
		let skipped = 0;
		for (let k = 0; k < n; k++) {
			const o = HEADER_BYTES + k * RECORD_BYTES;
			const seatIndex = view.getUint32(o, true);
			if (this.slotOf[seatIndex] >= 0) { skipped++; perCell[cellOf[k]]--; continue; }
			const s = cursor[cellOf[k]]++;
			this.slotOf[seatIndex] = s;
			this.index[s] = seatIndex;
			this.pos[s * 3] = view.getFloat32(o + 4, true);
			this.pos[s * 3 + 1] = view.getFloat32(o + 8, true);
			const radius = view.getFloat32(o + 12, true);
			this.pos[s * 3 + 2] = radius;
			if (radius > this.maxRadius) { this.maxRadius = radius; }
			this.attr[s * 4] = publicStatus(view.getUint8(o + 16));
			this.attr[s * 4 + 1] = view.getUint8(o + 17);
			this.attr[s * 4 + 2] = view.getUint8(o + 18);
			this.attr[s * 4 + 3] = this._mine.has(seatIndex) ? 1 : 0;
		}
		if (skipped) { this._compact(first, cellFirst, perCell, n); }
		for (let cy = cy0; cy <= cy1; cy++) {
			for (let cx = cx0; cx <= cx1; cx++) {
				const c = (cy - cy0) * cols + (cx - cx0);
				this.cellStart[cy * this.cellsX + cx] = cellFirst[c];
				this.cellCount[cy * this.cellsX + cx] = perCell[c];
			}
		}
		this.count = first + n - skipped;
		for (const entry of replay || []) { this._applyChanges(entry.changes, false); }
		this.fire('load', {first, end: this.count});
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

function clamp(v, lo, hi) {
	return v < lo ? lo : (v > hi ? hi : v);
}
