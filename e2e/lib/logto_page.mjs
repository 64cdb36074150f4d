// What the @logto/browser tests share: the import map that loads the SDK from node_modules, and
// the little server of the test page (its origin is the app's; accountd is another origin).
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const NODE_MODULES = new URL('../node_modules/', import.meta.url);

/** The import map of @logto/browser and its dependencies, served from node_modules. */
export const LOGTO_IMPORTS = {
  '@logto/browser': '/node_modules/@logto/browser/lib/index.js',
  '@logto/client': '/node_modules/@logto/client/lib/index.js',
  '@logto/js': '/node_modules/@logto/js/lib/index.js',
  '@silverhand/essentials': '/node_modules/@silverhand/essentials/lib/index.js',
  jose: '/node_modules/jose/dist/webapi/index.js',
  'js-base64': '/node_modules/js-base64/base64.mjs',
  camelcase: '/node_modules/camelcase/index.js',
  'camelcase-keys': '/node_modules/camelcase-keys/index.js',
  'map-obj': '/node_modules/map-obj/index.js',
  'quick-lru': '/node_modules/quick-lru/index.js',
};

/** Serves `html()` at `/` and `/callback` and the SDK's modules; `{ server, origin }` (on localhost). */
export async function serveTestPage(html) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path.startsWith('/node_modules/') && (path.endsWith('.js') || path.endsWith('.mjs'))) {
      const file = new URL(`.${path.slice('/node_modules'.length)}`, NODE_MODULES);
      if (!file.pathname.startsWith(NODE_MODULES.pathname) || !existsSync(file)) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
    } else if (path === '/' || path === '/callback') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://localhost:${server.address().port}` };
}

/**
 * The test page of a @logto/browser app with `config` (`{endpoint, appId, scopes}`): `window.client`
 * is its LogtoClient, and `window.ready` finishes a sign-in callback (at /callback) and resolves to
 * whether the client is signed in.
 */
export function logtoTestPage(config, title = '@logto/browser test page') {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<script type="importmap">${JSON.stringify({ imports: LOGTO_IMPORTS })}</script></head>
<body><h1>${title}</h1><p id="status">Loading…</p>
<script type="module">
import LogtoClient from '@logto/browser';
window.client = new LogtoClient(${JSON.stringify(config).replace(/</g, '\\u003c')});
window.ready = (async () => {
  if (location.pathname === '/callback') {
    await client.handleSignInCallback(location.href);
    history.replaceState(null, '', '/');
  }
  const signedIn = await client.isAuthenticated();
  document.getElementById('status').textContent = signedIn ? 'Signed in' : 'Signed out';
  return signedIn;
})();
</script></body></html>`;
}
