// Prepares a running accountd for the benchmark and writes what the wrk scripts read:
//   bearer.txt           an access token for /userinfo (Bearer)
//   dpop_token.txt       a DPoP-bound access token for /userinfo
//   dpop_proofs.txt      one single-use DPoP proof per line for GET /userinfo with that token
//   refresh_tokens.txt   one refresh token per wrk connection (each rotates on use)
//   client_id.txt        the public client the refresh tokens belong to
// Usage: node setup.mjs BASE_URL OUT_DIR CLIENT_ID CLIENT_SECRET PROOFS CONNECTIONS
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [base, out, bootId, bootSecret, proofsArg, connsArg] = process.argv.slice(2);
const PROOFS = Number(proofsArg ?? 100000);
const CONNS = Number(connsArg ?? 64);
const CALLBACK = 'http://localhost:3000/callback';
const b64 = (buf) => Buffer.from(buf).toString('base64url');

async function json(res) {
  const body = await res.json();
  if (!res.ok) throw new Error(`${res.status}: ${JSON.stringify(body)}`);
  return body;
}
const post = (path, body, token) => fetch(`${base}${path}`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
}).then(json);

const { access_token: mgmt } = await post('/oauth/token', {
  grant_type: 'client_credentials', client_id: bootId, client_secret: bootSecret, audience: `${base}/api/v2/`,
});
const spa = await post('/api/v2/clients', { name: 'bench', app_type: 'spa', callbacks: [CALLBACK] }, mgmt);
await post('/api/v2/users', { email: 'bench@example.com', password: 'bench password 123' }, mgmt);

// Sign in once; later codes come from the session (single sign-on).
const verifier = b64(randomBytes(32));
const challenge = b64(createHash('sha256').update(verifier).digest());
const authorizeUrl = `${base}/authorize?` + new URLSearchParams({
  response_type: 'code', client_id: spa.client_id, redirect_uri: CALLBACK, scope: 'openid offline_access',
  code_challenge: challenge, code_challenge_method: 'S256',
});
let res = await fetch(authorizeUrl, { redirect: 'manual' });
const binding = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
const flow = /name="flow" value="([^"]+)"/.exec(await res.text())[1].replaceAll('&amp;', '&');
res = await fetch(`${base}/u/login`, {
  method: 'POST', redirect: 'manual',
  headers: { cookie: binding, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ flow, identifier: 'bench@example.com', password: 'bench password 123' }),
});
const session = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
let firstCode = new URL(res.headers.get('location')).searchParams.get('code');

async function code() {
  if (firstCode) { const c = firstCode; firstCode = null; return c; }
  const r = await fetch(authorizeUrl, { redirect: 'manual', headers: { cookie: session } });
  return new URL(r.headers.get('location')).searchParams.get('code');
}
const exchange = async (c, dpop) => json(await fetch(`${base}/oauth/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(dpop ? { dpop } : {}) },
  body: JSON.stringify({ grant_type: 'authorization_code', client_id: spa.client_id, code: c, redirect_uri: CALLBACK, code_verifier: verifier }),
}));

// DPoP key and proofs (ES256 with WebCrypto).
const key = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
const { kty, crv, x, y } = await webcrypto.subtle.exportKey('jwk', key.publicKey);
const header = b64(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }));
async function proof(htm, htu, token) {
  const claims = { jti: b64(randomBytes(12)), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (token) claims.ath = b64(createHash('sha256').update(token).digest());
  const input = `${header}.${b64(JSON.stringify(claims))}`;
  const sig = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, Buffer.from(input));
  return `${input}.${b64(sig)}`;
}

const bearer = await exchange(await code());
writeFileSync(join(out, 'bearer.txt'), bearer.access_token);
const bound = await exchange(await code(), await proof('POST', `${base}/oauth/token`));
if (bound.token_type !== 'DPoP') throw new Error('no DPoP-bound token');
writeFileSync(join(out, 'dpop_token.txt'), bound.access_token);
const lines = [];
for (let i = 0; i < PROOFS; i++) lines.push(await proof('GET', `${base}/userinfo`, bound.access_token));
writeFileSync(join(out, 'dpop_proofs.txt'), lines.join('\n') + '\n');
const rts = [];
for (let i = 0; i < CONNS; i++) rts.push((await exchange(await code())).refresh_token);
writeFileSync(join(out, 'refresh_tokens.txt'), rts.join('\n') + '\n');
writeFileSync(join(out, 'client_id.txt'), spa.client_id);
