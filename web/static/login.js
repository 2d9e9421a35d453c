// Login page: provider buttons, pseudonymous registration, errors coming back from /auth/callback.

import { api, getSession, el, show } from './api.js';
import { ready, showKeyPanel, renderWho } from './nav.js';

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
    // No provider on this horde: the API key form is the way in.
    box.replaceChildren();
    box.hidden = true;
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
    document.getElementById('providers-note').hidden = false;
    document.getElementById('key-form').classList.add('separated');
  }
  if (config.pseudonymous_registration === false) {
    document.getElementById('register-panel').hidden = true;
  }
}

/** After a login or registration: the header, and the way on. */
function loggedIn(name, returnTo, { key = '' } = {}) {
  document.querySelector('h1').textContent = `Welcome, ${name}`;
  for (const n of document.querySelectorAll('#main > .grid, #anon-note, #login-error, #already')) n.hidden = true;
  const next = el('p', { class: 'actions' },
    el('a', { class: 'button', href: returnTo, text: returnTo === '/account' ? 'Continue to your account' : 'Continue' }),
    el('a', { class: 'button secondary', href: '/generate', text: 'Generate something' }));
  document.getElementById('main').append(next);
  renderWho({ logged_in: true, user: { username: name } });
  if (key) {
    showKeyPanel(key, { title: `Your API key for ${name}` });
    document.getElementById('key-panel').querySelector('button').focus();
  } else {
    next.querySelector('a').focus();
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
    if (username.length < 3) {
      show(errBox, username ? 'The name needs at least 3 characters.' : 'Please choose a name.');
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    show(errBox, '');
    button.disabled = true;
    button.textContent = 'Creating…';
    try {
      const out = await api.post('/api/web/register', { username });
      await getSession(true);
      const name = out.user && out.user.username ? out.user.username : username;
      loggedIn(name, returnTo, { key: out.api_key });
    } catch (err) {
      show(errBox, err.message);
      input.setAttribute('aria-invalid', 'true');
      button.disabled = false;
      button.textContent = 'Create account';
    }
  });
}

function wireKeyLogin(returnTo) {
  const form = document.getElementById('key-form');
  const input = document.getElementById('key-input');
  const errBox = document.getElementById('key-error');
  const button = document.getElementById('key-button');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const apiKey = input.value.trim();
    if (!apiKey) {
      show(errBox, 'Paste your API key first.');
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    show(errBox, '');
    button.disabled = true;
    try {
      const out = await api.post('/api/web/login', { api_key: apiKey });
      await getSession(true);
      input.value = '';
      loggedIn(out.user && out.user.username ? out.user.username : 'you', returnTo);
    } catch (err) {
      show(errBox, err.status === 401 ? 'This key is not valid: check it, or make a new one while logged in elsewhere.' : err.message);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
}

const returnTo = safeReturnTo();
showCallbackError();
loadProviders(returnTo);
wireRegister(returnTo);
wireKeyLogin(returnTo);
ready.then((s) => {
  if (s.logged_in && s.user) {
    const box = document.getElementById('already');
    box.hidden = false;
    box.replaceChildren('You are logged in as ', el('strong', { text: s.user.username }), '. ',
      el('a', { href: '/account', text: 'Go to your account' }),
      '. Logging in again here switches this browser to the other account.');
  }
});
