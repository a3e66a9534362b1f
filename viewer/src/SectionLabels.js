import {DomUtil, LayerGroup, Util, divIcon, marker} from 'leaflet';
import {formatPrice} from './SeatStyle.js';

// Keeps buyers oriented: every section's name and price range on the map while
// sections are small enough to see whole, and from the seat zoom on (where a
// section fills the screen and its middle may be out of sight) a label at the top
// of the map naming the section in the middle of the view. The mouse over a
// section, or a tap on it, tells its price range and how many seats are free.

export const SectionLabels = LayerGroup.extend({
	// @option chipFromZoom: Number = Infinity
	// From this zoom on the section in the middle of the view is named at the top.
	options: {
		chipFromZoom: Infinity
	},

	// viewer: gives sections (VenueSections), categories, currency, statusBoard().
	initialize(viewer, chipParent, options) {
		LayerGroup.prototype.initialize.call(this, [], options);
		Util.setOptions(this, options);
		this._viewer = viewer;
		this._sections = [];
		this._chip = DomUtil.create('p', 'seatmap-section-chip', chipParent);
		this._chip.hidden = true;
		this._chip.setAttribute('aria-hidden', 'true'); // the keyboard and list views say it in words
	},

	onAdd(map) {
		LayerGroup.prototype.onAdd.call(this, map);
		map.on('moveend zoomend', this._update, this);
		this._load();
	},

	onRemove(map) {
		map.off('moveend zoomend', this._update, this);
		LayerGroup.prototype.onRemove.call(this, map);
	},

	// "€40.00–€80.00" for a section, from the categories of its seats ('' when unknown).
	priceRange(section) {
		const prices = (section.categories || [])
			.map((c) => this._viewer.categories.find((k) => k.index === c))
			.filter(Boolean).map((c) => c.price_cents);
		if (!prices.length) { return ''; }
		const lo = Math.min(...prices);
		const hi = Math.max(...prices);
		const cur = this._viewer.currency;
		return lo === hi ? formatPrice(lo, cur) : `${formatPrice(lo, cur)}–${formatPrice(hi, cur)}`;
	},

	// "Section 112: €40.00–€80.00, 312 of 616 seats free" (counts from the live statuses).
	async summary(section) {
		const viewer = this._viewer;
		const [data, statuses] = await Promise.all([viewer.sections.rows(section.index), viewer.statusBoard()]);
		let free = 0;
		let all = 0;
		for (const row of data.rows) {
			for (const seat of row.seats) {
				all++;
				if (statuses[seat[0]] === 0) { free++; }
			}
		}
		const price = this.priceRange(section);
		return `Section ${section.name}: ${price ? price + ', ' : ''}${free} of ${all} seats free`;
	},

	// The section under a point (venue units), or null.
	sectionAt(x, y) {
		for (const s of this._sections) {
			const [x0, y0, x1, y1] = s.bounds;
			if (x >= x0 && x <= x1 && y >= y0 && y <= y1) { return s; }
		}
		return null;
	},

	async _load() {
		try {
			this._sections = (await this._viewer.sections.list()).filter((s) => s.seat_count && s.bounds.length === 4);
		} catch (error) {
			return;
		}
		for (const s of this._sections) {
			const [x0, y0, x1, y1] = s.bounds;
			const price = this.priceRange(s);
			const html = `<div class="seatmap-section-text"><span class="seatmap-section-name">${escapeHtml(s.name)}</span>` +
				(price ? `<span class="seatmap-section-price">${escapeHtml(price)}</span>` : '') + '</div>';
			const icon = divIcon({className: 'seatmap-section-label', html, iconSize: null});
			const m = marker([(y0 + y1) / 2, (x0 + x1) / 2], {icon, interactive: false, keyboard: false});
			m.section = s;
			this.addLayer(m);
		}
		this._update();
	},

	// A label is shown where it fits inside its section (with its prices, or the name
	// alone) and clear of the labels shown before it; a tap or the section jump tells
	// the rest.
	_declutter() {
		const map = this._map;
		const size = map.getSize();
		const placed = [];
		this.eachLayer((m) => {
			const el = m.getElement && m.getElement();
			if (!el) { return; }
			const [x0, y0, x1, y1] = m.section.bounds;
			const a = map.latLngToContainerPoint([y0, x0]);
			const b = map.latLngToContainerPoint([y1, x1]);
			const text = el.firstChild;
			el.style.display = '';
			const room = [Math.abs(b.x - a.x) + 8, Math.abs(b.y - a.y) + 8];
			// Name and prices where they fit, else the name alone.
			text.classList.remove('seatmap-name-only');
			if (text.offsetWidth > room[0] || text.offsetHeight > room[1]) { text.classList.add('seatmap-name-only'); }
			const w = text.offsetWidth;
			const h = text.offsetHeight;
			const c = map.latLngToContainerPoint(m.getLatLng());
			const box = [c.x - w / 2, c.y - h / 2, c.x + w / 2, c.y + h / 2];
			const fits = w <= room[0] && h <= room[1];
			const onScreen = box[2] > 0 && box[3] > 0 && box[0] < size.x && box[1] < size.y;
			const clear = placed.every((p) => box[2] < p[0] || box[0] > p[2] || box[3] < p[1] || box[1] > p[3]);
			if (fits && onScreen && clear) {
				placed.push(box);
			} else {
				el.style.display = 'none';
			}
		});
	},

	_update() {
		const map = this._map;
		if (!map) { return; }
		const deep = map.getZoom() >= this.options.chipFromZoom;
		map.getContainer().classList.toggle('seatmap-deep', deep);
		if (!deep) { this._declutter(); }
		if (!deep) {
			this._chip.hidden = true;
			return;
		}
		const c = map.getCenter();
		const s = this.sectionAt(c.lng, c.lat) || this._nearest(c.lng, c.lat);
		if (!s) {
			this._chip.hidden = true;
			return;
		}
		const price = this.priceRange(s);
		this._chip.textContent = `Section ${s.name}${price ? ' · ' + price : ''}`;
		this._chip.hidden = false;
	},

	_nearest(x, y) {
		let best = null;
		let bestD = Infinity;
		for (const s of this._sections) {
			const [x0, y0, x1, y1] = s.bounds;
			const d = Math.max(x0 - x, 0, x - x1) ** 2 + Math.max(y0 - y, 0, y - y1) ** 2;
			if (d < bestD) {
				bestD = d;
				best = s;
			}
		}
		return best;
	}
});

function escapeHtml(text) {
	return String(text).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}
