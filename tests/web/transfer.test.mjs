// Sending kudos from the transfer page: success (balance refreshed) and errors shown in place.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHorde, launchBrowser, newPage, call, registerViaPage, testUser, unique, textOf } from './lib.mjs';

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

const balanceOf = async (key) => (await call(horde.base, 'GET', '/api/v2/find_user', { key })).body.kudos;

test('transfer kudos: success refreshes the balance, errors appear next to the form', async () => {
  const bank = await testUser(horde.base, { username: unique('bank'), kudos: 10000 });
  const bob = await testUser(horde.base, { username: unique('bob'), kudos: 0 });
  const { context, page } = await newPage(browser);
  const me = await registerViaPage(page, horde.base);

  // Fund the new account (the bank is another user, so the 60 s ping-pong rule does not apply).
  let r = await call(horde.base, 'POST', '/api/v2/kudos/transfer', { key: bank.key, body: { username: me.alias, amount: 200 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const start = await balanceOf(me.key);

  await page.goto(`${horde.base}/transfer`);
  const balance = page.getByTestId('balance');
  await balance.filter({ hasText: String(start) }).waitFor();

  await page.getByRole('textbox', { name: 'To user' }).fill(bob.alias);
  await page.getByRole('spinbutton', { name: 'Kudos' }).fill('50');
  await page.getByRole('button', { name: 'Send kudos' }).click();
  const msg = page.locator('#transfer-msg');
  await msg.filter({ hasText: `Sent 50 kudos to ${bob.alias}.` }).waitFor();
  assert.match(await msg.getAttribute('class'), /\bok\b/);
  await balance.filter({ hasText: String(start - 50) }).waitFor();
  assert.equal(await balanceOf(me.key), start - 50);
  assert.equal(await balanceOf(bob.key), 50);

  // Unknown user: the horde's own message, in place.
  r = await call(horde.base, 'POST', '/api/v2/kudos/transfer', { key: bank.key, body: { username: 'nobody#987654', amount: 5 } });
  assert.equal(r.status, 400);
  await page.getByRole('textbox', { name: 'To user' }).fill('nobody#987654');
  await page.getByRole('spinbutton', { name: 'Kudos' }).fill('5');
  await page.getByRole('button', { name: 'Send kudos' }).click();
  await msg.filter({ hasText: r.body.message }).waitFor();
  assert.match(await msg.getAttribute('class'), /\berror\b/);

  // More than available: refused, balance unchanged.
  await page.getByRole('textbox', { name: 'To user' }).fill(bob.alias);
  await page.getByRole('spinbutton', { name: 'Kudos' }).fill('100000');
  await page.getByRole('button', { name: 'Send kudos' }).click();
  await msg.filter({ hasText: 'kudos available to send' }).waitFor();
  assert.match(await msg.getAttribute('class'), /\berror\b/);
  assert.equal(await textOf(page, '[data-testid=balance]'), String(start - 50));
  assert.equal(await balanceOf(me.key), start - 50);

  // The account page tells where the kudos came from and went.
  await page.goto(`${horde.base}/account`);
  const details = page.locator('#kudos-details');
  await details.getByRole('row', { name: /Received from other users/ }).getByText('200').waitFor();
  await details.getByRole('row', { name: /Sent to other users/ }).getByText('50').waitFor();
  await page.goto(`${horde.base}/transfer`);
  await balance.filter({ hasText: String(start - 50) }).waitFor();

  // Errors checked in the browser: no recipient, not a whole number.
  await page.getByRole('button', { name: 'Send kudos' }).click();
  await msg.filter({ hasText: 'Who should get the kudos?' }).waitFor();
  await page.getByRole('textbox', { name: 'To user' }).fill(bob.alias);
  await page.getByRole('spinbutton', { name: 'Kudos' }).fill('1.5');
  await page.getByRole('button', { name: 'Send kudos' }).click();
  await msg.filter({ hasText: 'The amount must be a whole number of kudos, 1 or more.' }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});
