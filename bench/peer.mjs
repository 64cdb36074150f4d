// The benchmark's peer: node oidc-provider (the engine under Logto), from e2e/'s npm packages, so
// bench/run can measure its userinfo endpoint (GET /me) beside accountd's reads, in the same run,
// with the same load generator.
//   - the in-memory adapter (oidc-provider's default; nothing to wait on but the event loop)
//   - opaque access tokens (the default format for a token with no resource indicator)
//   - one account, held in memory, with the openid/profile/email claims
//   - one confidential client allowed the authorization code flow
// The login and consent interaction finishes at once for that account (a route of our own at
// /interaction/:uid), so the code flow below is plain redirects plus cookies.
// Usage: node bench/peer.mjs [PORT]   (or PEER_PORT=...; 0 or nothing = any free port)
// Once it serves, prints ONE line on stdout: `PEER_READY <port> <access_token>`, a Bearer token for
// GET /me with the scopes `openid profile email`; then serves until SIGTERM/SIGINT.
// Needs e2e/node_modules (`cd e2e && npm ci`).
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

// Logto runs its oidc-provider in production mode; so does the peer unless told otherwise.
process.env.NODE_ENV ??= 'production';
// stdout carries exactly one line; any chatter from the library goes to stderr.
console.log = console.info = (...args) => console.error(...args);

// The package from e2e/node_modules (ESM only: a bare import would not resolve from bench/).
const PKG = new URL('../e2e/node_modules/oidc-provider/', import.meta.url);
let main;
try {
  main = JSON.parse(readFileSync(new URL('package.json', PKG))).main ?? 'lib/index.js';
} catch {
  console.error('bench/peer.mjs: oidc-provider is not installed: run `cd e2e && npm ci`');
  process.exit(1);
}
// It warns about its in-memory adapter (wanted here) and about Node.js older than 22: drop just those.
const EXPECTED_WARNINGS = [/in-memory adapter/, /Unsupported runtime/];
const { warn } = console;
console.warn = (...args) => {
  if (!EXPECTED_WARNINGS.some((re) => re.test(String(args[0])))) warn.apply(console, args);
};
const { default: Provider } = await import(new URL(main, PKG));

const ACCOUNT_ID = 'bench-user';
const CLAIMS = {
  sub: ACCOUNT_ID,
  email: 'bench@example.com',
  email_verified: true,
  name: 'Bench User',
  given_name: 'Bench',
  family_name: 'User',
  preferred_username: 'bench',
  picture: 'https://example.com/bench.png',
  locale: 'en',
  updated_at: 1700000000,
};
const ACCOUNT = { accountId: ACCOUNT_ID, claims: async () => CLAIMS };
const CLIENT_ID = 'bench';
const CLIENT_SECRET = randomBytes(24).toString('base64url');
const REDIRECT_URI = 'http://127.0.0.1/callback';
const SCOPE = 'openid profile email';

// The issuer holds the port, so bind first (port 0 = any free one) and build the provider after.
const server = createServer();
const port = await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(process.argv[2] ?? process.env.PEER_PORT ?? 0), '127.0.0.1', () => {
    server.off('error', reject);
    resolve(server.address().port);
  });
});
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  findAccount: (_ctx, id) => (id === ACCOUNT_ID ? ACCOUNT : undefined),
  // Own signing key (RS256 ID tokens) rather than the dev keys, which warn.
  jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'peer' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'profile', 'email'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'picture', 'locale', 'updated_at'],
    email: ['email', 'email_verified'],
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: false },
  },
  // Longer than any run: the token must not expire under load.
  ttl: { AccessToken: 24 * 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 24 * 3600, Grant: 24 * 3600 },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// Non-interactive login and consent: sign the bench account in and grant what was asked for.
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
    const { params, prompt } = await provider.interactionDetails(ctx.req, ctx.res);
    const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const result = { login: { accountId: ACCOUNT_ID }, consent: { grantId: await grant.save() } };
    ctx.status = 303;
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
    return undefined;
  }
  return next();
});
server.on('request', provider.callback());

// Everything is in memory: nothing to flush on the way out.
const stop = () => process.exit(0);
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

// The code flow, driven with fetch: follow redirects by hand, keeping cookies, until the callback.
const b64 = (buf) => Buffer.from(buf).toString('base64url');
const verifier = b64(randomBytes(32));
const jar = new Map();
let url = `${issuer}/auth?${new URLSearchParams({
  client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope: SCOPE,
  state: b64(randomBytes(8)), code_challenge: b64(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
})}`;
let code;
for (let hop = 0; hop < 10 && !code; hop++) {
  const res = await fetch(url, {
    redirect: 'manual',
    headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
  const location = res.headers.get('location');
  if (!location) throw new Error(`peer: ${url} answered ${res.status} without a redirect: ${await res.text()}`);
  url = new URL(location, url).href;
  if (url.startsWith(REDIRECT_URI)) {
    const back = new URL(url).searchParams;
    code = back.get('code');
    if (!code) throw new Error(`peer: authorization failed: ${url}`);
  }
}
if (!code) throw new Error('peer: no authorization code after 10 redirects');
const tokenRes = await fetch(`${issuer}/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier,
    client_id: CLIENT_ID, client_secret: CLIENT_SECRET,
  }),
});
const tokens = await tokenRes.json();
if (!tokenRes.ok || !tokens.access_token) throw new Error(`peer: token endpoint ${tokenRes.status}: ${JSON.stringify(tokens)}`);
if (tokens.access_token.split('.').length === 3) throw new Error('peer: expected an opaque access token, got a JWT');

// The token must read the claims of all three scopes before anything is measured.
const me = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
const claims = await me.json();
if (!me.ok || claims.sub !== ACCOUNT_ID || claims.email !== CLAIMS.email || claims.name !== CLAIMS.name) {
  throw new Error(`peer: GET /me answered ${me.status}: ${JSON.stringify(claims)}`);
}
process.stdout.write(`PEER_READY ${port} ${tokens.access_token}\n`);
