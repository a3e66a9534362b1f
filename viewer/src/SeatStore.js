import {Util} from 'leaflet';
import {SeatSlots} from './SeatSlots.js';
import {publicStatus} from './SeatStyle.js';

// The seats of the view, fetched from `seats.bin` in square cells of venue units
// and kept in the flat typed arrays of SeatSlots (which also patches them live).
// The seats of one cell occupy consecutive slots, so a layer can draw or skip a
// whole cell with one range.
//
// seats.bin: 'SEAT', u32 version, u32 count, then count records of
// {u32 seat_index, f32 x, f32 y, f32 radius, u8 status, u8 category, u8 flags, u8 pad}.
//
// Events: `load` {first, end} when slots [first, end) were added, and SeatSlots'
// `statuschange`.

const MAGIC = 0x54414553; // 'SEAT' read as a little-endian u32
const HEADER_BYTES = 12;
const RECORD_BYTES = 20;

export const SeatStore = SeatSlots.extend({
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
		SeatSlots.prototype.initialize.call(this);
		Util.setOptions(this, options);
		this._api = api;
		this.grid = grid;
		this.cellUnits = this.options.cellPx / (grid.scale0 * Math.pow(2, grid.detailZoom));
		this.cellsX = Math.max(1, Math.ceil(grid.width / this.cellUnits));
		this.cellsY = Math.max(1, Math.ceil(grid.height / this.cellUnits));
		// Per cell: -1 not asked, -2 loading, else the first slot; cellCount holds the length.
		this.cellStart = new Int32Array(this.cellsX * this.cellsY).fill(-1);
		this.cellCount = new Int32Array(this.cellsX * this.cellsY);
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
		this._add(buffer, r, this._changesSince(startedAt - 1000));
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
	}
});

function clamp(v, lo, hi) {
	return v < lo ? lo : (v > hi ? hi : v);
}
