import {CRS, DomEvent, DomUtil, Evented, Map as LeafletMap, Transformation, Util, control, extend, latLngBounds, tooltip} from 'leaflet';
import {Announcer} from './Announcer.js';
import {ApiClient} from './ApiClient.js';
import {HoldCart} from './HoldCart.js';
import {KeyboardNav} from './KeyboardNav.js';
import {Legend} from './Legend.js';
import {LiveTileLayer} from './LiveTileLayer.js';
import {LiveUpdates} from './LiveUpdates.js';
import {MineMarkers} from './MineMarkers.js';
import {SectionList} from './SectionList.js';
import {SeatInfo} from './SeatInfo.js';
import {FLAG, STATUS, publicStatus, statusCode, statusName} from './SeatStyle.js';
import {VenueSections} from './VenueSections.js';

// Wires the viewer together: the Leaflet map of the event's raster tiles, the
// seat layer at detail zoom (full mode), taps and keyboard that hold seats, the
// cart, live updates, and the accessible list view. In lite mode (chosen by
// `?lite=1` or when WebGL is missing) there is no seat layer: a tap asks the
// server which seat is there.
//
// Events: `ready` {tileJson}, `firsttiles` {ms}, `seatsdrawn` {ms, seats},
// `seatschanged` {id, seats}, plus the cart's `seatheld` / `seatreleased`.

