// Colours and shapes of seats, shared by the WebGL layer, the Canvas 2D baseline,
// the legend and the list view. They match the raster tiles (tileserver/style.py)
// so a seat looks the same whether a tile or the seat layer draws it, and status
// is never told by colour alone:
//   available  a filled disc in its category colour, with a dark rim
//   held       a ring (orange-brown) with a white centre
//   sold       a small dark dot
//   blocked    a pale disc with a dark centre dot ("not for sale")
//   mine       a magenta diamond with a white centre dot (held by this buyer)
//   accessible a blue rounded square behind the seat
// Every colour below has at least 3:1 contrast against the venue background
// (WCAG 2.1 non-text contrast) and text colours at least 4.5:1.

export const STATUS = Object.freeze({AVAILABLE: 0, HELD: 1, SOLD: 2, BLOCKED: 3, CONFIRMING: 4});

// Bits of the seats.bin flags byte.
export const FLAG = Object.freeze({ACCESSIBLE: 1, WHEELCHAIR: 2, COMPANION: 4});

// Defaults; the event's TileJSON (`status_colors`) overrides them through usePalette()
// before any layer draws, so the tiles and the client never disagree.
export const COLORS = {
	background: '#f6f8fa',
	rim: '#1f2328',
	held: '#bc4c00',
	heldCentre: '#ffffff',
	sold: '#424a53',
	blockedDisc: '#c9d1d9',
	blockedDot: '#57606a',
	accessible: '#0969da',
	mine: '#d4007f',
	mineCentre: '#ffffff',
	focus: '#1f2328'
};

// Which TileJSON `status_colors` entry sets which colour.
const PALETTE_KEYS = {held: 'held', sold: 'sold', blocked: 'blockedDisc', accessible: 'accessible', highlight: 'mine'};

// Take the status colours the event's TileJSON sends; unknown or malformed entries are ignored.
export function usePalette(statusColors) {
	for (const [key, value] of Object.entries(statusColors || {})) {
		const name = PALETTE_KEYS[key];
		if (name && /^#[0-9a-fA-F]{6}$/.test(String(value))) { COLORS[name] = value; }
	}
	return COLORS;
}

// Shape proportions, as shares of the seat radius.
export const SHAPE = Object.freeze({
	ringInner: 0.5, // held: the white centre
	soldDot: 0.45,
	blockedDot: 0.35,
	mineDiamond: 1.2, // half-diagonal of the diamond
	mineDot: 0.35,
	accessiblePad: 0.35 // the square reaches this far beyond the disc
});

// What each status is called in words (screen readers, tooltips, the list).
export function statusName(status, mine) {
	if (mine) { return 'held by you'; }
	switch (statusCode(status)) {
	case STATUS.AVAILABLE: return 'available';
	case STATUS.HELD: case STATUS.CONFIRMING: return 'held by someone else';
	case STATUS.SOLD: return 'sold';
	default: return 'not for sale';
	}
}

// A status as its number, from a number or a name ("available", "held", ...).
export function statusCode(status) {
	if (typeof status === 'number') { return status; }
	const code = {available: 0, held: 1, sold: 2, blocked: 3, confirming: 4}[status];
	return code === undefined ? STATUS.BLOCKED : code;
}

// Public status: a seat being confirmed looks held from outside.
export function publicStatus(status) {
	return status === STATUS.CONFIRMING ? STATUS.HELD : status;
}

export function hexToRgb(hex) {
	let value = String(hex || '').replace('#', '');
	if (value.length === 3 || value.length === 4) { value = value.split('').map((c) => c + c).join(''); }
	if (value.length === 8) { value = value.slice(0, 6); } // seats are drawn opaque, as on the server
	const n = parseInt(value, 16);
	if (value.length !== 6 || Number.isNaN(n)) { return [128, 128, 128]; }
	return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function formatPrice(cents, currency) {
	if (cents === null || cents === undefined) { return ''; }
	try {
		return new Intl.NumberFormat(undefined, {style: 'currency', currency: currency || 'EUR'}).format(cents / 100);
	} catch (e) {
		return (cents / 100).toFixed(2);
	}
}

// Draw one seat's look with Canvas 2D, centred at (x, y) with radius r pixels:
// the Canvas 2D baseline draws every seat with it, the WebGL layer draws each
// look once into its sprite atlas, so both show exactly the same shapes.
// `hollow`: an available seat is only its rim, so the detail tile's disc and
// seat number underneath stay visible (every other look is opaque).
export function drawSeat(ctx, x, y, r, status, fill, flags, mine, hollow) {
	const seeThrough = hollow && status === STATUS.AVAILABLE;
	if ((flags & FLAG.ACCESSIBLE) && !seeThrough) {
		const h = r * (1 + SHAPE.accessiblePad);
		ctx.fillStyle = COLORS.accessible;
		ctx.beginPath();
		ctx.roundRect(x - h, y - h, 2 * h, 2 * h, r * 0.4);
		ctx.fill();
	}
	if (mine && publicStatus(status) === STATUS.HELD) {
		const h = r * SHAPE.mineDiamond;
		// The tile underneath draws this seat as held by someone else: cover its ring.
		disc(ctx, x, y, r + 1, COLORS.background);
		ctx.fillStyle = COLORS.mine;
		ctx.beginPath();
		ctx.moveTo(x, y - h);
		ctx.lineTo(x + h, y);
		ctx.lineTo(x, y + h);
		ctx.lineTo(x - h, y);
		ctx.closePath();
		ctx.fill();
		disc(ctx, x, y, r * SHAPE.mineDot, COLORS.mineCentre);
	} else if (status === STATUS.AVAILABLE && hollow) {
		ctx.strokeStyle = COLORS.rim;
		ctx.lineWidth = 1.25;
		ctx.beginPath();
		ctx.arc(x, y, Math.max(0.5, r - 0.6), 0, 2 * Math.PI);
		ctx.stroke();
	} else if (status === STATUS.AVAILABLE) {
		disc(ctx, x, y, r, COLORS.rim);
		disc(ctx, x, y, Math.max(0, r - 1), fill);
	} else if (publicStatus(status) === STATUS.HELD) {
		disc(ctx, x, y, r, COLORS.held);
		disc(ctx, x, y, r * SHAPE.ringInner, COLORS.heldCentre);
	} else if (status === STATUS.SOLD) {
		disc(ctx, x, y, r * SHAPE.soldDot, COLORS.sold);
	} else {
		disc(ctx, x, y, r, COLORS.blockedDisc);
		disc(ctx, x, y, r * SHAPE.blockedDot, COLORS.blockedDot);
	}
}

function disc(ctx, x, y, r, colour) {
	ctx.fillStyle = colour;
	ctx.beginPath();
	ctx.arc(x, y, r, 0, 2 * Math.PI);
	ctx.fill();
}
