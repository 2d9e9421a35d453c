// A local OpenID Connect provider for horded's login tests (oidc-provider, loopback only).
//
//   node oidc_server.mjs --port 0 --client-id horde --client-secret s3cret \
//        --redirect-uri http://127.0.0.1:7001/auth/callback/oidc [--redirect-uri ...] \
//        [--auth-method client_secret_basic|client_secret_post]
// (or env OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS comma-separated)
//
// Prints "ISSUER http://127.0.0.1:<port>" when ready. Logins use oidc-provider's development
// interactions: any login name with any password is accepted (the account id is the login), the
// consent page's form grants, and /interaction/<uid>/abort denies (error=access_denied). PKCE
// (S256) is required for every authorization request. Accounts have claims
// {sub, name: "Name <login>", preferred_username: <login>}.

import http from 'node:http';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PORT ?? '0' },
    'client-id': { type: 'string', default: process.env.OIDC_CLIENT_ID ?? 'horde' },
    'client-secret': { type: 'string', default: process.env.OIDC_CLIENT_SECRET ?? 'horde-secret' },
    'redirect-uri': {
      type: 'string',
      multiple: true,
      default: (process.env.OIDC_REDIRECT_URIS ?? '').split(',').filter(Boolean),
    },
    'auth-method': { type: 'string', default: 'client_secret_basic' },
  },
});

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(values.port), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: values['client-id'],
    client_secret: values['client-secret'],
    redirect_uris: values['redirect-uri'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: values['auth-method'],
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: `Name ${id}`, preferred_username: id };
      },
    };
  },
  cookies: { keys: ['oidc-test-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;

server.on('request', provider.callback());
console.log(`ISSUER ${issuer}`);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
