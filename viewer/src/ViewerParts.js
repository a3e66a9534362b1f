import {EmbedBridge} from './EmbedBridge.js';
import {KeyboardNav} from './KeyboardNav.js';
import {Legend} from './Legend.js';
import {LiveSync} from './LiveSync.js';
import {LiveUpdates} from './LiveUpdates.js';
import {MapFocus} from './MapFocus.js';
import {SectionLabels} from './SectionLabels.js';
import {StatusBoard} from './StatusBoard.js';
import {VenueSections} from './VenueSections.js';
import {ViewerToolbar} from './ViewerToolbar.js';

// The viewer's parts beyond holding a seat with a tap: section labels and the
// section jump, bringing seats into view, the toolbar, the legend, the keyboard,
// live updates and, in an embed, the partner page's postMessage API. The full
// viewer loads them with the rest of its code; lite mode after its first tiles.

export function buildViewerParts(viewer) {
	const o = viewer.options;
	viewer.sections = new VenueSections(viewer.api);
	viewer.focus = new MapFocus(viewer);
	viewer.sectionLabels = new SectionLabels(viewer, viewer.el.map, {chipFromZoom: viewer.grid.seatZoom}).addTo(viewer.map);
	viewer.statuses = new StatusBoard(viewer.api, viewer.store);
	if (viewer.el.toolbar) { viewer.toolbar = new ViewerToolbar(viewer, viewer.el.toolbar); }
	const small = window.matchMedia && window.matchMedia('(max-width: 720px)').matches;
	new Legend({categories: viewer.categories, currency: viewer.currency, collapsed: small || o.embed}).addTo(viewer.map);
	// The overview coloured by price (a full mode part: lite mode does without).
	const Overview = !o.lite && o.seatLayer && o.seatLayer.PriceOverview;
	if (Overview) { viewer.priceOverview = new Overview(viewer).addTo(viewer.map); }
	viewer.keyboard = new KeyboardNav(viewer.map, viewer);
	viewer.keyboard.enable();
	buildLive(viewer);
	if (o.embed && o.partnerOrigin && window.parent !== window) {
		viewer.bridge = new EmbedBridge(viewer, window.parent, o.partnerOrigin);
	}
}

// The live stream: dirty tiles, recoloured seats, the message bar and the list kept current.
function buildLive(viewer) {
	viewer.live = new LiveUpdates(viewer.api.streamUrl());
	viewer.liveSync = new LiveSync(viewer.live, {
		api: viewer.api, tiles: viewer.tiles, store: viewer.store, statuses: viewer.statuses, cart: viewer.cart, banner: viewer.el.banner
	});
	viewer.liveSync.on('seatschanged', (e) => {
		viewer.messages.seatsChanged(e.seats);
		if (viewer.seatList) { viewer.seatList.refresh(); }
		viewer.fire('seatschanged', {id: e.id, seats: e.seats});
	});
	viewer.liveSync.on('statusesreloaded', () => { if (viewer.seatList) { viewer.seatList.refresh(); } });
	viewer.live.start();
}
