import {STATUS, publicStatus, statusName} from './SeatStyle.js';

// What a tap, a key or a chosen button does to one seat, the same on every path:
// releases it when it is the buyer's, holds it when it is free (the lock service
// decides whether a wheelchair or companion place needs the buyer to confirm they
// need it, and the cart then offers that button), and otherwise says, over the
// map, that the seat is taken or sold; the message goes when that seat changes.

export async function actOnSeat(viewer, seatIndex, status) {
	const {cart, info, messages} = viewer;
	if (cart.has(seatIndex)) { return cart.release(seatIndex); }
	const now = publicStatus(status);
	if (now === STATUS.AVAILABLE) { return cart.hold(seatIndex); }
	let place = 'That seat';
	try {
		place = info.place(await info.get(seatIndex));
	} catch (e) { /* keep the plain words */ }
	const why = now === STATUS.HELD ? 'is taken: someone else is holding it' : `is ${statusName(now, false)}`;
	messages.show(`${place} ${why}. Choose another seat.`, {kind: 'error', seats: [seatIndex], topic: 'taken'});
	return false;
}
