// Generate page: text and image requests, live progress, results in place, session history.

import { api, el, show, fmtKudos, fmtDuration, copyText, ApiError } from './api.js';
import { ready } from './nav.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 1500; // never faster than 1 s (the horde's rule for check/status)
const HISTORY_KEY = 'horde.history';
const HISTORY_MAX = 50;
const SAMPLERS = [
  'k_euler_a', 'k_euler', 'k_dpmpp_2m', 'k_dpmpp_sde', 'k_dpmpp_2s_a', 'k_heun', 'k_lms',
  'k_dpm_2', 'k_dpm_2_a', 'k_dpm_fast', 'k_dpm_adaptive', 'dpmsolver', 'DDIM', 'lcm',
];

// ---- history (sessionStorage) ----

function loadHistory() {
  try {
    const h = JSON.parse(sessionStorage.getItem(HISTORY_KEY) || '[]');
    return Array.isArray(h) ? h : [];
  } catch {
    return [];
  }
}

function saveHistory(h) {
  try {
    sessionStorage.setItem(HISTORY_KEY, JSON.stringify(h.slice(0, HISTORY_MAX)));
  } catch {
    // storage full or disabled: the list just is not kept
  }
}

function updateHistory(id, patch) {
  const h = loadHistory();
  const i = h.findIndex((e) => e.id === id);
  if (i >= 0) {
    h[i] = { ...h[i], ...patch };
  } else {
    h.unshift({ id, ...patch });
  }
  saveHistory(h);
  renderHistory();
}

const STATE_LABEL = {
  queued: 'in progress',
  done: 'done',
  faulted: 'failed',
  cancelled: 'cancelled',
  expired: 'expired',
};

