import {Control, DomEvent, DomUtil, LayerGroup, Util, polygon} from 'leaflet';
import {formatPrice} from './SeatStyle.js';

// The overview coloured by price as well as by availability. Below the detail zoom
// the raster tiles colour each section by its share of free seats; the "Colour by
// price" button beside the legend (aria-pressed) lays over every section a fill in
// the colour of its price level instead (the price of its cheapest seats, light for
// the cheapest to dark for the dearest), and lists the price ranges of the colours
// under it. The fills never take a tap, and from the detail zoom on (where seats are
// drawn one by one) they step aside. Full mode only: lite mode does without.

// Sequential and colour-blind safe (viridis), cheapest first.
export const PRICE_PALETTE = Object.freeze(['#fde725', '#7ad151', '#22a884', '#2a788e', '#414487', '#440154']);

// The price levels of categories [{price_cents}]: [{from, to, color}] cheapest first,
// in cents; one level per distinct price, or, with more prices than colours, runs of
// neighbouring prices sharing a level. Fewer levels spread over the whole palette.
export function priceLevels(categories, palette = PRICE_PALETTE) {
	const prices = [...new Set(categories.map((c) => c.price_cents).filter(Number.isFinite))].sort((a, b) => a - b);
	const n = Math.min(prices.length, palette.length);
	const levels = [];
	for (let k = 0; k < n; k++) {
		const part = prices.slice(Math.floor(k * prices.length / n), Math.floor((k + 1) * prices.length / n));
		const shade = n === 1 ? palette.length - 1 : Math.round(k * (palette.length - 1) / (n - 1));
		levels.push({from: part[0], to: part[part.length - 1], color: palette[shade]});
	}
	return levels;
}

export const PriceOverview = Control.extend({
	// @option position: String = 'bottomleft'
	// The corner it shares with the legend.
	// @option fillOpacity: Number = 0.9
	// How much of the availability colours underneath the price fills hide.
	options: {
		position: 'bottomleft',
		fillOpacity: 0.9
	},

	// viewer: gives sections (VenueSections), categories, currency, grid.detailZoom, announcer.
	initialize(viewer, options) {
		Util.setOptions(this, options);
		this._viewer = viewer;
		this.levels = priceLevels(viewer.categories || []);
		this.byPrice = false;
		this._fills = new LayerGroup();
	},

	onAdd(map) {
		const box = DomUtil.create('div', 'seatmap-colour-by leaflet-bar');
		const button = DomUtil.create('button', 'seatmap-button seatmap-colour-toggle', box);
		button.type = 'button';
		button.textContent = 'Colour by price';
		button.title = 'Colour the sections by price instead of by free seats';
		button.setAttribute('aria-pressed', 'false');
		this._button = button;
		this._list = this._buildList(box);
		DomEvent.on(button, 'click', () => this.setByPrice(!this.byPrice));
		DomEvent.disableClickPropagation(box);
		DomEvent.disableScrollPropagation(box);
		map.on('zoomend', this._update, this);
		this._load();
		return box;
	},

	onRemove(map) {
		map.off('zoomend', this._update, this);
		this._fills.remove();
	},

	// Colour the sections by price (true) or by availability (false).
	setByPrice(on) {
		this.byPrice = !!on;
		if (this._button) {
			this._button.setAttribute('aria-pressed', String(this.byPrice));
			this._list.hidden = !this.byPrice;
		}
		this._update();
		const announcer = this._viewer.announcer;
		if (announcer) {
			announcer.announce(this.byPrice ? 'Sections coloured by price, cheapest lightest.' : 'Sections coloured by free seats.');
		}
		return this.byPrice;
	},

	// The price level {from, to, color} of a section (from its cheapest seats), or null.
	levelOf(section) {
		const categories = this._viewer.categories || [];
		const prices = (section.categories || [])
			.map((c) => categories.find((k) => k.index === c))
			.filter(Boolean).map((c) => c.price_cents);
		if (!prices.length) { return null; }
		const cheapest = Math.min(...prices);
		return this.levels.find((l) => cheapest >= l.from && cheapest <= l.to) || null;
	},

	// The legend of the colours: a swatch and a price range each, cheapest first.
	_buildList(box) {
		const list = DomUtil.create('ul', 'seatmap-price-levels', box);
		list.hidden = true;
		list.setAttribute('aria-label', 'Section colours: the price of its cheapest seats');
		const cur = this._viewer.currency;
		for (const level of this.levels) {
			const li = DomUtil.create('li', '', list);
			li.dataset.fromCents = String(level.from);
			li.dataset.toCents = String(level.to);
			const swatch = DomUtil.create('span', 'seatmap-price-swatch', li);
			swatch.style.background = level.color;
			swatch.dataset.color = level.color;
			swatch.setAttribute('aria-hidden', 'true');
			const text = DomUtil.create('span', '', li);
			text.textContent = level.from === level.to ? formatPrice(level.from, cur)
				: `${formatPrice(level.from, cur)}–${formatPrice(level.to, cur)}`;
		}
		return list;
	},

	// One fill per section with seats: its outline, or its bounds where it has none.
	async _load() {
		let sections;
		try {
			sections = await this._viewer.sections.list();
		} catch (error) {
			return;
		}
		for (const s of sections) {
			const level = s.seat_count ? this.levelOf(s) : null;
			const shape = venueShape(s);
			if (!level || !shape) { continue; }
			const fill = polygon(shape, {
				interactive: false, className: 'seatmap-price-fill',
				stroke: true, color: '#ffffff', weight: 1, opacity: 0.8,
				fill: true, fillColor: level.color, fillOpacity: this.options.fillOpacity
			});
			fill.section = s;
			this._fills.addLayer(fill);
		}
		this._update();
	},

	_update() {
		const map = this._map;
		if (!map) { return; }
		const show = this.byPrice && map.getZoom() < this._viewer.grid.detailZoom;
		if (show && !map.hasLayer(this._fills)) {
			this._fills.addTo(map);
		} else if (!show && map.hasLayer(this._fills)) {
			this._fills.remove();
		}
	}
});

// A section's polygon as Leaflet lat/lngs (lat = y, lng = x), or null.
function venueShape(section) {
	const outline = section.outline || [];
	if (outline.length >= 3) { return outline.map(([x, y]) => [y, x]); }
	if (section.bounds && section.bounds.length === 4) {
		const [x0, y0, x1, y1] = section.bounds;
		return [[y0, x0], [y0, x1], [y1, x1], [y1, x0]];
	}
	return null;
}
