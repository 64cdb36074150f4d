// The vendor's own browser SDK, @auth0/auth0-spa-js 2.27.0, in headless Chromium against a running
// accountd (issue 4): sign-in through the hosted page, a My Account token (refresh-token grant for
// another audience, and the hidden-iframe `prompt=none` path), the `client.myAccount` calls
// (factors, methods, TOTP enrollment, delete), and a passkey enrolled with Chromium's virtual
// authenticator (CDP `WebAuthn` domain) and then used to sign in.
//
// Chromium is Debian's /usr/bin/chromium (scripts/test installs it); playwright-core only drives it.
// WebAuthn refuses IP addresses as RP IDs, so the SDK talks to accountd as http://localhost:PORT and
// the test page is served on another localhost port (a different origin, the same site).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { launchChromium } from './lib/browser.mjs';
import { USER, managementApi, startAccountd } from './lib/accountd.mjs';

const SPA_JS = new URL('./node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js', import.meta.url);
const SCOPES = [
  'read:me:factors', 'read:me:authentication_methods', 'create:me:authentication_methods',
  'delete:me:authentication_methods',
];

let server; // accountd
let pages; // the test page's http server
let browser;
let page;
let domain; // http://localhost:PORT — what the SDK is told
let origin; // http://localhost:PORT2 — the test page
let clientId;
const exchanges = []; // what the browser exchanged with accountd, for failure messages
const T = { timeout: 20_000 }; // per browser test; the whole file runs in a few seconds

// ---- RFC 6238 TOTP (test code) ----

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.toUpperCase().replace(/[\s=-]/g, '')) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${text}`);
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(key, { time = Date.now(), period = 30, digits = 6, algorithm = 'sha1' } = {}) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 1000 / period)));
  const mac = createHmac(algorithm, key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits).padStart(digits, '0');
}

// ---- the browser side ----

function testPage() {
  const config = {
    domain,
    clientId,
    authorizationParams: { redirect_uri: `${origin}/callback` },
    useRefreshTokens: true,
    useMrrt: true,
    cacheLocation: 'memory',
    authorizeTimeoutInSeconds: 10, // hidden-iframe sign-in
  };
  return `<!doctype html><html><head><meta charset="utf-8"><title>spa-js test page</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}</style>
<script src="/auth0-spa-js.production.js"></script></head>
<body><h1>@auth0/auth0-spa-js against accountd</h1><p id="status">Loading…</p>
<script>
window.config = ${JSON.stringify(config).replace(/</g, '\\u003c')};
window.ready = (async () => {
  window.client = await auth0.createAuth0Client(window.config);
  const q = new URLSearchParams(location.search);
  if (location.pathname === '/callback' && (q.has('code') || q.has('error'))) {
    await client.handleRedirectCallback();
    history.replaceState(null, '', '/');
  }
  const user = (await client.getUser()) ?? null;
  document.getElementById('status').textContent = user ? 'Signed in as ' + user.email + ' (' + user.sub + ')' : 'Signed out';
  return user;
})();
</script></body></html>`;
}

/** Runs `fn(client, arg)` in the page; SDK errors come back with their fields and the recent exchanges. */
async function sdk(fn, arg) {
  const r = await page.evaluate(async ({ src, arg }) => {
    const f = (0, eval)(`(${src})`);
    try {
      return { value: await f(window.client, arg) };
    } catch (e) {
      const fields = ['error', 'error_description', 'status', 'type', 'title', 'detail', 'validation_errors'];
      const extra = Object.fromEntries(fields.filter((k) => e?.[k] !== undefined).map((k) => [k, e[k]]));
      return { error: { name: e?.name, message: e?.message ?? String(e), ...extra } };
    }
  }, { src: fn.toString(), arg });
  if (r.error) {
    const err = new Error(`${r.error.name}: ${r.error.message} ${JSON.stringify(r.error)}\n${await recent()}`);
    throw Object.assign(err, { sdkError: r.error });
  }
  return r.value;
}

/** The last few requests the browser sent to accountd and what came back. */
async function recent(n = 5) {
  const lines = await Promise.all(exchanges.slice(-n).map(async (x) => {
    const body = await x.body;
    return `  > ${x.method} ${x.url}${x.auth ? `\n    authorization: ${x.auth}` : ''}${x.post ? `\n    ${x.post}` : ''}` +
      `\n  < ${x.status}${x.location ? ` location: ${x.location}` : ''}${x.wwwAuth ? ` www-authenticate: ${x.wwwAuth}` : ''}` +
      `${body ? `\n    ${body}` : ''}`;
  }));
  return `recent exchanges with accountd:\n${lines.join('\n')}`;
}

function record(response) {
  const request = response.request();
  if (!request.url().startsWith(domain)) return;
  const headers = request.headers();
  const ctype = response.headers()['content-type'] ?? '';
  exchanges.push({
    method: request.method(),
    url: request.url(),
    auth: headers.authorization?.replace(/^(\S+ .{12}).*$/, '$1…'),
    post: request.postData()?.slice(0, 600),
    status: response.status(),
    location: response.headers().location,
    wwwAuth: response.headers()['www-authenticate'],
    body: ctype.includes('json') ? response.text().then((t) => t.slice(0, 400), () => '') : Promise.resolve(ctype.split(';')[0]),
  });
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

/** On the hosted sign-in page now; waits for the way back to the test page signed in. */
async function backSignedIn() {
  await page.waitForURL((u) => u.origin === origin, { timeout: 15000 });
  const user = await page.evaluate(() => window.ready);
  assert.ok(user, `signed in after the callback\n${await recent()}`);
  return user;
}

before(async () => {
  // Loud, not skipped: the browser tests are part of the suite (scripts/test installs Chromium).
  server = await startAccountd();
  domain = `http://localhost:${new URL(server.base).port}`;

  pages = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/auth0-spa-js.production.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(SPA_JS));
    } else if (path === '/' || path === '/callback') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(testPage());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => pages.listen(0, '127.0.0.1', resolve));
  origin = `http://localhost:${pages.address().port}`;

  // The app, its My Account grant and the user, on the host the SDK uses (built-in API identifiers
  // follow the host: the audience is http://localhost:PORT/me/).
  const mgmt = await managementApi(server, domain);
  const spa = await mgmt('/clients', {
    name: 'spa-js test page', app_type: 'spa', token_endpoint_auth_method: 'none',
    callbacks: [`${origin}/callback`], web_origins: [origin], allowed_origins: [origin],
    allowed_logout_urls: [`${origin}/`], cross_origin_authentication: true,
    grant_types: ['authorization_code', 'refresh_token'],
  });
  clientId = spa.client_id;
  await mgmt('/client-grants', { client_id: clientId, audience: `${domain}/me/`, subject_type: 'user', scope: SCOPES });
  await mgmt('/users', { email: USER.email, password: USER.password, name: 'Ada Lovelace' });

  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(10000);
  page.on('response', record);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (pages ? pages.close(resolve) : resolve()));
  await server?.stop();
});

