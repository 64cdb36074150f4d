// The benchmarks' HTTP client: node:http(s) with keep-alive rather than fetch — well under half
// of fetch's CPU per request on Node 20, which leaves the server most of a 2-core machine.
import http from 'node:http';
import https from 'node:https';

/** Thrown when a whole exchange took longer than its client's timeout. */
export class Timeout extends Error {}

/** A `request(url, {method, headers, body})` → `{status, headers, text}` that follows no
 *  redirects and rejects with a `Timeout` after `timeoutMs` for the whole exchange. */
export function client({ base, maxSockets, timeoutMs }) {
  const transport = base.startsWith('https:') ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets });
  return function request(url, { method = 'GET', headers = {}, body } = {}) {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(String(body));
      const req = transport.request(url, {
        agent, method, headers: payload ? { ...headers, 'content-length': payload.length } : headers,
      }, (res) => {
        const chunks = [];
        res.setEncoding('utf8');
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode, headers: res.headers, text: chunks.join('') }); });
        res.on('error', (e) => { clearTimeout(timer); reject(e); });
      });
      const timer = setTimeout(() => req.destroy(new Timeout(`timed out after ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (e) => { clearTimeout(timer); reject(e); });
      req.end(payload);
    });
  };
}
