// Starts the real accountd binary on a fresh data directory and a free port, and sets up what a
// browser app needs: an SPA client granted My Account scopes, and a user with a password.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = process.env.ACCOUNTD_BIN ?? new URL('../../target/debug/accountd', import.meta.url).pathname;

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `accountd serve` on a fresh data dir. `{ jsonLogs: true }` keeps its JSON log (info
 * level, one line per request) for `server.log()` instead of passing warnings through. */
export async function startAccountd({ jsonLogs = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'accountd-e2e-'));
  const port = await freePort();
  const child = spawn(BIN, ['serve'], {
    env: {
      ...process.env,
      ACCOUNTD_STORAGE__DATA_DIR: join(dir, 'data'),
      ACCOUNTD_SERVER__LISTEN: `127.0.0.1:${port}`,
      ACCOUNTD_LOG__LEVEL: jsonLogs ? 'info' : 'warn',
      ACCOUNTD_LOG__FORMAT: jsonLogs ? 'json' : 'text',
      ACCOUNTD_PASSWORDS__ARGON2_MEMORY_KIB: '1024',
    },
    stdio: ['ignore', 'pipe', jsonLogs ? 'pipe' : 'inherit'],
  });
  let log = '';
  if (jsonLogs) child.stderr.on('data', (d) => { log += d; });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`accountd did not start:\n${out}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`accountd exited with ${code}:\n${out}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const clientId = /client_id:\s+(\S+)/.exec(out)[1];
  const clientSecret = /client_secret:\s+(\S+)/.exec(out)[1];
  return {
    base,
    clientId,
    clientSecret,
    log: () => log,
    stop: () => new Promise((resolve) => { child.on('exit', resolve); child.kill('SIGINT'); }),
  };
}

async function json(res) {
  const body = await res.json();
  if (!res.ok) throw new Error(`${res.status}: ${JSON.stringify(body)}`);
  return body;
}

export const CALLBACK = 'http://localhost:3000/callback';
export const LOGOUT = 'http://localhost:3000/';
export const USER = { email: 'ada@example.com', password: 'correct horse battery' };

/**
 * A poster to the Management API (`/api/v2`) through `base` (default: the server's `http://127.0.0.1:port`;
 * built-in API identifiers follow the host called, so pass `http://localhost:port` to work on that host).
 * The poster sends `method` (default POST) to `{base}{path}` when `path` starts with `/api/` outside
 * `/api/v2` (e.g. `/api/account-center`), else to `{base}/api/v2{path}`.
 */
export async function managementApi(server, base = server.base) {
  const { access_token: token } = await json(await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials', client_id: server.clientId, client_secret: server.clientSecret,
      audience: `${base}/api/v2/`,
    }),
  }));
  return (path, body, method = 'POST') => fetch(path.startsWith('/api/') ? `${base}${path}` : `${base}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(json);
}

/** An SPA client granted My Account scopes, and a user; returns the SPA's client id. */
export async function setUpApp(server) {
  const mgmt = await managementApi(server);
  const spa = await mgmt('/clients', {
    name: 'openid-client SPA', app_type: 'spa', callbacks: [CALLBACK], allowed_logout_urls: [LOGOUT],
  });
  await mgmt('/client-grants', {
    client_id: spa.client_id, audience: `${server.base}/me/`, subject_type: 'user',
    scope: ['read:me:authentication_methods', 'read:me:factors'],
  });
  await mgmt('/users', { email: USER.email, password: USER.password, name: 'Ada Lovelace' });
  return spa.client_id;
}

/** Drives the hosted sign-in form as a browser would; returns the callback URL and the session cookie. */
export async function signIn(server, authorizationUrl, user = USER) {
  let res = await fetch(authorizationUrl, { redirect: 'manual' });
  if (res.status !== 200) throw new Error(`sign-in page: ${res.status} ${await res.text()}`);
  const binding = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const html = await res.text();
  const flow = /name="flow" value="([^"]+)"/.exec(html)[1].replaceAll('&amp;', '&');
  res = await fetch(`${server.base}/u/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: binding, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ flow, identifier: user.email, password: user.password }),
  });
  if (res.status !== 302) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  const session = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('accountd_session='));
  return { callback: new URL(res.headers.get('location')), session };
}