test('the TOTP helper matches RFC 6238 (SHA-1 vectors)', () => {
  const key = Buffer.from('12345678901234567890');
  assert.equal(totp(key, { time: 59_000, digits: 8 }), '94287082');
  assert.equal(totp(key, { time: 1_111_111_109_000, digits: 8 }), '07081804');
  assert.equal(totp(key, { time: 20_000_000_000_000, digits: 8 }), '65353130');
  assert.deepEqual(base32('GEZDGNBVGY3TQOJQ'), Buffer.from('1234567890'));
});

test('loginWithRedirect through the hosted sign-in page, handleRedirectCallback, getUser', T, async () => {
  await page.goto(`${origin}/`);
  assert.equal(await page.evaluate(() => window.ready), null, 'signed out at first');

  await page.evaluate(() => { window.client.loginWithRedirect(); });
  await page.waitForURL((u) => u.origin === domain, { timeout: 10000 });
  await page.fill('#identifier', USER.email);
  await page.fill('#password', USER.password);
  await page.click('button[type=submit]:has-text("Continue")');
  const user = await backSignedIn();
  assert.equal(user.email, USER.email);
  assert.equal(user.name, 'Ada Lovelace');
  assert.match(await page.textContent('#status'), /Signed in as ada@example\.com/);
  if (process.env.SPA_SCREENSHOT) await page.screenshot({ path: process.env.SPA_SCREENSHOT });

  const id = await sdk((c) => c.getIdTokenClaims());
  assert.equal(id.iss, `${domain}/`);
  assert.equal(id.aud, clientId);
  assert.deepEqual(id.amr, ['pwd']);
});

test('a My Account token by refresh-token grant for another audience (useRefreshTokens + useMrrt)', T, async () => {
  const before = exchanges.length;
  const t = await sdk((c, a) => c.getTokenSilently({ authorizationParams: a, detailedResponse: true }),
    { audience: `${domain}/me/`, scope: 'read:me:factors read:me:authentication_methods' });
  const at = claims(t.access_token);
  assert.ok([at.aud].flat().includes(`${domain}/me/`), `aud ${JSON.stringify(at.aud)}`);
  assert.match(at.scope, /\bread:me:factors\b/);
  assert.match(at.scope, /\bread:me:authentication_methods\b/);
  const grant = exchanges.slice(before).find((x) => x.url === `${domain}/oauth/token`);
  assert.ok(grant, 'the SDK asked the token endpoint');
  assert.match(grant.post, /grant_type=refresh_token/);
  assert.match(grant.post, /audience=http%3A%2F%2Flocalhost%3A\d+%2Fme%2F/);
});

