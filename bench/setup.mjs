// Prepares a running accountd for the benchmark and writes what the wrk scripts read:
//   bearer.txt           an access token for /userinfo (Bearer)
//   dpop_token.txt       a DPoP-bound access token for /userinfo
//   account_bearer.txt   a Logto-style opaque token (resource-less sign-in, the Account API's scopes)
//   me_bearer.txt        a My Account token (audience {base}/me/) for the signed-in user (Bearer)
//   me_dpop_token.txt    a DPoP-bound My Account token
//   dpop_key.json        the DPoP private key (JWK), for proofs.mjs to sign proofs just before a run
//   refresh_tokens.txt   one refresh token per wrk connection (each rotates on use)
//   client_id.txt        the public client the refresh tokens belong to
// The user gets five authentication methods through /me/v1 (password, a recovery code, three TOTP
// authenticators), and the tenant's My Account rate limits are raised out of the way.
// Usage: node setup.mjs BASE_URL OUT_DIR CLIENT_ID CLIENT_SECRET CONNECTIONS
import { createHash, createHmac, randomBytes, webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { proofSigner } from './proofs.mjs';

const [base, out, bootId, bootSecret, connsArg] = process.argv.slice(2);
const CONNS = Number(connsArg ?? 64);
const CALLBACK = 'http://localhost:3000/callback';
const ME = `${base}/me/`;
const METHODS_URL = `${base}/me/v1/authentication-methods`;
const b64 = (buf) => Buffer.from(buf).toString('base64url');

async function json(res) {
  const body = await res.json();
  if (!res.ok) throw new Error(`${res.url} ${res.status}: ${JSON.stringify(body)}`);
  return body;
}
const send = (method, url, body, token, extra = {}) => fetch(url.startsWith('http') ? url : `${base}${url}`, {
  method,
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
  body: JSON.stringify(body),
});
const post = (path, body, token) => send('POST', path, body, token).then(json);

const { access_token: mgmt } = await post('/oauth/token', {
  grant_type: 'client_credentials', client_id: bootId, client_secret: bootSecret, audience: `${base}/api/v2/`,
});
const spa = await post('/api/v2/clients', { name: 'bench', app_type: 'spa', callbacks: [CALLBACK] }, mgmt);
await post('/api/v2/client-grants', {
  client_id: spa.client_id, audience: ME, subject_type: 'user',
  scope: ['read:me:authentication_methods', 'create:me:authentication_methods'],
}, mgmt);
await post('/api/v2/users', { email: 'bench@example.com', password: 'bench password 123' }, mgmt);
// Auth0's default limits (25 reads/s per tenant, 20/min per user) would make this a benchmark of 429s.
const LIMIT = 10_000_000;
await json(await send('PATCH', '/api/v2/tenants/settings', { account_policy: { rate_limits: {
  tenant_reads_per_second: LIMIT, tenant_writes_per_second: LIMIT, user_reads_per_minute: LIMIT, user_writes_per_minute: LIMIT,
} } }, mgmt));

// Sign in once; later codes come from the session (single sign-on).
const verifier = b64(randomBytes(32));
const challenge = b64(createHash('sha256').update(verifier).digest());
const authorizeUrl = (scope, audience) => `${base}/authorize?` + new URLSearchParams({
  response_type: 'code', client_id: spa.client_id, redirect_uri: CALLBACK, scope,
  code_challenge: challenge, code_challenge_method: 'S256', ...(audience ? { audience } : {}),
});
const DEFAULT = authorizeUrl('openid offline_access');
// A password sign-in in a fresh browser: its session cookie and the code it ends with.
async function signIn() {
  let res = await fetch(DEFAULT, { redirect: 'manual' });
  const binding = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const flow = /name="flow" value="([^"]+)"/.exec(await res.text())[1].replaceAll('&amp;', '&');
  res = await fetch(`${base}/u/login`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie: binding, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ flow, identifier: 'bench@example.com', password: 'bench password 123' }),
  });
  const session = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { session, code: new URL(res.headers.get('location')).searchParams.get('code') };
}
const first = await signIn();
const session = first.session;
let firstCode = first.code;