export const SeatmapViewer = Evented.extend({
	// @option eventId: Number = null
	// The event to show.
	// @option lite: Boolean = false
	// Raster only: no WebGL seat layer, taps are looked up on the server.
	// @option apiBase: String = ''
	// Origin of the API when it is not the page's own.
	// @option embed: Boolean = false
	// The compact page partner sites put in an iframe.
	// @option pickRadiusPx: Number = 22
	// Tap radius around a seat (a 44 px target).
	// @option tapDelayMs: Number = 250
	// A single tap below the detail zoom waits this long in case it is a double tap.
	// @option hires: Boolean = devicePixelRatio >= 1.5
	// Ask for @2x tiles.
	// @option webp: Boolean = (detected)
	// Ask for WebP tiles.
	// @option seatLayer: Object = null
	// Full mode's parts: {Store, Layer, Picker} classes (the lite bundle has none).
	options: {
		eventId: null,
		lite: false,
		apiBase: '',
		embed: false,
		pickRadiusPx: 22,
		tapDelayMs: 250,
		hires: null,
		webp: null,
		seatLayer: null
	},

	// elements: {map, panel, toolbar, banner, live} DOM elements of the page.
	initialize(elements, options) {
		Util.setOptions(this, options);
		this.el = elements;
		this.metrics = {};
		this._statusBoard = null;
		this._hover = -1;
		this._tapTimer = null;
		this._placeCache = new Map();
	},

	async start() {
		const o = this.options;
		this.metrics.startMs = performance.now();
		this.announcer = new Announcer(this.el.live || document.body);
		this.api = new ApiClient(o.eventId, {baseUrl: o.apiBase});
		let tileJson;
		try {
			tileJson = await this.api.tileJson();
		} catch (error) {
			this._fatal(`This seat map cannot be shown: ${error.message}`);
			throw error;
		}
		this.tileJson = tileJson;
		this.categories = tileJson.categories || [];
		this.currency = tileJson.currency || 'EUR';
		this.grid = await this._grid(tileJson);
		this._buildMap(tileJson);
		this.info = new SeatInfo(this.api, this.categories, {currency: this.currency});
		this.sections = new VenueSections(this.api);
		this.cart = new HoldCart(this.api, this.info, this.announcer, this.el.panel, this.categories,
			{storageKey: `seatmap:holds:${o.eventId}`, currency: this.currency});
		this.mineMarkers = new MineMarkers((indices) => this._places(indices),
			{hideAtZoom: this.options.lite ? Infinity : this.grid.detailZoom}).addTo(this.map);
		this.cart.on('change', this._onCartChange, this);
		this.cart.on('seatheld seatreleased', (e) => this.fire(e.type, e));
		if (!o.lite && o.seatLayer) { this._buildSeatLayer(); }
		this._buildControls();
		this.keyboard = new KeyboardNav(this.map, this);
		this.keyboard.enable();
		this._buildLive();
		this.map.on('click', this._onTap, this);
		this.map.on('dblclick', () => { clearTimeout(this._tapTimer); });
		this.cart.restore();
		this.fire('ready', {tileJson});
		return this;
	},

	// The whole venue in view.
	fitVenue(animate) {
		this.map.fitBounds(this.venueBounds, {animate: !!animate, padding: [8, 8]});
	},

	// Seat statuses for the keyboard and list views: status.bin once, then kept current.
	statusBoard() {
		if (!this._statusBoard) {
			this._statusBoard = this.api.statusBytes();
			this._statusBoard.catch(() => { this._statusBoard = null; });
		}
		return this._statusBoard;
	},

	async statusOf(seatIndex) {
		if (this.store) {
			const s = this.store.statusOf(seatIndex);
			if (s !== undefined) { return s; }
		}
		const board = await this.statusBoard();
		return board[seatIndex];
	},

	// Seat details from a row of VenueSections, in the shape of GET /seats/{index}.
	detailsFromRow(section, row, seat) {
		const [index, label, , , , category, flags] = seat;
		const seatType = flags & FLAG.WHEELCHAIR ? 1 : (flags & FLAG.COMPANION ? 2 : 0);
		const cat = this.categories.find((c) => c.index === category);
		return this.info.put(index, {
			index,
			id: `${section.name}-${row.label}-${label}`,
			label: `${section.name}-${row.label}-${label}`,
			section: section.name,
			row: row.label,
			seat: label,
			category,
			price_cents: cat ? cat.price_cents : undefined,
			accessible: !!(flags & FLAG.ACCESSIBLE),
			seat_type: seatType
		});
	},

	// Where a seat is on screen (container pixels), for tests and tools; null if unknown.
	seatPoint(seatIndex) {
		const slot = this.store ? this.store.slotOfSeat(seatIndex) : -1;
		if (slot < 0) { return null; }
		const p = this.map.latLngToContainerPoint([this.store.pos[slot * 3 + 1], this.store.pos[slot * 3]]);
		return {x: p.x, y: p.y};
	},

	// Show the seat list (loaded on first use: most buyers never open it).
	async openList() {
		if (!this.seatList) {
			const {SeatList} = await import('./SeatList.js');
			const holder = DomUtil.create('div', 'seatmap-list-holder', this.el.panel);
			this.seatList = new SeatList(this, holder);
		}
		document.body.classList.add('seatmap-panel-open');
		this.seatList.focus();
	},

	// ---- building ----

	// The pyramid's geometry from the TileJSON (venue units, zoom range, LOD zooms).
	async _grid(tj) {
		const lod = tj.lod_zooms || {};
		const size = tj.venue_size || [];
		const grid = {
			minZoom: tj.minzoom || 0,
			maxZoom: tj.maxzoom,
			seatZoom: firstNumber(lod.seat, tj.seat_lod_zoom, tj.maxzoom),
			detailZoom: firstNumber(lod.detail, tj.detail_lod_zoom, tj.maxzoom),
			tileSize: tj.tile_size || 256,
			width: firstNumber(size[0], tj.venue_width),
			height: firstNumber(size[1], tj.venue_height)
		};
		if (!(grid.width > 0 && grid.height > 0)) {
			const data = await this.api.sections();
			grid.width = data.width;
			grid.height = data.height;
		}
		grid.scale0 = firstNumber(tj.venue_scale0) || grid.tileSize / Math.max(grid.width, grid.height);
		return grid;
	},

	_buildMap(tj) {
		const g = this.grid;
		// Venue units as (lat = y, lng = x); zoom z draws them at scale0 * 2^z px per unit, y down.
		const crs = extend({}, CRS.Simple, {transformation: new Transformation(g.scale0, 0, g.scale0, 0)});
		this.venueBounds = latLngBounds([0, 0], [g.height, g.width]);
		const pad = Math.max(g.width, g.height) * 0.25;
		const container = this.el.map;
		this.map = new LeafletMap(container, {
			crs,
			minZoom: g.minZoom - 2,
			maxZoom: g.maxZoom + 2,
			zoomSnap: 0.25,
			zoomDelta: 1,
			wheelPxPerZoomLevel: 90,
			keyboard: false,
			attributionControl: false,
			zoomControl: false,
			maxBounds: latLngBounds([-pad, -pad], [g.height + pad, g.width + pad]),
			maxBoundsViscosity: 0.9,
			bounceAtZoomLimits: false
		});
		control.zoom({position: 'topright', zoomInTitle: 'Zoom in (+)', zoomOutTitle: 'Zoom out (-)'}).addTo(this.map);
		container.setAttribute('tabindex', '0');
		container.setAttribute('role', 'application');
		container.setAttribute('aria-roledescription', 'seat map');
		container.setAttribute('aria-label', 'Seat map. Arrow keys move between seats, Enter holds the seat, ' +
			'Page Up and Page Down change section, plus and minus zoom, Shift with arrows pans.');
		const url = this._tileUrl(tj);
		this.tiles = new LiveTileLayer(url, {
			tileSize: g.tileSize,
			minNativeZoom: g.minZoom,
			maxNativeZoom: g.maxZoom,
			minZoom: g.minZoom - 2,
			maxZoom: g.maxZoom + 2,
			bounds: this.venueBounds,
			noWrap: true,
			keepBuffer: 1,
			className: 'seatmap-tiles'
		});
		this.tiles.once('load', () => {
			this.metrics.firstTilesMs = performance.now();
			this.fire('firsttiles', {ms: this.metrics.firstTilesMs});
		});
		this.tiles.addTo(this.map);
		this.fitVenue(false);
	},

	// @2x on dense screens, WebP where the browser takes it; the plain template otherwise.
	_tileUrl(tj) {
		const hires = this.options.hires === null ? (window.devicePixelRatio || 1) >= 1.5 : this.options.hires;
		const webp = this.options.webp === null ? supportsWebp() : this.options.webp;
		const key = (webp ? 'webp' : 'png') + (hires ? '@2x' : '');
		const templates = tj.tile_templates || {};
		if (templates[key]) { return templates[key]; }
		return tj.tiles[0].replace(/\{y\}(@2x)?\.(png|webp)/, `{y}${hires ? '@2x' : ''}.${webp ? 'webp' : 'png'}`);
	},

	_buildSeatLayer() {
		const {Store, Layer, Picker} = this.options.seatLayer;
		this.map.createPane('seatPane').style.zIndex = 450;
		this.store = new Store(this.api, this.grid);
		this.picker = new Picker(this.store, {radiusPx: this.options.pickRadiusPx});
		this._wasDetail = false;
		// Registered before the layer's own handlers, so the first draw is timed from here.
		this.map.on('zoomend', () => {
			const detail = this.map.getZoom() >= this.grid.detailZoom;
			if (detail && !this._wasDetail) {
				this.metrics.detailSince = performance.now();
				this.metrics.seatsDrawnMs = undefined;
			}
			this._wasDetail = detail;
		});
		this.seatLayer = new Layer(this.store, {pane: 'seatPane', minZoom: this.grid.detailZoom, categories: this.categories});
		this.seatLayer.addTo(this.map);
		if (this.map.getZoom() >= this.grid.detailZoom) {
			this._wasDetail = true;
			this.metrics.detailSince = performance.now();
		}
		this.seatLayer.on('drawn', this._onSeatsDrawn, this);
		this.map.on('moveend zoomend', this._loadSeats, this);
		this.map.on('mousemove', this._onHover, this);
		this.map.on('mouseout', this._hideHover, this);
		this._tooltip = tooltip({direction: 'top', className: 'seatmap-tooltip', offset: [0, -8]});
		this._loadSeats();
	},

	_buildControls() {
		const toolbar = this.el.toolbar;
		if (toolbar) {
			new SectionList(this, toolbar);
			const list = DomUtil.create('button', 'seatmap-button', toolbar);
			list.type = 'button';
			list.textContent = 'List of free seats';
			DomEvent.on(list, 'click', () => this.openList());
			const panel = DomUtil.create('button', 'seatmap-button seatmap-panel-toggle', toolbar);
			panel.type = 'button';
			panel.setAttribute('aria-controls', this.el.panel.id || '');
			panel.setAttribute('aria-expanded', 'false');
			this._panelButton = panel;
			this._renderPanelButton();
			DomEvent.on(panel, 'click', () => {
				const open = document.body.classList.toggle('seatmap-panel-open');
				panel.setAttribute('aria-expanded', String(open));
			});
			this._printLink = DomUtil.create('a', 'seatmap-mode-link', toolbar);
			this._printLink.textContent = 'Print (PDF)';
			this._printLink.target = '_blank';
			this._printLink.rel = 'noopener';
			this._renderPrintLink();
			const mode = DomUtil.create('a', 'seatmap-mode-link', toolbar);
			const params = new URLSearchParams(window.location.search);
			params.set('lite', this.options.lite ? '0' : '1');
			mode.href = `${window.location.pathname}?${params}`;
			mode.textContent = this.options.lite ? 'Full version' : 'Lite version';
		}
		const small = window.matchMedia && window.matchMedia('(max-width: 640px)').matches;
		new Legend({categories: this.categories, currency: this.currency, collapsed: small || this.options.embed}).addTo(this.map);
	},

	_buildLive() {
		this.live = new LiveUpdates(this.api.streamUrl());
		this.live.on('change', this._onLiveChange, this);
		this.live.on('reset resync', this._resync, this);
		this.live.on('open', () => this._banner(''));
		this.live.on('reconnecting', () => this._banner('Reconnecting to live seat updates…'));
		this.live.start();
	},

	// ---- live updates ----

	_onLiveChange(e) {
		this.tiles.markDirty(e.dirty, e.id);
		if (this.store) { this.store.applyChanges(e.seats); }
		if (this._statusBoard) {
			this._statusBoard.then((board) => {
				for (const [i, s] of e.seats) { if (i < board.length) { board[i] = publicStatus(s); } }
			});
		}
		for (const [i, s] of e.seats) { this.cart.seatStatusChanged(i, publicStatus(s)); }
		if (this.seatList) { this.seatList.refresh(); }
		this.fire('seatschanged', {id: e.id, seats: e.seats});
	},

	async _resync(e) {
		this.tiles.refreshAll(e && e.id);
		if (!this.store && !this._statusBoard) { return; }
		try {
			const fresh = await this.api.statusBytes();
			if (this.store) { this.store.resetStatuses(fresh); }
			if (this._statusBoard) { this._statusBoard = Promise.resolve(fresh); }
			if (this.seatList) { this.seatList.refresh(); }
		} catch (error) {
			this._banner('Live seat updates are paused. Reload the page if this lasts.');
		}
	},

	_banner(text) {
		const el = this.el.banner;
		if (!el) { return; }
		el.textContent = text;
		el.hidden = !text;
	},

	// ---- seats ----

	_loadSeats() {
		const map = this.map;
		if (!this.store || map.getZoom() < this.grid.detailZoom) { return; }
		// lat is y, growing downwards: "south" is the top edge of the view.
		const b = map.getBounds();
		this.store.ensureBox([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], this._scale());
	},

	_onSeatsDrawn(e) {
		const m = this.metrics;
		if (m.detailSince !== undefined && m.seatsDrawnMs === undefined) {
			m.seatsDrawnMs = performance.now();
			this.fire('seatsdrawn', {ms: m.seatsDrawnMs - m.detailSince, seats: e.seats});
		}
	},

	_onCartChange(e) {
		if (this.store) { this.store.setMine(e.mine); }
		this.mineMarkers.setSeats(e.mine);
		this._renderPanelButton();
		this._renderPrintLink();
		if (this.seatList) { this.seatList.refresh(); }
	},

	// The print link highlights the buyer's seats.
	_renderPrintLink() {
		if (!this._printLink) { return; }
		const labels = this.cart ? this.cart.labels() : [];
		const highlight = labels.length ? `&highlight=${encodeURIComponent(labels.join(','))}` : '';
		this._printLink.href = this.api.eventUrl(`/map.pdf?orientation=landscape${highlight}`);
	},

	_renderPanelButton() {
		if (!this._panelButton) { return; }
		const n = this.cart ? this.cart.mine().size : 0;
		this._panelButton.textContent = `Your seats (${n})`;
	},

	async _places(indices) {
		if (indices.every((i) => this._placeCache.has(i))) { return indices.map((i) => this._placeCache.get(i)); }
		if (this.store) {
			const known = indices.map((i) => {
				const s = this.store.slotOfSeat(i);
				return s < 0 ? null : [i, this.store.pos[s * 3], this.store.pos[s * 3 + 1], this.store.pos[s * 3 + 2]];
			});
			if (known.every(Boolean)) { return known; }
		}
		const url = `${this.options.apiBase}/viewer/api/events/${this.options.eventId}/places.json?seats=${indices.join(',')}`;
		const response = await fetch(url);
		return response.ok ? response.json() : [];
	},

	_scale() {
		return this.grid.scale0 * Math.pow(2, this.map.getZoom());
	},

	_onTap(e) {
		const zoom = this.map.getZoom();
		const latlng = e.latlng;
		clearTimeout(this._tapTimer);
		if (zoom < this.grid.detailZoom - 0.01) {
			// Too small to pick one seat: a tap zooms in there, unless it was half of a double tap.
			this._tapTimer = setTimeout(() => this.map.setView(latlng, this.grid.detailZoom), this.options.tapDelayMs);
			return;
		}
		if (this.store) {
			const slot = this.picker.pick(latlng.lng, latlng.lat, this._scale());
			if (slot < 0) { return; }
			const s = this.store;
			this._act(s.index[slot], s.attr[slot * 4], s.attr[slot * 4 + 2]);
		} else {
			this._tapLite(latlng);
		}
	},

	async _tapLite(latlng) {
		const r = this.options.pickRadiusPx / this._scale();
		let seat;
		try {
			seat = await this.api.seatAt(latlng.lng, latlng.lat, r);
		} catch (error) {
			this.cart.showError(error.message);
			return;
		}
		if (!seat) { return; }
		const d = this.info.put(seat.index, seat);
		if (typeof seat.x === 'number') { this._placeCache.set(seat.index, [seat.index, seat.x, seat.y, seat.radius]); }
		const flags = (d.accessible ? FLAG.ACCESSIBLE : 0) | (d.seat_type === 1 || d.seat_type === 'wheelchair' ? FLAG.WHEELCHAIR : 0) |
			(d.seat_type === 2 || d.seat_type === 'companion' ? FLAG.COMPANION : 0);
		this._act(seat.index, statusCode(seat.status), flags);
	},

	// What a tap or Enter on a seat does: hold it, release it if ours, or say why not.
	_act(seatIndex, status, flags) {
		if (this.cart.has(seatIndex)) {
			this.cart.release(seatIndex);
		} else if (publicStatus(status) === STATUS.AVAILABLE) {
			this.cart.hold(seatIndex, (flags & (FLAG.ACCESSIBLE | FLAG.WHEELCHAIR | FLAG.COMPANION)) !== 0);
		} else {
			this.info.get(seatIndex).then((d) => {
				this.announcer.announce(`${this.info.place(d)} is ${statusName(publicStatus(status), false)}.`);
			}, () => {});
		}
	},

	_onHover(e) {
		if (this._hoverFrame) { return; }
		this._hoverFrame = Util.requestAnimFrame(() => {
			this._hoverFrame = null;
			if (this.map.getZoom() < this.grid.detailZoom) {
				this._hideHover();
				return;
			}
			const slot = this.picker.pick(e.latlng.lng, e.latlng.lat, this._scale(), 3);
			const index = slot < 0 ? -1 : this.store.index[slot];
			if (index === this._hover) { return; }
			this._hover = index;
			this.el.map.classList.toggle('seatmap-over-seat', index >= 0);
			if (index < 0) {
				this._hideHover();
				return;
			}
			const latlng = [this.store.pos[slot * 3 + 1], this.store.pos[slot * 3]];
			this.info.get(index).then((d) => {
				if (this._hover !== index) { return; }
				const status = this.store.statusOf(index);
				this._tooltip.setLatLng(latlng).setContent(this.info.describe(d, status, this.cart.has(index)));
				if (!this.map.hasLayer(this._tooltip)) { this._tooltip.addTo(this.map); }
			}, () => {});
		});
	},

	_hideHover() {
		this._hover = -1;
		if (this._tooltip && this.map.hasLayer(this._tooltip)) { this._tooltip.remove(); }
		this.el.map.classList.remove('seatmap-over-seat');
	},

	_fatal(text) {
		const p = DomUtil.create('p', 'seatmap-fatal', this.el.map);
		p.setAttribute('role', 'alert');
		p.textContent = text;
	}
});

function firstNumber(...values) {
	for (const v of values) { if (typeof v === 'number' && Number.isFinite(v)) { return v; } }
	return undefined;
}

let webpSupport = null;
function supportsWebp() {
	if (webpSupport === null) {
		try {
			const c = document.createElement('canvas');
			c.width = c.height = 1;
			webpSupport = c.toDataURL('image/webp').indexOf('data:image/webp') === 0;
		} catch (e) {
			webpSupport = false;
		}
	}
	return webpSupport;
}
