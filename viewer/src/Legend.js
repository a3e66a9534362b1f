import {Control, DomUtil, DomEvent} from 'leaflet';
import {COLORS, formatPrice} from './SeatStyle.js';

// What the shapes and colours mean: the statuses (each its own shape, so colour
// is never the only clue) and the price categories.

const ICON = 18;

export const Legend = Control.extend({
	// @option position: String = 'bottomleft'
	// Corner of the map the legend sits in.
	// @option categories: Array = []
	// [{index, name, color, price_cents}]
	// @option currency: String = 'EUR'
	// @option collapsed: Boolean = false
	// Start folded (small screens).
	options: {
		position: 'bottomleft',
		categories: [],
		currency: 'EUR',
		collapsed: false
	},

	onAdd() {
		const box = DomUtil.create('details', 'seatmap-legend leaflet-bar');
		box.open = !this.options.collapsed;
		const summary = DomUtil.create('summary', '', box);
		summary.textContent = 'Legend';
		const list = DomUtil.create('ul', '', box);
		const entries = [
			['Available (colour = price)', icon('available', this.options.categories[0] ? this.options.categories[0].color : '#2da44e')],
			['Yours', icon('mine')],
			['Held by someone else', icon('held')],
			['Sold', icon('sold')],
			['Not for sale', icon('blocked')],
			['Wheelchair access', icon('accessible')]
		];
		for (const c of this.options.categories) {
			entries.push([`${c.name} ${formatPrice(c.price_cents, this.options.currency)}`, icon('available', c.color)]);
		}
		for (const [text, svg] of entries) {
			const li = DomUtil.create('li', '', list);
			li.innerHTML = svg;
			const span = DomUtil.create('span', '', li);
			span.textContent = text;
		}
		DomEvent.disableClickPropagation(box);
		DomEvent.disableScrollPropagation(box);
		return box;
	}
});

function icon(kind, colour) {
	const c = ICON / 2;
	const r = ICON / 2 - 2;
	let body;
	switch (kind) {
	case 'available':
		body = `<circle cx="${c}" cy="${c}" r="${r}" fill="${colour}" stroke="${COLORS.rim}" stroke-width="1"/>`;
		break;
	case 'mine':
		body = `<path d="M${c} 1 L${ICON - 1} ${c} L${c} ${ICON - 1} L1 ${c} Z" fill="${COLORS.mine}"/><circle cx="${c}" cy="${c}" r="${r * 0.35}" fill="#fff"/>`;
		break;
	case 'held':
		body = `<circle cx="${c}" cy="${c}" r="${r}" fill="${COLORS.held}"/><circle cx="${c}" cy="${c}" r="${r * 0.5}" fill="#fff"/>`;
		break;
	case 'sold':
		body = `<circle cx="${c}" cy="${c}" r="${r * 0.45}" fill="${COLORS.sold}"/>`;
		break;
	case 'blocked':
		body = `<circle cx="${c}" cy="${c}" r="${r}" fill="${COLORS.blockedDisc}"/><circle cx="${c}" cy="${c}" r="${r * 0.35}" fill="${COLORS.blockedDot}"/>`;
		break;
	default:
		body = `<rect x="1" y="1" width="${ICON - 2}" height="${ICON - 2}" rx="4" fill="${COLORS.accessible}"/><circle cx="${c}" cy="${c}" r="${r * 0.7}" fill="#fff"/>`;
	}
	return `<svg width="${ICON}" height="${ICON}" viewBox="0 0 ${ICON} ${ICON}" aria-hidden="true" focusable="false">${body}</svg>`;
}