function renderHistory() {
  const list = $('history');
  const h = loadHistory();
  list.replaceChildren(
    ...h.map((e) => {
      const when = new Date(e.at || Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      return el('li', { 'data-id': e.id },
        el('span', { class: 'what', title: e.prompt },
          el('span', { class: 'badge', text: e.kind }), ' ', `${when} · ${e.prompt}`),
        el('span', { class: 'actions' },
          el('span', { class: 'small muted', text: STATE_LABEL[e.state] || e.state || '' }),
          el('button', {
            type: 'button', class: 'secondary small', text: 'Open',
            'aria-label': `Open ${e.kind} request: ${e.prompt}`,
            onclick: () => openJob(e),
          })));
    }),
  );
  if (h.length === 0) list.append(el('li', { class: 'muted', text: 'None yet.' }));
  $('history-clear').hidden = h.length === 0;
}

// ---- one request on the page ----

const jobs = new Map(); // id -> Job

function shortId(id) {
  return String(id).slice(0, 8);
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

class Job {
  constructor(entry) {
    this.entry = entry; // {id, kind, prompt, at, n, state, text?}
    this.kind = entry.kind;
    this.id = entry.id;
    this.timer = null;
    this.shown = 0;
    this.stopped = false;
    this.build();
  }

  get base() {
    return this.kind === 'text' ? '/api/v2/generate/text/status/' : '/api/v2/generate/status/';
  }

  build() {
    const e = this.entry;
    this.progress = el('p', { class: 'progress', role: 'status', 'aria-live': 'polite', text: 'Sending…' });
    this.bar = el('span');
    this.cancelBtn = el('button', {
      type: 'button', class: 'secondary small', text: 'Cancel',
      'aria-label': `Cancel ${e.kind} request`, onclick: () => this.cancel(),
    });
    this.results = el('div', { class: this.kind === 'image' ? 'results' : '' });
    this.msg = el('p', { class: 'msg', role: 'alert' });
    this.node = el('article', { class: 'job', 'data-id': e.id, 'data-kind': e.kind, 'aria-label': `${e.kind} request ${shortId(e.id)}` },
      el('header', {},
        el('strong', { text: e.kind === 'image' ? `Image request${e.n > 1 ? ` (${e.n} images)` : ''}` : 'Text request' }),
        el('span', { class: 'small muted', text: `id ${shortId(e.id)}${e.kudos !== undefined ? ` · about ${fmtKudos(e.kudos)} kudos` : ''}` })),
      el('p', { class: 'prompt', text: e.prompt }),
      this.progress,
      el('div', { class: 'progress-bar', 'aria-hidden': 'true' }, this.bar),
      this.msg,
      el('div', { class: 'actions' }, this.cancelBtn),
      this.results,
    );
  }

  mount() {
    const box = $('jobs');
    const none = $('no-jobs');
    if (none) none.remove();
    box.prepend(this.node);
  }

  schedule(ms = POLL_MS) {
    clearTimeout(this.timer);
    // A background tab asks less often; the result is there when the person comes back.
    const wait = document.visibilityState === 'hidden' ? Math.max(ms, 5000) : ms;
    if (!this.stopped) this.timer = setTimeout(() => this.poll(), wait);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async poll() {
    try {
      let s;
      if (this.kind === 'image') {
        s = await api.get(`/api/v2/generate/check/${encodeURIComponent(this.id)}`);
        this.render(s);
        if (s.done || s.faulted || s.finished > this.shown) {
          const full = await api.get(`${this.base}${encodeURIComponent(this.id)}`);
          this.render(full);
          this.showResults(full);
          s = full;
        }
      } else {
        s = await api.get(`${this.base}${encodeURIComponent(this.id)}`);
        this.render(s);
        this.showResults(s);
      }
      if (s.done || s.faulted) {
        this.finish(s.faulted ? 'faulted' : 'done');
        return;
      }
      this.schedule();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        this.progress.textContent = 'This request no longer exists on the horde (it expired or was deleted).';
        this.finish('expired');
        return;
      }
      show(this.msg, `${err.message} Retrying…`, 'warn');
      this.schedule(err.status === 429 ? 5000 : 3000);
    }
  }

  render(s) {
    const total = (s.finished || 0) + (s.processing || 0) + (s.waiting || 0) + (s.restarted || 0);
    const n = Math.max(total, this.entry.n || 1);
    const pct = s.done ? 100 : Math.round((100 * (s.finished || 0)) / n);
    this.bar.style.width = `${Math.max(pct, s.processing ? 10 : 3)}%`;
    let text;
    if (s.faulted) {
      text = 'Failed: the workers could not finish this request.';
    } else if (s.done) {
      text = this.entry.state === 'cancelled' ? `Cancelled. ${s.finished || 0} of ${n} finished.` : `Done. ${s.finished || 0} of ${n} finished.`;
    } else {
      const parts = [];
      if (s.waiting > 0 && !s.processing) {
        parts.push(`Waiting in the queue, position ${s.queue_position ?? '?'}`);
      } else if (s.processing > 0) {
        parts.push(`Being generated: ${s.processing} in progress`);
      } else {
        parts.push('Waiting');
      }
      parts.push(`${s.finished || 0} of ${n} finished`);
      // 10000 s is the server's "no speed known yet" answer: say nothing rather than guess.
      if (typeof s.wait_time === 'number' && s.wait_time < 10000 && s.is_possible !== false) {
        parts.push(`about ${fmtDuration(s.wait_time)} left`);
      }
      text = `${parts.join(' · ')}.`;
      if (s.is_possible === false) {
        show(this.msg, 'No worker online can do this request right now. It waits until one can; you may cancel it and change the model or size.', 'warn');
      } else if (this.msg.classList.contains('warn')) {
        show(this.msg, '');
      }
    }
    this.progress.textContent = text;
    this.progress.dataset.state = s.done ? 'done' : s.faulted ? 'faulted' : 'running';
  }

  showResults(s) {
    const gens = Array.isArray(s.generations) ? s.generations : [];
    if (gens.length === this.shown) return;
    this.shown = gens.length;
    if (this.kind === 'image') {
      this.results.replaceChildren(...gens.map((g, i) => this.imageFigure(g, i)));
    } else {
      this.results.replaceChildren(...gens.map((g, i) => this.textBlock(g, i, gens.length)));
      const texts = gens.map((g) => g.text || '');
      if (texts.length) updateHistory(this.id, { text: texts.join('\n\n---\n\n').slice(0, 20000) });
    }
  }

  imageFigure(g, i) {
    let src = g.img || '';
    if (src && !/^(https?:|\/|data:|blob:)/.test(src)) src = `data:image/webp;base64,${src}`;
    const name = `horde-${shortId(this.id)}-${i + 1}.webp`;
    const alt = `Generated image ${i + 1} for: ${this.entry.prompt}`;
    return el('figure', {},
      el('img', { src, alt, loading: 'lazy', width: this.entry.width || 512, height: this.entry.height || 512 }),
      el('figcaption', {},
        el('a', { class: 'button small', href: src, download: name, text: 'Download' }),
        `seed ${g.seed ?? '?'} · ${g.model || 'any model'} · by ${g.worker_name || 'a worker'}`,
        g.censored ? el('span', { class: 'badge warn', text: 'censored by the worker' }) : null));
  }

  textBlock(g, i, count) {
    const text = g.text || '';
    const pre = el('pre', { class: 'text-result', 'data-testid': 'text-result', text });
    const status = el('span', { class: 'small', role: 'status', 'aria-live': 'polite' });
    const name = `horde-${shortId(this.id)}${count > 1 ? `-${i + 1}` : ''}.txt`;
    return el('div', {},
      pre,
      el('div', { class: 'actions' },
        el('button', {
          type: 'button', class: 'secondary small', text: 'Copy',
          onclick: async () => { status.textContent = (await copyText(text, pre)) ? 'Copied.' : 'Select the text to copy it.'; },
        }),
        el('button', {
          type: 'button', class: 'secondary small', text: 'Download', 'data-filename': name,
          onclick: () => download(name, text),
        }),
        el('span', { class: 'small muted', text: `${g.model || ''}${g.worker_name ? ` · by ${g.worker_name}` : ''}` }),
        status));
  }

  finish(state) {
    this.stop();
    this.cancelBtn.hidden = true;
    if (!this.msg.classList.contains('error')) show(this.msg, '');
    const keep = this.entry.state === 'cancelled' && state === 'done' ? 'cancelled' : state;
    this.entry.state = keep;
    updateHistory(this.id, { state: keep });
    this.bar.style.width = '100%';
  }

  async cancel() {
    this.cancelBtn.disabled = true;
    try {
      const s = await api.del(`${this.base}${encodeURIComponent(this.id)}`);
      this.entry.state = 'cancelled';
      updateHistory(this.id, { state: 'cancelled' });
      this.render(s);
      this.showResults(s);
      if (s.done) {
        this.finish('cancelled');
      } else {
        this.progress.textContent = 'Cancelling: waiting for the jobs already running…';
        this.schedule();
      }
    } catch (err) {
      show(this.msg, err.message, 'error');
      this.cancelBtn.disabled = false;
    }
  }
}

function startJob(entry) {
  const old = jobs.get(entry.id);
  if (old) {
    old.stop();
    old.node.remove();
  }
  const job = new Job(entry);
  jobs.set(entry.id, job);
  job.mount();
  return job;
}

/** Reopens a request from the history: shows it again and polls it if it still exists. */
function openJob(entry) {
  const job = startJob({ ...entry });
  if (entry.kind === 'text' && entry.text) {
    job.results.replaceChildren(job.textBlock({ text: entry.text }, 0, 1));
  }
  job.progress.textContent = 'Loading…';
  job.poll();
  job.node.scrollIntoView({ block: 'nearest' });
}

// ---- the forms ----

function intOf(id, name, min, max) {
  const v = $(id).value.trim();
  const n = Number(v);
  if (!v || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}.`);
  }
  return n;
}

function numOf(id, name, min, max) {
  const v = $(id).value.trim();
  const n = Number(v);
  if (!v || !Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${name} must be a number from ${min} to ${max}.`);
  }
  return n;
}

