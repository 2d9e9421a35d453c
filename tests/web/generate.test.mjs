// The generate page: a text (anonymous) and an image (logged in) served by a scripted worker and
// shown in place, live progress, downloads, the session history, cancel, and errors in place.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startHorde, launchBrowser, newPage, call, registerViaPage, testUser, serveOne, unique, textOf, screenshot,
} from './lib.mjs';

let horde;
let browser;
let admin;
let workerOwner;

before(async () => {
  // The first test user gets id 1: make it an admin (maintenance mode needs one).
  horde = await startHorde({ args: ['--admins', 'webadmin#1'] });
  admin = await testUser(horde.base, { username: 'webadmin', moderator: true, kudos: 1000 });
  assert.equal(admin.alias, 'webadmin#1');
  workerOwner = await testUser(horde.base, { username: unique('owner'), kudos: 100 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await horde?.stop();
});

/** A real 256×256 WebP, drawn and encoded by the browser itself. */
async function makeWebp(page) {
  const b64 = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 256;
    c.height = 256;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 256, 256);
    grad.addColorStop(0, '#1d3b8a');
    grad.addColorStop(1, '#f2a541');
    g.fillStyle = grad;
    g.fillRect(0, 0, 256, 256);
    g.fillStyle = '#fff';
    g.beginPath();
    g.arc(128, 110, 40, 0, Math.PI * 2);
    g.fill();
    return c.toDataURL('image/webp', 0.9).split(',')[1];
  });
  return Buffer.from(b64, 'base64');
}

