// Which tile files this browser asks for: @2x on dense screens, WebP where the
// browser decodes it, PNG at 1x otherwise.

// The tile URL template for the format; hires or webp left null are detected.
export function tileUrlTemplate(tileJson, {hires = null, webp = null} = {}) {
	const useHires = hires === null ? (window.devicePixelRatio || 1) >= 1.5 : hires;
	const useWebp = webp === null ? supportsWebp() : webp;
	const key = (useWebp ? 'webp' : 'png') + (useHires ? '@2x' : '');
	const templates = tileJson.tile_templates || {};
	if (templates[key]) { return templates[key]; }
	return tileJson.tiles[0].replace(/\{y\}(@2x)?\.(png|webp)/, `{y}${useHires ? '@2x' : ''}.${useWebp ? 'webp' : 'png'}`);
}

let webpSupport = null;

// Whether this browser takes WebP tiles, judged once by whether its canvas encodes WebP.
export function supportsWebp() {
	if (webpSupport === null) {
		try {
			const c = document.createElement('canvas');
			c.width = c.height = 1;
			webpSupport = c.toDataURL('image/webp').indexOf('data:image/webp') === 0;
		} catch (e) {
			webpSupport = false;
		}
	}
	return webpSupport;
}
