import {SeatLayerBase} from './SeatLayerBase.js';
import {STATUS, drawSeat} from './SeatStyle.js';

// The seats of the view drawn with WebGL: one point sprite per seat, textured
// from a sprite atlas that holds every look a seat can have (available in each
// category, held, sold, not for sale, mine; each plain and accessible), drawn
// with the same drawSeat() as the Canvas 2D baseline at the current seat size.
// A frame is one draw call per run of visible cells and one texture read per
// pixel, whatever the number of seats; the atlas is redrawn only when the seat
// size changes by more than ATLAS_SLACK (a zoom step). Statuses live in their
// own small buffer and change in place when the live stream says so; positions
// are uploaded once, when seats load.

// Extra looks after the categories: held, sold, blocked, mine.
const EXTRA_LOOKS = 4;
// Redraw the atlas when the seat size drifts this far (pinch zoom scales sprites in between).
const ATLAS_SLACK = 0.15;
// Largest atlas cell; beyond it sprites are scaled up from the atlas.
const MAX_CELL_PX = 256;
// Sprite half-size per seat radius: room for the accessible square and the diamond.
const HALF_PER_RADIUS = 1.4;

const VERTEX_SHADER = `
attribute vec3 a_pos;      // x, y, radius in venue units
attribute vec4 a_attr;     // status, category, flags, mine (normalised bytes: x 255)
uniform vec2 u_origin;     // venue units at the canvas' top-left
uniform float u_scale;     // CSS pixels per venue unit
uniform vec2 u_viewport;   // canvas size in CSS pixels
uniform float u_spritePerUnit; // sprite size in device pixels per venue unit of radius
uniform float u_maxPoint;
uniform float u_ncat;      // categories in the atlas
uniform float u_cols;      // atlas columns
uniform vec2 u_cellUV;     // one atlas cell in texture coordinates
uniform float u_plainSpan; // share of a cell a plain seat needs (no square, no diamond)
varying vec2 v_uv;         // top-left of the sprite's part of the atlas
varying float v_span;      // share of the cell the sprite shows
void main() {
	vec2 px = (a_pos.xy - u_origin) * u_scale;
	gl_Position = vec4(px.x / u_viewport.x * 2.0 - 1.0, 1.0 - px.y / u_viewport.y * 2.0, 0.0, 1.0);
	vec4 attr = floor(a_attr * 255.0 + 0.5);
	float status = attr.x;
	float look;
	if (attr.w > 0.5 && status > 0.5 && status < 1.5) { look = u_ncat + 3.0; }
	else if (status < 0.5) { look = min(attr.y, u_ncat - 1.0); }
	else if (status < 1.5 || status > 3.5) { look = u_ncat; }
	else if (status < 2.5) { look = u_ncat + 1.0; }
	else { look = u_ncat + 2.0; }
	float accessible = mod(attr.z, 2.0);
	look += accessible * (u_ncat + ${EXTRA_LOOKS}.0);
	// Plain discs get a sprite just their size: fewer pixels to fill.
	float span = (accessible > 0.5 || look == u_ncat + 3.0) ? 1.0 : u_plainSpan;
	float row = floor(look / u_cols);
	v_uv = (vec2(look - row * u_cols, row) + 0.5 * (1.0 - span)) * u_cellUV;
	v_span = span;
	gl_PointSize = min(a_pos.z * u_spritePerUnit * span, u_maxPoint);
}`;

const FRAGMENT_SHADER = `
precision mediump float;
uniform sampler2D u_atlas;
uniform vec2 u_cellSize;   // = u_cellUV (a uniform is declared once per shader stage and precision)
varying vec2 v_uv;
varying float v_span;
void main() {
	vec4 c = texture2D(u_atlas, v_uv + gl_PointCoord * (u_cellSize * v_span));
	if (c.a < 0.004) { discard; }
	gl_FragColor = c;
}`;

