// Peak memory of a running accountd under N parallel password sign-ins on the hosted page, with the
// server's own Argon2id parameters: one sign-in form (its binding cookie), then N posts of it at
// once (N-1 wrong passwords from N-1 client IPs, so the lockout does not cut the burst short, and
// the right one). Prints the statuses and the server's peak RSS (VmHWM) before and after.
// The server must trust X-Forwarded-For (ACCOUNTD_SERVER__TRUST_FORWARDED_HEADERS=true).
// Usage: node sign_in_memory.mjs BASE_URL PID CLIENT_ID CLIENT_SECRET [N=200]
import { readFileSync } from 'node:fs';

const [base, pid, bootId, bootSecret, nArg] = process.argv.slice(2);
const N = Number(nArg ?? 200);
const CALLBACK = 'http://localhost:3000/callback';
const peak = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

const post = async (path, body, token) => {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path} ${res.status}: ${await res.text()}`);
  return res.json();
};
const { access_token: mgmt } = await post('/oauth/token', {
  grant_type: 'client_credentials', client_id: bootId, client_secret: bootSecret, audience: `${base}/api/v2/`,
});
const spa = await post('/api/v2/clients', { name: 'memory', app_type: 'spa', callbacks: [CALLBACK] }, mgmt);
await post('/api/v2/users', { email: 'memory@example.com', password: 'memory password 123' }, mgmt);

const res = await fetch(`${base}/authorize?` + new URLSearchParams({
  response_type: 'code', client_id: spa.client_id, redirect_uri: CALLBACK, scope: 'openid',
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
}), { redirect: 'manual' });
const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
const flow = /name="flow" value="([^"]+)"/.exec(await res.text())[1];

const before = { rss: rss(), peak: peak() };
const statuses = {};
await Promise.all(Array.from({ length: N }, async (_, i) => {
  const right = i === N - 1;
  const r = await fetch(`${base}/u/login`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.18.${i >> 8}.${i & 255}` },
    body: new URLSearchParams({ flow, identifier: 'memory@example.com', password: right ? 'memory password 123' : `wrong ${i}` }),
  });
  await r.arrayBuffer();
  statuses[r.status] = (statuses[r.status] ?? 0) + 1;
}));
console.log(JSON.stringify({
  parallel: N, statuses, rss_before_mib: +before.rss.toFixed(1), peak_before_mib: +before.peak.toFixed(1),
  peak_after_mib: +peak().toFixed(1), rss_after_mib: +rss().toFixed(1),
}));
