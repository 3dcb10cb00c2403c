// Small shared helpers: statistics, formatting, tokens.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(xs) {
  const a = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (!a.length) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

export function quantile(xs, q) {
  const a = xs.filter((x) => Number.isFinite(x)).sort((p, q2) => p - q2);
  if (!a.length) return NaN;
  return a[Math.min(a.length - 1, Math.max(0, Math.round(q * (a.length - 1))))];
}

let seq = 0;
export const token = (prefix) => `${prefix}-${Date.now().toString(36)}-${(++seq).toString(36)}`;

export const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
export const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '—');
export const fmtMs = (n) => (Number.isFinite(n) ? `${Math.round(n)} ms` : '—');
export const fmtS = (n) => (Number.isFinite(n) ? `${(n / 1000).toFixed(2)} s` : '—');
export const mark = (ok) => (ok === undefined ? '' : ok ? '✅ met' : '❌ missed');

/** A markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c ?? '').replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Runs `fn`, but gives up after `ms` with `fallback` (every step of the bench is bounded). */
export async function bounded(ms, fn, label) {
  let timer;
  try {
    return await Promise.race([fn(), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${label} exceeded ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
