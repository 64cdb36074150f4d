// A real upstream OpenID Connect provider for the tests, built on oidc-provider 9: accountd logs users
// in through it ("sign in with upstream") and keeps its tokens. Nothing here is interactive: the
// login/consent interaction finishes at once for the account named by `login_hint` (else `alice`), so
// the whole authorization is plain 302/303 redirects plus cookies.
//
// Importable: `startUpstream(config) -> {issuer, port, close()}`.
// Script: `UPSTREAM_CONFIG='{"port":0,"clients":[...]}' node e2e/lib/upstream.mjs` (or the JSON as
// argv[2]) prints ONE line `{"issuer":"http://127.0.0.1:PORT","port":PORT}` on stdout once listening,
// then runs until SIGTERM/SIGINT.
//
// config: {
//   port: 0,                      // 0 = any free port
//   access_token_ttl: 60,         // seconds; tests use 1-2 to exercise refresh
//   clients: [{client_id, client_secret, redirect_uris: ['http://127.0.0.1:9/cb'] | ['*'], ...metadata}],
// }
// `"redirect_uris": ["*"]` accepts any http://127.0.0.1, http://localhost or http://[::1] redirect URI.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

// oidc-provider warns on stderr about its quick-start in-memory adapter (which is what we want here)
// and about any Node.js older than 22 LTS (the machine runs 20). Drop exactly those two warnings to
// keep test output quiet; any other warning still gets through.
const EXPECTED_WARNINGS = [/in-memory adapter/, /Unsupported runtime/];
async function withoutExpectedWarnings(fn) {
  const { warn } = console;
  console.warn = (...args) => {
    if (!EXPECTED_WARNINGS.some((re) => re.test(String(args[0])))) warn.apply(console, args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

let oidcProvider;
const loadOidcProvider = () => (oidcProvider ??= withoutExpectedWarnings(() => import('oidc-provider')));

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
function isLoopbackHttp(uri) {
  const url = URL.parse(uri);
  return url !== null && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) && url.hash === '';
}

// Any id is an account; unverified* ids get email_verified=false so tests can exercise that branch.
function account(id) {
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email: `${id}@upstream.test`,
        email_verified: !id.startsWith('unverified'),
        name: `Upstream ${id}`,
        preferred_username: id,
      };
    },
  };
}

const signingJwk = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

export async function startUpstream(config = {}) {
  // The issuer holds the port, so bind first (port 0 = any free one) and build the provider after.
  const server = createServer();
  const port = await listen(server, config.port ?? 0);
  const issuer = `http://127.0.0.1:${port}`;
  let provider;
  try {
    provider = await buildProvider(issuer, config);
  } catch (err) {
    server.close(); // e.g. invalid client metadata: do not leave the port bound
    throw err;
  }
  server.on('request', provider.callback());

  return {
    issuer,
    port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      // fetch keeps connections alive; drop them so close() does not wait for their timeout.
      server.closeAllConnections();
    }),
  };
}

