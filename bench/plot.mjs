// Draws bench/sweep's results: throughput and p99 latency against the number of users, one line per
// endpoint and backend, as an SVG (Vega-Lite, compiled to Vega and rendered headless: no canvas,
// no browser).
// Usage: node bench/plot.mjs [RESULTS.jsonl, default bench/results/sweep.jsonl] [OUT.svg, default bench/sweep.svg]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import { compile } from 'vega-lite';

const here = dirname(fileURLToPath(import.meta.url));
const [input = join(here, 'results/sweep.jsonl'), output = join(here, 'sweep.svg')] = process.argv.slice(2);

const rows = readFileSync(input, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
if (rows.length === 0) throw new Error(`${input}: no results`);
const data = rows.map((r) => ({ ...r, series: `${r.request} · ${r.backend}` }));
const sizes = [...new Set(rows.map((r) => r.users))].sort((a, b) => a - b);
const requests = [...new Set(rows.map((r) => r.request))]; // the sweep's order, not the alphabet's
// A single size still needs a span for the log scale.
const domain = sizes.length > 1 ? [sizes[0], sizes.at(-1)] : [sizes[0] / 2, sizes[0] * 2];
const seconds = [...new Set(rows.map((r) => r.seconds))].join('/');
const conns = [...new Set(rows.map((r) => r.connections))].join('/');
const warmup = [...new Set(rows.map((r) => r.warmup_seconds ?? 0))].join('/');

// One colour per endpoint, one dash (and point shape) per backend: the endpoint×backend lines stay
// apart in grey print too.
const x = {
  field: 'users', type: 'quantitative', title: 'users in the database',
  scale: { type: 'log', domain, nice: false },
  axis: { values: sizes, format: '~s', grid: true },
};
const color = { field: 'request', type: 'nominal', title: 'endpoint', sort: requests, legend: { orient: 'bottom', columns: 2, labelLimit: 400 } };
const dash = { field: 'backend', type: 'nominal', title: 'backend', legend: { orient: 'bottom' } };
const panel = (field, title, axisTitle, scale) => ({
  width: 420, height: 280,
  title,
  mark: { type: 'line', point: { filled: true, size: 45 }, strokeWidth: 2 },
  encoding: {
    x,
    y: { field, type: 'quantitative', title: axisTitle, scale },
    color,
    strokeDash: dash,
    shape: dash,
    detail: { field: 'series' },
    tooltip: [{ field: 'series' }, { field: 'users' }, { field }],
  },
});
const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: {
    text: 'accountd: cost as the users grow',
    subtitle: `wrk, ${conns} connections, ${seconds} s per point after ${warmup} s of warm-up; p99 goal: within ±20 % from the smallest to the largest size`,
    anchor: 'start',
  },
  data: { values: data },
  config: { font: 'sans-serif', background: 'white', view: { stroke: '#ccc' } },
  hconcat: [
    panel('rps', 'throughput', 'requests/s', { zero: true }),
    // Log scale: the reads and the refresh grant's write differ by an order of magnitude, and a
    // ±20 % band is the same height wherever a line sits.
    panel('p99_ms', 'p99 latency', 'ms', { type: 'log' }),
  ],
  resolve: { scale: { color: 'shared', strokeDash: 'shared', shape: 'shared' } },
};

const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
const svg = await view.toSVG();
view.finalize();
writeFileSync(output, svg + '\n');
console.error(`plot: ${rows.length} results → ${output}`);