test('anonymous text generation through a scripted worker, shown, downloadable, in the history', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${horde.base}/generate`);
  await page.getByText('You are generating anonymously').waitFor();
  await page.getByRole('tab', { name: 'Text' }).click();
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('The lighthouse keeper said');
  await page.getByRole('spinbutton', { name: 'Max new tokens' }).fill('60');
  await page.getByRole('button', { name: 'Generate text' }).click();

  // Live progress before any worker: the queue position.
  const job = page.locator('article.job[data-kind=text]').first();
  await job.locator('.progress').filter({ hasText: /Waiting in the queue, position 1/ }).waitFor();

  const story = 'that the sea was calm tonight.\nAnd the light turned on.';
  const served = await serveOne(horde.base, workerOwner.key, { kind: 'text', name: unique('tw'), generation: story });
  assert.equal(served.job.payload.prompt, 'The lighthouse keeper said');
  assert.equal(served.job.payload.max_length, 60);

  const result = job.getByTestId('text-result');
  await result.waitFor();
  assert.equal(await result.textContent(), story);
  await job.locator('.progress').filter({ hasText: 'Done. 1 of 1 finished.' }).waitFor();
  assert.equal(await job.getByRole('button', { name: 'Cancel text request' }).isVisible(), false);

  // Download: a file with a name and the text.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    job.getByRole('button', { name: 'Download' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^horde-[0-9a-f-]{8}\.txt$/);
  const fs = await import('node:fs/promises');
  assert.equal(await fs.readFile(await download.path(), 'utf8'), story);

  // The history survives a reload (sessionStorage) and reopens the result.
  await page.reload();
  const item = page.locator('#history li').first();
  await item.filter({ hasText: 'The lighthouse keeper said' }).waitFor();
  await item.filter({ hasText: 'done' }).waitFor();
  await item.getByRole('button', { name: /^Open text request/ }).click();
  await page.locator('article.job[data-kind=text]').getByTestId('text-result').filter({ hasText: 'the light turned on' }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('logged-in image generation through a scripted worker, shown in place and downloadable', async () => {
  const { context, page } = await newPage(browser);
  const me = await registerViaPage(page, horde.base);
  const webp = await makeWebp(page);
  await page.goto(`${horde.base}/generate`);
  await page.getByText(`You are generating as ${me.alias}`).waitFor();
  await page.getByRole('tab', { name: 'Image' }).click();
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('a lighthouse at dusk');
  await page.getByRole('textbox', { name: /Negative prompt/ }).fill('fog');
  await page.getByRole('combobox', { name: 'Width' }).selectOption('256');
  await page.getByRole('combobox', { name: 'Height' }).selectOption('256');
  await page.getByRole('spinbutton', { name: 'Steps' }).fill('10');
  await page.getByRole('button', { name: 'Generate image' }).click();
  const job = page.locator('article.job[data-kind=image]').first();
  await job.locator('.progress').filter({ hasText: /position 1/ }).waitFor();

  const served = await serveOne(horde.base, workerOwner.key, { kind: 'image', name: unique('iw'), webp });
  assert.equal(served.job.payload.prompt, 'a lighthouse at dusk ### fog');
  assert.equal(served.job.payload.width, 256);
  assert.equal(served.job.payload.ddim_steps, 10);

  const img = job.locator('.results img').first();
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  assert.equal(await img.evaluate((el) => el.naturalWidth), 256);
  assert.match(await img.getAttribute('alt'), /a lighthouse at dusk/);
  await job.locator('.progress').filter({ hasText: 'Done. 1 of 1 finished.' }).waitFor();

  const link = job.getByRole('link', { name: 'Download' });
  assert.match(await link.getAttribute('download'), /^horde-[0-9a-f-]{8}-1\.webp$/);
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const fs = await import('node:fs/promises');
  const got = await fs.readFile(await download.path());
  assert.equal(got.subarray(0, 4).toString(), 'RIFF');
  assert.equal(got.subarray(8, 12).toString(), 'WEBP');

  // The request was made as this account (its record counts it).
  const r = await call(horde.base, 'GET', '/api/v2/find_user', { key: me.key });
  assert.equal(r.body.records.request.image, 1);
  await screenshot(page, 'generate-image-desktop');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('cancel a request, and errors shown in place: kudos upfront and maintenance', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${horde.base}/generate`);
  await page.getByRole('tab', { name: 'Text' }).click();
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('to be cancelled');
  await page.getByRole('button', { name: 'Generate text' }).click();
  const job = page.locator('article.job[data-kind=text]').first();
  await job.locator('.progress').filter({ hasText: /position/ }).waitFor();
  await job.getByRole('button', { name: 'Cancel text request' }).click();
  await job.locator('.progress').filter({ hasText: /^Cancelled\./ }).waitFor();
  await page.locator('#history li').first().filter({ hasText: 'cancelled' }).waitFor();

  // A huge image without kudos: the horde's KudosUpfront message, next to the form.
  await page.getByRole('tab', { name: 'Image' }).click();
  await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('a very large castle');
  await page.getByRole('combobox', { name: 'Width' }).selectOption('1536');
  await page.getByRole('combobox', { name: 'Height' }).selectOption('1536');
  await page.getByRole('spinbutton', { name: 'Steps' }).fill('150');
  await page.getByRole('button', { name: 'Generate image' }).click();
  const imgErr = page.locator('#image-error');
  await imgErr.filter({ hasText: 'kudos upfront' }).waitFor();
  assert.match(await imgErr.getAttribute('class'), /\berror\b/);

  // Maintenance with a message: the banner says so, new requests are refused with it.
  const note = 'Back soon: we are adding disks.';
  let r = await call(horde.base, 'PUT', '/api/v2/status/modes', { key: admin.key, body: { maintenance: true, maintenance_msg: note } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  try {
    await page.reload();
    await page.locator('#modes').filter({ hasText: 'Maintenance' }).filter({ hasText: note }).waitFor();
    await page.getByRole('tab', { name: 'Text' }).click();
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('during maintenance');
    await page.getByRole('button', { name: 'Generate text' }).click();
    r = await call(horde.base, 'POST', '/api/v2/generate/text/async', { body: { prompt: 'during maintenance' } });
    assert.equal(r.status, 400, JSON.stringify(r.body)); // docs/web.md: 400 as in the reference
    assert.equal(r.body.rc, 'MaintenanceMode');
    await page.locator('#text-error').filter({ hasText: r.body.message }).waitFor();
    assert.ok(r.body.message.includes(note), r.body.message);
  } finally {
    r = await call(horde.base, 'PUT', '/api/v2/status/modes', { key: admin.key, body: { maintenance: false } });
    assert.equal(r.status, 200);
  }
  await page.reload();
  await page.waitForFunction(() => document.getElementById('modes').hidden);
  assert.deepEqual(page.problems, []);
  await context.close();
});
