// OAuth login through the login page against a real local OpenID Connect provider
// (oidc_server.mjs, oidc-provider on loopback): first login creates the account and shows its
// key once, a repeat login finds the same account, a denied consent and a bad state come back to
// the login page with a readable error.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHorde, startOidc, freePort, launchBrowser, newPage, call } from './lib.mjs';

let horde;
let oidc;
let browser;

const CLIENT_ID = 'horde-web-tests';
const CLIENT_SECRET = 'web-tests-secret';
const PROVIDER = 'Local OpenID';

before(async () => {
  const port = await freePort();
  oidc = await startOidc({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [`http://127.0.0.1:${port}/auth/callback/oidc`],
  });
  horde = await startHorde({
    port,
    args: [
      '--oauth-generic-issuer', oidc.issuer,
      '--oauth-generic-client-id', CLIENT_ID,
      '--oauth-generic-client-secret', CLIENT_SECRET,
      '--oauth-generic-display-name', PROVIDER,
    ],
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await horde?.stop();
  await oidc?.stop();
});

/** Clicks the provider button and signs in at the provider as `login`; ends back on the horde. */
async function loginAtProvider(page, login, { consent = true } = {}) {
  await page.goto(`${horde.base}/login`);
  await page.getByRole('link', { name: `Log in with ${PROVIDER}` }).click();
  await page.waitForURL((u) => u.origin === oidc.issuer);
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  if (consent) {
    await page.getByRole('button', { name: 'Continue' }).click();
  } else {
    await page.getByRole('link', { name: '[ Cancel ]' }).click();
  }
  await page.waitForURL((u) => u.origin === horde.base);
  page.problems.length = 0; // the provider's own pages are not ours to judge
}

let firstKey;
let firstAlias;

test('first OAuth login creates the account and shows its key once', async () => {
  const { context, page } = await newPage(browser);
  await loginAtProvider(page, 'alice');
  await page.waitForURL(`${horde.base}/account`);
  const keyNode = page.getByTestId('api-key');
  await keyNode.waitFor();
  firstKey = (await keyNode.textContent()).trim();
  await page.getByRole('heading', { name: 'Welcome! Here is your API key' }).waitFor();
  firstAlias = (await page.getByTestId('alias').textContent()).trim();
  assert.match(firstAlias, /alice/i);
  assert.equal((await page.locator('#who a').textContent()).trim(), firstAlias);

  const r = await call(horde.base, 'GET', '/api/v2/find_user', { key: firstKey });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.username, firstAlias);
  assert.equal(r.body.pseudonymous, false);

  // Shown once: a reload shows the account without the key.
  await page.reload();
  await page.getByTestId('alias').filter({ hasText: firstAlias }).waitFor();
  assert.equal(await page.getByTestId('api-key').count(), 0);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('a repeat login finds the same account, without a new key', async () => {
  assert.ok(firstAlias, 'needs the first login');
  const { context, page } = await newPage(browser);
  await loginAtProvider(page, 'alice');
  await page.waitForURL(`${horde.base}/account`);
  await page.getByTestId('alias').filter({ hasText: firstAlias }).waitFor();
  assert.equal(await page.getByTestId('api-key').count(), 0);
  // The key from the first login still works: no reset happened.
  const r = await call(horde.base, 'GET', '/api/v2/find_user', { key: firstKey });
  assert.equal(r.status, 200);
  assert.equal(r.body.username, firstAlias);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('denied consent and a forged state come back to the login page with an error', async () => {
  const { context, page } = await newPage(browser);
  await loginAtProvider(page, 'bob', { consent: false });
  await page.waitForURL(/\/login\?error=access_denied/);
  await page.locator('#login-error').filter({ hasText: 'You declined the login at the provider.' }).waitFor();
  await page.locator('#who').getByRole('link', { name: 'Log in' }).waitFor();

  await page.goto(`${horde.base}/auth/callback/oidc?code=forged&state=forged`);
  await page.waitForURL(/\/login\?error=invalid_state/);
  await page.locator('#login-error').filter({ hasText: 'The login could not be verified' }).waitFor();
  await page.locator('#who').getByRole('link', { name: 'Log in' }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});