function imageBody() {
  const prompt = $('img-prompt').value.trim();
  if (!prompt) throw new Error('Write a prompt first: what should the image show?');
  const negative = $('img-negative').value.trim();
  const params = {
    width: Number($('img-width').value),
    height: Number($('img-height').value),
    steps: intOf('img-steps', 'Steps', 1, 150),
    cfg_scale: Math.round(numOf('img-cfg', 'Guidance', 0, 30) * 100) / 100,
    sampler_name: $('img-sampler').value,
    n: intOf('img-n', 'Images', 1, 10),
  };
  const seed = $('img-seed').value.trim();
  if (seed) params.seed = seed;
  const model = $('img-model').value;
  return {
    prompt: negative ? `${prompt} ### ${negative}` : prompt,
    params,
    nsfw: $('img-nsfw').checked,
    allow_downgrade: $('img-downgrade').checked,
    models: model ? [model] : [],
    r2: true,
  };
}

function textBody() {
  const prompt = $('txt-prompt').value;
  if (!prompt.trim()) throw new Error('Write a prompt first: the text the model continues.');
  const maxLength = intOf('txt-max-length', 'Max new tokens', 16, 4096);
  const maxContext = intOf('txt-max-context', 'Context length', 80, 131072);
  if (maxContext < maxLength) throw new Error('The context length must be at least the max new tokens.');
  const model = $('txt-model').value;
  return {
    prompt,
    params: {
      n: 1,
      max_length: maxLength,
      max_context_length: maxContext,
      temperature: numOf('txt-temperature', 'Temperature', 0, 5),
    },
    nsfw: $('txt-nsfw').checked,
    allow_downgrade: $('txt-downgrade').checked,
    models: model ? [model] : [],
  };
}

