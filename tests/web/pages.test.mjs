// The home page (live status, models, kudos rules, worker command), the pages under the CSP, and
// every page on a phone-sized screen (390×844): no horizontal scroll, screenshots in out/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startHorde, launchBrowser, newPage, call, registerViaPage, testUser, popOnce, serveOne, unique,
  screenshot, horizontalOverflow, textOf,
} from './lib.mjs';

let horde;
let browser;
let owner;

before(async () => {
  horde = await startHorde();
  owner = await testUser(horde.base, { username: unique('owner'), kudos: 100 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await horde?.stop();
});

test('home shows the models and workers online, the queue, kudos rules and how to join', async () => {
  // Two workers check in: one image, one text.
  let r = await popOnce(horde.base, owner.key, { kind: 'image', name: unique('iw'), models: ['Deliberate'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await popOnce(horde.base, owner.key, { kind: 'text', name: unique('tw'), models: ['koboldcpp/Tiefighter-13B'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // One text request waits in the queue (for a model nobody serves).
  r = await call(horde.base, 'POST', '/api/v2/generate/text/async', { body: { prompt: 'queued', models: ['koboldcpp/Nobody-1B'] } });
  assert.equal(r.status, 202, JSON.stringify(r.body));

  const { context, page } = await newPage(browser);
  const res = await page.goto(`${horde.base}/`);
  assert.equal(res.status(), 200);
  const csp = res.headers()['content-security-policy'] || '';
  assert.match(csp, /default-src 'self'/, 'the pages are served with a CSP');

  await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Free AI text and images' }).waitFor();
  await page.getByTestId('image-models').getByRole('cell', { name: 'Deliberate' }).waitFor();
  await page.getByTestId('text-models').getByRole('cell', { name: 'koboldcpp/Tiefighter-13B' }).waitFor();
  await page.locator('#stat-image-workers').filter({ hasText: /^1$/ }).waitFor();
  assert.equal(await textOf(page, '#stat-text-workers'), '1');
  assert.equal(await textOf(page, '#stat-text-queue'), '1');

  const rules = page.locator('#kudos-rules');
  for (const words of ['Workers earn them.', 'Requests spend them.', '0000000000', '−50 kudos for the anonymous key', '14 for pseudonymous']) {
    assert.ok((await rules.textContent()).includes(words), `kudos rules mention ${words}`);
  }
  const cmd = await textOf(page, '#worker-cmd');
  assert.ok(cmd.includes(`horde-worker --horde-url ${horde.base}`), cmd);
  assert.ok(cmd.includes('--backend kobold'), cmd);
  await screenshot(page, 'home-desktop');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('phone-sized screen: every page fits 390 px without horizontal scrolling', async () => {
  const { context, page } = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
  const me = await registerViaPage(page, horde.base);
  assert.equal(await horizontalOverflow(page), 0, 'login page with the key panel');
  await screenshot(page, 'phone-login-key');

  // A finished text on the generate page, the widest content it has.
  await page.goto(`${horde.base}/generate`);
  await page.getByRole('tab', { name: 'Text' }).click();
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('A long line: ' + 'x'.repeat(300));
  await page.getByRole('button', { name: 'Generate text' }).click();
  await serveOne(horde.base, owner.key, { kind: 'text', name: unique('tw'), generation: `Once upon a time ${'y'.repeat(400)} the end.` });
  await page.getByTestId('text-result').waitFor();

  for (const p of ['/generate', '/', '/account', '/transfer', '/login', '/admin']) {
    if (p !== '/generate') await page.goto(`${horde.base}${p}`);
    await page.waitForLoadState('networkidle');
    const overflow = await horizontalOverflow(page);
    const name = p === '/' ? 'home' : p.slice(1);
    await screenshot(page, `phone-${name}`);
    assert.equal(overflow, 0, `${p} scrolls sideways by ${overflow}px at 390×844`);
  }
  assert.ok(me.alias);
  assert.deepEqual(page.problems, []);
  await context.close();
});
