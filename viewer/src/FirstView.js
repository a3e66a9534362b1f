// The page's first view (app/first-view.js, inline in the page) handed over to the map:
// its paint time goes into the viewer's metrics, and what is left of it is dropped
// once the map's own tiles (the first view's images, taken over) are in.

// Leaflet fades new tiles in over 200 ms.
const FADE_MS = 250;

export function handOverFirstView(viewer) {
	const first = window.seatmapFirstView;
	if (!first) { return; }
	if (first.tilesMs) { viewer.metrics.firstViewMs = first.tilesMs; }
	viewer.once('firsttiles', () => {
		if (first.tilesMs) { viewer.metrics.firstViewMs = first.tilesMs; }
		setTimeout(first.remove, FADE_MS); // once the map's tiles have faded in over them
	});
}
