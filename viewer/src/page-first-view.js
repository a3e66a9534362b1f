// The first view, painted before any script bundle has loaded: inlined into the page
// (as a classic script, built apart from the bundle), it reads the event's TileJSON
// from the page, works out the view the map will open on (the whole venue fitted to
// the map's box) and shows that view's tiles as plain images. Only once they are in
// does the page load the viewer's scripts, so that on a slow link the tiles get the
// bandwidth first. The map then asks for the very same tile URLs, in images made
// the same way (no crossorigin, no referrer policy: the same request), so the browser
// answers them from its memory cache; the map drops these images once its own tiles
// are in.
//
// It follows Leaflet's arithmetic for `fitBounds` (zoom snapped down to a whole zoom,
// eight pixels of padding, the cart bar on small screens), for `maxBounds` and for
// which tiles a view needs; the browser tests check that both ask for the same tiles.
//
// Sets window.seatmapFirstView = {tilesMs, urls, remove()}; tilesMs once every tile
// has loaded (from navigation start).

(function () {
	var doc = document;
	var box = doc.getElementById('seatmap-map');
	var first = window.seatmapFirstView = {
		tilesMs: 0, urls: [], remove: function () {}
	};
	var started = false;

	function startViewer() {
		if (started) { return; }
		started = true;
		var s = doc.createElement('script');
		s.type = 'module';
		s.src = 'app/boot.js';
		doc.body.appendChild(s);
	}

	function firstNumber(a, b) {
		return typeof a === 'number' && isFinite(a) ? a : b;
	}

	function view(tj) {
		var size = tj.venue_size || [];
		var width = size[0], height = size[1];
		var tileSize = tj.tile_size || 256;
		if (!(width > 0 && height > 0) || !tj.tile_templates || !box) { return null; }
		var minNative = tj.minzoom || 0, maxNative = tj.maxzoom;
		var s0 = firstNumber(tj.venue_scale0, tileSize / Math.max(width, height));
		var w = box.clientWidth, h = box.clientHeight;
		var bar = parseFloat(getComputedStyle(box).getPropertyValue('--seatmap-cart-bar')) || 0;
		if (!(w > 0 && h > 0)) { return null; }
		// fitBounds: the zoom where the venue fits inside the padded box, snapped down.
		var scale = Math.min((w - 16) / (width * s0), (h - 16 - bar) / (height * s0));
		var zoom = Math.log(scale) / Math.LN2;
		zoom = Math.round(zoom / 0.01) * 0.01; // within 1% of a whole zoom (zoomSnap 1)
		zoom = Math.floor(zoom);
		zoom = Math.max(minNative - 2, Math.min(maxNative, zoom));
		var k = s0 * Math.pow(2, zoom);
		// The centre (projected at that zoom), shifted by half the uneven padding.
		var cx = width * k / 2, cy = height * k / 2 + bar / 2;
		// maxBounds: a quarter of the venue around it.
		var pad = Math.max(width, height) * 0.25 * k;
		var dx = rebound(-pad - (cx - w / 2), -((width * k + pad) - (cx + w / 2)));
		var dy = rebound(-pad - (cy - h / 2), -((height * k + pad) - (cy + h / 2)));
		if (Math.abs(dx) > 1 || Math.abs(dy) > 1) { cx += dx; cy += dy; }
		var tz = Math.max(minNative, Math.min(maxNative, Math.round(zoom)));
		var f = Math.pow(2, zoom - tz);
		// The tiles whose pixels the box covers, kept to those overlapping the venue.
		var pcx = Math.floor(cx / f), pcy = Math.floor(cy / f);
		var x0 = Math.floor((pcx - w / f / 2) / tileSize), x1 = Math.ceil((pcx + w / f / 2) / tileSize) - 1;
		var y0 = Math.floor((pcy - h / f / 2) / tileSize), y1 = Math.ceil((pcy + h / f / 2) / tileSize) - 1;
		var ox = Math.round(cx - w / 2), oy = Math.round(cy - h / 2);
		var unit = tileSize / Math.pow(2, tz) / s0;
		// Only tiles the pyramid has, counted as the server does (the map does the same).
		var st = s0 * Math.pow(2, tz);
		var nx = Math.ceil(Math.max(1, Math.ceil(width * st)) / tileSize);
		var ny = Math.ceil(Math.max(1, Math.ceil(height * st)) / tileSize);
		var tiles = [];
		for (var j = y0; j <= y1; j++) {
			for (var i = x0; i <= x1; i++) {
				if ((i + 1) * unit > 0 && i * unit < width && (j + 1) * unit > 0 && j * unit < height &&
						i >= 0 && j >= 0 && i < nx && j < ny) {
					tiles.push({z: tz, x: i, y: j, left: i * tileSize * f - ox, top: j * tileSize * f - oy, size: tileSize * f});
				}
			}
		}
		return tiles;
	}

	// Leaflet's correction that brings a view back inside the bounds.
	function rebound(left, right) {
		return left + right > 0 ? Math.round(left - right) / 2 : Math.max(0, Math.ceil(left)) - Math.max(0, Math.floor(right));
	}

	function template(tj) {
		var hires = (window.devicePixelRatio || 1) >= 1.5;
		var webp = false;
		try {
			var c = doc.createElement('canvas');
			c.width = c.height = 1;
			webp = c.toDataURL('image/webp').indexOf('data:image/webp') === 0;
		} catch (e) { /* no WebP */ }
		return tj.tile_templates[(webp ? 'webp' : 'png') + (hires ? '@2x' : '')];
	}

	function paint(tj) {
		var tiles = view(tj);
		var url = template(tj);
		if (!tiles || !tiles.length || !url) { return false; }
		var layer = doc.createElement('div');
		layer.className = 'seatmap-first-view';
		layer.setAttribute('aria-hidden', 'true');
		var waiting = tiles.length;
		var done = function () {
			if (--waiting === 0) {
				first.tilesMs = performance.now();
				startViewer();
			}
		};
		tiles.forEach(function (t) {
			var img = doc.createElement('img');
			img.alt = '';
			img.onload = img.onerror = done;
			img.style.cssText = 'left:' + t.left + 'px;top:' + t.top + 'px;width:' + t.size + 'px;height:' + t.size + 'px';
			img.src = url.replace('{z}', t.z).replace('{x}', t.x).replace('{y}', t.y);
			first.urls.push(img.src);
			layer.appendChild(img);
		});
		box.appendChild(layer);
		first.remove = function () {
			if (layer.parentNode) { layer.parentNode.removeChild(layer); }
		};
		return true;
	}

	var tj = null;
	try {
		tj = JSON.parse(doc.getElementById('seatmap-tilejson').textContent);
	} catch (e) { /* no event on this page */ }
	if (!tj || !paint(tj)) { startViewer(); }
	// Whatever happens to the tiles, the map does not wait for them longer than this.
	setTimeout(startViewer, new URLSearchParams(window.location.search).get('lite') === '1' ? 4000 : 3000);
})();
