// Logto's own SDKs against a running accountd (issue 12): @logto/browser in headless Chromium (an
// SPA registered the Logto way: a redirect URI, no Auth0 switches) and @logto/node for a
// confidential web app, both configured with `endpoint` = the accountd URL and an app id. Each signs
// a user in through the hosted page and gets, from getAccessToken() with no resource, an opaque
// token that /userinfo and the Logto Account API accept. Then each walks Logto's account guide with
// that token: read the account, change the name, prove the password, send a code to a new address —
// through the tenant's SMTP connector to a real aiosmtpd process this file starts — verify it, and
// make that address the primary email. The browser does it with fetch from the page's own origin,
// so the Account API's CORS is part of what is tested.
//
// Chromium is Debian's /usr/bin/chromium (scripts/test installs it); playwright-core only drives it.
// @logto/browser ships ES modules with bare imports: the test page maps them to node_modules files
// with an import map, so no bundler is needed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import LogtoNodeClient from '@logto/node';
import { logtoTestPage, serveTestPage } from './lib/logto_page.mjs';
import { USER, managementApi, signIn, startAccountd } from './lib/accountd.mjs';
import { sixDigits, startSmtp } from './lib/smtp.mjs';

// Logto's SDKs add `openid offline_access profile`; these are the Account API's own.
const SCOPES = ['email', 'phone', 'address', 'custom_data', 'identities', 'urn:logto:scope:sessions'];

let server; // accountd
let smtp; // the SMTP server the tenant's email connector sends to
let pages; // the test page's http server
let browser;
let page;
let endpoint; // http://localhost:PORT — what the SDKs are told
let origin; // http://localhost:PORT2 — the test page
let spaId;
let browserSub; // the browser's signed-in user, for the Account API test
let nodeClient; // @logto/node's signed-in client and its user
let nodeSub;
// The web app's user: the SPA's user changes its email, so each SDK signs in its own user.
const GRACE = { email: 'grace@example.com', password: 'another horse battery', username: 'grace' };
// Every account-center field editable (spec logto-account-api.md §2).
const ALL_EDIT = Object.fromEntries(
  ['name', 'avatar', 'profile', 'email', 'phone', 'password', 'username', 'social', 'customData', 'mfa']
    .map((f) => [f, 'Edit']),
);
const exchanges = []; // what the browser exchanged with accountd, for failure messages
const T = { timeout: 30_000 };

function testPage() {
  return logtoTestPage({ endpoint, appId: spaId, scopes: SCOPES }, '@logto/browser test page');
}

/** Runs `fn(client, arg)` in the page; SDK errors come back with the recent exchanges. */
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

function recent(n = 6) {
  return `recent exchanges with accountd:\n${exchanges.slice(-n).map((x) => `  ${x}`).join('\n')}`;
}

