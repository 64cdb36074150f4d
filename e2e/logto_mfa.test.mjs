// Logto's MFA flows with @logto/browser in headless Chromium against the accountd binary (issue 13):
// a user signs in, registers a passkey through the Verification API (the browser's own
// navigator.credentials.create answered by a CDP virtual authenticator), signs out, and signs in with
// that passkey on the hosted page; then adds a TOTP app (its codes computed here, RFC 6238) and
// backup codes through /api/my-account/mfa-verifications, and signs in with each as the second
// factor. Last, a second browser lists the user's sessions and ends the first browser's, whose
// next Account API call is refused within a second. The Account API calls are fetches from the
// page's own origin with the SDK's token.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import { logtoTestPage, serveTestPage } from './lib/logto_page.mjs';
import { USER, managementApi, startAccountd } from './lib/accountd.mjs';

const SCOPES = ['email', 'identities', 'urn:logto:scope:sessions'];
const ALL_EDIT = Object.fromEntries(
  ['name', 'avatar', 'profile', 'email', 'phone', 'password', 'username', 'social', 'customData', 'mfa', 'session']
    .map((f) => [f, 'Edit']),
);
const MFA = '/api/my-account/mfa-verifications';
const T = { timeout: 60_000 };

let server;
let pages;
let browser;
let page;
let endpoint; // http://localhost:PORT — the SDK's endpoint (WebAuthn's RP ID is localhost)
let origin; // http://localhost:PORT2 — the test page
let spaId;
let sub;
let cdp;
let authenticatorId;
let totpSecret;
let backupCodes;
const exchanges = [];

function testPage() {
  return logtoTestPage({ endpoint, appId: spaId, scopes: SCOPES }, '@logto/browser MFA test page');
}

function recent(n = 8) {
  return `recent exchanges with accountd:\n${exchanges.slice(-n).map((x) => `  ${x}`).join('\n')}`;
}

/** Runs `fn(client, arg)` in the page. */
async function sdk(fn, arg) {
  await page.waitForFunction(() => window.ready !== undefined);
  const r = await page.evaluate(async ({ src, arg }) => {
    const f = (0, eval)(`(${src})`);
    try {
      return { value: await f(window.client, arg) };
    } catch (e) {
      return { error: { name: e?.name, code: e?.code, message: e?.message ?? String(e) } };
    }
  }, { src: fn.toString(), arg });
  if (r.error) throw new Error(`${JSON.stringify(r.error)}\n${recent()}`);
  return r.value;
}

