import {DomUtil, Layer, Util} from 'leaflet';

// What the WebGL seat layer and its Canvas 2D baseline share: a canvas the size
// of the map that follows pans, pinches and zoom animations, redrawn from a
// SeatStore on every move so seats stay exact at the edges while panning.
// Subclasses implement _initContext(canvas), _resizeContext(w, h, dpr),
// _upload(first, end) and _draw(view) -> number of seats drawn.
//
// Events: `drawn` {seats, ms} after each frame that drew seats.

export const SeatLayerBase = Layer.extend({
	// @option pane: String = 'overlayPane'
	// Map pane the canvas is put in (the viewer uses its own pane above the tiles).
	// @option minZoom: Number = 0
	// Below this zoom the layer draws nothing (the raster tiles show the seats).
	// @option maxDevicePixelRatio: Number = 2
	// Canvas resolution cap; beyond 2 the cost grows faster than anyone sees.
	// @option hollowAvailable: Boolean = true
	// Draw available seats as their rim only: the detail tiles underneath already show
	// them with their seat numbers. Taken, yours and not-for-sale seats are opaque.
	options: {
		pane: 'overlayPane',
		minZoom: 0,
		maxDevicePixelRatio: 2,
		hollowAvailable: true
	},

	initialize(store, options) {
		Util.setOptions(this, options);
		this.store = store;
		this.frames = 0;
		this.lastDrawMs = 0;
		this.drawnSeats = 0;
		this._frameRequest = null;
	},

	onAdd(map) {
		this._canvas = DomUtil.create('canvas', 'seatmap-seat-canvas leaflet-zoom-animated');
		this._canvas.setAttribute('aria-hidden', 'true');
		this.getPane().appendChild(this._canvas);
		this._initContext(this._canvas);
		this.store.on('load', this._onLoad, this);
		this.store.on('statuschange', this._onStatusChange, this);
		this._resize();
		this._upload(0, this.store.count);
		this._update();
	},

	onRemove() {
		this.store.off('load', this._onLoad, this);
		this.store.off('statuschange', this._onStatusChange, this);
		if (this._frameRequest) { Util.cancelAnimFrame(this._frameRequest); }
		this._releaseContext();
		DomUtil.remove(this._canvas);
		this._canvas = null;
	},

	getEvents() {
		const events = {
			viewreset: this._update,
			zoom: this._update,
			move: this._update,
			moveend: this._update,
			zoomend: this._update,
			resize: this._resize
		};
		if (this._map.options.zoomAnimation) { events.zoomanim = this._animateZoom; }
		return events;
	},

	// Draw on the next animation frame (several changes in one frame draw once).
	redraw() {
		this._stale = true;
		if (!this._frameRequest && this._map) {
			this._frameRequest = Util.requestAnimFrame(() => {
				this._frameRequest = null;
				this._update();
			});
		}
		return this;
	},

	isVisibleAtZoom(zoom) {
		return zoom >= this.options.minZoom;
	},

	_onLoad(e) {
		if (!this._canvas) { return; }
		this._upload(e.first, e.end);
		this.redraw();
	},

	_onStatusChange(e) {
		if (!this._canvas) { return; }
		this._uploadStatus(e.first, e.end);
		this.redraw();
	},

	_resize() {
		const size = this._map.getSize();
		const dpr = Math.min(window.devicePixelRatio || 1, this.options.maxDevicePixelRatio);
		this._dpr = dpr;
		this._canvas.width = Math.round(size.x * dpr);
		this._canvas.height = Math.round(size.y * dpr);
		this._canvas.style.width = size.x + 'px';
		this._canvas.style.height = size.y + 'px';
		this._resizeContext(this._canvas.width, this._canvas.height, dpr);
		this._stale = true;
		this._update();
	},

	_update() {
		const map = this._map;
		if (!map || !this._canvas || map._animatingZoom) { return; }
		const zoom = map.getZoom();
		this._zoom = zoom;
		this._center = map.getCenter();
		const topLeft = map.containerPointToLayerPoint([0, 0]);
		DomUtil.setPosition(this._canvas, topLeft);
		if (!this.isVisibleAtZoom(zoom)) {
			this._canvas.style.visibility = 'hidden';
			this.drawnSeats = 0;
			this._drawnKey = '';
			return;
		}
		this._canvas.style.visibility = '';
		// Venue units -> canvas pixels: px = (u - origin) * scale.
		const scale = map.options.crs.scale(zoom) * this.store.grid.scale0;
		const originPx = map.getPixelOrigin().add(topLeft);
		const size = map.getSize();
		const view = {
			scale,
			originX: originPx.x / scale,
			originY: originPx.y / scale,
			width: size.x,
			height: size.y,
			dpr: this._dpr,
			zoom
		};
		view.box = [view.originX, view.originY, view.originX + size.x / scale, view.originY + size.y / scale];
		// move, moveend and zoomend often describe the same view: draw it once.
		const key = `${view.originX},${view.originY},${scale},${size.x},${size.y},${view.dpr}`;
		if (key === this._drawnKey && !this._stale) { return; }
		this._drawnKey = key;
		this._stale = false;
		const started = performance.now();
		this.drawnSeats = this._draw(view);
		this.lastDrawMs = performance.now() - started;
		this.frames++;
		if (this.drawnSeats > 0) { this.fire('drawn', {seats: this.drawnSeats, ms: this.lastDrawMs}); }
	},

	// During a zoom animation the canvas is scaled like the tiles, then redrawn at the end.
	_animateZoom(e) {
		if (!this._center) { return; }
		const map = this._map;
		const scale = map.getZoomScale(e.zoom, this._zoom);
		const viewHalf = map.getSize().multiplyBy(0.5);
		const offset = viewHalf.multiplyBy(-scale).add(map.project(this._center, e.zoom))
			.subtract(map._getNewPixelOrigin(e.center, e.zoom));
		DomUtil.setTransform(this._canvas, offset, scale);
	},

	_releaseContext() {},
	_uploadStatus(first, end) { this._upload(first, end); }
});
