import {clock} from './CartPanel.js';

// Says what became of every cart action, in the message bar over the map (and
// once to screen readers): held, released, refused and why (with the fix as a
// button), the warnings before a hold ends (with "More time" and "Continue"),
// and which seats were released when it ended.

export function reportCartOutcomes(viewer) {
	const {cart, messages} = viewer;
	cart.on('held', (e) => {
		const what = e.places.join('; ');
		const left = cart.secondsLeft();
		messages.show(`Held for you: ${what}.${left === null ? '' : ` Yours for ${words(left)}.`}`,
			{kind: 'info', topic: 'held'});
	});
	cart.on('seatreleased', (e) => {
		messages.show(`Released ${e.place}.`, {kind: 'info', topic: 'released'});
	});
	cart.on('failed', (e) => {
		const actions = e.retry ? [{label: e.retry.label, run: e.retry.run, primary: true}] : [];
		messages.show(e.error.message || String(e.error), {kind: 'error', actions, seats: e.seats, topic: 'failed'});
	});
	cart.on('holdexpiring', (e) => {
		const actions = [];
		if (e.canExtend) { actions.push({label: 'More time', run: () => viewer.moreTime(), primary: true}); }
		if (viewer.canCheckout()) { actions.push({label: 'Continue', run: () => viewer.checkout()}); }
		const last = e.canExtend ? '' : ' They cannot be held any longer.';
		messages.show(`Your seats are held for ${words(e.secondsLeft)} more.${last}`,
			{kind: 'warning', actions, topic: 'expiring'});
	});
	cart.on('extended', (e) => {
		messages.show(`Your seats are held longer: ${clock(e.secondsLeft || 0)} left.`, {kind: 'info', topic: 'extended'});
	});
	cart.on('holdexpired', (e) => {
		messages.show(`Time ran out, so these seats were released: ${e.labels.join('; ')}.`,
			{kind: 'error', topic: 'expired'});
	});
	cart.on('change', () => {
		if (!cart.mine().size) { messages.clear('expiring'); }
	});
}

// "2 minutes", "30 seconds"
export function words(seconds) {
	if (seconds >= 90) {
		const m = Math.round(seconds / 60);
		return `${m} minute${m === 1 ? '' : 's'}`;
	}
	return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
