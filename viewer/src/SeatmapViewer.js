import {DomUtil, Evented, Util} from 'leaflet';
import {Announcer} from './Announcer.js';
import {ApiClient} from './ApiClient.js';
import {CartBar} from './CartBar.js';
import {reportCartOutcomes} from './CartOutcomes.js';
import {CartPanel} from './CartPanel.js';
import {HoldCart} from './HoldCart.js';
import {MessageBar} from './MessageBar.js';
import {MineMarkers} from './MineMarkers.js';
import {SafeStorage} from './SafeStorage.js';
import {SeatInfo} from './SeatInfo.js';
import {SeatPlaces} from './SeatPlaces.js';
import {usePalette} from './SeatStyle.js';
import {handoffFragment, takeHandoff} from './SessionHandoff.js';
import {TapHandler} from './TapHandler.js';
import {tileUrlTemplate} from './TileFormat.js';
import {loadVenueGrid} from './VenueGrid.js';
import {createVenueMap, createVenueTiles, venueBounds} from './VenueMap.js';

// The viewer, built from its parts and connected: the Leaflet map of the event's
// raster tiles, the seats at detail zoom (full mode), taps and keyboard that hold
// seats, the cart (its panel, and the bar it folds into on small screens), the
// message bar over the map, section labels, the toolbar, live updates, and in an
// embed the partner page's postMessage API. In lite mode (chosen by `?lite=1` or
// when WebGL is missing) there is no seat layer: a tap asks the server; and only
// what a tap needs to hold a seat is loaded before the first tiles: the rest
// (ViewerParts: labels, toolbar, legend, keyboard, live updates) comes after them.
//
// Events: `ready` {tileJson}, `firsttiles` {ms}, `seatsdrawn` {ms, seats},
// `seatschanged` {id, seats}, `checkout` {holds}, plus the cart's `seatheld` / `seatreleased`.

