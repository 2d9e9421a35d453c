// Account page: kudos, records, workers (maintenance toggle), name, key reset (logout is in the
// header, nav.js).

import { api, getSession, el, show, fmtKudos, fmtNumber, fmtDuration } from './api.js';
import { ready, showKeyPanel } from './nav.js';

const $ = (id) => document.getElementById(id);
let user = null;

const DETAIL_LABELS = [
  ['generated', 'Earned by your workers’ jobs'],
  ['uptime', 'Earned by your workers’ uptime'],
  ['used', 'Spent on your requests'],
  ['accumulated', 'Net of work and requests'],
  ['received', 'Received from other users'],
  ['gifted', 'Sent to other users'],
  ['awarded', 'Awarded'],
  ['recurring', 'Monthly kudos'],
  ['admin', 'Adjusted by admins'],
];

function renderUser(u) {
  user = u;
  $('account-title').textContent = `Your account: ${u.username}`;
  $('alias').textContent = u.username;
  const nameInput = $('name-input');
  if (document.activeElement !== nameInput) nameInput.value = u.username.replace(/#\d+$/, '');
  $('kudos-balance').textContent = fmtKudos(u.kudos);
  if (typeof u.evaluating_kudos === 'number' && u.evaluating_kudos > 0) {
    $('evaluating-stat').hidden = false;
    $('kudos-evaluating').textContent = fmtKudos(u.evaluating_kudos);
  }
  const d = u.kudos_details || {};
  $('kudos-details').tBodies[0].replaceChildren(
    ...DETAIL_LABELS.map(([key, label]) =>
      el('tr', {}, el('th', { scope: 'row', text: label }), el('td', { class: 'num', text: fmtKudos(d[key] || 0) }))),
  );
  const flags = [];
  if (u.moderator) flags.push(el('span', { class: 'badge ok', text: 'moderator' }));
  if (u.trusted) flags.push(el('span', { class: 'badge ok', text: 'trusted' }));
  if (u.pseudonymous) flags.push(el('span', { class: 'badge', text: 'pseudonymous' }));
  if (u.worker_invited) flags.push(el('span', { class: 'badge', text: 'invited to run workers' }));
  if (u.flagged) flags.push(el('span', { class: 'badge off', text: 'flagged' }));
  const age = typeof u.account_age === 'number' ? ` Account age: ${fmtDuration(u.account_age)}.` : '';
  $('flags').replaceChildren(...flags.flatMap((f) => [f, ' ']), age);

  const r = u.records || {};
  const row = (label, img, txt) =>
    el('tr', {}, el('th', { scope: 'row', text: label }), el('td', { class: 'num', text: img }), el('td', { class: 'num', text: txt }));
  $('records').tBodies[0].replaceChildren(
    row('Requests you made', fmtNumber(r.request?.image), fmtNumber(r.request?.text)),
    row('Jobs your workers did', fmtNumber(r.fulfillment?.image), fmtNumber(r.fulfillment?.text)),
    row('Used (megapixelsteps, tokens)', fmtNumber(r.usage?.megapixelsteps, 1), fmtNumber(r.usage?.tokens)),
    row('Made by your workers (megapixelsteps, tokens)', fmtNumber(r.contribution?.megapixelsteps, 1), fmtNumber(r.contribution?.tokens)),
  );
}

function workerRow(w) {
  const status = el('span', { class: 'small', role: 'status', 'aria-live': 'polite' });
  const toggle = el('button', { type: 'button', class: 'secondary small' });
  const mBadge = el('span', { class: 'badge warn', text: 'maintenance' });
  const paint = () => {
    toggle.textContent = w.maintenance_mode ? 'End maintenance' : 'Put into maintenance';
    toggle.setAttribute('aria-pressed', w.maintenance_mode ? 'true' : 'false');
    toggle.setAttribute('aria-label', `${w.maintenance_mode ? 'End maintenance of' : 'Put into maintenance:'} ${w.name}`);
    mBadge.hidden = !w.maintenance_mode;
  };
  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    status.textContent = '';
    try {
      const out = await api.put(`/api/v2/workers/${encodeURIComponent(w.id)}`, { maintenance: !w.maintenance_mode });
      w.maintenance_mode = typeof out?.maintenance === 'boolean' ? out.maintenance : !w.maintenance_mode;
      status.textContent = w.maintenance_mode ? 'In maintenance: it gets no new jobs.' : 'Back in service.';
      paint();
    } catch (err) {
      status.textContent = err.message;
      status.className = 'small msg error';
    } finally {
      toggle.disabled = false;
    }
  });
  paint();
  const models = (w.models || []).join(', ') || 'no models';
  return el('div', { class: 'worker-row', 'data-worker': w.name },
    el('div', {},
      el('strong', { text: w.name }), ' ',
      el('span', { class: 'badge', text: w.type || '' }), ' ',
      el('span', { class: w.online ? 'badge ok' : 'badge off', text: w.online ? 'online' : 'offline' }), ' ',
      mBadge,
      el('div', { class: 'small muted', text: `${models} · ${fmtNumber(w.requests_fulfilled)} ${Number(w.requests_fulfilled) === 1 ? 'job' : 'jobs'} done · ${fmtKudos(w.kudos_rewards)} kudos earned · ${w.performance || ''}` }),
    ),
    el('div', { class: 'actions' }, toggle, status),
  );
}

