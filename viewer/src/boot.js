// Entry point of /viewer/ and /embed/{id}: picks the full viewer (WebGL seats) or
// lite mode (raster only) and loads only that one. Lite is chosen by ?lite=1 or
// when this browser has no WebGL; ?lite=0 forces the full viewer.

const params = new URLSearchParams(window.location.search);
const body = document.body;
const eventId = parseInt(body.dataset.event || params.get('event') || '', 10);

function hasWebGL() {
	try {
		const canvas = document.createElement('canvas');
		const gl = canvas.getContext('webgl') || canvas.getContext('experimental-webgl');
		if (!gl) { return false; }
		const lose = gl.getExtension('WEBGL_lose_context');
		if (lose) { lose.loseContext(); }
		return true;
	} catch (e) {
		return false;
	}
}

// The embedding partner's origin: `?origin=` when given (and well-formed), else the referrer's.
function partnerOrigin(query, referrer) {
	try {
		const u = new URL(query.get('origin') || referrer || '');
		return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : '';
	} catch (e) {
		return '';
	}
}

function say(text) {
	const el = document.getElementById('seatmap-map');
	const p = document.createElement('p');
	p.className = 'seatmap-fatal';
	p.setAttribute('role', 'alert');
	p.textContent = text;
	el.appendChild(p);
}

const forced = params.get('lite');
const lite = forced === '1' || (forced !== '0' && !hasWebGL());
body.classList.toggle('seatmap-lite', lite);

const elements = {
	map: document.getElementById('seatmap-map'),
	panel: document.getElementById('seatmap-panel'),
	toolbar: document.getElementById('seatmap-toolbar'),
	banner: document.getElementById('seatmap-banner'),
	live: document.getElementById('seatmap-live')
};
const options = {
	eventId,
	lite,
	embed: body.classList.contains('seatmap-embed'),
	partnerOrigin: partnerOrigin(params, document.referrer),
	renderer: params.get('renderer') || 'webgl'
};

if (!Number.isFinite(eventId) || eventId <= 0) {
	say('No event chosen: add ?event=ID to the address.');
} else {
	(lite ? import('./lite.js') : import('./full.js'))
		.then((mode) => mode.start(elements, options))
		.catch((error) => {
			console.error(error);
			if (!document.querySelector('.seatmap-fatal')) { say('The seat map could not be loaded. Please reload the page.'); }
		});
}
