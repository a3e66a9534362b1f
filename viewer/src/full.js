import {handOverFirstView} from './FirstView.js';
import {DetailSeats} from './DetailSeats.js';
import {PriceOverview} from './PriceOverview.js';
import {SeatmapViewer} from './SeatmapViewer.js';
import {SeatLayer} from './SeatLayer.js';
import {SeatPicker} from './SeatPicker.js';
import {SeatStore} from './SeatStore.js';
import {SeatTooltip} from './SeatTooltip.js';
import './ViewerParts.js'; // with the rest of the full viewer's code (lite mode loads it later)

// The full viewer: raster tiles plus the WebGL seat layer at detail zoom, and the
// overview coloured by price on demand (PriceOverview).
// `?renderer=canvas` swaps in the Canvas 2D baseline (benchmarks only).
// If WebGL fails after all, the viewer carries on in lite mode.

export async function start(elements, options) {
	let Layer = SeatLayer;
	if (options.renderer === 'canvas') {
		Layer = (await import('./CanvasSeatLayer.js')).CanvasSeatLayer;
	}
	const seatLayer = {Store: SeatStore, Layer, Picker: SeatPicker, Detail: DetailSeats, Tooltip: SeatTooltip, PriceOverview};
	let viewer = new SeatmapViewer(elements, Object.assign({}, options, {seatLayer}));
	window.seatmapViewer = viewer;
	handOverFirstView(viewer);
	try {
		await viewer.start();
	} catch (error) {
		if (!viewer.map) { throw error; }
		console.warn('seat layer failed, carrying on in lite mode', error);
		viewer.map.remove();
		elements.panel.textContent = '';
		viewer = new SeatmapViewer(elements, Object.assign({}, options, {lite: true}));
		window.seatmapViewer = viewer;
		handOverFirstView(viewer);
		document.body.classList.add('seatmap-lite');
		await viewer.start();
	}
	return viewer;
}
