// Horde modes and invites from the admin page: invite-only mode refuses an uninvited worker;
// an invite by name and one by link let workers in; the banner shows the active modes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHorde, launchBrowser, newPage, call, registerViaPage, testUser, popOnce, unique } from './lib.mjs';

let horde;
let browser;
let boss;

before(async () => {
  horde = await startHorde({ args: ['--admins', 'boss#1'] });
  boss = await testUser(horde.base, { username: 'boss', moderator: true, kudos: 1000 });
  assert.equal(boss.alias, 'boss#1');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await horde?.stop();
});

test('invite-only mode: set on the admin page, uninvited workers refused, invites by name and link', async () => {
  // A moderator logged in through the browser (registered, then promoted by the admin).
  const { context, page } = await newPage(browser);
  const mod = await registerViaPage(page, horde.base, unique('mod'));
  let r = await call(horde.base, 'PUT', `/api/v2/users/${mod.id}`, { key: boss.key, body: { moderator: true } });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  // Someone who is not a moderator sees no admin tools.
  const other = await newPage(browser);
  await registerViaPage(other.page, horde.base);
  await other.page.goto(`${horde.base}/admin`);
  await other.page.getByText('This page is for the horde’s moderators and admins.').waitFor();
  assert.equal(await other.page.getByRole('button', { name: 'Save modes' }).isVisible(), false);

  await page.goto(`${horde.base}/admin`);
  await page.locator('nav').getByRole('link', { name: 'Admin' }).waitFor();
  const invite = page.getByRole('checkbox', { name: /Invite only/ });
  await invite.waitFor();
  assert.equal(await invite.isChecked(), false);
  await invite.check();
  await page.getByRole('button', { name: 'Save modes' }).click();
  await page.locator('#modes-msg').filter({ hasText: 'Saved.' }).waitFor();
  await page.locator('#modes').filter({ hasText: 'Invite only' }).waitFor();
  r = await call(horde.base, 'GET', '/api/v2/status/modes');
  assert.equal(r.body.invite_only_mode, true);

  // An uninvited account's worker is refused.
  const carol = await testUser(horde.base, { username: unique('carol'), kudos: 0, trusted: false, moderator: false });
  r = await popOnce(horde.base, carol.key, { kind: 'text', name: unique('cw') });
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.equal(r.body.rc, 'WorkerInviteOnly');

  // Invite by name from the page: the worker gets in.
  await page.getByRole('textbox', { name: 'User', exact: true }).fill(carol.alias);
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  await page.locator('#invite-name-msg').filter({ hasText: `${carol.alias} is invited.` }).waitFor();
  r = await popOnce(horde.base, carol.key, { kind: 'text', name: unique('cw') });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  // Invite by link: another person registers, opens the link, accepts.
  await page.getByRole('button', { name: 'Make an invite link' }).click();
  await page.locator('#invite-link').filter({ hasText: '/invite/' }).waitFor();
  const link = (await page.locator('#invite-link').textContent()).trim();
  assert.match(link, /\/invite\/[A-Za-z0-9_-]+$/);
  const guest = await newPage(browser);
  const dave = await registerViaPage(guest.page, horde.base);
  r = await popOnce(horde.base, dave.key, { kind: 'image', name: unique('dw') });
  assert.equal(r.status, 403);
  await guest.page.goto(link.replace(/^https?:\/\/[^/]+/, horde.base));
  await guest.page.getByRole('button', { name: 'Accept the invitation' }).click();
  await guest.page.locator('#invite-msg').filter({ hasText: 'you may now run workers' }).waitFor();
  r = await popOnce(horde.base, dave.key, { kind: 'image', name: unique('dw') });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  // Turn the mode off again from the page; the banner goes away.
  await invite.uncheck();
  await page.getByRole('button', { name: 'Save modes' }).click();
  await page.locator('#modes-msg').filter({ hasText: 'Saved.' }).waitFor();
  await page.waitForFunction(() => document.getElementById('modes').hidden);
  for (const p of [page, other.page, guest.page]) assert.deepEqual(p.problems, []);
  await Promise.all([context.close(), other.context.close(), guest.context.close()]);
});
