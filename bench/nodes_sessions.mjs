// Refresh tokens of many sessions, for bench/nodes: a user of its own (made through the Management
// API with the bootstrap client; the bench user has second factors by now) signs in COUNT times
// through the hosted form, each time with a fresh cookie jar (so a new session), and each code is
// exchanged for one refresh token. bench/setup.mjs's tokens all come from one session, so every refresh updates
// that one session's row and the refreshes queue on its lock; production refreshes come from many
// sessions, and the capacity model wants their CPU, not that queue.
// Usage: node bench/nodes_sessions.mjs BASE_URL CLIENT_ID BOOT_ID BOOT_SECRET COUNT OUT_FILE [PARALLEL, default 4]
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const [base, clientId, bootId, bootSecret, countArg, out, parallelArg] = process.argv.slice(2);
const COUNT = Number(countArg);
const PARALLEL = Number(parallelArg ?? 4);
const CALLBACK = 'http://localhost:3000/callback';
const b64 = (buf) => Buffer.from(buf).toString('base64url');
const cookies = (res) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
const EMAIL = 'refresh@bench-nodes.example';
const PASSWORD = 'refresh password 123';

async function json(res) {
  const body = await res.json();
  if (!res.ok) throw new Error(`${res.url} ${res.status}: ${JSON.stringify(body)}`);
  return body;
}
const { access_token: mgmt } = await json(await fetch(`${base}/oauth/token`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ grant_type: 'client_credentials', client_id: bootId, client_secret: bootSecret,
    audience: `${base}/api/v2/` }),
}));
await json(await fetch(`${base}/api/v2/users`, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${mgmt}` },
  body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
}));

async function refreshToken() {
  const verifier = b64(randomBytes(32));
  const challenge = b64(createHash('sha256').update(verifier).digest());
  const authorize = `${base}/authorize?` + new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, scope: 'openid offline_access',
    code_challenge: challenge, code_challenge_method: 'S256',
  });
  for (let attempt = 0; ; attempt++) {
    let res = await fetch(authorize, { redirect: 'manual' });
    const binding = cookies(res);
    const flow = /name="flow" value="([^"]+)"/.exec(await res.text())?.[1]?.replaceAll('&amp;', '&');
    if (!flow) throw new Error(`no sign-in form at ${authorize}: ${res.status}`);
    res = await fetch(`${base}/u/login`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie: binding, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ flow, identifier: EMAIL, password: PASSWORD }),
    });
    // A full hashing queue answers 503 with Retry-After: wait and sign in again.
    if (res.status === 503 && attempt < 20) {
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
      continue;
    }
    const location = res.headers.get('location');
    const code = location && new URL(location).searchParams.get('code');
    if (!code) throw new Error(`sign-in failed: ${res.status} ${(await res.text()).slice(0, 200)}`);
    const t = await fetch(`${base}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CALLBACK,
        code_verifier: verifier }),
    });
    const body = await t.json();
    if (!t.ok || !body.refresh_token) throw new Error(`code exchange: ${t.status} ${JSON.stringify(body)}`);
    return body.refresh_token;
  }
}

const tokens = [];
let next = 0;
await Promise.all(Array.from({ length: PARALLEL }, async () => {
  while (next < COUNT) {
    next++;
    tokens.push(await refreshToken());
  }
}));
writeFileSync(out, tokens.join('\n') + '\n');
console.error(`nodes_sessions: ${tokens.length} refresh tokens of ${tokens.length} sessions`);
