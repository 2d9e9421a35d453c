// Home page: live status, models online, and the worker command for this horde.

import { api, el, show, fmtNumber, fmtDuration } from './api.js';
import { ready, refreshModes } from './nav.js';

function modelTable(models, kind) {
  if (!models.length) {
    return el('p', { class: 'muted', text: `No ${kind} workers are online right now.` });
  }
  models.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  const unit = kind === 'image' ? 'megapixelsteps' : 'tokens';
  return el(
    'table',
    { 'data-testid': `${kind}-models` },
    el('thead', {}, el('tr', {}, el('th', { text: 'Model' }), el('th', { class: 'num', text: 'Workers' }),
      el('th', { class: 'num', text: 'Queued' }), el('th', { class: 'num', text: 'Wait' }))),
    el('tbody', {}, models.map((m) => el('tr', {},
      el('td', { text: m.name }),
      el('td', { class: 'num', text: fmtNumber(m.count) }),
      el('td', { class: 'num', text: `${fmtNumber(m.queued, kind === 'image' ? 1 : 0)} ${unit}` }),
      el('td', { class: 'num', text: m.eta ? fmtDuration(m.eta) : '–' }),
    ))),
  );
}

async function loadModels(kind) {
  const box = document.getElementById(`${kind}-models`);
  try {
    const models = await api.get(`/api/v2/status/models?type=${kind}`);
    box.replaceChildren(modelTable(Array.isArray(models) ? models : [], kind));
  } catch (err) {
    box.replaceChildren(el('p', { class: 'msg error', role: 'alert', text: err.message }));
  }
}

async function loadPerformance() {
  const errBox = document.getElementById('stats-error');
  try {
    const p = await api.get('/api/v2/status/performance');
    document.getElementById('stat-image-workers').textContent = fmtNumber(p.worker_count);
    document.getElementById('stat-text-workers').textContent = fmtNumber(p.text_worker_count);
    document.getElementById('stat-image-queue').textContent = fmtNumber(p.queued_requests);
    document.getElementById('stat-text-queue').textContent = fmtNumber(p.queued_text_requests);
    document.getElementById('stats-detail').textContent =
      `Queued work: ${fmtNumber(p.queued_megapixelsteps, 1)} megapixelsteps of images and ` +
      `${fmtNumber(p.queued_tokens)} tokens of text. Done in the past minute: ` +
      `${fmtNumber(p.past_minute_megapixelsteps, 1)} megapixelsteps and ${fmtNumber(p.past_minute_tokens)} tokens. ` +
      `Threads: ${fmtNumber(p.thread_count)} image, ${fmtNumber(p.text_thread_count)} text.`;
    show(errBox, '');
  } catch (err) {
    show(errBox, `Could not load the horde's status: ${err.message}`);
  }
}

for (const span of document.querySelectorAll('[data-origin]')) span.textContent = location.origin;

function refresh() {
  loadPerformance();
  loadModels('image');
  loadModels('text');
}

refresh();
setInterval(() => {
  if (document.visibilityState === 'visible') {
    refresh();
    refreshModes();
  }
}, 30000);

refreshModes().then((modes) => {
  if (modes && modes.invite_only_mode) document.getElementById('invite-note').hidden = false;
});
ready.catch(() => {});