async function code(url = DEFAULT) {
  if (firstCode && url === DEFAULT) { const c = firstCode; firstCode = null; return c; }
  const r = await fetch(url, { redirect: 'manual', headers: { cookie: session } });
  const c = r.headers.get('location') && new URL(r.headers.get('location')).searchParams.get('code');
  if (!c) throw new Error(`no code from ${url}: ${r.status} ${r.headers.get('location')}`);
  return c;
}
const exchange = async (c, dpop) => json(await fetch(`${base}/oauth/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(dpop ? { dpop } : {}) },
  body: JSON.stringify({ grant_type: 'authorization_code', client_id: spa.client_id, code: c, redirect_uri: CALLBACK, code_verifier: verifier }),
}));

// DPoP key (ES256 with WebCrypto); proofs.mjs signs the per-request proofs with it.
const key = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
const jwk = await webcrypto.subtle.exportKey('jwk', key.privateKey);
writeFileSync(join(out, 'dpop_key.json'), JSON.stringify(jwk));
const proof = await proofSigner(jwk);

const bearer = await exchange(await code());
writeFileSync(join(out, 'bearer.txt'), bearer.access_token);
const bound = await exchange(await code(), await proof('POST', `${base}/oauth/token`));
if (bound.token_type !== 'DPoP') throw new Error('no DPoP-bound token');
writeFileSync(join(out, 'dpop_token.txt'), bound.access_token);
// Each refresh token from a sign-in of its own, as many users' browsers would hold them: tokens of
// one session would all note that one session's row on every rotation, a contention no real
// deployment has.
const rts = [];
for (let i = 0; i < CONNS; i += 4) {
  const batch = await Promise.all([...Array(Math.min(4, CONNS - i))].map(async () => (await exchange((await signIn()).code)).refresh_token));
  rts.push(...batch);
}
writeFileSync(join(out, 'refresh_tokens.txt'), rts.join('\n') + '\n');
writeFileSync(join(out, 'client_id.txt'), spa.client_id);

// Logto's Account API: the account center on, and a resource-less token with its scopes.
await json(await send('PATCH', '/api/account-center', { enabled: true, fields: {
  name: 'Edit', avatar: 'Edit', profile: 'Edit', email: 'Edit', phone: 'Edit', password: 'Edit', username: 'Edit',
  social: 'Edit', customData: 'Edit',
} }, mgmt));
const account = await exchange(await code(authorizeUrl('openid offline_access profile email phone custom_data identities')));
writeFileSync(join(out, 'account_bearer.txt'), account.access_token);

// My Account tokens, taken before any second factor is enrolled (so single sign-on needs none).
const meUrl = (scope) => authorizeUrl(`openid ${scope}`, ME);
const me = await exchange(await code(meUrl('read:me:authentication_methods create:me:authentication_methods')));
const meBound = await exchange(await code(meUrl('read:me:authentication_methods')), await proof('POST', `${base}/oauth/token`));
if (meBound.token_type !== 'DPoP') throw new Error('no DPoP-bound My Account token');
writeFileSync(join(out, 'me_bearer.txt'), me.access_token);
writeFileSync(join(out, 'me_dpop_token.txt'), meBound.access_token);

// RFC 6238: HMAC-SHA-1 over the 30-second step, dynamic truncation, six digits.
function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of s.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  return Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
}
function totp(secret) {
  const step = Buffer.alloc(8);
  step.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
  const h = createHmac('sha1', base32(secret)).update(step).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
async function enroll(type) {
  const r = await send('POST', METHODS_URL, { type }, me.access_token);
  const started = await json(r);
  if (r.status !== 202) throw new Error(`enrolling ${type}: ${r.status}`);
  const body = { auth_session: started.auth_session };
  if (type === 'totp') body.otp_code = totp(started.manual_input_code);
  const v = await send('POST', `${r.headers.get('location')}/verify`, body, me.access_token);
  const done = await json(v);
  if (v.status !== 201) throw new Error(`verifying ${type}: ${v.status} ${JSON.stringify(done)}`);
}
for (const type of ['recovery-code', 'totp', 'totp', 'totp']) await enroll(type);

// Both tokens must see the five methods before anything is measured.
const listed = [
  await json(await fetch(METHODS_URL, { headers: { authorization: `Bearer ${me.access_token}` } })),
  await json(await fetch(METHODS_URL, { headers: {
    authorization: `DPoP ${meBound.access_token}`, dpop: await proof('GET', METHODS_URL, meBound.access_token),
  } })),
];
for (const l of listed) {
  const types = l.authentication_methods.map((m) => m.type).sort().join(',');
  if (types !== 'password,recovery-code,totp,totp,totp') throw new Error(`expected five methods, got ${types}`);
}
