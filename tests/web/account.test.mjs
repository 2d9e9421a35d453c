// Logging in by pseudonymous registration, the API key shown once, key reset (the old key is
// refused at once), renaming, logout, and login errors shown on the login page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHorde, launchBrowser, newPage, call, registerViaPage, popOnce, unique, textOf } from './lib.mjs';

let horde;
let browser;

before(async () => {
  horde = await startHorde();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await horde?.stop();
});

test('register, see the key once, reset it: the old key is refused', async () => {
  const { context, page } = await newPage(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: horde.base });
  const name = unique('reg');
  const me = await registerViaPage(page, horde.base, name);

  // The copy button puts the key on the clipboard.
  await page.getByRole('button', { name: 'Copy key' }).click();
  await page.locator('#key-panel').getByText('Copied.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), me.key);

  // The key on the page is a working key of this account.
  assert.match(me.key, /^\S{10,}$/);
  assert.equal(me.alias, `${name}#${me.id}`);
  let r = await call(horde.base, 'GET', '/api/v2/find_user', { key: me.key });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.username, me.alias);
  assert.equal(r.body.pseudonymous, true);

  // The account page shows the account, not the key again.
  await page.getByRole('link', { name: 'Continue to your account' }).click();
  await page.waitForURL(/\/account$/);
  await page.getByTestId('alias').filter({ hasText: me.alias }).waitFor();
  assert.equal(await page.getByTestId('api-key').count(), 0, 'the key must not be shown again');
  assert.match(await textOf(page, '[data-testid=kudos-balance]'), /^-?[\d,.]+$/);
  await page.getByText('You have no workers yet.').waitFor();

  // Reset: asks first, then shows the new key once.
  await page.getByRole('button', { name: 'Make a new API key…' }).click();
  await page.getByText('Your current key will stop working immediately.').waitFor();
  await page.getByRole('button', { name: 'Yes, make a new key' }).click();
  const keyNode = page.getByTestId('api-key');
  await keyNode.waitFor();
  const newKey = (await keyNode.textContent()).trim();
  assert.notEqual(newKey, me.key);
  await page.getByText('A new key was made; the old one was revoked.').waitFor();

  r = await call(horde.base, 'GET', '/api/v2/find_user', { key: me.key });
  assert.ok([401, 403, 404].includes(r.status), `old key still answered ${r.status}`);
  r = await call(horde.base, 'POST', '/api/v2/generate/text/async', { key: me.key, body: { prompt: 'hello' } });
  assert.ok([401, 403].includes(r.status), `old key could still request: ${r.status} ${JSON.stringify(r.body)}`);
  r = await call(horde.base, 'GET', '/api/v2/find_user', { key: newKey });
  assert.equal(r.status, 200);
  assert.equal(r.body.username, me.alias);

  // After a reload the new key is gone from the page too.
  await page.reload();
  await page.getByTestId('alias').filter({ hasText: me.alias }).waitFor();
  assert.equal(await page.getByTestId('api-key').count(), 0);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('workers owned with a maintenance toggle, rename the account, log out', async () => {
  const { context, page } = await newPage(browser);
  const me = await registerViaPage(page, horde.base);
  // The account runs a worker (it checks in once with the account's key).
  const workerName = unique('mine');
  const pop = await popOnce(horde.base, me.key, { kind: 'text', name: workerName });
  assert.equal(pop.status, 200, JSON.stringify(pop.body));
  await page.goto(`${horde.base}/account`);
  const row = page.locator(`[data-worker="${workerName}"]`);
  await row.getByText('online').waitFor();
  await row.getByRole('button', { name: `Put into maintenance: ${workerName}` }).click();
  await row.getByText('In maintenance: it gets no new jobs.').waitFor();
  let w = await call(horde.base, 'GET', `/api/v2/workers/name/${workerName}`);
  assert.equal(w.body.maintenance_mode, true);
  await row.getByRole('button', { name: `End maintenance of ${workerName}` }).click();
  await row.getByText('Back in service.').waitFor();
  w = await call(horde.base, 'GET', `/api/v2/workers/name/${workerName}`);
  assert.equal(w.body.maintenance_mode, false);

  const input = page.getByRole('textbox', { name: 'Name' });
  await input.fill('renamed');
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.getByText(`Saved. Others now see you as renamed#${me.id}.`).waitFor();
  assert.equal(await textOf(page, '#who a'), `renamed#${me.id}`);
  const r = await call(horde.base, 'GET', '/api/v2/find_user', { key: me.key });
  assert.equal(r.body.username, `renamed#${me.id}`);

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${horde.base}/`);
  await page.locator('#who').getByRole('link', { name: 'Log in' }).waitFor();
  await page.goto(`${horde.base}/account`);
  await page.getByText('You are not logged in.').waitFor();

  // Back in with the API key (the way back into a pseudonymous account).
  await page.getByRole('link', { name: 'Log in or create an account' }).click();
  await page.waitForURL(/\/login/);
  const keyInput = page.getByLabel('Your API key');
  await keyInput.fill('not-the-key');
  await page.getByRole('button', { name: 'Log in with the key' }).click();
  await page.locator('#key-error').filter({ hasText: 'This key is not valid' }).waitFor();
  await keyInput.fill(me.key);
  await page.getByRole('button', { name: 'Log in with the key' }).click();
  await page.getByRole('heading', { name: `Welcome, renamed#${me.id}` }).waitFor();
  await page.getByRole('link', { name: 'Continue to your account' }).click();
  await page.getByTestId('alias').filter({ hasText: `renamed#${me.id}` }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('the login page shows errors coming back from a provider', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${horde.base}/login?error=access_denied`);
  const alert = page.locator('#login-error');
  await alert.filter({ hasText: 'You declined the login at the provider.' }).waitFor();
  assert.equal(await alert.getAttribute('role'), 'alert');
  await page.goto(`${horde.base}/login?error=something_new`);
  await alert.filter({ hasText: 'The login did not work (something_new).' }).waitFor();

  // An empty name is refused in place, nothing is sent.
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#register-error').filter({ hasText: 'Please choose a name.' }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});
