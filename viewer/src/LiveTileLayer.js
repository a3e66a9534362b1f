import {TileLayer} from 'leaflet';

// The event's raster tiles, kept current: when the live stream marks tiles dirty,
// only those tiles are fetched again, under a new version parameter (the change's
// stream id) so neither the browser cache nor a CDN can answer with the old image.
// The old image stays on screen until the new one has loaded, so nothing flickers.
// Tiles loaded later (after a pan or zoom) ask for the newest version they had.
//
// Events: `tilesrefreshed` {count} after dirty tiles were asked for again.

export const LiveTileLayer = TileLayer.extend({
	// @option versionParam: String = 'v'
	// Query parameter that carries a tile's version.
	// @option maxDirtyRects: Number = 512
	// Dirty rectangles remembered per zoom; beyond this, the whole zoom gets a new version.
	// @option pyramid: Object = null
	// {width, height, scale0, tileSize}: which tiles exist (see tileCount); null: any in `bounds`.
	options: {
		versionParam: 'v',
		maxDirtyRects: 512,
		pyramid: null
	},

	initialize(url, options) {
		TileLayer.prototype.initialize.call(this, url, options);
		this._dirty = {};       // zoom -> [[x0, y0, x1, y1, version], ...]
		this._zoomVersion = {}; // zoom -> version of every tile of that zoom
		this._allVersion = '';  // version of every tile (after a reset)
	},

	// Only tiles the pyramid has: Leaflet's `bounds` alone can let in a row of tiles just
	// past the venue's edge (by a rounding error), which the server answers with 404.
	_isValidTile(coords) {
		return TileLayer.prototype._isValidTile.call(this, coords) && hasTile(this.options.pyramid, coords);
	},

	getTileUrl(coords) {
		const url = TileLayer.prototype.getTileUrl.call(this, coords);
		const version = this._versionOf(coords);
		if (!version) { return url; }
		return url + (url.indexOf('?') < 0 ? '?' : '&') + this.options.versionParam + '=' + encodeURIComponent(version);
	},

	// dirty: {zoom: [[x0, y0, x1, y1], ...]} with inclusive ranges; version: the stream id.
	markDirty(dirty, version) {
		let refreshed = 0;
		for (const key of Object.keys(dirty || {})) {
			const z = Number(key);
			const rects = dirty[key] || [];
			const list = this._dirty[z] || (this._dirty[z] = []);
			for (const r of rects) { list.push([r[0], r[1], r[2], r[3], version]); }
			if (list.length > this.options.maxDirtyRects) {
				this._zoomVersion[z] = version;
				this._dirty[z] = [];
			}
			refreshed += this._refreshWhere((c) => c.z === z && rects.some((r) => c.x >= r[0] && c.x <= r[2] && c.y >= r[1] && c.y <= r[3]));
		}
		if (refreshed) { this.fire('tilesrefreshed', {count: refreshed}); }
		return refreshed;
	},

	// Every tile may have changed (the stream said reset, or we lost track).
	refreshAll(version) {
		this._allVersion = version || String(Date.now());
		this._dirty = {};
		this._zoomVersion = {};
		const refreshed = this._refreshWhere(() => true);
		this.fire('tilesrefreshed', {count: refreshed});
		return refreshed;
	},

	_versionOf(coords) {
		let best = this._zoomVersion[coords.z] || this._allVersion;
		const list = this._dirty[coords.z];
		if (list) {
			for (let k = list.length - 1; k >= 0; k--) {
				const r = list[k];
				if (coords.x >= r[0] && coords.x <= r[2] && coords.y >= r[1] && coords.y <= r[3]) {
					if (newer(r[4], best)) { best = r[4]; }
					break;
				}
			}
		}
		return best;
	},

	_refreshWhere(test) {
		let count = 0;
		for (const key in this._tiles) {
			const tile = this._tiles[key];
			if (!tile.current || !tile.loaded || !test(tile.coords)) { continue; }
			const url = this.getTileUrl(tile.coords);
			if (tile.el.src === url || tile.el.dataset.pending === url) { continue; }
			tile.el.dataset.pending = url;
			const next = new Image();
			next.crossOrigin = tile.el.crossOrigin;
			next.onload = () => {
				if (tile.el.dataset.pending === url) {
					tile.el.src = url;
					delete tile.el.dataset.pending;
				}
			};
			next.onerror = () => { delete tile.el.dataset.pending; };
			next.src = url;
			count++;
		}
		return count;
	}
});

// Tiles across and down at a zoom, as the server counts them (seatmap/grid.py
// TileGrid.tile_count): the venue's size in whole pixels, in whole tiles.
export function tileCount(pyramid, z) {
	const s = pyramid.scale0 * Math.pow(2, z);
	const across = (units) => Math.ceil(Math.max(1, Math.ceil(units * s)) / pyramid.tileSize);
	return [across(pyramid.width), across(pyramid.height)];
}

function hasTile(pyramid, coords) {
	if (!pyramid) { return true; }
	const [nx, ny] = tileCount(pyramid, coords.z);
	return coords.x >= 0 && coords.y >= 0 && coords.x < nx && coords.y < ny;
}

// Stream ids "ms-seq" compare by both numbers; other versions compare as strings.
function newer(a, b) {
	if (!b) { return true; }
	// Ids are positions "ms-seq.generation"; within one generation the Stream id orders them.
	const pa = String(a).split('.')[0].split('-').map(Number);
	const pb = String(b).split('.')[0].split('-').map(Number);
	if (pa.length === 2 && pb.length === 2 && pa.every(Number.isFinite) && pb.every(Number.isFinite)) {
		return pa[0] > pb[0] || (pa[0] === pb[0] && pa[1] > pb[1]);
	}
	return String(a) > String(b);
}

