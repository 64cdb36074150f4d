// Password sign-ins per second against a running accountd: CONCURRENCY async loops, each signing a
// user in again and again through the whole authorization-code flow, as a fresh browser would:
//   GET /authorize (PKCE S256, a fresh verifier)  → the hosted sign-in form and its binding cookie
//   POST /u/login (identifier, password)          → 302 to the callback with a code (one Argon2id
//                                                   verification on the server's hashing pool)
//   POST /oauth/token (authorization_code)        → 200 with an access token and an ID token
// Each sign-in starts with an empty cookie jar (only the binding cookie of its own /authorize goes
// back). Only sign-ins that got their tokens before the deadline count. A 503 with Retry-After (the
// hashing pool is full: back-pressure) counts as `busy`, and the same request is sent again after the
// header's delay; its wait is part of that sign-in's latency. Any other answer than the one the step
// expects (a non-2xx/3xx, a 503 without Retry-After, a sign-in form again instead of a code, a token
// answer without tokens), and any request over 10 s, counts as an error; the loop then starts a new
// sign-in.
// Prints one JSON object on stdout:
//   {signins, per_sec, per_vcpu, busy, errors, p50_ms, p99_ms, ...}
// per_vcpu divides per_sec by os.availableParallelism(): the whole machine's CPUs, which the load
// generator shares when it runs on the same host. p50/p99 are of whole sign-ins (first request to
// tokens). With SIGNIN_PID (the server's pid), the server's CPU seconds during the run are added
// (server_cpu_s, per_server_cpu_s: sign-ins per CPU-second the server spent).
// Exits 1 when any sign-in failed or none completed (the JSON is printed all the same).
//
// Usage:
//   node sign_in_load.mjs BASE_URL CLIENT_ID CREDENTIALS SECONDS [CONCURRENCY]
//     CLIENT_ID    a client whose callbacks include SIGNIN_CALLBACK (default
//                  http://localhost:3000/callback) and that may use PKCE without a secret (a SPA)
//     CREDENTIALS  a file of "identifier<TAB>password" lines; loop i signs in as line i mod n
//     CONCURRENCY  default 4 per os.availableParallelism()
//   node sign_in_load.mjs --setup BASE_URL MGMT_CLIENT_ID MGMT_CLIENT_SECRET OUT_DIR [USERS=8]
//     makes such a client and USERS users through the Management API (with the bootstrap client's
//     credentials, as setup.mjs does) and writes OUT_DIR/signin_client_id.txt and
//     OUT_DIR/signin_users.tsv for the first form.
// Env: SIGNIN_SCOPE (default "openid offline_access": a refresh token too, as most apps ask),
//      SIGNIN_PID, SIGNIN_CALLBACK.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Timeout, client } from './lib/http.mjs';

const CALLBACK = process.env.SIGNIN_CALLBACK ?? 'http://localhost:3000/callback';
const SCOPE = process.env.SIGNIN_SCOPE ?? 'openid offline_access';
const TIMEOUT_MS = 10_000;
const VCPUS = os.availableParallelism();
const b64 = (buf) => Buffer.from(buf).toString('base64url');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => console.error(`[sign_in_load] ${m}`);

if (process.argv[2] === '--setup') {
  await setup(...process.argv.slice(3));
  process.exit(0);
}
const [base, clientId, credentials, secondsArg, concArg] = process.argv.slice(2);
if (!secondsArg) {
  console.error('usage: node sign_in_load.mjs BASE_URL CLIENT_ID CREDENTIALS SECONDS [CONCURRENCY]\n' +
    '       node sign_in_load.mjs --setup BASE_URL MGMT_CLIENT_ID MGMT_CLIENT_SECRET OUT_DIR [USERS]');
  process.exit(2);
}
const DURATION_MS = Number(secondsArg) * 1000;
const CONCURRENCY = Number(concArg ?? 4 * VCPUS);
const USERS = readFileSync(credentials, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
  const tab = l.indexOf('\t');
  if (tab < 0) throw new Error(`${credentials}: a line without a tab: ${l}`);
  return { identifier: l.slice(0, tab), password: l.slice(tab + 1) };
});
if (!USERS.length) throw new Error(`${credentials}: no credentials`);