/** A JSON call to accountd from the page with the SDK's (resource-less, opaque) token. */
function call(method, path, body, headers) {
  return sdk(async (c, a) => {
    const token = await c.getAccessToken();
    const res = await fetch(`${a.endpoint}${a.path}`, {
      method: a.method,
      headers: { authorization: `Bearer ${token}`, ...(a.body ? { 'content-type': 'application/json' } : {}), ...a.headers },
      body: a.body ? JSON.stringify(a.body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = text; }
    return { status: res.status, body: json };
  }, { endpoint, method, path, body, headers: headers ?? {} });
}

function expect(r, status, what) {
  assert.equal(r.status, status, `${what}: ${r.status} ${JSON.stringify(r.body)}\n${recent()}`);
}

async function passwordRecord() {
  const r = await call('POST', '/api/verifications/password', { password: USER.password });
  expect(r, 201, 'POST /api/verifications/password');
  return r.body.verificationRecordId;
}

function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '').toUpperCase()) {
    value = ((value << 5) | alphabet.indexOf(ch)) & 0x1fff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238: SHA-1, 6 digits, 30 s — what accountd and every authenticator app use. */
function totp(secret, now = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const h = createHmac('sha1', base32(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0x0f;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Starts @logto/browser's signIn and waits for the hosted page. */
async function toHostedPage() {
  await page.goto(`${origin}/`);
  assert.equal(await page.evaluate(() => window.ready), false, `signed out at first\n${recent()}`);
  await page.evaluate((cb) => { window.client.signIn(cb); }, `${origin}/callback`);
  await page.waitForURL((u) => u.origin === endpoint, { timeout: 15000 });
}

async function typePassword() {
  await page.fill('#identifier', USER.email);
  await page.fill('#password', USER.password);
  await page.click('button[type=submit]:has-text("Continue")');
}

/** Waits to be back on the test page, signed in; the ID token's claims. */
async function backSignedIn() {
  await page.waitForURL((u) => u.origin === origin, { timeout: 15000 });
  assert.equal(await page.evaluate(() => window.ready), true, `signed in after the callback\n${recent()}`);
  return sdk((c) => c.getIdTokenClaims());
}

async function signOut() {
  // The page is at `${origin}/` already: wait for the navigation back from the end-session endpoint.
  const back = page.waitForEvent('framenavigated', (f) => f === page.mainFrame() && f.url() === `${origin}/`);
  await page.evaluate((to) => { window.client.signOut(to); }, `${origin}/`);
  await back;
  await page.waitForLoadState('load');
  assert.equal(await page.evaluate(() => window.ready), false, `signed out\n${recent()}`);
}

before(async () => {
  server = await startAccountd();
  endpoint = `http://localhost:${new URL(server.base).port}`;
  ({ server: pages, origin } = await serveTestPage(testPage));

  const mgmt = await managementApi(server, endpoint);
  const spa = await mgmt('/clients', {
    name: 'Logto SPA', app_type: 'spa', callbacks: [`${origin}/callback`], allowed_logout_urls: [`${origin}/`],
    grant_types: ['authorization_code', 'refresh_token'],
  });
  spaId = spa.client_id;
  await mgmt('/users', { email: USER.email, username: 'ada', password: USER.password, name: 'Ada Lovelace' });
  const center = await mgmt('/api/account-center', { enabled: true, fields: ALL_EDIT }, 'PATCH');
  assert.equal(center.enabled, true);

  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15000);
  page.on('response', (response) => {
    const request = response.request();
    if (request.url().startsWith(endpoint)) exchanges.push(`${request.method()} ${request.url().slice(0, 140)} -> ${response.status()}`);
  });
  page.on('pageerror', (e) => exchanges.push(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (pages ? pages.close(resolve) : resolve()));
  await server?.stop();
});

test('@logto/browser signs in with the password', T, async () => {
  await toHostedPage();
  await typePassword();
  sub = (await backSignedIn()).sub;
  assert.ok(sub);
});

test('a passkey registered through the Verification API from the page', T, async () => {
  assert.ok(sub, 'signed in first');
  cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  }));
  let r = await call('POST', '/api/verifications/web-authn/registration');
  expect(r, 200, 'POST /api/verifications/web-authn/registration');
  const { verificationRecordId, registrationOptions } = r.body;
  assert.equal(registrationOptions.rp.id, 'localhost');
  assert.equal(registrationOptions.authenticatorSelection.residentKey, 'required');

  const credential = await page.evaluate(async (options) => {
    const cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
    return cred.toJSON();
  }, registrationOptions);
  r = await call('POST', '/api/verifications/web-authn/registration/verify', {
    verificationRecordId, payload: { ...credential, type: 'WebAuthn' },
  });
  expect(r, 200, 'POST /api/verifications/web-authn/registration/verify');

  const proof = await passwordRecord();
  r = await call('POST', MFA, { type: 'WebAuthn', newIdentifierVerificationRecordId: verificationRecordId, name: 'Chromium' },
    { 'logto-verification-id': proof });
  expect(r, 204, 'POST mfa-verifications WebAuthn');
  r = await call('GET', MFA);
  expect(r, 200, 'GET mfa-verifications');
  const item = r.body.find((i) => i.type === 'WebAuthn');
  assert.ok(item, JSON.stringify(r.body));
  assert.equal(item.name, 'Chromium');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true);
});

// As in spa.test.mjs: the virtual authenticator would answer the page's conditional (autofill)
// request at once, so it is "untouched" while the page loads and touched only for the button.
test('signed out, the user signs in with that passkey on the hosted page', T, async () => {
  assert.ok(authenticatorId, 'a passkey was registered');
  await signOut();
  const optionsUrl = `${endpoint}/u/passkey/options`;
  let clicked = false;
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
  await page.route(optionsUrl, async (route) => {
    if (!clicked) return route.continue();
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    const response = await route.fetch();
    await route.fulfill({ response });
  });
  try {
    await toHostedPage();
    const button = page.getByRole('button', { name: /sign in with a passkey/i });
    await button.waitFor({ timeout: 5000 });
    const before = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount;
    clicked = true;
    await button.click();
    const id = await backSignedIn();
    assert.equal(id.sub, sub);
    const after = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount;
    assert.ok(after > before, 'the virtual authenticator signed an assertion');
  } finally {
    await page.unroute(optionsUrl);
  }
  // Password sign-ins follow: no authenticator to answer the page's autofill request.
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
});

