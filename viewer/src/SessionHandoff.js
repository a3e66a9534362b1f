// Handing the buyer's session and holds from the embed to the full viewer it
// opens in a new tab (whose storage is empty): they travel in the URL fragment,
// which browsers never send to a server, and the full viewer removes the
// fragment from the address as soon as it has read it. It takes them only from
// a link on this site's own embed page (the referrer says so), so a link from
// anywhere else cannot slip a stranger's session into the buyer's tab.

const KEY = 'handoff';

// "#handoff=..." for a session {token, expires_at} and hold tokens; '' without a session.
export function handoffFragment(session, holds) {
	if (!session || !session.token) { return ''; }
	return `#${KEY}=${encodeURIComponent(JSON.stringify({session, holds: holds || []}))}`;
}

// {session, holds} from this page's address (and the fragment removed), or null.
export function takeHandoff() {
	const hash = window.location.hash || '';
	const prefix = `#${KEY}=`;
	if (!hash.startsWith(prefix)) { return null; }
	let data = null;
	try {
		data = JSON.parse(decodeURIComponent(hash.slice(prefix.length)));
	} catch (e) {
		data = null;
	}
	window.history.replaceState(null, '', window.location.pathname + window.location.search);
	if (!document.referrer.startsWith(`${window.location.origin}/embed/`)) { return null; }
	if (!data || !data.session || typeof data.session.token !== 'string') { return null; }
	return {session: data.session, holds: Array.isArray(data.holds) ? data.holds.filter((t) => typeof t === 'string') : []};
}