async function loadWorkers(u) {
  const box = $('workers');
  const ids = Array.isArray(u.worker_ids) ? u.worker_ids : [];
  if (ids.length === 0) {
    box.replaceChildren(el('p', { class: 'muted', text: 'You have no workers yet.' }));
    return;
  }
  const rows = await Promise.all(ids.map(async (id) => {
    try {
      return workerRow(await api.get(`/api/v2/workers/${encodeURIComponent(id)}`));
    } catch (err) {
      return el('p', { class: 'msg error', text: `Worker ${id}: ${err.message}` });
    }
  }));
  box.replaceChildren(...rows);
}

function wireName() {
  $('name-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const box = $('name-msg');
    const username = $('name-input').value.trim();
    if (!username) {
      show(box, 'The name cannot be empty.', 'error');
      return;
    }
    $('name-save').disabled = true;
    try {
      await api.put(`/api/v2/users/${user.id}`, { username });
      const s = await getSession(true);
      if (s.user) renderUser(s.user);
      show(box, `Saved. Others now see you as ${user.username}.`, 'ok');
      const who = document.querySelector('#who a');
      if (who) who.textContent = user.username;
    } catch (err) {
      show(box, err.message, 'error');
    } finally {
      $('name-save').disabled = false;
    }
  });
}

function wireKeyReset() {
  const confirmBox = $('reset-confirm');
  $('reset-key').addEventListener('click', () => {
    confirmBox.hidden = false;
    $('reset-no').focus();
  });
  $('reset-no').addEventListener('click', () => {
    confirmBox.hidden = true;
    $('reset-key').focus();
  });
  $('reset-yes').addEventListener('click', async () => {
    $('reset-yes').disabled = true;
    show($('key-msg'), '');
    try {
      const out = await api.post('/api/web/key', {});
      // The reset ended every session; this browser got a new one (and a new CSRF token).
      await getSession(true);
      confirmBox.hidden = true;
      const panel = showKeyPanel(out.api_key, {
        title: 'Your new API key',
        where: $('new-key-slot'),
        note: 'Your old key no longer works, and other browsers logged in to this account were logged out. This new key is shown only once: copy it now and put it in your workers and apps.',
      });
      panel.scrollIntoView({ block: 'start' });
      panel.querySelector('button').focus();
      show($('key-msg'), 'A new key was made; the old one was revoked.', 'ok');
    } catch (err) {
      show($('key-msg'), err.message, 'error');
    } finally {
      $('reset-yes').disabled = false;
    }
  });
}

ready.then((s) => {
  if (!s.logged_in || !s.user) {
    $('logged-out').hidden = false;
    return;
  }
  $('account').hidden = false;
  renderUser(s.user);
  loadWorkers(s.user);
  wireName();
  wireKeyReset();
}).catch((err) => show($('account-error'), err.message));
