// Shared helpers of the browser tests: the real horded on a free port, API calls, test users,
// a scripted worker, and Debian's Chromium through playwright-core.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const HORDED = process.env.HORDED || path.join(REPO, 'build', 'apps', 'horded', 'horded');
export const WEB_DIR = process.env.HORDE_WEB_DIR || path.join(REPO, 'web');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const OUT_DIR = path.join(HERE, 'out');
export const ANON_KEY = '0000000000';

// A 1x1 lossless WebP: the smallest well-formed WebP (what the integration tests upload).
export const TINY_WEBP = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');
export const REGEN_AGENT = 'AI Horde Worker reGen:9.0.0:https://example.invalid/regen';
export const TEXT_AGENT = 'AI Horde Worker:24:https://example.invalid/worker';

let counter = 0;
/** A short unique name (usernames are cut at 30 characters). */
export function unique(prefix = 't') {
  counter += 1;
  return `${prefix}${counter}x${Math.random().toString(36).slice(2, 7)}`;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value (or throws after timeoutMs). */
export async function waitFor(fn, { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/**
 * Starts horded in test mode on a free port with a fresh data dir. Resolves to
 * {base, port, dataDir, log(), stop()}.
 */
export async function startHorde({ args = [], env = {}, port: wantedPort = 0 } = {}) {
  if (!fs.existsSync(HORDED)) {
    throw new Error(`horded binary not found at ${HORDED} (set HORDED=...)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'horde-web-'));
  const dataDir = path.join(dir, 'data');
  const logPath = path.join(dir, 'horded.log');
  const argv = ['--test-mode', '--port', String(wantedPort), '--bind', '127.0.0.1', '--data-dir', dataDir,
    '--web-dir', WEB_DIR, ...args];
  const proc = spawn(HORDED, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logStream = fs.createWriteStream(logPath);
  let text = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`horded did not print LISTENING in 20 s:\n${text}`)), 20000);
    const onData = (chunk) => {
      logStream.write(chunk);
      text += chunk.toString();
      const m = text.match(/^LISTENING (\d+)\s*$/m);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (c) => logStream.write(c));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`horded exited (${code}) before listening:\n${text}`));
    });
  });
  proc.removeAllListeners('exit');
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    port,
    dataDir,
    logPath,
    log: () => fs.readFileSync(logPath, 'utf8'),
    async stop() {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await done;
      clearTimeout(t);
      logStream.end();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One API call: {status, body, headers}. `key` goes into the apikey header. */
export async function call(base, method, p, { body, key, headers = {} } = {}) {
  const h = { 'Client-Agent': 'horde-web-tests:0.1:', ...headers };
  if (key) h.apikey = key;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(base + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const t = await res.text();
  let parsed = null;
  try {
    parsed = t ? JSON.parse(t) : null;
  } catch {
    parsed = t;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** POST /api/v2/dev/test-user: {api_key, user_id, alias, …}. */
export async function testUser(base, { username = unique('u'), moderator = false, trusted = true, kudos = 1000, oauthId } = {}) {
  const r = await call(base, 'POST', '/api/v2/dev/test-user', {
    body: { username, oauth_id: oauthId || `test_${username}`, moderator, trusted, kudos },
  });
  if (r.status !== 200 && r.status !== 201) throw new Error(`test-user: ${r.status} ${JSON.stringify(r.body)}`);
  return { ...r.body, key: r.body.api_key, id: Number(r.body.user_id) };
}

/**
 * A scripted worker: pops until it gets a job (bounded), then delivers `generation` for each
 * of its ids. kind is 'text' or 'image'. Resolves to {job, submits}.
 */
export async function serveOne(base, key, { kind, name, models, generation = 'The end.', timeoutMs = 15000, webp = TINY_WEBP, viaR2 = true } = {}) {
  const text = kind === 'text';
  const pop = text
    ? { name, models: models || ['koboldcpp/TestModel-7B'], bridge_agent: TEXT_AGENT, max_length: 512, max_context_length: 4096, nsfw: true, threads: 1 }
    : { name, models: models || ['stable_diffusion'], bridge_agent: REGEN_AGENT, nsfw: true, max_pixels: 1048576, threads: 1 };
  const popPath = text ? '/api/v2/generate/text/pop' : '/api/v2/generate/pop';
  const submitPath = text ? '/api/v2/generate/text/submit' : '/api/v2/generate/submit';
  const job = await waitFor(async () => {
    const r = await call(base, 'POST', popPath, { body: pop, key });
    if (r.status !== 200) throw new Error(`pop: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id ? r.body : null;
  }, { timeoutMs, intervalMs: 200, what: `a ${kind} job to pop` });
  const ids = job.ids && job.ids.length ? job.ids : [job.id];
  const submits = [];
  for (let i = 0; i < ids.length; i += 1) {
    let gen = generation;
    if (!text) {
      if (viaR2 && job.r2_uploads && job.r2_uploads[i]) {
        const up = await fetch(job.r2_uploads[i], { method: 'PUT', body: webp, headers: { 'Content-Type': 'image/webp' } });
        if (![200, 201, 204].includes(up.status)) throw new Error(`upload: ${up.status}`);
        gen = 'R2';
      } else {
        gen = webp.toString('base64');
      }
    }
    const r = await call(base, 'POST', submitPath, { body: { id: ids[i], generation: gen, seed: text ? 42 : 1234 }, key });
    if (r.status !== 200) throw new Error(`submit: ${r.status} ${JSON.stringify(r.body)}`);
    submits.push(r.body);
  }
  return { job, submits };
}

/** Pops once as a worker (for registering a worker or checking a refusal): {status, body}. */
export function popOnce(base, key, { kind = 'text', name, models } = {}) {
  const text = kind === 'text';
  const body = text
    ? { name, models: models || ['koboldcpp/TestModel-7B'], bridge_agent: TEXT_AGENT, max_length: 512, max_context_length: 4096, nsfw: true, threads: 1 }
    : { name, models: models || ['stable_diffusion'], bridge_agent: REGEN_AGENT, nsfw: true, max_pixels: 1048576, threads: 1 };
  return call(base, 'POST', text ? '/api/v2/generate/text/pop' : '/api/v2/generate/pop', { body, key });
}

/** Launches Debian's Chromium. */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A new browser context + page that fails the test on page errors, CSP violations and
 * console errors other than expected failed resource loads (collected in page.problems).
 */
export async function newPage(browser, { viewport = { width: 1280, height: 900 }, ...opts } = {}) {
  const context = await browser.newContext({ viewport, ...opts });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const t = msg.text();
    // A failed HTTP call is an expected part of some tests (the page shows it); the page
    // itself must not throw or break the CSP.
    if (/Failed to load resource: the server responded with a status of/.test(t)) return;
    page.problems.push(`console: ${t}`);
  });
  page.setDefaultTimeout(10000);
  return { context, page };
}

/** Screenshot to tests/web/out/<name>.png. */
export async function screenshot(page, name, fullPage = true) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/** Width overflow of the page: scrollWidth − clientWidth of the document (0 = none). */
export function horizontalOverflow(page) {
  return page.evaluate(() => {
    const d = document.documentElement;
    return Math.max(d.scrollWidth, document.body.scrollWidth) - d.clientWidth;
  });
}

/**
 * Registers a pseudonymous account through the login page, as a person would. Resolves to
 * {key, alias} read from the page (the key panel and the header).
 */
export async function registerViaPage(page, base, name = unique('p')) {
  await page.goto(`${base}/login`);
  await page.getByRole('textbox', { name: 'Name' }).fill(name);
  await page.getByRole('button', { name: 'Create account' }).click();
  const keyNode = page.getByTestId('api-key');
  await keyNode.waitFor();
  const key = (await keyNode.textContent()).trim();
  const alias = (await page.locator('#who a').textContent()).trim();
  return { key, alias, name, id: Number(alias.split('#').pop()) };
}

/** The text of the first visible element matching `selector`, trimmed. */
export async function textOf(page, selector) {
  return ((await page.locator(selector).first().textContent()) || '').trim();
}

/** A TCP port that was free a moment ago (for servers that must know each other's URLs). */
export async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts tests/web/oidc_server.mjs (a local OpenID Connect provider). Resolves to
 * {issuer, stop()}.
 */
export async function startOidc({ clientId, clientSecret, redirectUris }) {
  const args = [path.join(HERE, 'oidc_server.mjs'), '--port', '0', '--client-id', clientId, '--client-secret', clientSecret];
  for (const u of redirectUris) args.push('--redirect-uri', u);
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`oidc_server did not print ISSUER in 15 s:\n${text}`)), 15000);
    const onData = (c) => {
      text += c.toString();
      const m = text.match(/^ISSUER (\S+)\s*$/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`oidc_server exited (${code}):\n${text}`));
    });
  });
  proc.removeAllListeners('exit');
  return {
    issuer,
    async stop() {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    },
  };
}