export const SeatmapViewer = Evented.extend({
	// @option eventId: Number = null
	// @option lite: Boolean = false
	// Raster only: no WebGL seat layer, taps are looked up on the server.
	// @option apiBase: String = ''
	// Origin of the API when it is not the page's own.
	// @option embed: Boolean = false
	// The compact page partner sites put in an iframe.
	// @option partnerOrigin: String = ''
	// In an embed, the origin of the partner page (postMessage API).
	// @option pickRadiusPx: Number = 22
	// Tap radius around a seat (a 44 px target).
	// @option tapDelayMs: Number = 250
	// A single tap below the detail zoom waits this long in case it is a double tap.
	// @option hires: Boolean = devicePixelRatio >= 1.5
	// @option webp: Boolean = (detected)
	// @option seatLayer: Object = null
	// Full mode's parts: {Store, Layer, Picker, Detail, Tooltip, PriceOverview} classes (the lite bundle has none).
	options: {
		eventId: null,
		lite: false,
		apiBase: '',
		embed: false,
		partnerOrigin: '',
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
		const handoff = takeHandoff();
		if (handoff) { this.api.setSession(handoff.session); }
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
		this.checkoutUrl = typeof tileJson.checkout_url === 'string' ? tileJson.checkout_url : '';
		usePalette(tileJson.status_colors);
		this.grid = await loadVenueGrid(tileJson, this.api);
		this._buildMap(tileJson);
		this.messages = new MessageBar(this.el.map, this.announcer);
		this.info = new SeatInfo(this.api, this.categories, {currency: this.currency});
		const tokens = new SafeStorage(`seatmap:holds:${o.eventId}`, []);
		this.cart = new HoldCart(this.api, this.info, tokens);
		if (!o.lite && o.seatLayer) { this._buildSeats(); }
		this.places = new SeatPlaces(`${o.apiBase}/events/${o.eventId}/places.json`, this.store);
		this.mineMarkers = new MineMarkers((indices) => this.places.lookup(indices),
			{hideAtZoom: o.lite ? Infinity : this.grid.detailZoom}).addTo(this.map);
		this.panel = new CartPanel(this, this.el.panel, {currency: this.currency});
		this.cartBar = new CartBar(this, this.el.map.parentNode, this.currency);
		this.fitVenue(false); // again, now that the bar (small screens) takes the bottom of the map
		this.cart.on('change', this._onCartChange, this);
		this.cart.on('seatheld seatreleased', (e) => this.fire(e.type, e));
		reportCartOutcomes(this);
		this.taps = new TapHandler(this.map, this, {pickRadiusPx: o.pickRadiusPx, tapDelayMs: o.tapDelayMs});
		this.taps.enable();
		if (o.lite) { await this._firstTilesIn(); }
		(await import('./ViewerParts.js')).buildViewerParts(this);
		const restored = this.cart.restore(handoff ? handoff.holds : undefined);
		if (this.bridge) { this.bridge.ready(); }
		this.metrics.readyMs = performance.now();
		this.fire('ready', {tileJson});
		await restored;
		return this;
	},

	// The whole venue in view (clear of the cart bar along the bottom).
	fitVenue(animate) {
		const bar = this.cartBar ? this.cartBar.el.offsetHeight
			: parseFloat(getComputedStyle(this.el.map).getPropertyValue('--seatmap-cart-bar'));
		this.map.fitBounds(this.venueBounds, {animate: !!animate, paddingTopLeft: [8, 8], paddingBottomRight: [8, 8 + (bar || 0)]});
		this._showingVenue = true;
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

	// Bring seats into view at the detail zoom (clear of an open sheet) and ring them.
	showSeats(indices) {
		return this.focus.showSeats(indices);
	},

	// Frame a section (by name or index), outline it and say its prices and free seats;
	// resolves to false if there is no such section.
	showSection(which) {
		return this.focus.showSection(which);
	},

	async bestAvailable(count, category) {
		const seats = await this.cart.bestAvailable(count, category, this.categories);
		await this.showSeats(seats.map((s) => s.index));
		return seats;
	},

	async releaseAll() {
		const n = await this.cart.releaseAll();
		if (n) { this.messages.show(`Released all ${n} of your seats.`, {kind: 'info', topic: 'released'}); }
		return n;
	},

	moreTime() {
		return this.cart.extend();
	},

	// Whether "Continue" leads anywhere: the event's checkout page, or the embedding partner.
	canCheckout() {
		return !!(this.checkoutUrl || this.bridge);
	},

	// Hand the held seats to checkout: tell the partner page, or go to the event's checkout URL.
	checkout() {
		const holds = this.cart.tokens();
		if (!holds.length) { return; }
		this.fire('checkout', {holds});
		if (this.bridge) {
			this.bridge.checkout();
			this.messages.show('Your seats are on their way to checkout.', {kind: 'info', topic: 'checkout'});
			return;
		}
		if (!this.checkoutUrl) { return; }
		const url = new URL(this.checkoutUrl, window.location.href);
		url.searchParams.set('event', String(this.options.eventId));
		holds.forEach((t) => url.searchParams.append('hold', t));
		window.location.assign(url.toString());
	},

	// Open or close the panel (a sheet over the map on small screens).
	togglePanel(open) {
		const want = open === undefined ? !document.body.classList.contains('seatmap-panel-open') : open;
		document.body.classList.toggle('seatmap-panel-open', want);
		this.cartBar.setOpen(want);
		if (want) {
			const last = this.cart.seats().slice(-1)[0];
			if (last && this.focus) { this.focus.keepInSight([last.index]); }
		}
		return want;
	},

	// Show the seat list (loaded on first use: most buyers never open it).
	async openList(opener) {
		if (!this.seatList) {
			const {SeatList} = await import('./SeatList.js');
			const holder = DomUtil.create('div', 'seatmap-list-holder', this.el.panel);
			this.seatList = new SeatList(this, holder);
		}
		this.togglePanel(true);
		this.seatList.open(opener);
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
		// The map's box changes without a window resize (the toolbar fills in, a frame is
		// resized): Leaflet must learn its new size, and the whole venue stays in view.
		this.map.on('dragstart zoomstart', () => { this._showingVenue = false; });
		if (window.ResizeObserver) {
			new ResizeObserver(() => {
				this.map.invalidateSize({pan: false});
				if (this._showingVenue) { this.fitVenue(false); }
			}).observe(this.el.map);
		}
	},

	_buildSeats() {
		this.detailSeats = new this.options.seatLayer.Detail(this.map, this.api, this.grid, this.options.seatLayer, this.metrics,
			{pickRadiusPx: this.options.pickRadiusPx, categories: this.categories});
		this.store = this.detailSeats.store;
		this.picker = this.detailSeats.picker;
		this.seatLayer = this.detailSeats.layer;
		this.detailSeats.on('seatsdrawn', (e) => this.fire('seatsdrawn', {ms: e.ms, seats: e.seats}));
		this.seatTooltip = new this.options.seatLayer.Tooltip(this.map, this);
		this.seatTooltip.enable();
	},

	// Resolves once the first tiles are in and the page is idle (or after a while regardless).
	_firstTilesIn() {
		return new Promise((resolve) => {
			const idle = () => (window.requestIdleCallback ? window.requestIdleCallback(resolve, {timeout: 1000}) : setTimeout(resolve));
			if (this.metrics.firstTilesMs) { idle(); } else { this.once('firsttiles', idle); }
			setTimeout(resolve, 10000);
		});
	},

	_onCartChange(e) {
		if (this.store) { this.store.setMine(e.mine); }
		this.mineMarkers.setSeats(e.mine);
		if (this.toolbar) { this.toolbar.update(); }
		if (this.seatList) { this.seatList.refresh(); }
		const full = document.querySelector('.seatmap-embed-title a');
		if (full) {
			full.href = `${this.options.apiBase}/viewer/?event=${this.options.eventId}` +
				handoffFragment(this.api.session(), this.cart.tokens());
		}
	},

	_fatal(text) {
		const p = DomUtil.create('p', 'seatmap-fatal', this.el.map);
		p.setAttribute('role', 'alert');
		p.textContent = text;
	}
});
