// The load generator of bench/soak: a mixed, fixed-concurrency load against one running accountd
// for a while, sampling the server's RSS every 10 s. Each of CONCURRENCY async loops is one user
// (soak{i}@example.com, made through the Management API) with two refresh-token chains of its own:
//   A  a My Account token (audience {base}/me/, a JWT that /userinfo also accepts)
//   B  a resource-less sign-in's opaque token (/userinfo and Logto's /api/my-account)
// and spends its time on, per step:
//   reads (≈85 %)    GET /userinfo (A's JWT and B's opaque token in turn), GET /me/v1/authentication-methods,
//                    GET /api/my-account
//   refresh (≈11 %)  POST /oauth/token grant_type=refresh_token, rotating A and B in turn (each loop
//                    keeps its own chains; a rotated token is never sent again)
//   enroll (≈4 %)    POST /me/v1/authentication-methods (TOTP and recovery code in turn) → …/verify →
//                    DELETE the new method, so a user never has more than password + one method
//   sign-in          every SOAK_SIGN_IN_SECS (default 10, jittered) per loop, not per step: a fresh
//                    browser signs in with the password through /authorize → /u/login → code → token,
//                    takes B's code from the new session by single sign-on, then signs the previous
//                    session out (/v2/logout, which revokes the old chains). Time-based because a
//                    sign-in is an Argon2id hash, ~100 reads' worth of CPU on a 2-core machine.
// Every answer other than the one the step expects (200, or 302/202/201/204 where the protocol says so)
// and every request over 10 s is an error. A loop whose chain broke signs in again.
// At the end: every user must be back to the password alone; requests and errors per kind, the first
// error bodies, RSS at min(5 min, duration/6) and at the end and the drift between them are printed
// and written to OUT_JSON. Both RSS readings are taken with every loop parked and no request in
// flight, 3 s after the last answer (the load pauses for them; the pause does not count against the
// run); the 10-s samples under load are kept in OUT_JSON too. Exits 1 on any error or
// |drift| > SOAK_MAX_DRIFT_PCT (default 10).
// Usage: node soak.mjs BASE_URL PID CLIENT_ID CLIENT_SECRET MINUTES OUT_JSON [LABEL]
// Env: SOAK_CONCURRENCY (16), SOAK_SIGN_IN_SECS (10), SOAK_THINK_MS (0: a pause after every step).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Timeout, client } from './lib/http.mjs';

const [base, pidArg, bootId, bootSecret, minutesArg, outJson, label = 'accountd'] = process.argv.slice(2);
if (!outJson) {
  console.error('usage: node soak.mjs BASE_URL PID CLIENT_ID CLIENT_SECRET MINUTES OUT_JSON [LABEL]');
  process.exit(2);
}
const PID = Number(pidArg);
const DURATION_MS = Number(minutesArg) * 60_000;
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 16);
const SIGN_IN_MS = Number(process.env.SOAK_SIGN_IN_SECS ?? 10) * 1000;
const THINK_MS = Number(process.env.SOAK_THINK_MS ?? 0);
const MAX_DRIFT_PCT = Number(process.env.SOAK_MAX_DRIFT_PCT ?? 10);
const TIMEOUT_MS = 10_000;
// Enrolling needs a sign-in no older than the tenant's step_up.max_age (900 s by default).
const STEP_UP_MS = 600_000;
const SAMPLE_MS = 10_000;
// RSS "after the first 5 minutes": read at 5 min, or at 1/6 of the run when that is shorter.
const BASELINE_MS = Math.min(5 * 60_000, DURATION_MS / 6);
const CALLBACK = 'http://localhost:3000/callback';
const ME = `${base}/me/`;
const METHODS = `${base}/me/v1/authentication-methods`;
const PASSWORD = 'soak password 123';
const ME_SCOPE = 'openid offline_access read:me:authentication_methods create:me:authentication_methods delete:me:authentication_methods';
const ACCOUNT_SCOPE = 'openid offline_access profile email';
const b64 = (buf) => Buffer.from(buf).toString('base64url');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- bookkeeping -------------------------------------------------------------------------------
const KINDS = ['userinfo', 'me-methods', 'my-account', 'refresh', 'enroll', 'sign-in', 'final-check'];
const requests = Object.fromEntries(KINDS.map((k) => [k, 0]));
const errors = Object.fromEntries(KINDS.map((k) => [k, 0]));
const firstErrors = Object.fromEntries(KINDS.map((k) => [k, []]));
const operations = Object.fromEntries(KINDS.map((k) => [k, 0]));

