import {Class, DomEvent, DomUtil, Util} from 'leaflet';

// A list of the seats that are free, section by section and row by row: the way
// to choose a seat without the map, with a screen reader or a keyboard. Each
// seat is a button that holds it (or releases it when it is already yours).
// Open sections follow the live stream: taken seats drop out, freed ones appear.

export const SeatList = Class.extend({
	// @option rerenderDelayMs: Number = 400
	// Live changes are gathered this long before open sections are redrawn.
	options: {
		rerenderDelayMs: 400
	},

	initialize(viewer, container, options) {
		Util.setOptions(this, options);
		this._viewer = viewer;
		this._open = new Map(); // section index -> body element
		this._timer = null;
		this._root = DomUtil.create('section', 'seatmap-list', container);
		this._root.setAttribute('aria-labelledby', 'seatmap-list-heading');
		const h = DomUtil.create('h2', '', this._root);
		h.id = 'seatmap-list-heading';
		h.textContent = 'Free seats by section';
		h.tabIndex = -1;
		this._heading = h;
		this._opener = null;
		const close = DomUtil.create('button', 'seatmap-button seatmap-list-close', this._root);
		close.type = 'button';
		close.textContent = 'Close the list';
		DomEvent.on(close, 'click', () => this.close());
		DomEvent.on(this._root, 'keydown', (e) => { if (e.key === 'Escape') { this.close(); } });
		const hint = DomUtil.create('p', 'seatmap-hint', this._root);
		hint.textContent = 'Open a section to list its free seats. Each seat is a button that holds it.';
		this._sections = DomUtil.create('div', 'seatmap-list-sections', this._root);
		this._sections.textContent = 'Loading sections…';
		this._load();
	},

	// Show the list and move the focus into it; `opener` gets the focus back on close.
	open(opener) {
		this._opener = opener || null;
		this._root.hidden = false;
		this._heading.focus();
	},

	// Hide the list and give the focus back to what opened it.
	close() {
		this._root.hidden = true;
		if (this._opener) { this._opener.focus(); }
	},

	// Seats changed status (live stream, or our own holds): redraw open sections soon.
	refresh() {
		if (this._timer || !this._open.size) { return; }
		this._timer = window.setTimeout(() => {
			this._timer = null;
			this._open.forEach((body, index) => this._renderSection(index, body));
		}, this.options.rerenderDelayMs);
	},

	async _load() {
		let sections;
		try {
			sections = await this._viewer.sections.list();
		} catch (error) {
			this._sections.textContent = error.message;
			return;
		}
		this._sections.textContent = '';
		for (const s of sections) {
			if (!s.seat_count) { continue; }
			const details = DomUtil.create('details', 'seatmap-list-section', this._sections);
			const summary = DomUtil.create('summary', '', details);
			summary.textContent = `Section ${s.name} (${s.seat_count} seats in all)`;
			summary.dataset.section = String(s.index);
			const body = DomUtil.create('div', 'seatmap-list-rows', details);
			DomEvent.on(details, 'toggle', () => {
				if (details.open) {
					this._open.set(s.index, body);
					body.textContent = 'Loading seats…';
					this._renderSection(s.index, body);
				} else {
					this._open.delete(s.index);
				}
			});
		}
	},

	async _renderSection(sectionIndex, body) {
		const viewer = this._viewer;
		let data;
		let statuses;
		try {
			[data, statuses] = await Promise.all([viewer.sections.rows(sectionIndex), viewer.statusBoard()]);
		} catch (error) {
			body.textContent = error.message;
			return;
		}
		const had = document.activeElement && body.contains(document.activeElement) ?
			document.activeElement.dataset.seat : null;
		body.textContent = '';
		let free = 0;
		for (const row of data.rows) {
			const seats = row.seats.filter((s) => statuses[s[0]] === 0 || viewer.cart.has(s[0]));
			if (!seats.length) { continue; }
			const h = DomUtil.create('h3', '', body);
			h.textContent = `Row ${row.label}`;
			const ul = DomUtil.create('ul', 'seatmap-list-seats', body);
			const yours = seats.filter((s) => viewer.cart.has(s[0])).length;
			ul.setAttribute('aria-label', `Row ${row.label}, ${seats.length - yours} free seats` +
				(yours ? `, ${yours} of yours` : ''));
			for (const seat of seats) {
				const details = viewer.detailsFromRow(data, row, seat);
				const mine = viewer.cart.has(seat[0]);
				free += mine ? 0 : 1;
				const li = DomUtil.create('li', '', ul);
				const b = DomUtil.create('button', 'seatmap-seat-button' + (mine ? ' seatmap-mine' : ''), li);
				b.type = 'button';
				b.dataset.seat = String(seat[0]);
				b.textContent = seat[1];
				b.setAttribute('aria-pressed', mine ? 'true' : 'false');
				b.setAttribute('aria-label', `${mine ? 'Release' : 'Hold'} ${viewer.info.place(details)}, ${viewer.info.price(details)}${mine ? ', held by you' : ''}`);
				DomEvent.on(b, 'click', () => viewer.cart.toggle(seat[0]).then(() => this.refresh()));
			}
		}
		if (!free && !body.childNodes.length) {
			body.textContent = 'No free seats in this section.';
		}
		const summary = this._root.querySelector(`summary[data-section="${sectionIndex}"]`);
		if (summary) { summary.textContent = `Section ${data.name} (${free} free of ${countSeats(data)} seats)`; }
		if (had) {
			const again = body.querySelector(`[data-seat="${had}"]`);
			if (again) { again.focus(); }
		}
	}
});

function countSeats(data) {
	return data.rows.reduce((n, row) => n + row.seats.length, 0);
}
