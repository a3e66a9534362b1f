import {LayerGroup, Util, divIcon, marker} from 'leaflet';
import {COLORS} from './SeatStyle.js';

// "Your seats" drawn over the raster tiles, where the WebGL layer is not: in lite
// mode at every zoom, and in the full viewer below the detail zoom. The tiles
// show these seats as held; this diamond says they are held by you.

const SIZE = 20;
const svg = () => `<svg width="${SIZE}" height="${SIZE}" viewBox="0 0 20 20" aria-hidden="true" focusable="false">` +
	`<path d="M10 1 L19 10 L10 19 L1 10 Z" fill="${COLORS.mine}" stroke="#fff" stroke-width="1.5"/>` +
	'<circle cx="10" cy="10" r="3" fill="#fff"/></svg>';

export const MineMarkers = LayerGroup.extend({
	// @option hideAtZoom: Number = Infinity
	// From this zoom on the markers are hidden (the WebGL layer draws "mine" itself).
	options: {
		hideAtZoom: Infinity
	},

	initialize(places, options) {
		LayerGroup.prototype.initialize.call(this, [], options);
		Util.setOptions(this, options);
		this._places = places; // async (indices) -> [[index, x, y, r], ...]
		this._markers = new Map();
		this._icon = divIcon({className: 'seatmap-mine-marker', html: svg(), iconSize: [SIZE, SIZE], iconAnchor: [SIZE / 2, SIZE / 2]});
	},

	onAdd(map) {
		LayerGroup.prototype.onAdd.call(this, map);
		map.on('zoomend', this._visibility, this);
		this._visibility();
	},

	onRemove(map) {
		map.off('zoomend', this._visibility, this);
		LayerGroup.prototype.onRemove.call(this, map);
	},

	async setSeats(indices) {
		const wanted = new Set(indices);
		for (const [index, m] of this._markers) {
			if (!wanted.has(index)) {
				this.removeLayer(m);
				this._markers.delete(index);
			}
		}
		const missing = Array.from(wanted).filter((i) => !this._markers.has(i));
		if (!missing.length) { return; }
		const places = await this._places(missing);
		for (const [index, x, y] of places) {
			if (this._markers.has(index) || !wanted.has(index)) { continue; }
			const m = marker([y, x], {icon: this._icon, interactive: false, keyboard: false});
			this._markers.set(index, m);
			this.addLayer(m);
		}
		this._visibility();
	},

	_visibility() {
		if (!this._map) { return; }
		const hidden = this._map.getZoom() >= this.options.hideAtZoom;
		this.eachLayer((m) => { if (m._icon) { m._icon.style.display = hidden ? 'none' : ''; } });
	}
});