class StepError extends Error {}
function fail(kind, what, detail) {
  errors[kind]++;
  if (firstErrors[kind].length < 5) {
    firstErrors[kind].push({ at_s: +((Date.now() - started) / 1000).toFixed(1), step: what, detail: String(detail).slice(0, 400) });
  }
  return new StepError(`${kind} ${what}: ${detail}`);
}

const request = client({ base, maxSockets: 256, timeoutMs: TIMEOUT_MS });

/** One request of `kind`: its response ({ status, headers, text }), or an error counted against
 *  `kind` when the status is not one of `expect` or the exchange takes more than 10 s. */
async function call(kind, what, url, { expect = [200], ...init } = {}) {
  requests[kind]++;
  let res;
  try {
    res = await request(url, init);
  } catch (e) {
    throw fail(kind, what, e instanceof Timeout ? e.message : `${e.code ?? e.name}: ${e.message}`);
  }
  if (!expect.includes(res.status)) throw fail(kind, what, `${res.status} ${res.text}`);
  return { res, text: res.text };
}
const json = (kind, what, text) => {
  try { return JSON.parse(text); } catch { throw fail(kind, what, `not JSON: ${text}`); }
};
const cookiesOf = (res) => (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).filter((c) => !c.endsWith('=')).join('; ');
const bearer = (token) => ({ authorization: `Bearer ${token}` });
const JSON_HEADERS = { 'content-type': 'application/json' };

// ---- RSS ---------------------------------------------------------------------------------------
const samples = [];
function sample() {
  try {
    const status = readFileSync(`/proc/${PID}/status`, 'utf8');
    const kib = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    samples.push({ t_s: +((Date.now() - started) / 1000).toFixed(1), rss_kib: kib('VmRSS'), hwm_kib: kib('VmHWM') });
  } catch (e) {
    samples.push({ t_s: +((Date.now() - started) / 1000).toFixed(1), rss_kib: null, error: e.message });
  }
}

