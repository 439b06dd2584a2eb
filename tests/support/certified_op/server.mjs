// A certified OpenID provider (panva/oidc-provider) for the VNeID end-to-end test, at its defaults but for
// what a deployment must configure: the client, signing keys, and a `citizen` scope releasing `citizen_id`.
// Claim placement stays at the default: scope-requested claims reach only UserInfo (OIDC Core §5.4).
// Usage: node server.mjs '<json: {port, client, clientAuthMethods?}>'; prints "listening <issuer>" when ready.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

// clientAuthMethods (optional) narrows the token endpoint authentication methods discovery announces
const { port, client, clientAuthMethods } = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const key = (type, options, alg) => ({ ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: alg });

const provider = new Provider(issuer, {
  clients: [client],
  jwks: { keys: [
    key('rsa', { modulusLength: 2048 }, 'RS256'),
    key('rsa', { modulusLength: 2048 }, 'PS256'),
    key('ec', { namedCurve: 'P-256' }, 'ES256'),
    key('ed25519', {}, 'EdDSA'),
  ] },
  cookies: { keys: ['test-only-cookie-key'] },
  ...(clientAuthMethods ? { clientAuthMethods } : {}),
  claims: { openid: ['sub'], profile: ['name'], citizen: ['citizen_id'] },
  // the development login form takes any login: here the citizen ID, which is also the subject
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, name: 'Công dân thử nghiệm', citizen_id: id }),
  }),
});
provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
