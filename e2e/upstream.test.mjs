// Self-test of the upstream OpenID Connect provider (lib/upstream.mjs) that accountd's upstream-login
// tests rely on: authorization code + PKCE by following plain redirects with a cookie jar, tokens,
// userinfo, its own /api/profile resource, access token expiry, refresh, the wildcard redirect mode
// and the script mode's one stdout line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startUpstream } from './lib/upstream.mjs';

const REDIRECT = 'http://127.0.0.1:9/cb';
const CLIENT = { client_id: 'accountd', client_secret: 'accountd-secret', redirect_uris: [REDIRECT] };
const WILDCARD = { client_id: 'anywhere', client_secret: 'anywhere-secret', redirect_uris: ['*'] };

let upstream;
let discovery;

before(async () => {
  upstream = await startUpstream({ port: 0, clients: [CLIENT, WILDCARD], access_token_ttl: 1 });
  discovery = await (await fetch(`${upstream.issuer}/.well-known/openid-configuration`)).json();
});

after(async () => upstream?.close());

const b64url = (buf) => buf.toString('base64url');

/**
 * Follows redirects by hand, keeping cookies in `jar` (name -> value; one host, so paths are
 * ignored), until one points at `redirectUri`; returns that URL.
 */
async function authorize(params, redirectUri, jar = new Map()) {
  let url = `${discovery.authorization_endpoint}?${new URLSearchParams(params)}`;
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair, ...attrs] = cookie.split(';');
      const [name, ...value] = pair.split('=');
      const gone = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0\b/i.test(a));
      if (gone) jar.delete(name.trim());
      else jar.set(name.trim(), value.join('='));
    }
    assert.ok([302, 303].includes(res.status), `hop ${hop}: ${res.status} ${await res.text()}`);
    url = new URL(res.headers.get('location'), url).href;
    if (url.startsWith(redirectUri)) return new URL(url);
  }
  throw new Error('too many redirects');
}

async function tokenRequest(body, { client_id, client_secret } = CLIENT) {
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

const profile = (token) => fetch(`${upstream.issuer}/api/profile`, { headers: { authorization: `Bearer ${token}` } });

test('discovery names the endpoints the tests use', () => {
  assert.equal(discovery.issuer, upstream.issuer);
  assert.equal(discovery.authorization_endpoint, `${upstream.issuer}/auth`);
  assert.equal(discovery.token_endpoint, `${upstream.issuer}/token`);
  assert.equal(discovery.userinfo_endpoint, `${upstream.issuer}/me`);
  assert.equal(discovery.revocation_endpoint, `${upstream.issuer}/token/revocation`);
  assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  for (const scope of ['openid', 'email', 'profile', 'offline_access']) {
    assert.ok(discovery.scopes_supported.includes(scope), scope);
  }
});

test('code flow with PKCE, userinfo, /api/profile, expiry and refresh', async () => {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const callback = await authorize({
    client_id: CLIENT.client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid email profile offline_access',
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state,
    nonce: 'n-1',
    login_hint: 'bob',
  }, REDIRECT);
  assert.equal(callback.searchParams.get('state'), state);
  assert.equal(callback.searchParams.get('iss'), upstream.issuer);
  const code = callback.searchParams.get('code');
  assert.ok(code, callback.href);

  const tokens = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
  assert.ok(tokens.access_token);
  assert.ok(tokens.refresh_token, 'offline_access without prompt=consent still yields a refresh token');
  assert.equal(tokens.token_type, 'Bearer');
  assert.equal(tokens.expires_in, 1);
  const [header, payload] = tokens.id_token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));
  assert.equal(header.alg, 'RS256');
  assert.equal(payload.iss, upstream.issuer);
  assert.equal(payload.aud, CLIENT.client_id);
  assert.equal(payload.sub, 'bob');
  assert.equal(payload.nonce, 'n-1');
  assert.equal(payload.email, 'bob@upstream.test');

  const userinfo = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(userinfo.status, 200);
  assert.deepEqual(await userinfo.json(), {
    sub: 'bob',
    email: 'bob@upstream.test',
    email_verified: true,
    name: 'Upstream bob',
    preferred_username: 'bob',
  });

  let res = await profile(tokens.access_token);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { sub: 'bob', source: 'upstream' });

  await sleep(2500); // access_token_ttl is 1 s
  assert.equal((await profile(tokens.access_token)).status, 401);
  assert.equal((await profile('not-a-token')).status, 401);

  const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.ok(refreshed.access_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  res = await profile(refreshed.access_token);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { sub: 'bob', source: 'upstream' });
});