const request = client({ base, maxSockets: CONCURRENCY * 2, timeoutMs: TIMEOUT_MS });

// ---- bookkeeping --------------------------------------------------------------------------------
let signins = 0;
let busy = 0;
let errors = 0;
let late = 0; // sign-ins that completed after the deadline: not counted
const latencies = [];
const busyBySteps = {};
const firstErrors = [];
class SignInError extends Error {}
function fail(step, detail) {
  errors++;
  if (firstErrors.length < 5) firstErrors.push({ step, detail: String(detail).slice(0, 300) });
  return new SignInError(`${step}: ${detail}`);
}

let deadline = 0;
/** Sends `init` to `url` until the answer is not a 503 with Retry-After (each such answer is one
 *  `busy`, then a wait of Retry-After seconds); null when the deadline passes while waiting. */
async function call(step, url, expect, init = {}) {
  for (;;) {
    let res;
    try {
      res = await request(url, init);
    } catch (e) {
      throw fail(step, e instanceof Timeout ? e.message : `${e.code ?? e.name}: ${e.message}`);
    }
    if (res.status === 503 && res.headers['retry-after'] !== undefined) {
      const secs = Number(res.headers['retry-after']);
      if (!Number.isFinite(secs) || secs < 0) throw fail(step, `503 with a Retry-After that is not a delay: ${res.headers['retry-after']}`);
      busy++;
      busyBySteps[step] = (busyBySteps[step] ?? 0) + 1;
      if (Date.now() + secs * 1000 >= deadline) return null;
      await sleep(secs * 1000);
      continue;
    }
    if (!expect.includes(res.status)) throw fail(step, `${res.status} ${res.text}`);
    return res;
  }
}

const cookiesOf = (res) => (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).filter((c) => !c.endsWith('=')).join('; ');

/** One whole sign-in: true when it got its tokens, false when the deadline came first. */
async function signIn(user) {
  const verifier = b64(randomBytes(32));
  const challenge = b64(createHash('sha256').update(verifier).digest());
  const authorize = `${base}/authorize?` + new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, scope: SCOPE,
    code_challenge: challenge, code_challenge_method: 'S256', state: b64(randomBytes(12)),
  });
  let res = await call('GET /authorize', authorize, [200]);
  if (!res) return false;
  // A fresh jar: the only cookie this browser has is the binding cookie /authorize just set.
  const jar = cookiesOf(res);
  const flow = /name="flow" value="([^"]+)"/.exec(res.text)?.[1]?.replaceAll('&amp;', '&');
  if (!flow) throw fail('GET /authorize', `no sign-in form: ${res.text.slice(0, 200)}`);
  res = await call('POST /u/login', `${base}/u/login`, [302], {
    method: 'POST',
    headers: { ...(jar ? { cookie: jar } : {}), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ flow, identifier: user.identifier, password: user.password }).toString(),
  });
  if (!res) return false;
  const location = res.headers.location;
  const code = location && new URL(location, base).searchParams.get('code');
  if (!code) throw fail('POST /u/login', `302 without a code: location ${location}`);
  res = await call('POST /oauth/token', `${base}/oauth/token`, [200], {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CALLBACK, code_verifier: verifier }),
  });
  if (!res) return false;
  let t;
  try { t = JSON.parse(res.text); } catch { throw fail('POST /oauth/token', `not JSON: ${res.text.slice(0, 200)}`); }
  if (!t.access_token || (SCOPE.split(' ').includes('openid') && !t.id_token)) {
    throw fail('POST /oauth/token', `no tokens: ${res.text.slice(0, 200)}`);
  }
  return true;
}

