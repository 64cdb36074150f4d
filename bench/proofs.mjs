// Signs DPoP proofs (ES256) for the benchmark: one single-use proof per line, minted just before
// the scenario that spends them (a proof's iat is only accepted for a few minutes).
// Usage: node proofs.mjs DIR TOKEN_FILE METHOD URL COUNT OUT_FILE   (the key is DIR/dpop_key.json)
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const b64 = (buf) => Buffer.from(buf).toString('base64url');

/** A function (htm, htu, token?) → proof, for the private JWK `jwk`. */
export async function proofSigner(jwk) {
  const key = await webcrypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const { kty, crv, x, y } = jwk;
  const header = b64(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }));
  return async (htm, htu, token) => {
    const claims = { jti: b64(randomBytes(12)), htm, htu, iat: Math.floor(Date.now() / 1000) };
    if (token) claims.ath = b64(createHash('sha256').update(token).digest());
    const input = `${header}.${b64(JSON.stringify(claims))}`;
    const sig = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(input));
    return `${input}.${b64(sig)}`;
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, tokenFile, htm, htu, count, outFile] = process.argv.slice(2);
  const proof = await proofSigner(JSON.parse(readFileSync(join(dir, 'dpop_key.json'), 'utf8')));
  const token = readFileSync(join(dir, tokenFile), 'utf8').trim();
  const lines = [];
  for (let i = 0; i < Number(count); i += 1000) {
    const batch = Math.min(1000, Number(count) - i);
    lines.push(...await Promise.all(Array.from({ length: batch }, () => proof(htm, htu, token))));
  }
  writeFileSync(join(dir, outFile), lines.join('\n') + '\n');
}
