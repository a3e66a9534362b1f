import {DomUtil, Evented, Util} from 'leaflet';
import {Announcer} from './Announcer.js';
import {ApiClient} from './ApiClient.js';
import {DetailSeats} from './DetailSeats.js';
import {HoldCart} from './HoldCart.js';
import {KeyboardNav} from './KeyboardNav.js';
import {Legend} from './Legend.js';
import {LiveSync} from './LiveSync.js';
import {LiveUpdates} from './LiveUpdates.js';
import {MineMarkers} from './MineMarkers.js';
import {SeatInfo} from './SeatInfo.js';
import {SeatPlaces} from './SeatPlaces.js';
import {SeatTooltip} from './SeatTooltip.js';
import {StatusBoard} from './StatusBoard.js';
import {TapHandler} from './TapHandler.js';
import {tileUrlTemplate} from './TileFormat.js';
import {loadVenueGrid} from './VenueGrid.js';
import {createVenueMap, createVenueTiles, venueBounds} from './VenueMap.js';
import {VenueSections} from './VenueSections.js';
import {ViewerToolbar} from './ViewerToolbar.js';

// The viewer, built from its parts and connected: the Leaflet map of the event's
// raster tiles, the seats at detail zoom (full mode), taps and keyboard that hold
// seats, the cart, the toolbar, live updates, and the accessible list view. In
// lite mode (chosen by `?lite=1` or when WebGL is missing) there is no seat
// layer: a tap asks the server which seat is there.
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
	},

	// Load the event and build the viewer; resolves to the viewer once it is usable.
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
		this.grid = await loadVenueGrid(tileJson, this.api);
		this._buildMap(tileJson);
		this.info = new SeatInfo(this.api, this.categories, {currency: this.currency});
		this.sections = new VenueSections(this.api);
		this.cart = new HoldCart(this.api, this.info, this.announcer, this.el.panel, this.categories,
			{storageKey: `seatmap:holds:${o.eventId}`, currency: this.currency});
		if (!o.lite && o.seatLayer) { this._buildSeats(); }
		this.places = new SeatPlaces(`${o.apiBase}/viewer/api/events/${o.eventId}/places.json`, this.store);
		this.mineMarkers = new MineMarkers((indices) => this.places.lookup(indices),
			{hideAtZoom: o.lite ? Infinity : this.grid.detailZoom}).addTo(this.map);
		this.cart.on('change', this._onCartChange, this);
		this.cart.on('seatheld seatreleased', (e) => this.fire(e.type, e));
		this.statuses = new StatusBoard(this.api, this.store);
		if (this.el.toolbar) { this.toolbar = new ViewerToolbar(this, this.el.toolbar); }
		const small = window.matchMedia && window.matchMedia('(max-width: 640px)').matches;
		new Legend({categories: this.categories, currency: this.currency, collapsed: small || o.embed}).addTo(this.map);
		this.keyboard = new KeyboardNav(this.map, this);
		this.keyboard.enable();
		this._buildLive();
		this.taps = new TapHandler(this.map, this, {pickRadiusPx: o.pickRadiusPx, tapDelayMs: o.tapDelayMs});
		this.taps.enable();
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
		return this.statuses.load();
	},

	// A promise of one seat's status.
	statusOf(seatIndex) {
		return this.statuses.statusOf(seatIndex);
	},

	// Seat details from a row of VenueSections, in the shape of GET /seats/{index}.
	detailsFromRow(section, row, seat) {
		return this.info.fromRow(section, row, seat);
	},

	// Where a seat is on screen (container pixels), for tests and tools; null if unknown.
	seatPoint(seatIndex) {
		return this.detailSeats ? this.detailSeats.containerPointOf(seatIndex) : null;
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

	_buildMap(tileJson) {
		this.venueBounds = venueBounds(this.grid);
		this.map = createVenueMap(this.el.map, this.grid);
		this.tiles = createVenueTiles(tileUrlTemplate(tileJson, {hires: this.options.hires, webp: this.options.webp}), this.grid);
		this.tiles.once('load', () => {
			this.metrics.firstTilesMs = performance.now();
			this.fire('firsttiles', {ms: this.metrics.firstTilesMs});
		});
		this.tiles.addTo(this.map);
		this.fitVenue(false);
	},

	_buildSeats() {
		this.detailSeats = new DetailSeats(this.map, this.api, this.grid, this.options.seatLayer, this.metrics,
			{pickRadiusPx: this.options.pickRadiusPx, categories: this.categories});
		this.store = this.detailSeats.store;
		this.picker = this.detailSeats.picker;
		this.seatLayer = this.detailSeats.layer;
		this.detailSeats.on('seatsdrawn', (e) => this.fire('seatsdrawn', {ms: e.ms, seats: e.seats}));
		this.seatTooltip = new SeatTooltip(this.map, this);
		this.seatTooltip.enable();
	},

	_buildLive() {
		this.live = new LiveUpdates(this.api.streamUrl());
		this.liveSync = new LiveSync(this.live, {
			api: this.api, tiles: this.tiles, store: this.store, statuses: this.statuses, cart: this.cart, banner: this.el.banner
		});
		this.liveSync.on('seatschanged', (e) => {
			if (this.seatList) { this.seatList.refresh(); }
			this.fire('seatschanged', {id: e.id, seats: e.seats});
		});
		this.liveSync.on('statusesreloaded', () => { if (this.seatList) { this.seatList.refresh(); } });
		this.live.start();
	},

	_onCartChange(e) {
		if (this.store) { this.store.setMine(e.mine); }
		this.mineMarkers.setSeats(e.mine);
		if (this.toolbar) { this.toolbar.update(); }
		if (this.seatList) { this.seatList.refresh(); }
	},

	_fatal(text) {
		const p = DomUtil.create('p', 'seatmap-fatal', this.el.map);
		p.setAttribute('role', 'alert');
		p.textContent = text;
	}
});
