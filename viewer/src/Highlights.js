import {LayerGroup, Util, circleMarker, latLngBounds, rectangle} from 'leaflet';

// Draws the eye to what the viewer just brought into view: rings around seats
// (best available, a row of the cart) and the outline of a section jumped to.
// They stay for `durationMs`, long enough to be found, then go.

export const Highlights = LayerGroup.extend({
	// @option durationMs: Number = 6000
	// How long a highlight stays.
	options: {
		durationMs: 6000
	},

	initialize(options) {
		LayerGroup.prototype.initialize.call(this, [], options);
		Util.setOptions(this, options);
		this._timer = null;
	},

	// places: [[index, x, y, radius], ...] in venue units.
	seats(places) {
		this._reset();
		for (const [index, x, y] of places) {
			const ring = circleMarker([y, x], {
				radius: 20, color: '#1f2328', weight: 4, fill: false, interactive: false,
				className: 'seatmap-highlight-seat'
			});
			ring.seatIndex = index;
			this.addLayer(ring);
		}
		this._expire();
	},

	// bounds: [x0, y0, x1, y1] of a section in venue units.
	section(bounds) {
		this._reset();
		const [x0, y0, x1, y1] = bounds;
		this.addLayer(rectangle(latLngBounds([y0, x0], [y1, x1]), {
			color: '#0969da', weight: 4, fill: true, fillOpacity: 0.06, interactive: false,
			className: 'seatmap-highlight-section'
		}));
		this._expire();
	},

	// Seat indices ringed now.
	ringed() {
		const out = [];
		this.eachLayer((l) => { if (l.seatIndex !== undefined) { out.push(l.seatIndex); } });
		return out;
	},

	_reset() {
		clearTimeout(this._timer);
		this.clearLayers();
	},

	_expire() {
		this._timer = setTimeout(() => this.clearLayers(), this.options.durationMs);
	}
});