async function buildProvider(issuer, config) {
  const { default: Provider, interactionPolicy } = await loadOidcProvider();
  const accessTokenTtl = config.access_token_ttl ?? 60;

  const wildcardClients = new Set();
  const clients = (config.clients ?? []).map(({ redirect_uris: uris = [], ...rest }) => {
    const listed = uris.filter((uri) => uri !== '*');
    if (listed.length !== uris.length) wildcardClients.add(rest.client_id);
    return {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...rest,
      // A code client must register some redirect URI; a wildcard client's real check is below.
      redirect_uris: listed.length ? listed : ['http://127.0.0.1/callback'],
    };
  });

  // Let a fresh authorization request re-login when login_hint names another account than the
  // upstream session's, so one browser (cookie jar) can sign in as several upstream users in a row.
  const { Check, base } = interactionPolicy;
  const policy = base();
  policy.get('login').checks.add(new Check(
    'login_hint_changed',
    'login_hint names another account than the session',
    'login_required',
    (ctx) => {
      const hint = ctx.oidc.params.login_hint;
      const current = ctx.oidc.session.accountId;
      return hint && current && hint !== current ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    },
  ));

  const provider = await withoutExpectedWarnings(() => new Provider(issuer, {
    clients,
    findAccount: (_ctx, id) => account(id),
    // Own signing key (RS256, the clients' default id_token alg) rather than the dev keys, which warn.
    jwks: { keys: [{ ...signingJwk(), alg: 'RS256', use: 'sig', kid: 'upstream-rs256' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    // Put the scopes' claims in the ID token too (like most real providers), not only in userinfo.
    conformIdTokenClaims: false,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    // accountd sends S256; a confidential client may also leave PKCE out.
    pkce: { required: () => false },
    // Refresh tokens whenever offline_access was granted (the same as oidc-provider 9's default,
    // spelled out on purpose); the automatic consent below always grants it, and the /auth rewrite
    // below keeps it in requests that lack prompt=consent.
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: false,
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      // Not used by the tests; off so its default pages never render.
      rpInitiatedLogout: { enabled: false },
    },
    // oidc-provider accepts tokens for clockTolerance (default 15 s) past their exp, which would hide
    // expiry from tests with a 1-2 s access_token_ttl. One clock here; 1 s (not 0) because exp is
    // whole seconds: an access token then works for more than ttl and at most ttl + 1 seconds.
    clockTolerance: 1,
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
    // Tests drive the upstream from code, not a browser: answer any server-side error as JSON.
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
    // A test fixture on loopback: let any page call the client-specific CORS endpoints (userinfo).
    clientBasedCORS: () => true,
  }));

  // oidc-provider checks static client metadata lazily; check it now so a bad config fails at start.
  for (const { client_id: id } of clients) {
    if (!(await provider.Client.find(id))) throw new Error(`upstream: client ${id} not registered`);
  }

  const redirectUriAllowed = provider.Client.prototype.redirectUriAllowed;
  provider.Client.prototype.redirectUriAllowed = function allowed(value) {
    if (wildcardClients.has(this.clientId)) return isLoopbackHttp(value);
    return redirectUriAllowed.call(this, value);
  };

  provider.use(async (ctx, next) => {
    // oidc-provider 9 drops offline_access from any authorization request whose `prompt` lacks
    // `consent` (absent prompt included), so no refresh token would ever be issued. The consent step
    // here is automatic anyway, so add `consent` to such requests (not to prompt=none, which must not
    // interact). Only GET /auth is rewritten: a request pushed via PAR or POSTed keeps the default.
    if (ctx.method === 'GET' && ctx.path === '/auth') {
      const { scope, prompt } = ctx.query;
      const prompts = typeof prompt === 'string' ? prompt.split(' ').filter(Boolean) : [];
      if (typeof scope === 'string' && scope.split(' ').includes('offline_access')
        && !prompts.includes('consent') && !prompts.includes('none')) {
        ctx.query = { ...ctx.query, prompt: [...prompts, 'consent'].join(' ') };
      }
      return next();
    }

    if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      // Non-interactive login and consent: one round that answers both prompts, whichever is pending.
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      const { prompt, params, session } = details;
      const result = {};
      let accountId = session?.accountId;
      let grant;
      if (prompt.name === 'login' || !accountId) {
        const previous = accountId;
        accountId = params.login_hint || 'alice';
        result.login = { accountId };
        if (previous && previous !== accountId) {
          // Signing in as someone else would make oidc-provider answer with a JavaScript-submitted
          // logout form; drop the old upstream session here instead, so plain redirects still work.
          await (await provider.Session.findByUid(session.uid))?.destroy();
          delete details.session;
          await details.save(details.exp - Math.floor(Date.now() / 1000));
        }
      } else if (details.grantId) {
        grant = await provider.Grant.find(details.grantId);
      }
      grant ??= new provider.Grant({ accountId, clientId: params.client_id });
      // Grant everything asked for: all requested scopes (offline_access included, hence refresh
      // tokens) and whatever scopes and claims the consent prompt lists as missing.
      if (params.scope) grant.addOIDCScope(params.scope);
      const missing = prompt.name === 'consent' ? prompt.details : {};
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      result.consent = { grantId: await grant.save() };
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(returnTo);
      return undefined;
    }

    // A resource server of the upstream's own (not an oidc-provider route): proves that a token
    // accountd holds is a live upstream access token.
    if (ctx.method === 'GET' && ctx.path === '/api/profile') {
      const [scheme, value] = (ctx.get('authorization') || '').split(' ');
      const token = scheme?.toLowerCase() === 'bearer' && value
        ? await provider.AccessToken.find(value)
        : undefined;
      if (!token) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
        ctx.body = { error: 'invalid_token' };
        return undefined;
      }
      ctx.body = { sub: token.accountId, source: 'upstream' };
      return undefined;
    }

    return next();
  });

  return provider;
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  // stdout carries exactly one JSON line; send any console chatter from the library to stderr.
  console.log = console.info = (...args) => console.error(...args);
  // Handlers go in before the JSON line: whoever reads it may send SIGTERM at once.
  let upstream;
  const stop = async () => {
    await upstream?.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const raw = process.env.UPSTREAM_CONFIG ?? process.argv[2] ?? '{}';
  upstream = await startUpstream(JSON.parse(raw));
  process.stdout.write(`${JSON.stringify({ issuer: upstream.issuer, port: upstream.port })}\n`);
}
