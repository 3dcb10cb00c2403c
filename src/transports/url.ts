/** URL building for every transport (DESIGN §3: `lastEventId` and `access_token` query params). */

/** The page location to resolve relative endpoints against, when there is a page. */
function baseHref(): string | undefined {
  const href = (globalThis as { location?: { href?: unknown } }).location?.href;
  return typeof href === 'string' && href !== '' ? href : undefined;
}

/**
 * Resolves `endpoint` (absolute, or relative to `location.href` in a browser) and appends the
 * given query parameters, keeping any query string the endpoint already has byte for byte.
 * The fragment is dropped: it is never sent, and `new WebSocket()` rejects URLs that have one.
 *
 * @param websocket - map `http:` to `ws:` and `https:` to `wss:`.
 * @throws Error with the fix when the URL cannot be resolved (callers turn it into a failure).
 */
export function buildUrl(
  endpoint: string,
  params: ReadonlyArray<readonly [name: string, value: string | undefined]>,
  websocket = false,
): string {
  let url: URL;
  try {
    url = new URL(endpoint, baseHref());
  } catch (cause) {
    throw new Error(
      baseHref() === undefined
        ? `Cannot use the endpoint URL "${endpoint}": it is relative (or invalid) and there is no page location to resolve it against; pass an absolute URL such as "https://example.com/rt/sse".`
        : `Cannot use the endpoint URL "${endpoint}": it is not a valid URL.`,
      { cause },
    );
  }
  if (websocket) {
    if (url.protocol === 'http:') url.protocol = 'ws:';
    else if (url.protocol === 'https:') url.protocol = 'wss:';
  }
  url.hash = '';
  let href = url.href;
  let query = '';
  for (const [name, value] of params) {
    if (value === undefined) continue;
    query += (query === '' ? '' : '&') + name + '=' + encodeURIComponent(value);
  }
  if (query === '') return href;
  // An empty query ("…/sse?") serialises with its "?", but `search` is then "".
  if (href.endsWith('?')) return href + query;
  return href + (url.search === '' ? '?' : '&') + query;
}
