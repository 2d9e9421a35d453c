// Transfer page: POST /api/v2/kudos/transfer, errors in place, balance refreshed after success.

import { api, getSession, show, fmtKudos } from './api.js';
import { ready } from './nav.js';

const $ = (id) => document.getElementById(id);

async function refreshBalance(fresh) {
  const s = await getSession(fresh);
  if (s.user) $('balance').textContent = fmtKudos(s.user.kudos);
}

function wire() {
  const form = $('transfer-form');
  const box = $('transfer-msg');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = $('to').value.trim();
    const raw = $('amount').value.trim();
    const amount = Number(raw);
    if (!username) {
      show(box, 'Who should get the kudos? Enter a name like alice#12.', 'error');
      $('to').focus();
      return;
    }
    if (!raw || !Number.isInteger(amount) || amount < 1) {
      show(box, 'The amount must be a whole number of kudos, 1 or more.', 'error');
      $('amount').focus();
      return;
    }
    $('send').disabled = true;
    show(box, 'Sending…', 'info');
    try {
      const out = await api.post('/api/v2/kudos/transfer', { username, amount });
      const sent = out && typeof out.transferred === 'number' ? out.transferred : amount;
      show(box, `Sent ${fmtKudos(sent)} kudos to ${username}.`, 'ok');
      $('amount').value = '';
      await refreshBalance(true);
    } catch (err) {
      show(box, err.message, 'error');
    } finally {
      $('send').disabled = false;
    }
  });
}

ready.then((s) => {
  if (!s.logged_in || !s.user) {
    $('logged-out').hidden = false;
    return;
  }
  $('transfer').hidden = false;
  const to = new URLSearchParams(location.search).get('to');
  if (to) $('to').value = to;
  refreshBalance(false);
  wire();
});