function wireForm(kind) {
  const form = $(`${kind}-form`);
  const errBox = $(`${kind}-error`);
  const button = $(`${kind}-submit`);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let body;
    try {
      body = kind === 'image' ? imageBody() : textBody();
    } catch (err) {
      show(errBox, err.message, 'error');
      return;
    }
    show(errBox, '');
    button.disabled = true;
    try {
      const path = kind === 'image' ? '/api/v2/generate/async' : '/api/v2/generate/text/async';
      const out = await api.post(path, body);
      const shownPrompt = kind === 'image' ? $('img-prompt').value.trim() : body.prompt.trim();
      const entry = {
        id: out.id,
        kind,
        prompt: shownPrompt.slice(0, 200),
        at: Date.now(),
        n: body.params.n || 1,
        kudos: out.kudos,
        width: body.params.width,
        height: body.params.height,
        state: 'queued',
      };
      updateHistory(entry.id, entry);
      const job = startJob(entry);
      const notes = [];
      if (out.message) notes.push(out.message);
      for (const w of out.warnings || []) {
        const t = w.message || w.code;
        if (t && !notes.includes(t)) notes.push(t);
      }
      if (notes.length) show(job.msg, notes.join(' '), 'info');
      job.progress.textContent = 'Queued. Waiting for a worker…';
      job.schedule(1000);
      // On a phone the results are below the form: bring the new request into view.
      const box = job.node.getBoundingClientRect();
      if (box.top > window.innerHeight || box.bottom < 0) {
        job.node.scrollIntoView({ block: 'start', behavior: 'smooth' });
      }
    } catch (err) {
      show(errBox, err.message, 'error');
    } finally {
      button.disabled = false;
    }
  });
}

async function loadModels(kind) {
  const select = $(kind === 'image' ? 'img-model' : 'txt-model');
  try {
    const models = await api.get(`/api/v2/status/models?type=${kind}`);
    const list = (Array.isArray(models) ? models : []).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    const keep = select.value;
    select.replaceChildren(
      el('option', { value: '', text: list.length ? 'Any model' : 'Any model (no workers online now)' }),
      ...list.map((m) => el('option', { value: m.name, text: `${m.name} (${m.count} worker${m.count === 1 ? '' : 's'})` })),
    );
    if (keep && list.some((m) => m.name === keep)) select.value = keep;
  } catch {
    // keep "Any model"
  }
}

function fillSelects() {
  for (const id of ['img-width', 'img-height']) {
    const s = $(id);
    for (let v = 256; v <= 1536; v += 64) s.append(el('option', { value: String(v), text: `${v} px` }));
    s.value = '512';
  }
  const sampler = $('img-sampler');
  for (const name of SAMPLERS) sampler.append(el('option', { value: name, text: name }));
  sampler.value = 'k_euler_a';
}

function wireTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus) tab.focus();
    try { sessionStorage.setItem('horde.tab', tab.id); } catch { /* ignore */ }
  };
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => select(t, false));
    t.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
        const next = tabs[(i + (ev.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
        select(next, true);
        ev.preventDefault();
      }
    });
  });
  const wanted = new URLSearchParams(location.search).get('kind');
  let start = null;
  if (wanted === 'text' || wanted === 'image') start = $(`tab-${wanted}`);
  if (!start) {
    try { start = $(sessionStorage.getItem('horde.tab') || ''); } catch { /* ignore */ }
  }
  if (start) select(start, false);
}

fillSelects();
wireTabs();
wireForm('image');
wireForm('text');
loadModels('image');
loadModels('text');
renderHistory();
$('history-clear').addEventListener('click', () => {
  saveHistory([]);
  renderHistory();
});
setInterval(() => {
  if (document.visibilityState === 'visible') {
    loadModels('image');
    loadModels('text');
  }
}, 30000);

ready.then((s) => {
  const who = $('who-gen');
  if (s.logged_in && s.user) {
    who.textContent = `You are generating as ${s.user.username} with ${fmtKudos(s.user.kudos)} kudos.`;
  } else {
    who.replaceChildren('You are generating anonymously, with the lowest priority. ',
      el('a', { href: '/login?return_to=/generate', text: 'Log in' }), ' to use your kudos.');
  }
});
