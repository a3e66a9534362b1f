import {SeatLayerBase} from './SeatLayerBase.js';
import {drawSeat} from './SeatStyle.js';

// The benchmark's baseline: the same seats as SeatLayer, the same shapes (the
// same drawSeat function) and the same "redraw on every move" behaviour, drawn
// with Canvas 2D paths. It culls seats outside the view before drawing, as any
// sensible 2D renderer would.

export const CanvasSeatLayer = SeatLayerBase.extend({
	// @option categories: Array = []
	// The event's categories [{index, color}], for the colour of available seats.
	options: {
		categories: []
	},

	_initContext(canvas) {
		this._ctx = canvas.getContext('2d');
		this._catColor = [];
		for (const cat of this.options.categories) { this._catColor[cat.index] = cat.color; }
	},

	_resizeContext() {},
	_upload() {},
	_uploadStatus() {},

	_draw(view) {
		const ctx = this._ctx;
		const dpr = view.dpr;
		ctx.setTransform(1, 0, 0, 1, 0, 0);
		ctx.clearRect(0, 0, this._canvas.width, this._canvas.height);
		ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
		const store = this.store;
		const pos = store.pos;
		const attr = store.attr;
		const [bx0, by0, bx1, by1] = view.box;
		const s = view.scale;
		let drawn = 0;
		for (const [first, end] of store.rangesIn(view.box)) {
			for (let k = first; k < end; k++) {
				const x = pos[k * 3];
				const y = pos[k * 3 + 1];
				const ru = pos[k * 3 + 2] * 1.35;
				if (x + ru < bx0 || x - ru > bx1 || y + ru < by0 || y - ru > by1) { continue; }
				drawSeat(ctx, (x - view.originX) * s, (y - view.originY) * s, pos[k * 3 + 2] * s,
					attr[k * 4], this._catColor[attr[k * 4 + 1]] || '#808080', attr[k * 4 + 2], attr[k * 4 + 3],
					this.options.hollowAvailable);
				drawn++;
			}
		}
		return drawn;
	},

	// Wait until the canvas has really been painted (the benchmark's honest frame time).
	finish() {
		if (this._ctx) { this._ctx.getImageData(0, 0, 1, 1); }
	}
});