test('a My Account token by hidden iframe (prompt=none, response_mode=web_message)', T, async () => {
  const before = exchanges.length;
  const t = await sdk(async (_, a) => {
    // A second client without refresh tokens: getTokenSilently must use the session cookie in an iframe.
    const silent = new auth0.Auth0Client({ ...window.config, useRefreshTokens: false, useMrrt: false });
    return silent.getTokenSilently({ authorizationParams: a, detailedResponse: true });
  }, { audience: `${domain}/me/`, scope: 'read:me:factors' });
  const at = claims(t.access_token);
  assert.ok([at.aud].flat().includes(`${domain}/me/`), `aud ${JSON.stringify(at.aud)}`);
  assert.match(at.scope, /\bread:me:factors\b/);
  const authorize = exchanges.slice(before).find((x) => x.url.startsWith(`${domain}/authorize?`));
  assert.ok(authorize, 'the SDK used /authorize');
  const q = new URL(authorize.url).searchParams;
  assert.equal(q.get('prompt'), 'none');
  assert.equal(q.get('response_mode'), 'web_message');
});

test('myAccount.getFactors and getAuthenticationMethods', T, async () => {
  const factors = await sdk((c) => c.myAccount.getFactors());
  assert.ok(Array.isArray(factors), JSON.stringify(factors));
  const types = factors.map((f) => f.type);
  assert.ok(types.includes('totp'), `totp is a factor: ${JSON.stringify(factors)}`);
  assert.ok(types.includes('passkey'), `passkey is a factor: ${JSON.stringify(factors)}`);

  const methods = await sdk((c) => c.myAccount.getAuthenticationMethods());
  assert.ok(Array.isArray(methods), JSON.stringify(methods));
  const password = methods.find((m) => m.type === 'password');
  assert.ok(password, `the password is a method: ${JSON.stringify(methods)}`);
  assert.deepEqual(password.usage, ['primary']);
  assert.ok(!methods.some((m) => m.type === 'totp'), 'no TOTP yet');
});

test('TOTP: enrollmentChallenge, enrollmentVerify, listed, deleteAuthenticationMethod', T, async () => {
  const challenge = await sdk((c) => c.myAccount.enrollmentChallenge({ type: 'totp' }));
  assert.ok(challenge.auth_session, JSON.stringify(challenge));
  assert.ok(challenge.manual_input_code, JSON.stringify(challenge));
  assert.match(challenge.barcode_uri, /^otpauth:\/\/totp\//);
  assert.ok(challenge.location.startsWith(`${domain}/me/v1/authentication-methods/`), challenge.location);
  assert.ok(challenge.id.startsWith('totp|'), challenge.id);

  const uri = new URL(challenge.barcode_uri).searchParams;
  assert.equal(uri.get('secret'), challenge.manual_input_code.replace(/\s/g, ''));
  const params = {
    period: Number(uri.get('period') ?? 30),
    digits: Number(uri.get('digits') ?? 6),
    algorithm: (uri.get('algorithm') ?? 'SHA1').toLowerCase(),
  };
  // Not in the last two seconds of a period, so the code is still current when it arrives.
  const left = params.period * 1000 - (Date.now() % (params.period * 1000));
  if (left < 2000) await new Promise((r) => setTimeout(r, left + 100));
  const otp_code = totp(base32(challenge.manual_input_code), params);

  const method = await sdk((c, a) => c.myAccount.enrollmentVerify(a), {
    type: 'totp', location: challenge.location, auth_session: challenge.auth_session, otp_code,
  });
  assert.equal(method.type, 'totp');
  assert.equal(method.confirmed, true);
  assert.ok(method.id, JSON.stringify(method));

  let methods = await sdk((c) => c.myAccount.getAuthenticationMethods());
  const listed = methods.find((m) => m.id === method.id);
  assert.ok(listed, `listed: ${JSON.stringify(methods)}`);
  assert.equal(listed.type, 'totp');
  assert.equal(listed.confirmed, true);
  assert.deepEqual(listed.usage, ['secondary']);

  await sdk((c, id) => c.myAccount.deleteAuthenticationMethod(id), method.id);
  methods = await sdk((c) => c.myAccount.getAuthenticationMethods());
  assert.ok(!methods.some((m) => m.id === method.id), `deleted: ${JSON.stringify(methods)}`);
});

let cdp;
let authenticatorId;
let passkeyId;

test('passkey: enrolled through the page with a virtual authenticator', T, async () => {
  cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  }));

  const challenge = await sdk((c) => c.myAccount.enrollmentChallenge({ type: 'passkey' }));
  assert.ok(challenge.auth_session, JSON.stringify(challenge));
  assert.ok(challenge.authn_params_public_key?.challenge, JSON.stringify(challenge));
  assert.equal(challenge.authn_params_public_key.rp.id ?? 'localhost', 'localhost');
  assert.ok(challenge.location.startsWith(`${domain}/me/v1/authentication-methods/`), challenge.location);

  const credential = await page.evaluate(async (options) => {
    const cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
    return cred.toJSON();
  }, challenge.authn_params_public_key);
  passkeyId = credential.id;

  const method = await sdk((c, a) => c.myAccount.enrollmentVerify(a), {
    type: 'passkey', location: challenge.location, auth_session: challenge.auth_session, authn_response: credential,
  });
  assert.equal(method.type, 'passkey');
  assert.equal(method.key_id, passkeyId);

  const methods = await sdk((c) => c.myAccount.getAuthenticationMethods('passkey'));
  const listed = methods.find((m) => m.type === 'passkey' && m.key_id === passkeyId);
  assert.ok(listed, `listed: ${JSON.stringify(methods)}`);
  assert.deepEqual(listed.usage, ['primary']);
  if (listed.relying_party_id) assert.equal(listed.relying_party_id, 'localhost');

  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].rpId, 'localhost');
  assert.equal(credentials[0].isResidentCredential, true);
});

