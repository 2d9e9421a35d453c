// The pages' one way to talk to the horde: JSON calls with readable errors, the CSRF header on
// state-changing calls, and the browser session (docs/web.md).

const CLIENT_AGENT = 'horde-web:0.1:';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** An error answer (or no answer) turned into something a person can read. */
export class ApiError extends Error {
  constructor(message, { status = 0, rc = '', body = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.rc = rc;
    this.body = body;
  }
}

function fallbackMessage(status) {
  if (status === 401) return 'You are not logged in, or your key is not valid any more.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found: it may have expired or been deleted.';
  if (status === 429) return 'Too many requests right now. Wait a moment and try again.';
  if (status === 503) return 'The horde is not taking new requests right now.';
  if (status >= 500) return `The horde had a problem (HTTP ${status}). Try again later.`;
  return `The request failed (HTTP ${status}).`;
}

/** The readable text of an error body `{message, rc, errors}`. */
export function messageOf(status, body) {
  let text = '';
  if (body && typeof body === 'object') {
    if (typeof body.message === 'string') text = body.message.trim();
    if (body.errors && typeof body.errors === 'object') {
      const details = Object.entries(body.errors)
        .map(([field, why]) => `${field}: ${why}`)
        .join('; ');
      if (details && !text.includes(details)) text = text ? `${text} (${details})` : details;
    }
  }
  return text || fallbackMessage(status);
}

let sessionPromise = null;

/**
 * GET /api/web/session, once per page load: {logged_in, csrf_token, user?, new_api_key?}.
 * `fresh` asks again (after login, logout or a key change).
 */
export function getSession(fresh = false) {
  if (!sessionPromise || fresh) {
    sessionPromise = request('GET', '/api/web/session').catch((err) => {
      sessionPromise = null;
      throw err;
    });
  }
  return sessionPromise;
}

async function csrfToken() {
  try {
    const s = await getSession();
    return s && s.csrf_token ? s.csrf_token : '';
  } catch {
    return '';
  }
}

/**
 * One JSON call. `path` is absolute ("/api/v2/…" or "/api/web/…"). Resolves to the parsed body
 * (or null when empty); rejects with an ApiError carrying a readable message.
 */
export async function request(method, path, body, { headers = {}, signal, credentials = 'same-origin' } = {}) {
  method = method.toUpperCase();
  const h = { Accept: 'application/json', 'Client-Agent': CLIENT_AGENT, ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (MUTATING.has(method) && path !== '/api/web/session') {
    const token = await csrfToken();
    if (token) h['X-CSRF-Token'] = token;
  }
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials,
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError('Could not reach the horde. Check your connection and try again.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    throw new ApiError(messageOf(res.status, data), {
      status: res.status,
      rc: data && typeof data.rc === 'string' ? data.rc : '',
      body: data,
    });
  }
  return data;
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body = {}, opts) => request('POST', path, body, opts),
  put: (path, body = {}, opts) => request('PUT', path, body, opts),
  del: (path, opts) => request('DELETE', path, undefined, opts),
};

// ---- small DOM helpers shared by the pages ----

/** Creates an element: el('p', {class: 'x', text: 'hi'}, child, …). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Shows a message in a box (role=alert for errors, status for the rest); '' hides it. */
export function show(box, text, kind = 'error') {
  if (!box) return;
  box.className = `msg ${kind}`;
  box.textContent = text || '';
}

/** Formats kudos: whole numbers without decimals, others with up to 2. */
export function fmtKudos(k) {
  const n = Number(k) || 0;
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export function fmtNumber(n, digits = 0) {
  return (Number(n) || 0).toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** "2 min 5 s" from seconds. */
export function fmtDuration(s) {
  s = Math.max(0, Math.round(Number(s) || 0));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const r = s % 60;
  if (m < 60) return r ? `${m} min ${r} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

/** Copies text to the clipboard; falls back to selecting it. Resolves true when copied. */
export async function copyText(text, selectNode) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (selectNode) {
      const range = document.createRange();
      range.selectNodeContents(selectNode);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      try {
        return document.execCommand('copy');
      } catch {
        return false;
      }
    }
    return false;
  }
}