test('wildcard client: any loopback redirect URI, client_secret_post, unverified accounts, no PKCE', async () => {
  const redirect = 'http://localhost:54321/some/callback';
  const callback = await authorize({
    client_id: WILDCARD.client_id,
    redirect_uri: redirect,
    response_type: 'code',
    scope: 'openid email',
    state: 's',
    login_hint: 'unverified-carol',
  }, redirect);
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code'),
      redirect_uri: redirect,
      client_id: WILDCARD.client_id,
      client_secret: WILDCARD.client_secret,
    }),
  });
  const tokens = await res.json();
  assert.equal(res.status, 200, JSON.stringify(tokens));
  assert.equal(tokens.refresh_token, undefined, 'no offline_access, no refresh token');
  const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url'));
  assert.equal(claims.sub, 'unverified-carol');
  assert.equal(claims.email_verified, false);

  // A non-loopback redirect URI is refused (an error page, no redirect to it).
  const refused = await fetch(`${discovery.authorization_endpoint}?${new URLSearchParams({
    client_id: WILDCARD.client_id, redirect_uri: 'http://example.test/cb', response_type: 'code', scope: 'openid',
  })}`, { redirect: 'manual' });
  assert.equal(refused.status, 400);
  assert.equal((await refused.json()).error, 'invalid_redirect_uri');
});

test('script mode prints one JSON line and exits cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./lib/upstream.mjs', import.meta.url))], {
    env: { ...process.env, UPSTREAM_CONFIG: JSON.stringify({ port: 0, clients: [WILDCARD] }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  const firstLine = new Promise((resolve) => createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    resolve();
  }));
  await firstLine;
  const { issuer, port } = JSON.parse(lines[0]);
  assert.equal(issuer, `http://127.0.0.1:${port}`);
  const config = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  assert.equal(config.issuer, issuer);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.deepEqual(lines.length, 1);
});

test('one cookie jar: login_hint switches account, prompt=login keeps offline_access, revocation', async () => {
  const jar = new Map();
  const signIn = async (extra) => {
    const callback = await authorize({
      client_id: CLIENT.client_id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid offline_access', ...extra,
    }, REDIRECT, jar);
    return tokenRequest({ grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: REDIRECT });
  };
  const sub = (tokens) => JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url')).sub;

  assert.equal(sub(await signIn({})), 'alice'); // no login_hint: alice
  assert.ok(jar.has('_session'));
  assert.equal(sub(await signIn({ login_hint: 'dave' })), 'dave'); // another hint: signs in again
  assert.equal(sub(await signIn({})), 'dave'); // no hint, live upstream session: single sign-on
  assert.equal(sub(await signIn({ prompt: 'login' })), 'alice'); // a login prompt without hint: alice
  const tokens = await signIn({ prompt: 'login', login_hint: 'dave' });
  assert.equal(sub(tokens), 'dave');
  assert.ok(tokens.refresh_token, 'prompt=login without consent still keeps offline_access');

  // Revoking the refresh token revokes its grant, so the access tokens issued with it die too.
  const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal((await profile(refreshed.access_token)).status, 200);
  const res = await fetch(discovery.revocation_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token: tokens.refresh_token, token_type_hint: 'refresh_token' }),
  });
  assert.equal(res.status, 200);
  assert.equal((await profile(refreshed.access_token)).status, 401);
});
