// The shared header: who is logged in, the current page, the horde modes banner, and the
// one-time display of a new API key (after a first OAuth login).

import { api, getSession, el, copyText } from './api.js';

function markCurrentPage() {
  const here = location.pathname.replace(/\/+$/, '') || '/';
  for (const a of document.querySelectorAll('.site-nav a')) {
    const target = new URL(a.href).pathname.replace(/\/+$/, '') || '/';
    if (target === here) a.setAttribute('aria-current', 'page');
  }
}

async function logout(button) {
  button.disabled = true;
  try {
    await api.post('/api/web/logout', {});
    location.href = '/';
  } catch (err) {
    button.disabled = false;
    button.title = err.message;
    button.textContent = 'Log out (failed, try again)';
  }
}

/** The header's right side: "Log in", or the account name and a log-out button. */
export function renderWho(session) {
  const who = document.getElementById('who');
  if (!who) return;
  who.replaceChildren();
  if (session && session.logged_in && session.user) {
    const out = el('button', { type: 'button', class: 'link', text: 'Log out', onclick: () => logout(out) });
    who.append(el('span', { class: 'who-name' }, el('span', { class: 'who-label', text: 'Logged in as ' }), el('a', { href: '/account', text: session.user.username })), out);
    if (session.user.moderator) {
      for (const li of document.querySelectorAll('[data-admin]')) li.hidden = false;
    }
  } else {
    const back = location.pathname === '/login' ? '' : `?return_to=${encodeURIComponent(location.pathname)}`;
    who.append(el('a', { href: `/login${back}`, text: 'Log in' }));
  }
}

/** The active modes as sentences, for the banner. */
export function modeSentences(modes) {
  const out = [];
  if (!modes) return out;
  if (modes.maintenance_mode) {
    const msg = modes.maintenance_msg ? ` ${modes.maintenance_msg}` : '';
    out.push(`Maintenance: this horde is not taking new requests right now.${msg}`);
  }
  if (modes.invite_only_mode) {
    out.push('Invite only: only invited accounts may run workers here.');
  }
  if (modes.raid_mode) {
    out.push('Raid mode: new and untrusted accounts are restricted for now.');
  }
  return out;
}

export async function refreshModes() {
  const banner = document.getElementById('modes');
  if (!banner) return null;
  let modes;
  try {
    // The public view of the modes (with the maintenance message); raid mode is for moderators.
    const config = await api.get('/api/web/config');
    modes = {
      maintenance_mode: !!config.maintenance_mode,
      maintenance_msg: config.maintenance_msg || '',
      invite_only_mode: !!config.invite_only_mode,
    };
  } catch {
    return null;
  }
  const lines = modeSentences(modes);
  const inner = banner.querySelector('.inner') || banner;
  inner.replaceChildren(...lines.map((t) => el('p', { text: t })));
  banner.hidden = lines.length === 0;
  return modes;
}

/**
 * A panel that shows an API key once, with a copy button. `where` is the element to put it
 * in (default: the top of <main>).
 */
export function showKeyPanel(key, { title = 'Your API key', where = null, note = '' } = {}) {
  const code = el('code', { class: 'key', text: key, 'data-testid': 'api-key' });
  const status = el('span', { class: 'small', role: 'status', 'aria-live': 'polite' });
  const copy = el('button', {
    type: 'button',
    class: 'secondary small',
    text: 'Copy key',
    onclick: async () => {
      const ok = await copyText(key, code);
      status.textContent = ok ? 'Copied.' : 'Select the key and copy it by hand.';
    },
  });
  const panel = el(
    'section',
    { class: 'panel key-panel', 'aria-labelledby': 'key-panel-title', id: 'key-panel' },
    el('h2', { id: 'key-panel-title', text: title }),
    el('p', {
      text:
        note ||
        'This is shown only once. Copy it now and keep it somewhere safe: you log in again with it, and workers and apps use it to act as you. If you lose it while logged in, make a new one on your account page.',
    }),
    code,
    el('div', { class: 'actions' }, copy, status),
  );
  const old = document.getElementById('key-panel');
  if (old) old.remove();
  const target = where || document.getElementById('key-slot') || document.querySelector('main');
  target.prepend(panel);
  return panel;
}

/** Runs on every page: resolves to the session (or a logged-out stand-in when unreachable). */
export const ready = (async () => {
  markCurrentPage();
  refreshModes();
  let session;
  try {
    session = await getSession();
  } catch {
    session = { logged_in: false, csrf_token: '' };
  }
  renderWho(session);
  if (session.new_api_key) {
    showKeyPanel(session.new_api_key, { title: 'Welcome! Here is your API key' });
  }
  return session;
})();
