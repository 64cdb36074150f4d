// Upstream identities end to end with each vendor's own client library: one accountd and one real
// upstream OpenID provider (lib/upstream.mjs, oidc-provider, in this process) registered as
// connection `upstream`, with connected accounts (tokens kept) on and a "Continue with" button.
//  (a) @logto/browser in headless Chromium links the upstream identity through Logto's
//      Verification API and reads the upstream access token accountd keeps for it;
//  (b) @auth0/auth0-spa-js 2.27.0 connects the upstream account (connectAccountWithRedirect →
//      accountd's connect page → the upstream → handleRedirectCallback), lists it and deletes it;
//  (c) the `auth0` Node SDK's tokenForConnection takes a refresh token to the Token Vault;
//  (d) a new user signs in with "Continue with upstream" on the hosted page.
// An upstream account links to one accountd user only, so each test signs in at the upstream as its
// own account (bob, carol, dave; (d) gets the default, alice). Each token accountd hands out is
// checked at the upstream's own API (/api/profile), which answers only for its live access tokens.
//
// Each accountd user has its own browser context: the accountd session cookie and the upstream's
// would otherwise sign the next test in as the previous user (single sign-on on both sides).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { AuthenticationClient } from 'auth0';
import { CALLBACK, USER, managementApi, signIn, startAccountd } from './lib/accountd.mjs';
import { Exchanges, inPage, launchChromium } from './lib/browser.mjs';
import { logtoTestPage, serveTestPage } from './lib/logto_page.mjs';
import { startUpstream } from './lib/upstream.mjs';

const UPSTREAM_CLIENT = { client_id: 'accountd', client_secret: 'upstream-secret-for-e2e', redirect_uris: ['*'] };
// What the Auth0 SPA may do with connected accounts (its client grant for the My Account API).
const CA_SCOPES = ['create:me:connected_accounts', 'read:me:connected_accounts', 'delete:me:connected_accounts'];
// The Logto app's user (ada is the Auth0 SPA's): one upstream identity per connection and user.
const GRACE = { email: 'grace@example.com', password: 'another horse battery' };
const FEDERATED_TOKEN = 'http://auth0.com/oauth/token-type/federated-connection-access-token';
const T = { timeout: 30_000 };

let server; // accountd
let upstream;
let mgmt;
let domain; // http://localhost:PORT — accountd as the browser SDKs see it
let spaPages; // the spa-js test page's server, and its origin
let spaOrigin;
let logtoPages;
let logtoOrigin;
let spaId;
let logtoId;
let passwordUsers; // user ids of ada and grace
let browser;
let exchanges;
let adaPage; // (b)'s signed-in spa-js page, which (c) connects with again

function spaPage() {
  const config = {
    domain,
    clientId: spaId,
    authorizationParams: { redirect_uri: `${spaOrigin}/callback` },
    useRefreshTokens: true,
    useMrrt: true, // one refresh token for the My Account audience too
    // Not memory: connecting leaves the page, and completing on the way back needs a My Account
    // token, which the SDK gets with the refresh token it kept.
    cacheLocation: 'localstorage',
  };
  return `<!doctype html><html><head><meta charset="utf-8"><title>spa-js connected accounts</title>
<script src="/node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js"></script></head>
<body><h1>@auth0/auth0-spa-js: connected accounts</h1>
<script>
window.ready = (async () => {
  window.client = await auth0.createAuth0Client(${JSON.stringify(config).replace(/</g, '\\u003c')});
  const q = new URLSearchParams(location.search);
  let redirect = null; // handleRedirectCallback's answer: a sign-in, or a connected account
  if (location.pathname === '/callback' && (q.has('code') || q.has('connect_code') || q.has('error'))) {
    redirect = await client.handleRedirectCallback();
    history.replaceState(null, '', '/');
  }
  return { user: (await client.getUser()) ?? null, redirect };
})();
</script></body></html>`;
}

const recent = () => exchanges.recent();

