import {handOverFirstView} from './FirstView.js';
import {SeatmapViewer} from './SeatmapViewer.js';

// Lite mode: the raster tiles and Leaflet only, for phones without WebGL or on
// slow networks. A tap asks the server which seat is there.

export function start(elements, options) {
	const viewer = new SeatmapViewer(elements, Object.assign({}, options, {lite: true}));
	window.seatmapViewer = viewer;
	handOverFirstView(viewer);
	return viewer.start();
}
