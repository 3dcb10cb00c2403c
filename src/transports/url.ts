/** URL building for every transport (DESIGN §3: `lastEventId` and `access_token` query params). */

/**
 * Resolves `endpoint`: absolute, or relative to `location.href` in a browser.
 * @throws Error with the fix when it cannot be resolved.
 */
export function resolveUrl(endpoint: string): URL {
  try {
    // `|| undefined`: an empty base would make even an absolute URL fail.
    return new URL(endpoint, (globalThis as { location?: { href?: string } }).location?.href || undefined);
  } catch (cause) {
    throw new Error(`Bad URL "${endpoint}": give an absolute URL`, { cause });
  }
}

/**
 * Resolves `endpoint` ({@link resolveUrl}) and appends the given query parameters (those not
 * undefined), keeping any query string the endpoint already has byte for byte. The fragment is
 * dropped: it is never sent, and `new WebSocket()` rejects URLs that have one.
 *
 * @param websocket - map `http:` to `ws:` and `https:` to `wss:`; without it, `ws(s):` maps to
 * `http(s):`, so that one `url: 'wss://…'` serves every transport.
 * @throws Error with the fix when the URL cannot be resolved (callers turn it into a failure).
 */
export function buildUrl(endpoint: string, params: Record<string, string | undefined> = {}, websocket?: boolean): string {
  const url = resolveUrl(endpoint);
  url.protocol = websocket ? url.protocol.replace(/^http/, 'ws') : url.protocol.replace(/^ws/, 'http');
  url.hash = '';
  // Appending to `search` keeps the query byte for byte: it was serialised by the parser already,
  // and serialising it again changes nothing. An empty query ("…/sse?") has `search` "".
  for (const name in params) {
    if (params[name] === undefined) continue;
    // One of ours already in the endpoint's query (a cursor or token pasted into `url`) would be
    // the one a server reads first, stale for ever: ours replaces it (only then is the query
    // serialised again, since delete() always does).
    if (url.searchParams.has(name)) url.searchParams.delete(name);
    url.search += `${url.search ? '&' : ''}${name}=${encodeURIComponent(params[name]!)}`;
  }
  return url.href;
}