/** A new browser (context): no accountd session, no upstream session. */
async function newPage() {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15000);
  return exchanges.watch(page);
}

/** On the way to the hosted sign-in page: signs `user` in with the password, back to `appOrigin`. */
async function passwordSignIn(page, user, appOrigin) {
  await page.waitForURL((u) => u.origin === domain);
  await page.fill('#identifier', user.email);
  await page.fill('#password', user.password);
  await page.click('button[type=submit]:has-text("Continue")');
  await page.waitForURL((u) => u.origin === appOrigin);
}

/** The upstream's own API with one of its access tokens: `{status, sub}`. */
async function upstreamProfile(token) {
  const res = await fetch(`${upstream.issuer}/api/profile`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, sub: (await res.json()).sub };
}

function expect(r, status, what) {
  assert.equal(r.status, status, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
}

/**
 * Connects upstream account `who` from a signed-in spa-js page: the SDK asks accountd to connect
 * and sends the browser to the connect page, which goes on to the upstream (not interactive) and
 * back to the app's callback, where handleRedirectCallback completes. Its answer, and the requests
 * the page made on the way.
 */
async function connectWithSpa(page, who) {
  const requests = [];
  const onRequest = (r) => requests.push(r);
  page.on('request', onRequest);
  try {
    const back = page.waitForURL((u) => u.origin === spaOrigin && u.searchParams.has('connect_code'));
    await page.evaluate((hint) => {
      window.client.connectAccountWithRedirect({
        connection: 'upstream', scopes: ['email', 'profile'], authorization_params: { login_hint: hint },
      });
    }, who);
    // The SDK's connect call failing shows as an uncaught error in the page: fail at once then.
    const failed = page.waitForEvent('pageerror').then((e) => {
      throw new Error(`page error: ${e.message}`);
    });
    await Promise.race([back, failed]).catch(async (e) => { throw new Error(`${e.message}\n${await recent()}`); });
    const { redirect } = await inPage(page, () => window.ready, undefined, recent);
    return { account: redirect, requests };
  } finally {
    page.off('request', onRequest);
  }
}

before(async () => {
  [server, upstream] = await Promise.all([startAccountd(), startUpstream({ port: 0, clients: [UPSTREAM_CLIENT] })]);
  domain = `http://localhost:${new URL(server.base).port}`;
  exchanges = new Exchanges(domain);
  ({ server: spaPages, origin: spaOrigin } = await serveTestPage(spaPage));
  ({ server: logtoPages, origin: logtoOrigin } = await serveTestPage(() => logtoTestPage(
    { endpoint: domain, appId: logtoId, scopes: ['email', 'identities'] }, '@logto/browser social identities')));

  // Everything on the host the browser uses (built-in API identifiers follow it: the My Account
  // audience is http://localhost:PORT/me/).
  mgmt = await managementApi(server, domain);
  const { client_id, client_secret } = UPSTREAM_CLIENT;
  await mgmt('/connections', {
    name: 'upstream', strategy: 'oidc',
    options: { client_id, client_secret, issuer: upstream.issuer, scope: 'openid email profile' },
    connected_accounts: { active: true }, show_as_button: true,
  });
  const spa = await mgmt('/clients', {
    name: 'spa-js connected accounts', app_type: 'spa', token_endpoint_auth_method: 'none',
    callbacks: [`${spaOrigin}/callback`], web_origins: [spaOrigin], allowed_origins: [spaOrigin],
    allowed_logout_urls: [`${spaOrigin}/`], grant_types: ['authorization_code', 'refresh_token'],
  });
  spaId = spa.client_id;
  await mgmt('/client-grants', { client_id: spaId, audience: `${domain}/me/`, subject_type: 'user', scope: CA_SCOPES });
  const logto = await mgmt('/clients', {
    name: 'Logto SPA', app_type: 'spa', callbacks: [`${logtoOrigin}/callback`],
    grant_types: ['authorization_code', 'refresh_token'],
  });
  logtoId = logto.client_id;
  const ada = await mgmt('/users', { email: USER.email, password: USER.password, name: 'Ada Lovelace' });
  const grace = await mgmt('/users', { ...GRACE, name: 'Grace Hopper' });
  passwordUsers = [ada.user_id, grace.user_id];
  // Logto's Account API shows and edits identities only where the account center allows it.
  await mgmt('/api/account-center', { enabled: true, fields: { social: 'Edit' } }, 'PATCH');

  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all([spaPages, logtoPages].map((s) => new Promise((resolve) => (s ? s.close(resolve) : resolve()))));
  await upstream?.close();
  await server?.stop();
});

test('@logto/browser: link the upstream identity through the Verification API, read the token kept for it', T, async () => {
  const page = await newPage();
  await page.goto(`${logtoOrigin}/`);
  await page.evaluate((cb) => { window.client.signIn(cb); }, `${logtoOrigin}/callback`);
  await passwordSignIn(page, GRACE, logtoOrigin);
  assert.equal(await inPage(page, () => window.ready, undefined, recent), true, 'signed in');

  // The Account API from the page's origin with the SDK's (resource-less, opaque) access token.
  const call = (method, path, body, headers = {}) => inPage(page, async (c, a) => {
    const res = await fetch(`${a.endpoint}${a.path}`, {
      method: a.method,
      headers: { authorization: `Bearer ${await c.getAccessToken()}`, 'content-type': 'application/json', ...a.headers },
      body: a.body ? JSON.stringify(a.body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }, { endpoint: domain, method, path, body, headers }, recent);

  // The app starts the social verification and sends the browser to the upstream itself; the
  // upstream comes straight back to the app's redirectUri with code and state.
  let r = await call('POST', '/api/verifications/social',
    { connectorId: 'upstream', state: 'st-a', redirectUri: `${logtoOrigin}/` });
  expect(r, 201, 'POST /api/verifications/social');
  const { verificationRecordId: social, authorizationUri } = r.body;
  const authorize = new URL(authorizationUri);
  assert.equal(`${authorize.origin}${authorize.pathname}`, `${upstream.issuer}/auth`);
  authorize.searchParams.set('login_hint', 'bob'); // which upstream account signs in
  await page.evaluate((url) => { window.location.assign(url); }, authorize.href);
  await page.waitForURL((u) => u.origin === logtoOrigin && u.searchParams.has('code'));
  const back = new URL(page.url()).searchParams;
  assert.equal(back.get('state'), 'st-a', 'the upstream echoes the app state');

  r = await call('POST', '/api/verifications/social/verify', {
    verificationRecordId: social, connectorData: { code: back.get('code'), state: back.get('state') },
  });
  expect(r, 200, 'POST /api/verifications/social/verify');
  r = await call('POST', '/api/verifications/password', { password: GRACE.password });
  expect(r, 201, 'POST /api/verifications/password');
  const proof = r.body.verificationRecordId;
  r = await call('POST', '/api/my-account/identities', { newIdentifierVerificationRecordId: social },
    { 'logto-verification-id': proof });
  expect(r, 204, 'POST /api/my-account/identities');

  r = await call('GET', '/api/my-account');
  expect(r, 200, 'GET /api/my-account');
  assert.equal(r.body.identities?.upstream?.userId, 'bob', JSON.stringify(r.body));
  assert.equal(r.body.identities.upstream.details?.email, 'bob@upstream.test', JSON.stringify(r.body));

  r = await call('GET', '/api/my-account/identities/upstream/access-token');
  expect(r, 200, 'GET /api/my-account/identities/upstream/access-token');
  assert.equal(r.body.token_type, 'Bearer');
  assert.ok(r.body.expires_in > 0, JSON.stringify(r.body));
  assert.deepEqual(await upstreamProfile(r.body.access_token), { status: 200, sub: 'bob' },
    'the kept token is a live upstream access token of bob');
});

test('@auth0/auth0-spa-js: connectAccountWithRedirect, handleRedirectCallback completes, list and delete', T, async () => {
  adaPage = await newPage();
  await adaPage.goto(`${spaOrigin}/`);
  await adaPage.evaluate(() => { window.client.loginWithRedirect(); });
  await passwordSignIn(adaPage, USER, spaOrigin);
  const { user } = await inPage(adaPage, () => window.ready, undefined, recent);
  assert.equal(user?.email, USER.email, 'signed in');

  const { account, requests } = await connectWithSpa(adaPage, 'carol');
  const posted = (path) => requests.find((q) => q.method() === 'POST' && q.url() === `${domain}${path}`);
  const connect = posted('/me/v1/connected-accounts/connect');
  assert.ok(connect, 'the SDK asked accountd to connect');
  const asked = connect.postDataJSON();
  assert.equal(asked.code_challenge_method, 'S256');
  assert.ok(asked.code_challenge, JSON.stringify(asked));
  assert.equal(asked.redirect_uri, `${spaOrigin}/callback`);
  assert.ok(requests.some((q) => q.url().startsWith(`${domain}/connected-accounts/connect?ticket=`)),
    "the browser went through accountd's connect page");
  assert.ok(posted('/me/v1/connected-accounts/complete'), 'handleRedirectCallback completed');

  assert.match(account.id, /^cac_[A-Za-z0-9]+$/, JSON.stringify(account));
  assert.equal(account.connection, 'upstream');
  assert.equal(account.access_type, 'offline');
  assert.equal(account.response_type, 'connect_code');
  for (const scope of ['email', 'profile', 'offline_access']) {
    assert.ok(account.scopes?.includes(scope), `granted ${scope}: ${JSON.stringify(account)}`);
  }
  assert.ok(Date.parse(account.created_at), JSON.stringify(account));

  // spa-js 2.27.0 has no list or delete of connected accounts: its own authenticated fetcher
  // (createFetcher) calls them, getting My Account tokens with the refresh token as myAccount does.
  const myAccount = (method, path, scope) => inPage(adaPage, async (c, a) => {
    const fetcher = c.createFetcher({ baseUrl: `${a.domain}/me/v1/` });
    const auth = { audience: `${a.domain}/me/`, scope: [a.scope] };
    const res = await fetcher.fetchWithAuth(a.path, { method: a.method }, auth);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }, { domain, method, path, scope }, recent);

  let r = await myAccount('GET', 'connected-accounts/accounts', 'read:me:connected_accounts');
  expect(r, 200, 'GET /me/v1/connected-accounts/accounts');
  const listed = r.body.accounts.find((a) => a.id === account.id);
  assert.ok(listed, `listed: ${JSON.stringify(r.body)}`);
  assert.equal(listed.connection, 'upstream');
  assert.equal(listed.access_type, 'offline');

  r = await myAccount('DELETE', `connected-accounts/accounts/${account.id}`, 'delete:me:connected_accounts');
  expect(r, 204, `DELETE /me/v1/connected-accounts/accounts/${account.id}`);
  r = await myAccount('GET', 'connected-accounts/accounts', 'read:me:connected_accounts');
  expect(r, 200, 'GET /me/v1/connected-accounts/accounts after DELETE');
  assert.deepEqual(r.body.accounts, [], 'deleted');
});

test('auth0 (Node): oauth.tokenForConnection gets the connected upstream token from the Token Vault', T, async () => {
  assert.ok(adaPage, 'the spa-js test signed ada in');
  // (b) deleted its account: ada connects the upstream again, as dave.
  const { account } = await connectWithSpa(adaPage, 'dave');
  assert.equal(account.connection, 'upstream', JSON.stringify(account));

  // The agent: a confidential web app of the tenant, holding a refresh token of ada's. It is a
  // backend, so it talks to accountd as http://127.0.0.1:PORT, with the hosted form driven by fetch.
  const agent = await mgmt('/clients', {
    name: 'Agent', app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'],
  });
  const verifier = randomBytes(32).toString('base64url');
  const { callback } = await signIn(server, `${server.base}/authorize?${new URLSearchParams({
    response_type: 'code', client_id: agent.client_id, redirect_uri: CALLBACK, scope: 'openid offline_access',
    state: 's', code_challenge_method: 'S256', code_challenge: createHash('sha256').update(verifier).digest('base64url'),
  })}`, USER);
  // Not the SDK's authorizationCodeGrantWithPKCE: it checks the ID token's issuer against
  // https://{domain}/, and accountd here is plain http. The code exchange is not what is tested.
  const res = await fetch(`${server.base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: agent.client_id, client_secret: agent.client_secret,
      code: callback.searchParams.get('code'), redirect_uri: CALLBACK, code_verifier: verifier,
    }),
  });
  const tokens = await res.json();
  assert.equal(res.status, 200, JSON.stringify(tokens));
  assert.ok(tokens.refresh_token, JSON.stringify(tokens));

  // The SDK always calls https://{domain} (BaseAuthAPI hard-codes the scheme and takes no base
  // URL); its documented `fetch` option is the way in: this one sends those requests to accountd's
  // plain-HTTP port and changes nothing else.
  const host = new URL(server.base).host;
  const overHttp = (url, init) => fetch(String(url).replace(`https://${host}/`, `${server.base}/`), init);
  const auth0 = new AuthenticationClient({
    domain: host, clientId: agent.client_id, clientSecret: agent.client_secret, fetch: overHttp,
  });
  let vault;
  try {
    vault = await auth0.oauth.tokenForConnection({ subject_token: tokens.refresh_token, connection: 'upstream' });
  } catch (e) {
    throw new Error(`tokenForConnection: ${e.statusCode ?? ''} ${e.body ?? e.message}`);
  }
  assert.equal(vault.status, 200);
  assert.equal(vault.data.issued_token_type, FEDERATED_TOKEN);
  assert.equal(vault.data.token_type, 'Bearer');
  assert.ok(vault.data.expires_in > 0 && vault.data.expires_at > Date.now() / 1000, JSON.stringify(vault.data));
  assert.deepEqual(await upstreamProfile(vault.data.access_token), { status: 200, sub: 'dave' },
    "the vault's token is a live upstream access token of dave");
});

test('hosted page: a new user signs in with "Continue with upstream" (spa-js loginWithRedirect)', T, async () => {
  const page = await newPage();
  await page.goto(`${spaOrigin}/`);
  await page.evaluate(() => { window.client.loginWithRedirect(); });
  await page.waitForURL((u) => u.origin === domain);
  // accountd does not pass a login_hint on to the upstream here: a new browser gets alice.
  await page.getByRole('link', { name: 'Continue with upstream' }).click();
  await page.waitForURL((u) => u.origin === spaOrigin);
  const { user } = await inPage(page, () => window.ready, undefined, recent);
  assert.ok(user, `signed in\n${await recent()}`);
  assert.equal(user.email, 'alice@upstream.test', JSON.stringify(user));
  assert.equal(user.email_verified, true, JSON.stringify(user));
  assert.ok(!passwordUsers.includes(user.sub), `a new user, not a password user: ${user.sub}`);

  const info = await inPage(page, async (c, endpoint) => {
    const token = await c.getTokenSilently();
    return (await fetch(`${endpoint}/userinfo`, { headers: { authorization: `Bearer ${token}` } })).json();
  }, domain, recent);
  assert.equal(info.sub, user.sub);
  assert.equal(info.email, 'alice@upstream.test', JSON.stringify(info));
  const found = await mgmt(`/users-by-email?email=${encodeURIComponent('alice@upstream.test')}`, undefined, 'GET');
  assert.deepEqual(found.map((u) => u.user_id), [user.sub], 'one user with the upstream email: the new one');
});
