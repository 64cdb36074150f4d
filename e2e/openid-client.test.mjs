// openid-client (a certified OpenID Connect relying party library) against a running accountd:
// discovery, authorization code + PKCE through the hosted sign-in page, ID token validation,
// userinfo, refresh, revocation and logout — once with Bearer tokens and once with DPoP. The
// server's JSON log of all of it must parse line by line and hold none of the secrets exchanged.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { CALLBACK, LOGOUT, USER, setUpApp, signIn, startAccountd } from './lib/accountd.mjs';

let server;
let config;
const secrets = [USER.password];

before(async () => {
  server = await startAccountd({ jsonLogs: true });
  const spaId = await setUpApp(server);
  config = await client.discovery(new URL(server.base), spaId, undefined, client.None(), {
    execute: [client.allowInsecureRequests], // plain HTTP on localhost
  });
});

after(async () => server?.stop());

async function flow(options = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid profile email offline_access read:me:authentication_methods',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    audience: `${server.base}/me/`,
  });
  const { callback, session } = await signIn(server, url);
  secrets.push(callback.searchParams.get('code'), session.split(';')[0].split('=').slice(1).join('='));
  const tokens = await client.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
    undefined,
    options,
  );
  return { tokens, session };
}

for (const mode of ['Bearer', 'DPoP']) {
  test(`${mode}: sign in, userinfo, refresh, revoke, log out`, async () => {
    const options = mode === 'DPoP' ? { DPoP: client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256')) } : {};
    assert.equal(config.serverMetadata().issuer, `${server.base}/`);

    const { tokens, session } = await flow(options);
    assert.equal(tokens.token_type, mode.toLowerCase());
    const claims = tokens.claims(); // validated by openid-client: iss, aud, exp, nonce, signature (RS256)
    assert.equal(claims.email, USER.email);
    assert.deepEqual(claims.amr, ['pwd']);
    assert.ok(tokens.refresh_token);
    assert.match(tokens.scope, /read:me:authentication_methods/);

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub, options);
    assert.equal(info.email, USER.email);
    assert.equal(info.name, 'Ada Lovelace');

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, options);
    secrets.push(tokens.access_token, tokens.refresh_token, tokens.id_token, refreshed.access_token, refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
    assert.equal(refreshed.token_type, mode.toLowerCase());

    await client.tokenRevocation(config, refreshed.refresh_token);
    await assert.rejects(
      client.refreshTokenGrant(config, refreshed.refresh_token, undefined, options),
      (err) => err.error === 'invalid_grant',
    );

    const logout = client.buildEndSessionUrl(config, { post_logout_redirect_uri: LOGOUT, id_token_hint: tokens.id_token });
    const res = await fetch(logout, { redirect: 'manual', headers: { cookie: session } });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), LOGOUT);
    // The session is over: a silent sign-in now answers login_required.
    const silent = client.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK, scope: 'openid', prompt: 'none',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    const again = await fetch(silent, { redirect: 'manual', headers: { cookie: session } });
    assert.equal(new URL(again.headers.get('location')).searchParams.get('error'), 'login_required');
  });
}

test('the JSON log has a parseable line per request, with its route and tenant, and no secret', async () => {
  assert.ok(secrets.length > 10, 'the flows above ran');
  const lines = server.log().split('\n').filter((l) => l.trim());
  const parsed = lines.map((l) => JSON.parse(l));
  const requests = parsed.filter((e) => e.fields?.message === 'finished processing request');
  assert.ok(requests.length >= 10, `request lines: ${requests.length}\n${lines.slice(0, 5).join('\n')}`);
  const token = requests.find((e) => e.span?.route === '/oauth/token');
  assert.ok(token, `no /oauth/token line: ${JSON.stringify(requests[0])}`);
  assert.ok(token.span.tenant && token.span['request.id'] && token.fields.status && token.fields.latency, JSON.stringify(token));
  const text = server.log();
  for (const s of secrets.filter(Boolean)) {
    assert.ok(!text.includes(s), `a secret is in the log: ${s.slice(0, 12)}…`);
  }
  assert.ok(!text.includes(USER.email), 'the email is in the log');
});