function record(response) {
  const request = response.request();
  if (!request.url().startsWith(endpoint)) return;
  exchanges.push(`${request.method()} ${request.url().slice(0, 160)} -> ${response.status()}` +
    ` acao=${response.headers()['access-control-allow-origin'] ?? '-'}`);
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

function assertOpaque(token) {
  assert.equal(typeof token, 'string');
  assert.doesNotMatch(token, /\./, `a JWT, not an opaque token: ${token.slice(0, 20)}…`);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
}

async function userinfo(token) {
  const res = await fetch(`${endpoint}/userinfo`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

/** The Logto Account API accepts the token: `GET /api/my-account` is 200 with `id` = sub. */
async function myAccount(token, sub) {
  const res = await fetch(`${endpoint}/api/my-account`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).id, sub);
}

/**
 * Logto's account guide, step by step, through `call(method, path, body?, headers?)` →
 * `{status, body}` (which carries the SDK's access token): read, rename, prove the password, bind
 * a new email with a code that arrives over SMTP, read the new primary email back.
 */
async function accountGuide(call, { sub, password, name, newEmail }) {
  const expect = (r, status, what) => assert.equal(r.status, status, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  let r = await call('GET', '/api/my-account');
  expect(r, 200, 'GET /api/my-account');
  assert.equal(r.body.id, sub);
  assert.notEqual(r.body.name, name);

  r = await call('PATCH', '/api/my-account', { name });
  expect(r, 200, 'PATCH /api/my-account');
  assert.equal(r.body.name, name);
  r = await call('GET', '/api/my-account');
  expect(r, 200, 'GET /api/my-account after PATCH');
  assert.equal(r.body.name, name);

  r = await call('POST', '/api/verifications/password', { password });
  expect(r, 201, 'POST /api/verifications/password');
  const passwordRecord = r.body.verificationRecordId;
  assert.equal(typeof passwordRecord, 'string');
  assert.ok(Date.parse(r.body.expiresAt) > Date.now(), `expiresAt in the future: ${r.body.expiresAt}`);

  const identifier = { type: 'email', value: newEmail };
  const mail = smtp.nextMail(newEmail);
  r = await call('POST', '/api/verifications/verification-code', { identifier });
  expect(r, 201, 'POST /api/verifications/verification-code');
  const codeRecord = r.body.verificationRecordId;
  assert.equal(typeof codeRecord, 'string');
  const received = await mail;
  assert.deepEqual(received.to, [newEmail]);
  const code = sixDigits(received.data);

  r = await call('POST', '/api/verifications/verification-code/verify', { identifier, verificationId: codeRecord, code });
  expect(r, 200, 'POST /api/verifications/verification-code/verify');
  assert.equal(r.body.verificationRecordId, codeRecord);

  // Without proof of identity the change is refused and nothing changes (spec §1.5, §5.3).
  const change = { email: newEmail, newIdentifierVerificationRecordId: codeRecord };
  r = await call('POST', '/api/my-account/primary-email', change);
  expect(r, 401, 'POST /api/my-account/primary-email without logto-verification-id');
  assert.equal(r.body.code, 'verification_record.permission_denied');
  r = await call('GET', '/api/my-account');
  assert.notEqual(r.body.primaryEmail, newEmail);

  r = await call('POST', '/api/my-account/primary-email', change, { 'logto-verification-id': passwordRecord });
  expect(r, 204, 'POST /api/my-account/primary-email');

  r = await call('GET', '/api/my-account');
  expect(r, 200, 'GET /api/my-account after the email change');
  assert.equal(r.body.primaryEmail, newEmail);
  assert.equal(r.body.name, name);
}

/** A JSON request to accountd with a Bearer token, from Node. */
async function nodeCall(token, method, path, body, headers = {}) {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

before(async () => {
  [server, smtp] = await Promise.all([startAccountd(), startSmtp()]);
  endpoint = `http://localhost:${new URL(server.base).port}`;

  ({ server: pages, origin } = await serveTestPage(testPage));

  // Registered as a Logto SPA is: a redirect URI on its origin, and nothing Auth0-specific.
  const mgmt = await managementApi(server, endpoint);
  const spa = await mgmt('/clients', {
    name: 'Logto SPA', app_type: 'spa', callbacks: [`${origin}/callback`], allowed_logout_urls: [`${origin}/`],
    grant_types: ['authorization_code', 'refresh_token'],
  });
  spaId = spa.client_id;
  await mgmt('/users', { email: USER.email, username: 'ada', password: USER.password, name: 'Ada Lovelace' });
  await mgmt('/users', { ...GRACE, name: 'Grace Hopper' });
  // The account center on, every field editable; codes go out through SMTP (no TLS on localhost).
  const center = await mgmt('/api/account-center', { enabled: true, fields: ALL_EDIT }, 'PATCH');
  assert.equal(center.enabled, true);
  await mgmt('/emails/provider', {
    name: 'smtp', enabled: true, default_from_address: 'no-reply@example.com',
    credentials: { smtp_host: '127.0.0.1', smtp_port: smtp.port, smtp_tls: 'none' },
  });

  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15000);
  page.on('response', record);
  page.on('pageerror', (e) => exchanges.push(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (pages ? pages.close(resolve) : resolve()));
  await server?.stop();
  await smtp?.stop();
});

test('@logto/browser: signIn through the hosted page, an opaque access token, userinfo, ID token', T, async () => {
  await page.goto(`${origin}/`);
  assert.equal(await page.evaluate(() => window.ready), false, `signed out at first\n${recent()}`);

  await page.evaluate((cb) => { window.client.signIn(cb); }, `${origin}/callback`);
  await page.waitForURL((u) => u.origin === endpoint, { timeout: 15000 });
  const authorize = new URL(page.url()).pathname === '/authorize' ? new URL(page.url()) : null;
  await page.fill('#identifier', USER.email);
  await page.fill('#password', USER.password);
  await page.click('button[type=submit]:has-text("Continue")');
  await page.waitForURL((u) => u.origin === origin, { timeout: 15000 });
  assert.equal(await page.evaluate(() => window.ready), true, `signed in after the callback\n${recent()}`);
  if (authorize) assert.equal(authorize.searchParams.get('prompt'), 'consent');

  const token = await sdk((c) => c.getAccessToken());
  assertOpaque(token);
  const id = await sdk((c) => c.getIdTokenClaims());
  assert.equal(id.iss, `${endpoint}/`);
  assert.equal(id.aud, spaId);
  assert.equal(id.username, 'ada');
  assert.equal(typeof id.updated_at, 'number');

  const info = await sdk((c) => c.fetchUserInfo());
  assert.equal(info.sub, id.sub);
  assert.equal(info.username, 'ada');
  assert.equal(info.email, USER.email);
  assert.equal(typeof info.updated_at, 'number');
  assert.equal((await userinfo(token)).sub, id.sub);
  await myAccount(token, id.sub);
  browserSub = id.sub;
});

test('@logto/browser: the Account API from the page — rename, verify the password, change the email over SMTP', T, async () => {
  assert.ok(browserSub, 'the sign-in test ran first');
  // fetch from the page's origin with the SDK's token: a cross-origin call, so CORS must allow it.
  const call = (method, path, body, headers) => sdk(async (c, a) => {
    const token = await c.getAccessToken();
    const res = await fetch(`${a.endpoint}${a.path}`, {
      method: a.method,
      headers: { authorization: `Bearer ${token}`, ...(a.body ? { 'content-type': 'application/json' } : {}), ...a.headers },
      body: a.body ? JSON.stringify(a.body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }, { endpoint, method, path, body, headers: headers ?? {} });
  await accountGuide(call, { sub: browserSub, password: USER.password, name: 'Ada King', newEmail: 'ada.king@example.com' });
});

test('@logto/node: a confidential web app signs in, gets an opaque token, reads userinfo', T, async () => {
  const mgmt = await managementApi(server);
  const callback = 'http://localhost:3000/callback';
  const web = await mgmt('/clients', {
    name: 'Logto web app', app_type: 'regular_web', callbacks: [callback], allowed_logout_urls: ['http://localhost:3000/'],
    grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_basic',
  });
  assert.ok(web.client_secret, 'a confidential client has a secret');
  const store = new Map();
  const storage = {
    getItem: async (k) => store.get(k) ?? null,
    setItem: async (k, v) => { store.set(k, v); },
    removeItem: async (k) => { store.delete(k); },
  };
  let navigated;
  const config = { endpoint: server.base, appId: web.client_id, appSecret: web.client_secret, scopes: SCOPES };
  const adapter = { navigate: (url) => { navigated = url; }, storage };
  const client = new LogtoNodeClient(config, adapter);
  await client.signIn(callback);
  assert.ok(navigated, 'the SDK navigated to the authorization endpoint');
  const url = new URL(navigated);
  assert.equal(`${url.origin}${url.pathname}`, `${server.base}/authorize`);
  assert.equal(url.searchParams.get('prompt'), 'consent');
  const { callback: back } = await signIn(server, url, GRACE);
  await client.handleSignInCallback(back.href);
  assert.equal(await client.isAuthenticated(), true);

  const token = await client.getAccessToken();
  assertOpaque(token);
  const id = await client.getIdTokenClaims();
  assert.equal(id.iss, `${server.base}/`);
  assert.equal(id.aud, web.client_id);
  assert.equal(id.username, GRACE.username);
  const info = await client.fetchUserInfo();
  assert.equal(info.sub, id.sub);
  assert.equal(info.email, GRACE.email);
  assert.equal((await userinfo(token)).sub, id.sub);
  // A fresh access token through the refresh token (no resource): opaque again, and new.
  const idToken = await client.getIdToken();
  assert.equal(claims(idToken).sub, id.sub);
  // The next request's client (same session storage) without the cached access token.
  assert.ok(store.delete('accessToken'), `the SDK keeps its access tokens under accessToken: ${[...store.keys()]}`);
  const again = await new LogtoNodeClient(config, adapter).getAccessToken();
  assertOpaque(again);
  assert.notEqual(again, token);
  assert.equal((await userinfo(again)).sub, id.sub);
  await myAccount(again, id.sub);
  nodeClient = new LogtoNodeClient(config, adapter);
  nodeSub = id.sub;
});

test('@logto/node: the Account API from the web app — rename, verify the password, change the email over SMTP', T, async () => {
  assert.ok(nodeClient, 'the sign-in test ran first');
  const call = async (method, path, body, headers) => nodeCall(await nodeClient.getAccessToken(), method, path, body, headers);
  await accountGuide(call, { sub: nodeSub, password: GRACE.password, name: 'Grace Brewster Hopper', newEmail: 'grace.hopper@example.com' });
});