/** CPU seconds (user + system) the server has used so far. */
function serverCpu() {
  try {
    const fields = readFileSync(`/proc/${PID}/stat`, 'utf8').split(') ').at(-1).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch { return NaN; }
}

// ---- setup (not timed, not counted) -------------------------------------------------------------
async function setup(method, path, body, token) {
  const res = await fetch(`${base}${path}`, {
    method, headers: { ...JSON_HEADERS, ...(token ? bearer(token) : {}) }, body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`setup: ${method} ${path} ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}
const { access_token: mgmt } = await setup('POST', '/oauth/token', {
  grant_type: 'client_credentials', client_id: bootId, client_secret: bootSecret, audience: `${base}/api/v2/`,
});
// The account API's default limits (25/s per tenant, 20/min per user) would make this a soak of 429s.
const LIMIT = 10_000_000;
await setup('PATCH', '/api/v2/tenants/settings', { account_policy: { rate_limits: {
  tenant_reads_per_second: LIMIT, tenant_writes_per_second: LIMIT, user_reads_per_minute: LIMIT, user_writes_per_minute: LIMIT,
} } }, mgmt);
await setup('PATCH', '/api/account-center', { enabled: true, fields: { name: 'Edit', profile: 'Edit', email: 'Edit', username: 'Edit' } }, mgmt);
const spa = await setup('POST', '/api/v2/clients', { name: 'soak', app_type: 'spa', callbacks: [CALLBACK] }, mgmt);
await setup('POST', '/api/v2/client-grants', {
  client_id: spa.client_id, audience: ME, subject_type: 'user',
  scope: ['read:me:authentication_methods', 'create:me:authentication_methods', 'delete:me:authentication_methods'],
}, mgmt);
const users = [];
for (let i = 0; i < CONCURRENCY; i++) {
  const email = `soak${i}@example.com`;
  const u = await setup('POST', '/api/v2/users', { connection: 'Username-Password-Authentication', email, password: PASSWORD }, mgmt);
  users.push({ email, id: u.user_id });
}

// ---- the steps ---------------------------------------------------------------------------------
function pkce() {
  const verifier = b64(randomBytes(32));
  return { verifier, challenge: b64(createHash('sha256').update(verifier).digest()) };
}
const authorizeUrl = (p, scope, audience) => `${base}/authorize?` + new URLSearchParams({
  response_type: 'code', client_id: spa.client_id, redirect_uri: CALLBACK, scope,
  code_challenge: p.challenge, code_challenge_method: 'S256', ...(audience ? { audience } : {}),
});
function codeOf(kind, what, res) {
  const location = res.headers.location;
  const code = location && new URL(location, base).searchParams.get('code');
  if (!code) throw fail(kind, what, `${res.status} without a code: location ${location}`);
  return code;
}
async function exchange(p, code) {
  const { text } = await call('sign-in', 'POST /oauth/token (authorization_code)', `${base}/oauth/token`, {
    method: 'POST', headers: JSON_HEADERS,
    body: JSON.stringify({ grant_type: 'authorization_code', client_id: spa.client_id, code, redirect_uri: CALLBACK, code_verifier: p.verifier }),
  });
  return chainFrom(json('sign-in', 'token answer', text));
}
const chainFrom = (t) => ({ access: t.access_token, refresh: t.refresh_token, until: Date.now() + (t.expires_in * 1000) / 2 });

/** A fresh browser signs `user` in with the password: chain A from the hosted page, chain B by
 *  single sign-on; then the previous session is signed out. */
async function signIn(loop) {
  operations['sign-in']++;
  const p = pkce();
  let { res, text } = await call('sign-in', 'GET /authorize', authorizeUrl(p, ME_SCOPE, ME));
  const binding = cookiesOf(res);
  const flow = /name="flow" value="([^"]+)"/.exec(text)?.[1]?.replaceAll('&amp;', '&');
  if (!flow) throw fail('sign-in', 'GET /authorize', `no sign-in form: ${text}`);
  ({ res } = await call('sign-in', 'POST /u/login', `${base}/u/login`, {
    method: 'POST', expect: [302],
    headers: { cookie: binding, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ flow, identifier: loop.user.email, password: PASSWORD }),
  }));
  const session = cookiesOf(res);
  const a = await exchange(p, codeOf('sign-in', 'POST /u/login', res));
  ({ res } = await call('sign-in', 'GET /authorize (single sign-on)', authorizeUrl(p, ACCOUNT_SCOPE), { expect: [302], headers: { cookie: session } }));
  const b = await exchange(p, codeOf('sign-in', 'GET /authorize (single sign-on)', res));
  const previous = loop.session;
  Object.assign(loop, { a, b, session, signedInAt: Date.now(), broken: false });
  if (previous) await call('sign-in', 'GET /v2/logout', `${base}/v2/logout`, { headers: { cookie: previous } });
}

async function refresh(loop, which) {
  operations.refresh++;
  const chain = loop[which];
  const { text } = await call('refresh', `POST /oauth/token (refresh_token, chain ${which})`, `${base}/oauth/token`, {
    method: 'POST', headers: JSON_HEADERS,
    body: JSON.stringify({ grant_type: 'refresh_token', client_id: spa.client_id, refresh_token: chain.refresh }),
  });
  const t = json('refresh', 'token answer', text);
  if (!t.refresh_token || t.refresh_token === chain.refresh) throw fail('refresh', 'rotation', 'no new refresh token');
  loop[which] = chainFrom(t);
}

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

async function enroll(loop) {
  operations.enroll++;
  const type = loop.enrollments++ % 2 ? 'recovery-code' : 'totp';
  const token = bearer(loop.a.access);
  const { res, text } = await call('enroll', `POST ${type}`, METHODS, {
    method: 'POST', expect: [202], headers: { ...JSON_HEADERS, ...token }, body: JSON.stringify({ type }),
  });
  const started = json('enroll', `POST ${type}`, text);
  const location = res.headers.location;
  if (!location) throw fail('enroll', `POST ${type}`, 'no Location');
  const body = { auth_session: started.auth_session };
  if (type === 'totp') body.otp_code = totp(started.manual_input_code);
  const verified = await call('enroll', `POST ${type} …/verify`, new URL(`${location}/verify`, base).href, {
    method: 'POST', expect: [201], headers: { ...JSON_HEADERS, ...token }, body: JSON.stringify(body),
  });
  const { id } = json('enroll', 'verify answer', verified.text);
  await call('enroll', `DELETE ${type}`, `${METHODS}/${encodeURIComponent(id)}`, { method: 'DELETE', expect: [204], headers: token });
}

const READS = [
  ['userinfo', (l) => [`${base}/userinfo`, l.a.access]],
  ['me-methods', (l) => [METHODS, l.a.access]],
  ['userinfo', (l) => [`${base}/userinfo`, l.b.access]],
  ['my-account', (l) => [`${base}/api/my-account`, l.b.access]],
];
async function read(loop) {
  const [kind, target] = READS[loop.reads++ % READS.length];
  operations[kind]++;
  const [url, token] = target(loop);
  await call(kind, `GET ${new URL(url).pathname}`, url, { headers: bearer(token) });
}

/** Removes whatever a failed enrollment left, so that the next sign-in asks for no second factor. */
async function cleanUp(loop) {
  const { text } = await call('enroll', 'GET /me/v1/authentication-methods (clean-up)', METHODS, { headers: bearer(loop.a.access) });
  for (const m of json('enroll', 'clean-up list', text).authentication_methods ?? []) {
    if (m.type !== 'password') {
      await call('enroll', `DELETE ${m.type} (clean-up)`, `${METHODS}/${encodeURIComponent(m.id)}`, { method: 'DELETE', expect: [204], headers: bearer(loop.a.access) });
    }
  }
  return text;
}

let started = Date.now();
let deadline = started + DURATION_MS;
// The two readings the drift compares are taken the same way: every loop parked (no request in
// flight), SETTLE_MS after the last answer. Under load, RSS at one instant swings by whether an
// Argon2id buffer (19 MiB per hashing worker) happens to be allocated then.
const SETTLE_MS = 3000;
let pausedMs = 0;
let pause = null; // { parked, resume: Promise, release() } while the baseline is read
async function parkIfPaused() {
  if (!pause) return;
  pause.parked++;
  await pause.resumed;
}
async function quiescentSample(what) {
  const t0 = Date.now();
  await sleep(SETTLE_MS);
  sample();
  const s = { ...samples.at(-1), quiescent: what, paused_ms: Date.now() - t0 };
  samples[samples.length - 1] = s;
  return s;
}
async function readBaseline(finished) {
  let release;
  pause = { parked: 0, resumed: new Promise((r) => { release = r; }) };
  const t0 = Date.now();
  while (pause.parked + finished() < CONCURRENCY) await sleep(5);
  const s = await quiescentSample('baseline');
  const paused = Date.now() - t0;
  pause = null;
  release();
  // The pause does not count against the run.
  deadline += paused;
  pausedMs += paused;
  return s;
}
async function run(i) {
  const loop = { user: users[i], reads: i, enrollments: i, refreshes: i, broken: true, session: null, a: null, b: null };
  // Spread the loops' sign-ins over the interval.
  loop.nextSignIn = started + SIGN_IN_MS * ((i + 1) / CONCURRENCY);
  while (Date.now() < deadline) {
    try {
      if (loop.broken) {
        await signIn(loop);
        loop.nextSignIn = Date.now() + SIGN_IN_MS * (0.5 + Math.random());
      } else if (Date.now() >= loop.nextSignIn || Date.now() - loop.signedInAt > STEP_UP_MS) {
        loop.nextSignIn = Date.now() + SIGN_IN_MS * (0.5 + Math.random());
        await signIn(loop);
      } else if (Date.now() > loop.a.until) {
        await refresh(loop, 'a');
      } else if (Date.now() > loop.b.until) {
        await refresh(loop, 'b');
      } else {
        const r = Math.random();
        if (r < 0.04) {
          try {
            await enroll(loop);
          } catch (e) {
            if (!(e instanceof StepError)) throw e;
            await cleanUp(loop).catch(() => {});
            throw e;
          }
        } else if (r < 0.15) await refresh(loop, loop.refreshes++ % 2 ? 'b' : 'a');
        else await read(loop);
      }
    } catch (e) {
      if (!(e instanceof StepError)) throw e;
      // Counted already; start over from a fresh sign-in (a chain may be spent), after a breath.
      loop.broken = true;
      await sleep(200);
    }
    if (THINK_MS > 0) await sleep(THINK_MS);
    await parkIfPaused();
  }
  done++;
  return loop;
}

// ---- the run -----------------------------------------------------------------------------------
const log = (m) => console.error(`[soak ${label}] ${m}`);
log(`${CONCURRENCY} loops for ${minutesArg} min against ${base} (pid ${PID}); RSS baseline at ${(BASELINE_MS / 1000).toFixed(0)} s`);
started = Date.now();
deadline = started + DURATION_MS;
const cpu0 = { server: serverCpu(), self: process.cpuUsage() };
sample();
let done = 0;
let baseline = null;
let baselineLoaded = null;
const baselineTimer = setTimeout(async () => {
  sample();
  baselineLoaded = samples.at(-1);
  baseline = await readBaseline(() => done);
  log(`baseline RSS ${(baseline.rss_kib / 1024).toFixed(1)} MiB (${(baselineLoaded.rss_kib / 1024).toFixed(1)} MiB under load)`);
}, BASELINE_MS);
const sampler = setInterval(() => {
  sample();
  const s = samples.at(-1);
  const total = Object.values(requests).reduce((x, y) => x + y, 0);
  const errs = Object.values(errors).reduce((x, y) => x + y, 0);
  if (s.t_s % 60 < SAMPLE_MS / 1000) log(`t=${s.t_s}s rss=${(s.rss_kib / 1024).toFixed(1)} MiB requests=${total} errors=${errs}`);
}, SAMPLE_MS);
const loops = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => run(i)));
clearInterval(sampler);
clearTimeout(baselineTimer);
const elapsed = (Date.now() - started - pausedMs) / 1000;
const selfCpu = process.cpuUsage(cpu0.self);
const cpu = { server_s: +(serverCpu() - cpu0.server).toFixed(1), load_generator_s: +((selfCpu.user + selfCpu.system) / 1e6).toFixed(1) };
const endLoaded = [...samples].reverse().find((s) => s.rss_kib && !s.quiescent) ?? samples.at(-1);
const end = await quiescentSample('end');

// Every user is back to the password alone (the method count stayed bounded), through a fresh token.
for (const loop of loops) {
  try {
    operations['final-check']++;
    if (loop.broken || Date.now() > loop.a.until) await refresh(loop, 'a');
    const methods = json('final-check', 'list', (await call('final-check', 'GET /me/v1/authentication-methods', METHODS, { headers: bearer(loop.a.access) })).text);
    const types = (methods.authentication_methods ?? []).map((m) => m.type).sort().join(',');
    if (types !== 'password') throw fail('final-check', `methods of ${loop.user.email}`, `expected only password, got ${types}`);
  } catch (e) {
    if (!(e instanceof StepError)) throw e;
  }
}

if (!samples.some((s) => s.rss_kib)) throw new Error(`no RSS sample of pid ${PID}: ${JSON.stringify(samples.at(-1))}`);
const near = (ms) => samples.filter((s) => s.rss_kib).reduce((best, s) => (Math.abs(s.t_s * 1000 - ms) < Math.abs(best.t_s * 1000 - ms) ? s : best));
if (!baseline?.rss_kib) baseline = near(BASELINE_MS);
baselineLoaded ??= baseline;
const mib = (kib) => +(kib / 1024).toFixed(1);
const drift = end.rss_kib && baseline.rss_kib ? (100 * (end.rss_kib - baseline.rss_kib)) / baseline.rss_kib : NaN;
const totalRequests = Object.values(requests).reduce((x, y) => x + y, 0);
const totalErrors = Object.values(errors).reduce((x, y) => x + y, 0);
const driftOk = Number.isFinite(drift) && Math.abs(drift) <= MAX_DRIFT_PCT;
const result = {
  label, base, pid: PID, minutes: Number(minutesArg), elapsed_s: +elapsed.toFixed(1), concurrency: CONCURRENCY,
  sign_in_every_s: SIGN_IN_MS / 1000, think_ms: THINK_MS,
  requests, operations, errors, first_errors: Object.fromEntries(Object.entries(firstErrors).filter(([, v]) => v.length)),
  cpu,
  total_requests: totalRequests, total_errors: totalErrors, requests_per_second: +(totalRequests / elapsed).toFixed(1),
  rss: {
    baseline_at_s: baseline.t_s, baseline_mib: mib(baseline.rss_kib), end_at_s: end.t_s, end_mib: mib(end.rss_kib),
    peak_hwm_mib: mib(end.hwm_kib), drift_pct: +drift.toFixed(2), max_drift_pct: MAX_DRIFT_PCT,
    measured: `with no request in flight, ${SETTLE_MS} ms after the last answer`,
    under_load: {
      baseline_at_s: baselineLoaded.t_s, baseline_mib: mib(baselineLoaded.rss_kib), end_at_s: endLoaded.t_s, end_mib: mib(endLoaded.rss_kib),
      min_mib: mib(Math.min(...samples.filter((s) => s.rss_kib && !s.quiescent && s.t_s >= baselineLoaded.t_s).map((s) => s.rss_kib))),
      max_mib: mib(Math.max(...samples.filter((s) => s.rss_kib && !s.quiescent && s.t_s >= baselineLoaded.t_s).map((s) => s.rss_kib))),
    },
  },
  samples,
  pass: totalErrors === 0 && driftOk,
};
writeFileSync(outJson, JSON.stringify(result, null, 2) + '\n');

const pad = (s, n) => String(s).padEnd(n);
console.log(`\n== ${label}: ${totalRequests} requests in ${elapsed.toFixed(0)} s (${result.requests_per_second}/s), ${CONCURRENCY} loops`);
console.log(`CPU: server ${cpu.server_s} s, load generator ${cpu.load_generator_s} s (of ${elapsed.toFixed(0)} s)`);
console.log(`${pad('kind', 12)} ${pad('requests', 10)} ${pad('operations', 11)} errors`);
for (const k of KINDS) console.log(`${pad(k, 12)} ${pad(requests[k], 10)} ${pad(operations[k], 11)} ${errors[k]}`);
for (const [k, list] of Object.entries(result.first_errors)) {
  for (const e of list) console.log(`  error ${k} at ${e.at_s}s, ${e.step}: ${e.detail}`);
}
console.log(`RSS at ${baseline.t_s}s: ${result.rss.baseline_mib} MiB; at the end (${end.t_s}s): ${result.rss.end_mib} MiB; ` +
  `drift ${drift >= 0 ? '+' : ''}${drift.toFixed(2)} % (limit ±${MAX_DRIFT_PCT} %; both read with no request in flight)`);
console.log(`RSS under load: ${result.rss.under_load.baseline_mib} MiB at ${baselineLoaded.t_s}s, ${result.rss.under_load.end_mib} MiB at ${endLoaded.t_s}s, ` +
  `${result.rss.under_load.min_mib}–${result.rss.under_load.max_mib} MiB since the baseline; peak (VmHWM) ${result.rss.peak_hwm_mib} MiB`);
console.log(`${label}: ${result.pass ? 'PASS' : 'FAIL'}${totalErrors ? ` — ${totalErrors} errors` : ''}${driftOk ? '' : ' — RSS drift out of bounds'}`);
process.exit(result.pass ? 0 : 1);
