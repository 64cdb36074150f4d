// bench/sweep's results as a markdown table, with the goals of issue 17, item 4 (p99 within ±20 %
// from the smallest size to the largest; at the largest, RSS < 30 MiB idle and < 100 MiB under
// load). Exits 1, after printing, when more than 0.1 % of a scenario's requests were not 2xx or
// failed (as bench/run), so a 401 or 429 storm cannot pass for a result.
// Usage: node bench/sweep_table.mjs [RESULTS.jsonl, default bench/results/sweep.jsonl]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const input = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'results/sweep.jsonl');
const rows = readFileSync(input, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
if (rows.length === 0) { console.error(`sweep: ${input} has no results`); process.exit(1); }

const P99_BAND = 0.2;
const IDLE_GOAL_MIB = 30;
const LOADED_GOAL_MIB = 100;
const firstSeen = (key) => { const order = []; for (const r of rows) if (!order.includes(r[key])) order.push(r[key]); return order; };
const backends = firstSeen('backend');
const endpoints = firstSeen('endpoint');
rows.sort((a, b) => backends.indexOf(a.backend) - backends.indexOf(b.backend) || a.users - b.users
  || endpoints.indexOf(a.endpoint) - endpoints.indexOf(b.endpoint));

const mib = (kib) => (kib == null ? '–' : `${(kib / 1024).toFixed(1)} MiB`);
const lat = (ms) => `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
const count = (n) => n.toLocaleString('en-US');
const short = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
const smallest = (r) => Math.min(...rows.filter((s) => s.backend === r.backend && s.endpoint === r.endpoint).map((s) => s.users));
const base = (r) => rows.find((s) => s.backend === r.backend && s.endpoint === r.endpoint && s.users === smallest(r));
const drift = (r) => r.p99_ms / base(r).p99_ms - 1;
// Judged as printed (whole per cent), so that a row never reads −20 % and missed.
const pct = (r) => Math.round(100 * drift(r));
const outside = (r) => Math.abs(pct(r)) > 100 * P99_BAND;
const sizes = [...new Set(rows.map((r) => r.users))].sort((a, b) => a - b);

const seconds = [...new Set(rows.map((r) => r.seconds))].join('/');
const warmup = [...new Set(rows.map((r) => r.warmup_seconds ?? 0))].join('/');
console.log(`wrk, ${rows[0].connections} connections, ${rows[0].threads} threads, ${seconds} s per point after ${warmup} s of`
  + ' unscored warm-up; idle RSS after the first start, the setup and a handful of requests; peak RSS under each load.');
console.log();
console.log(`| backend | users | endpoint | req/s | p50 | p99 | p99 vs ${short(sizes[0])} | idle RSS | peak RSS | seeded in |`);
console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const d = r.users === smallest(r) ? '–' : `${pct(r) >= 0 ? '+' : '−'}${Math.abs(pct(r))} %${outside(r) ? ' ✗' : ''}`;
  console.log(`| ${r.backend} | ${count(r.users)} | ${r.request} | ${r.rps.toFixed(0)} | ${lat(r.p50_ms)} | ${lat(r.p99_ms)}`
    + ` | ${d} | ${mib(r.idle_rss_kib)} | ${mib(r.peak_rss_kib)} | ${r.seed_seconds.toFixed(0)} s |`);
}

// The goals, at each backend's largest size.
console.log();
for (const b of backends) {
  const own = rows.filter((r) => r.backend === b);
  const top = Math.max(...own.map((r) => r.users));
  const at = own.filter((r) => r.users === top);
  const idle = at[0].idle_rss_kib / 1024;
  const loaded = Math.max(...at.map((r) => r.peak_rss_kib ?? 0)) / 1024;
  const within = at.filter((r) => !outside(r)).length;
  const first = at[0].first_start_rss_kib == null ? '' : `; ${(at[0].first_start_rss_kib / 1024).toFixed(1)} MiB at the first start`;
  console.log(`- ${b} at ${count(top)} users: idle RSS ${idle.toFixed(1)} MiB (goal < ${IDLE_GOAL_MIB}: ${idle < IDLE_GOAL_MIB ? 'met' : 'missed'}${first}),`
    + ` under load up to ${loaded.toFixed(1)} MiB (goal < ${LOADED_GOAL_MIB}: ${loaded < LOADED_GOAL_MIB ? 'met' : 'missed'});`
    + ` p99 within ±${100 * P99_BAND} % of ${count(Math.min(...own.map((r) => r.users)))} users on ${within} of ${at.length} endpoints`);
}

let failed = false;
for (const r of rows) {
  const bad = r.non2xx + r.socket_errors;
  if (r.requests === 0 || bad > 0.001 * r.requests) {
    console.error(`sweep: ${r.backend} ${r.users} ${r.endpoint}: ${bad} of ${r.requests} requests failed`
      + ` (non-2xx ${r.non2xx}, socket errors ${r.socket_errors})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