test('a TOTP app added through mfa-verifications is the second factor', T, async () => {
  let r = await call('POST', `${MFA}/totp-secret/generate`);
  expect(r, 200, 'POST totp-secret/generate');
  totpSecret = r.body.secret;
  const proof = await passwordRecord();
  r = await call('POST', MFA, { type: 'Totp', secret: totpSecret }, { 'logto-verification-id': proof });
  expect(r, 204, 'POST mfa-verifications Totp');

  await signOut();
  await toHostedPage();
  await typePassword();
  await page.getByRole('heading', { name: 'Enter the code' }).waitFor();
  await page.fill('#code', totp(totpSecret));
  await page.click('button[type=submit]:has-text("Verify")');
  const id = await backSignedIn();
  assert.equal(id.sub, sub);
});

test('backup codes added through mfa-verifications sign in once each', T, async () => {
  let r = await call('POST', `${MFA}/backup-codes/generate`);
  expect(r, 200, 'POST backup-codes/generate');
  backupCodes = r.body.codes;
  assert.equal(backupCodes.length, 10);
  const proof = await passwordRecord();
  r = await call('POST', MFA, { type: 'BackupCode', codes: backupCodes }, { 'logto-verification-id': proof });
  expect(r, 204, 'POST mfa-verifications BackupCode');

  await signOut();
  await toHostedPage();
  await typePassword();
  await page.getByRole('button', { name: /recovery code/i }).click();
  await page.getByRole('heading', { name: 'Enter a recovery code' }).waitFor();
  await page.fill('#code', backupCodes[0]);
  await page.click('button[type=submit]:has-text("Verify")');
  const id = await backSignedIn();
  assert.equal(id.sub, sub);

  const again = await passwordRecord();
  r = await call('GET', `${MFA}/backup-codes`, undefined, { 'logto-verification-id': again });
  expect(r, 200, 'GET backup-codes');
  assert.ok(r.body.codes[0].usedAt, JSON.stringify(r.body));
  assert.equal(r.body.codes.filter((c) => c.usedAt).length, 1);
  r = await call('GET', MFA);
  assert.equal(r.body.find((i) => i.type === 'BackupCode').remainCodes, 9);
});

test('a second browser ends the first one\'s session and its token is refused within a second', T, async () => {
  assert.ok(backupCodes, 'backup codes were added');
  const first = page;
  let r = await call('GET', '/api/my-account');
  expect(r, 200, 'GET /api/my-account from the first browser');
  const second = await (await browser.newContext()).newPage();
  second.setDefaultTimeout(15000);
  page = second;
  try {
    await toHostedPage();
    await typePassword();
    await page.getByRole('button', { name: /recovery code/i }).click();
    await page.fill('#code', backupCodes[1]);
    await page.click('button[type=submit]:has-text("Verify")');
    await backSignedIn();
    const proof = await passwordRecord();
    r = await call('GET', '/api/my-account/sessions', undefined, { 'logto-verification-id': proof });
    expect(r, 200, 'GET /api/my-account/sessions');
    const sessions = r.body.sessions;
    assert.equal(sessions.filter((s) => s.isCurrent).length, 1, JSON.stringify(sessions));
    const other = sessions.filter((s) => !s.isCurrent);
    assert.equal(other.length, 1, `the first browser's session: ${JSON.stringify(sessions)}`);
    assert.ok(other[0].payload.authorizations[spaId], JSON.stringify(other[0]));
    r = await call('DELETE', `/api/my-account/sessions/${other[0].payload.uid}`, undefined, { 'logto-verification-id': proof });
    expect(r, 204, 'DELETE the first browser\'s session');
  } finally {
    page = first;
  }
  const start = Date.now();
  for (;;) {
    r = await call('GET', '/api/my-account');
    if (r.status === 401) break;
    assert.ok(Date.now() - start < 1000, `the first browser's token still works: ${r.status}\n${recent()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(r.body.code, 'auth.unauthorized');
  page = second;
  try {
    r = await call('GET', '/api/my-account');
    expect(r, 200, 'the second browser is still signed in');
  } finally {
    page = first;
    await second.context().close();
  }
});