async function loop(i) {
  const user = USERS[i % USERS.length];
  while (Date.now() < deadline) {
    const t0 = performance.now();
    try {
      if (!(await signIn(user))) continue;
    } catch (e) {
      if (!(e instanceof SignInError)) throw e;
      await sleep(100);
      continue;
    }
    if (Date.now() > deadline) { late++; continue; }
    signins++;
    latencies.push(performance.now() - t0);
  }
}

/** CPU seconds (user + system) `pid` has used so far. */
function cpuOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch { return NaN; }
}
const serverPid = process.env.SIGNIN_PID;
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);
const round = (x, d = 1) => (x === null || !Number.isFinite(x) ? null : +x.toFixed(d));

const serverCpu0 = serverPid ? cpuOf(serverPid) : NaN;
const selfCpu0 = process.cpuUsage();
const started = Date.now();
deadline = started + DURATION_MS;
await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => loop(i)));
const elapsed = DURATION_MS / 1000;
const selfCpu = process.cpuUsage(selfCpu0);
const serverCpu = serverPid ? cpuOf(serverPid) - serverCpu0 : NaN;
latencies.sort((a, b) => a - b);
const perSec = signins / elapsed;
const result = {
  signins,
  per_sec: round(perSec, 2),
  per_vcpu: round(perSec / VCPUS, 2),
  busy,
  errors,
  p50_ms: round(percentile(latencies, 50)),
  p99_ms: round(percentile(latencies, 99)),
  vcpus: VCPUS,
  concurrency: CONCURRENCY,
  users: USERS.length,
  seconds: elapsed,
  scope: SCOPE,
  late,
  ...(busy ? { busy_by_step: busyBySteps } : {}),
  ...(serverPid ? { server_cpu_s: round(serverCpu, 2), per_server_cpu_s: round(signins / serverCpu, 2) } : {}),
  load_generator_cpu_s: round((selfCpu.user + selfCpu.system) / 1e6, 2),
  ...(firstErrors.length ? { first_errors: firstErrors } : {}),
};
console.log(JSON.stringify(result));
if (errors) log(`${errors} failed sign-ins; first: ${JSON.stringify(firstErrors)}`);
process.exit(errors || !signins ? 1 : 0);

// ---- --setup ------------------------------------------------------------------------------------
async function setup(baseUrl, mgmtId, mgmtSecret, outDir, usersArg) {
  if (!outDir) {
    console.error('usage: node sign_in_load.mjs --setup BASE_URL MGMT_CLIENT_ID MGMT_CLIENT_SECRET OUT_DIR [USERS]');
    process.exit(2);
  }
  const n = Number(usersArg ?? 8);
  const send = async (method, path, body, token) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const { access_token: mgmt } = await send('POST', '/oauth/token', {
    grant_type: 'client_credentials', client_id: mgmtId, client_secret: mgmtSecret, audience: `${baseUrl}/api/v2/`,
  });
  const spa = await send('POST', '/api/v2/clients', { name: 'sign-in load', app_type: 'spa', callbacks: [CALLBACK] }, mgmt);
  const password = `sign-in load ${b64(randomBytes(9))}`;
  const lines = [];
  for (let i = 0; i < n; i++) {
    const email = `signin${i}.${b64(randomBytes(4)).toLowerCase().replace(/[^a-z0-9]/g, 'x')}@example.com`;
    await send('POST', '/api/v2/users', { connection: 'Username-Password-Authentication', email, password }, mgmt);
    lines.push(`${email}\t${password}`);
  }
  writeFileSync(join(outDir, 'signin_client_id.txt'), `${spa.client_id}\n`);
  writeFileSync(join(outDir, 'signin_users.tsv'), lines.join('\n') + '\n');
  log(`client ${spa.client_id} and ${n} users written to ${outDir}`);
}
