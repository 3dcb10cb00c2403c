/** URL building for every transport (DESIGN §3: `lastEventId` and `access_token` query params). */

/**
 * Resolves `endpoint` (absolute, or relative to `location.href` in a browser) and appends the
 * given query parameters, keeping any query string the endpoint already has byte for byte.
 * The fragment is dropped: it is never sent, and `new WebSocket()` rejects URLs that have one.
 *
 * @param websocket - map `http:` to `ws:` and `https:` to `wss:`.
 * @throws Error with the fix when the URL cannot be resolved (callers turn it into a failure).
 */
export function buildUrl(endpoint: string, params: ReadonlyArray<readonly [name: string, value: string | undefined]>, websocket = false): string {
  const page = (globalThis as { location?: { href?: string } }).location?.href || undefined;
  let url: URL;
  try {
    url = new URL(endpoint, page);
  } catch (cause) {
    throw new Error(page ? `Bad endpoint URL "${endpoint}".` : `Endpoint "${endpoint}" is relative (or bad) and there is no page: give an absolute URL.`, { cause });
  }
  if (websocket) url.protocol = url.protocol.replace(/^http/, 'ws');
  url.hash = '';
  const query = params
    .filter((p) => p[1] !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(value!)}`)
    .join('&');
  const href = url.href;
  // An empty query ("…/sse?") serialises with its "?", but `search` is then "".
  return query ? href + (href.endsWith('?') ? '' : url.search ? '&' : '?') + query : href;
}
