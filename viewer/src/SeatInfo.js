import {Class, Util} from 'leaflet';
import {FLAG, formatPrice, statusName} from './SeatStyle.js';

// What a seat is called and costs, in words: details come from
// `GET /events/{id}/seats/{index}` (cached), or are put in by whoever already has
// them (the section rows the keyboard and list views load).

const SEAT_TYPES = {1: 'wheelchair space', 2: 'companion seat', 3: 'restricted view',
	wheelchair: 'wheelchair space', companion: 'companion seat', restricted_view: 'restricted view'};

function capital(text) {
	return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

export const SeatInfo = Class.extend({
	// @option currency: String = 'EUR'
	// ISO currency of the event's prices.
	// @option maxCached: Number = 5000
	// Seat details kept in memory.
	options: {
		currency: 'EUR',
		maxCached: 5000
	},

	initialize(api, categories, options) {
		Util.setOptions(this, options);
		this._api = api;
		this._categories = new Map((categories || []).map((c) => [c.index, c]));
		this._byName = new Map((categories || []).map((c) => [c.name, c]));
		this._cache = new Map();
	},

	get(index) {
		let found = this._cache.get(index);
		if (!found) {
			found = this._api.seat(index).then((d) => this._normalise(d, index));
			found.catch(() => this._cache.delete(index));
			this._remember(index, found);
		}
		return found;
	},

	put(index, details) {
		const d = this._normalise(details, index);
		this._remember(index, Promise.resolve(d));
		return d;
	},

	// Details of a seat from a section's rows (VenueSections), in the shape of
	// GET /seats/{index}, kept like any other.
	fromRow(section, row, seat) {
		const [index, label, , , , category, flags] = seat;
		const seatType = flags & FLAG.WHEELCHAIR ? 1 : (flags & FLAG.COMPANION ? 2 : 0);
		const cat = this._categories.get(category);
		return this.put(index, {
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

	// "Section 101, row A, seat 5"
	place(d) {
		return `Section ${d.section}, row ${d.row}, seat ${d.seat}`;
	},

	// "Premium, €80.00"
	price(d) {
		const cat = this.category(d);
		const cents = d.price_cents !== undefined && d.price_cents !== null ? d.price_cents : (cat && cat.price_cents);
		return [cat ? cat.name : '', formatPrice(cents, this.options.currency)].filter(Boolean).join(', ');
	},

	category(d) {
		if (typeof d.category === 'number') { return this._categories.get(d.category) || null; }
		return this._byName.get(d.category) || (d.category ? {name: d.category} : null);
	},

	priceCents(d) {
		if (d.price_cents !== undefined && d.price_cents !== null) { return d.price_cents; }
		const cat = this.category(d);
		return cat ? cat.price_cents : 0;
	},

	access(d) {
		const words = [];
		const type = SEAT_TYPES[d.seat_type];
		if (type) { words.push(type); }
		if (d.accessible && !type) { words.push('accessible'); }
		return words.join(', ');
	},

	// The whole sentence a screen reader or tooltip gives.
	describe(d, status, mine) {
		const state = statusName(status === undefined ? d.status : status, mine);
		const parts = [this.place(d), this.price(d), capital(state), capital(this.access(d))];
		return parts.filter(Boolean).join('. ') + '.';
	},

	_normalise(d, index) {
		const out = Object.assign({}, d);
		out.index = d.index !== undefined ? d.index : index;
		if (!out.id) { out.id = out.label; }
		if (!out.label) { out.label = [out.section, out.row, out.seat].join('-'); }
		return out;
	},

	_remember(index, promise) {
		this._cache.set(index, promise);
		if (this._cache.size > this.options.maxCached) {
			this._cache.delete(this._cache.keys().next().value);
		}
	}
});
