// A real OpenID Connect provider on loopback for `server/tests/oidc.rs`: oauth2-mock-server
// (authorization code + PKCE, discovery, JWKS, RS256 ID tokens, userinfo), with the issuer
// on 127.0.0.1 and a free port.
//
//   node provider.mjs            → prints one line: {"issuer":"http://127.0.0.1:PORT"}
//
// There is no login screen: `/authorize` answers with the redirect at once. The test chooses
// who signs in by adding to the authorize URL the gateway sent it to:
//   mock_claims=<JSON object>   claims merged into the ID token and the userinfo answer
//                               (sub, email, email_verified, name, groups, realm_access, …)
//   mock_nonce=<text>           sign this nonce instead of the one the client sent
// `login_hint=<email>` alone is a verified user with that email and sub.
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

// code → { claims, nonce } chosen at /authorize; access token → claims for /userinfo.
const byCode = new Map();
const byAccessToken = new Map();

function chosen(query) {
  let claims = {};
  if (typeof query.mock_claims === 'string') claims = JSON.parse(query.mock_claims);
  else if (typeof query.login_hint === 'string') {
    claims = { sub: query.login_hint, email: query.login_hint, email_verified: true, name: query.login_hint.split('@')[0] };
  }
  return { claims, nonce: typeof query.mock_nonce === 'string' ? query.mock_nonce : undefined };
}

server.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const code = redirect.url.searchParams.get('code');
  if (code) byCode.set(code, chosen(req.query));
});

server.service.on('beforeTokenSigning', (token, req) => {
  const user = byCode.get(req.body?.code);
  if (!user) return;
  Object.assign(token.payload, user.claims);
  // The ID token carries the nonce; the access token does not.
  if (user.nonce !== undefined && 'nonce' in token.payload) token.payload.nonce = user.nonce;
});

server.service.on('beforeResponse', (response, req) => {
  const user = byCode.get(req.body?.code);
  if (user && response.body?.access_token) byAccessToken.set(response.body.access_token, user.claims);
  byCode.delete(req.body?.code);
});

server.service.on('beforeUserinfo', (response, req) => {
  const auth = req.headers.authorization ?? '';
  const claims = byAccessToken.get(auth.replace(/^Bearer\s+/i, ''));
  if (claims) response.body = { ...response.body, ...claims };
});

await server.start(0, '127.0.0.1');
// The library would name it `localhost`; the gateway must see exactly the address it serves on.
server.issuer.url = `http://127.0.0.1:${server.address().port}`;
process.stdout.write(JSON.stringify({ issuer: server.issuer.url }) + '\n');

const stop = async () => {
  await server.stop().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test holds stdin open; when it goes away (the test ended or crashed), so does the provider.
process.stdin.on('end', stop);
process.stdin.resume();
