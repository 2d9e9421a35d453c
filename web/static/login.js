// Login page: provider buttons, pseudonymous registration, errors coming back from /auth/callback.

import { api, getSession, el, show } from './api.js';
import { ready, showKeyPanel } from './nav.js';

const ERRORS = {
  access_denied: 'You declined the login at the provider. Nothing was changed.',
  denied: 'You declined the login at the provider. Nothing was changed.',
  consent_required: 'The provider needs your consent to log you in. Please try again.',
  invalid_state: 'The login could not be verified (it expired, or was started in another tab). Please try again.',
  bad_state: 'The login could not be verified (it expired, or was started in another tab). Please try again.',
  state: 'The login could not be verified (it expired, or was started in another tab). Please try again.',
  unknown_provider: 'That login provider is not configured on this horde.',
  provider: 'The login provider answered with an error. Please try again later.',
  provider_error: 'The login provider answered with an error. Please try again later.',
  server_error: 'The login provider had a problem. Please try again later.',
  token: 'The horde could not finish the login with the provider. Please try again.',
  token_error: 'The horde could not finish the login with the provider. Please try again.',
  userinfo: 'The provider did not tell the horde who you are. Please try again.',
  userinfo_error: 'The provider did not tell the horde who you are. Please try again.',
  invite_only: 'This horde is invite only and your account is not invited.',
  account_disabled: 'This account is disabled.',
  deleted_user: 'This account was deleted.',
  provider_unavailable: 'The login provider could not be reached. Please try again later.',
  invalid_request: 'The provider sent the horde an incomplete answer. Please try again.',
  login_failed: 'The horde could not log you in. Please try again later.',
};

const params = new URLSearchParams(location.search);

function safeReturnTo() {
  const r = params.get('return_to') || '';
  if (r.startsWith('/') && !r.startsWith('//') && !r.startsWith('/\\') && !r.startsWith('/login')) return r;
  return '/account';
}

function showCallbackError() {
  const code = params.get('error');
  if (!code) return;
  const text = ERRORS[code] || `The login did not work (${code}). Please try again.`;
  const detail = params.get('error_description');
  show(document.getElementById('login-error'), detail ? `${text} (${detail})` : text, 'error');
}

async function loadProviders(returnTo) {
  const box = document.getElementById('providers');
  let config;
  try {
    config = await api.get('/api/web/config');
  } catch (err) {
    box.replaceChildren(el('p', { class: 'msg error', role: 'alert', text: err.message }));
    return;
  }
  const providers = Array.isArray(config.providers) ? config.providers : [];
  if (providers.length === 0) {
    box.replaceChildren(el('p', { class: 'muted', text: 'No login providers are set up on this horde.' }));
    document.getElementById('providers-note').hidden = true;
  } else {
    box.replaceChildren(
      ...providers.map((p) =>
        el('a', {
          class: 'button',
          href: `/auth/login/${encodeURIComponent(p.id)}?return_to=${encodeURIComponent(returnTo)}`,
          text: `Log in with ${p.name || p.id}`,
        }),
      ),
    );
  }
  if (config.pseudonymous_registration === false) {
    document.getElementById('register-panel').hidden = true;
  }
}

function wireRegister(returnTo) {
  const form = document.getElementById('register-form');
  const input = document.getElementById('reg-name');
  const errBox = document.getElementById('register-error');
  const button = document.getElementById('register-button');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = input.value.trim();
    if (!username) {
      show(errBox, 'Please choose a name.');
      input.focus();
      return;
    }
    show(errBox, '');
    button.disabled = true;
    try {
      let out;
      try {
        out = await api.post('/api/web/register', { username });
      } catch (err) {
        // A stale cookie can make the first token useless (docs/web.md): ask again, once.
        if (err.rc !== 'CsrfFailed') throw err;
        await getSession(true);
        out = await api.post('/api/web/register', { username });
      }
      await getSession(true);
      const name = out.user && out.user.username ? out.user.username : username;
      document.querySelector('h1').textContent = `Welcome, ${name}`;
      for (const n of document.querySelectorAll('#main > .grid, #main > p.small')) n.hidden = true;
      const next = el('p', { class: 'actions' },
        el('a', { class: 'button', href: returnTo, text: returnTo === '/account' ? 'Continue to your account' : 'Continue' }),
        el('a', { class: 'button secondary', href: '/generate', text: 'Generate something' }));
      document.getElementById('main').append(next);
      showKeyPanel(out.api_key, { title: `Your API key for ${name}` });
      const who = document.getElementById('who');
      if (who) who.replaceChildren('Logged in as ', el('a', { href: '/account', text: name }));
      document.getElementById('key-panel').querySelector('button').focus();
    } catch (err) {
      show(errBox, err.message);
      button.disabled = false;
    }
  });
}

const returnTo = safeReturnTo();
showCallbackError();
loadProviders(returnTo);
wireRegister(returnTo);
ready.then((s) => {
  if (s.logged_in && s.user) {
    const box = document.getElementById('already');
    box.hidden = false;
    box.replaceChildren('You are logged in as ', el('strong', { text: s.user.username }), '. ',
      el('a', { href: '/account', text: 'Go to your account' }), '.');
  }
});