export const SeatLayer = SeatLayerBase.extend({
	// @option categories: Array = []
	// The event's categories [{index, color}], for the colour of available seats.
	options: {
		categories: []
	},

	statics: {
		// True when this browser can draw the layer at all.
		supported() {
			try {
				const canvas = document.createElement('canvas');
				return !!(canvas.getContext('webgl') || canvas.getContext('experimental-webgl'));
			} catch (e) {
				return false;
			}
		}
	},

	_initContext(canvas) {
		const gl = canvas.getContext('webgl', {alpha: true, antialias: false, premultipliedAlpha: true, depth: false, stencil: false}) ||
			canvas.getContext('experimental-webgl');
		if (!gl) { throw new Error('WebGL is not available'); }
		this._gl = gl;
		const program = linkProgram(gl, VERTEX_SHADER, FRAGMENT_SHADER);
		this._program = program;
		this._loc = {
			pos: gl.getAttribLocation(program, 'a_pos'),
			attr: gl.getAttribLocation(program, 'a_attr')
		};
		this._uni = {};
		['u_origin', 'u_scale', 'u_viewport', 'u_spritePerUnit', 'u_maxPoint', 'u_ncat', 'u_cols', 'u_cellUV',
			'u_cellSize', 'u_plainSpan', 'u_atlas'].forEach((name) => {
			this._uni[name] = gl.getUniformLocation(program, name);
		});
		this._posBuffer = gl.createBuffer();
		this._attrBuffer = gl.createBuffer();
		this._bufferSeats = 0;
		this._texture = gl.createTexture();
		this._atlas = null;
		this._maxPoint = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE)[1];
		this._maxTexture = gl.getParameter(gl.MAX_TEXTURE_SIZE);
		this._catColor = [];
		for (const cat of this.options.categories) { this._catColor[cat.index] = cat.color; }
		this._ncat = Math.max(1, this._catColor.length);
		gl.useProgram(program);
		gl.uniform1i(this._uni.u_atlas, 0);
		gl.uniform1f(this._uni.u_ncat, this._ncat);
		gl.enable(gl.BLEND);
		gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
		this._lost = false;
		if (!this._listening) {
			this._listening = true;
			canvas.addEventListener('webglcontextlost', (e) => { e.preventDefault(); this._lost = true; });
			canvas.addEventListener('webglcontextrestored', () => {
				this._initContext(canvas);
				this._upload(0, this.store.count);
				this.redraw();
			});
		}
	},

	_releaseContext() {
		const gl = this._gl;
		if (!gl) { return; }
		gl.deleteBuffer(this._posBuffer);
		gl.deleteBuffer(this._attrBuffer);
		gl.deleteTexture(this._texture);
		gl.deleteProgram(this._program);
		this._gl = null;
	},

	_resizeContext(width, height) {
		if (this._gl) { this._gl.viewport(0, 0, width, height); }
	},

	// Seats were added: the buffers grow (re-uploaded whole) or get the new range.
	_upload(first, end) {
		const gl = this._gl;
		const store = this.store;
		if (!gl || store.count === 0) { return; }
		if (store.pos.length / 3 !== this._bufferSeats) {
			gl.bindBuffer(gl.ARRAY_BUFFER, this._posBuffer);
			gl.bufferData(gl.ARRAY_BUFFER, store.pos, gl.STATIC_DRAW);
			gl.bindBuffer(gl.ARRAY_BUFFER, this._attrBuffer);
			gl.bufferData(gl.ARRAY_BUFFER, store.attr, gl.DYNAMIC_DRAW);
			this._bufferSeats = store.pos.length / 3;
			return;
		}
		gl.bindBuffer(gl.ARRAY_BUFFER, this._posBuffer);
		gl.bufferSubData(gl.ARRAY_BUFFER, first * 12, store.pos.subarray(first * 3, end * 3));
		this._uploadStatus(first, end);
	},

	// Statuses or "mine" marks changed: only their bytes go to the GPU.
	_uploadStatus(first, end) {
		const gl = this._gl;
		if (!gl || end <= first) { return; }
		if (this.store.pos.length / 3 !== this._bufferSeats) { this._upload(first, end); return; }
		gl.bindBuffer(gl.ARRAY_BUFFER, this._attrBuffer);
		gl.bufferSubData(gl.ARRAY_BUFFER, first * 4, this.store.attr.subarray(first * 4, end * 4));
	},

	// Draw every look at seat radius `radiusPx` (device pixels) into the atlas texture.
	_buildAtlas(radiusPx) {
		const gl = this._gl;
		// Looks are drawn at the seat's true size, up to what fits a MAX_CELL_PX cell.
		const r = Math.min(radiusPx, (MAX_CELL_PX / 2 - 1) / HALF_PER_RADIUS);
		const cell = 2 * Math.ceil(r * HALF_PER_RADIUS + 1);
		const looks = 2 * (this._ncat + EXTRA_LOOKS);
		const cols = Math.max(1, Math.min(looks, Math.floor(this._maxTexture / cell)));
		const rows = Math.ceil(looks / cols);
		const canvas = (this._atlas && this._atlas.canvas) || document.createElement('canvas');
		canvas.width = cols * cell;
		canvas.height = rows * cell;
		const ctx = canvas.getContext('2d');
		ctx.clearRect(0, 0, canvas.width, canvas.height);
		const statusOf = [STATUS.HELD, STATUS.SOLD, STATUS.BLOCKED, STATUS.HELD];
		for (let look = 0; look < looks; look++) {
			const base = look % (this._ncat + EXTRA_LOOKS);
			const accessible = look >= this._ncat + EXTRA_LOOKS ? 1 : 0;
			const x = (look % cols) * cell + cell / 2;
			const y = Math.floor(look / cols) * cell + cell / 2;
			if (base < this._ncat) {
				drawSeat(ctx, x, y, r, STATUS.AVAILABLE, this._catColor[base] || '#808080', accessible, false,
					this.options.hollowAvailable);
			} else {
				const extra = base - this._ncat;
				drawSeat(ctx, x, y, r, statusOf[extra], '', accessible, extra === 3);
			}
		}
		gl.bindTexture(gl.TEXTURE_2D, this._texture);
		gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, true);
		gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, canvas);
		// Sprites are drawn at one texel per pixel; between atlas rebuilds (pinch) nearest is enough.
		gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
		gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
		gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
		gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
		gl.useProgram(this._program);
		gl.uniform1f(this._uni.u_cols, cols);
		gl.uniform2f(this._uni.u_cellUV, cell / canvas.width, cell / canvas.height);
		gl.uniform2f(this._uni.u_cellSize, cell / canvas.width, cell / canvas.height);
		// An even number of pixels around the disc and its anti-aliased edge, centred in the cell.
		gl.uniform1f(this._uni.u_plainSpan, Math.min(1, 2 * Math.ceil(r + 1) / cell));
		this._atlas = {canvas, radiusPx, cell, r};
	},

	_draw(view) {
		const gl = this._gl;
		if (!gl || this._lost) { return 0; }
		gl.clearColor(0, 0, 0, 0);
		gl.clear(gl.COLOR_BUFFER_BIT);
		const store = this.store;
		const ranges = store.rangesIn(view.box);
		if (!ranges.length) { return 0; }
		// The atlas is drawn for a typical seat; larger or smaller seats scale their sprite.
		const typical = this._typicalRadius();
		const radiusPx = typical * view.scale * view.dpr;
		if (!this._atlas || Math.abs(radiusPx - this._atlas.radiusPx) > ATLAS_SLACK * this._atlas.radiusPx) {
			this._buildAtlas(radiusPx);
		}
		gl.useProgram(this._program);
		gl.uniform2f(this._uni.u_origin, view.originX, view.originY);
		gl.uniform1f(this._uni.u_scale, view.scale);
		gl.uniform2f(this._uni.u_viewport, view.width, view.height);
		// A seat of radius R device pixels gets a sprite of R * cell / r: its look at its own size.
		gl.uniform1f(this._uni.u_spritePerUnit, view.scale * view.dpr * this._atlas.cell / this._atlas.r);
		gl.uniform1f(this._uni.u_maxPoint, this._maxPoint);
		gl.activeTexture(gl.TEXTURE0);
		gl.bindTexture(gl.TEXTURE_2D, this._texture);
		gl.bindBuffer(gl.ARRAY_BUFFER, this._posBuffer);
		gl.enableVertexAttribArray(this._loc.pos);
		gl.vertexAttribPointer(this._loc.pos, 3, gl.FLOAT, false, 12, 0);
		gl.bindBuffer(gl.ARRAY_BUFFER, this._attrBuffer);
		gl.enableVertexAttribArray(this._loc.attr);
		// Normalised bytes: a vertex format every GPU (and ANGLE on Vulkan) takes without conversion.
		gl.vertexAttribPointer(this._loc.attr, 4, gl.UNSIGNED_BYTE, true, 4, 0);
		let drawn = 0;
		for (const [first, end] of ranges) {
			gl.drawArrays(gl.POINTS, first, end - first);
			drawn += end - first;
		}
		return drawn;
	},

	// The radius most seats have (of the first ones loaded): the atlas is drawn at it.
	_typicalRadius() {
		if (!this._typical) {
			const store = this.store;
			const n = Math.min(store.count, 501);
			const radii = [];
			for (let s = 0; s < n; s++) { radii.push(store.pos[s * 3 + 2]); }
			radii.sort((a, b) => a - b);
			this._typical = radii[radii.length >> 1] || 1;
		}
		return this._typical;
	},

	// Wait until the GPU has finished the frame (the benchmark's honest frame time).
	finish() {
		if (this._gl) {
			const pixel = new Uint8Array(4);
			this._gl.readPixels(0, 0, 1, 1, this._gl.RGBA, this._gl.UNSIGNED_BYTE, pixel);
		}
	}
});

function compile(gl, type, source) {
	const shader = gl.createShader(type);
	gl.shaderSource(shader, source);
	gl.compileShader(shader);
	if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
		throw new Error('seat shader: ' + gl.getShaderInfoLog(shader));
	}
	return shader;
}

function linkProgram(gl, vertexSource, fragmentSource) {
	const program = gl.createProgram();
	gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, vertexSource));
	gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragmentSource));
	gl.linkProgram(program);
	if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
		throw new Error('seat shader: ' + gl.getProgramInfoLog(program));
	}
	return program;
}