test('logout through /v2/logout ends the session', T, async () => {
  const back = page.waitForEvent('framenavigated', (f) => f === page.mainFrame() && f.url() === `${origin}/`);
  await page.evaluate((returnTo) => { window.client.logout({ logoutParams: { returnTo } }); }, `${origin}/`);
  await back;
  await page.waitForLoadState('load');
  assert.equal(await page.evaluate(() => window.ready), null, 'signed out');
  const logout = exchanges.findLast((x) => x.url.startsWith(`${domain}/v2/logout?`));
  assert.ok(logout, 'the SDK went to /v2/logout');
  assert.equal(logout.status, 302);
  assert.equal(logout.location, `${origin}/`);
  // The accountd session is over: a silent sign-in answers login_required.
  await assert.rejects(
    sdk(() => new auth0.Auth0Client({ ...window.config, useRefreshTokens: false }).getTokenSilently()),
    (e) => e.sdkError?.error === 'login_required',
  );
});

// Under automation (CDP, no browser UI) Chromium sends even a conditional (autofill) request straight
// to the virtual authenticator, which with automatic presence answers it at once: the hosted page's
// conditional request, started at load, would sign in before anyone clicks. So the authenticator is
// "untouched" while the page loads, as for a user who ignores the autofill offer, and is touched
// only for the button's request: the page asks for that request's options after aborting the
// conditional request, and the route lets the options through once presence is back on.
test('passkey: sign in with the passkey on the hosted page', T, async () => {
  assert.ok(passkeyId, 'a passkey was enrolled');
  const optionsUrl = `${domain}/u/passkey/options`;
  let clicked = false;
  let buttonToken; // the ceremony token of the button's request
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
  await page.route(optionsUrl, async (route) => {
    if (!clicked) return route.continue();
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    const response = await route.fetch();
    buttonToken = (await response.json()).token;
    await route.fulfill({ response });
  });
  try {
    const conditional = page.waitForResponse(optionsUrl);
    await page.evaluate(() => { window.client.loginWithRedirect(); });
    await page.waitForURL((u) => u.origin === domain, { timeout: 10000 });
    const button = page.getByRole('button', { name: /sign in with a passkey/i });
    await button.waitFor({ timeout: 3000 });
    if (await page.evaluate(() => PublicKeyCredential.isConditionalMediationAvailable?.() ?? false)) {
      assert.equal((await conditional).status(), 200, 'the page offers the passkey in autofill');
    }
    const before = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount;

    clicked = true;
    const login = page.waitForRequest(`${domain}/u/passkey/login`);
    await button.click(); // no password typed: the virtual authenticator answers navigator.credentials.get
    const user = await backSignedIn();
    assert.equal(user.email, USER.email);
    assert.equal(new URLSearchParams((await login).postData()).get('token'), buttonToken,
      "the assertion answers the button's request");
    const after = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount;
    assert.ok(after > before, 'the virtual authenticator signed an assertion');
    const id = await sdk((c) => c.getIdTokenClaims());
    assert.ok(!id.amr?.includes('pwd'), `not a password sign-in: amr ${JSON.stringify(id.amr)}`);
  } finally {
    await page.unroute(optionsUrl);
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
  }
});
