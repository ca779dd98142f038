// An upstream OpenID provider for ZeroAuth's federation checks: node-oidc-provider
// (npm oidc-provider, pinned in package.json, installed with `npm ci` from the
// lock file), a certified implementation nobody here wrote, served over https on
// loopback.
//
//   node scripts/upstream/idp.mjs --port P --cert CERT.pem --key KEY.pem --redirect URI [--redirect URI…]
//
// Issuer https://localhost:P, listening on 127.0.0.1:P; the certificate must be
// for localhost (scripts/browser-check makes a self-signed one and hands the
// same PEM to ZeroAuth as its trusted extra root). Prints one line
// `ready https://localhost:P` on stdout once it listens, logs to stderr, and
// runs until it is killed.
//
// One client: client_id `zeroauth`, secret `upstream-browser-secret-0123456789`
// (client_secret_basic), the given redirect URIs, authorization_code only, PKCE
// (S256) required for it.
//
// People sign in on node-oidc-provider's own development pages (devInteractions,
// enabled here explicitly so NODE_ENV makes no difference): any login, any
// password; then its consent page ("Continue", or "[ Cancel ]", which answers
// the client error=access_denied). The login is the subject; the claims are
//   email `<login>@upstream.test`, email_verified true — false for a login that
//   starts with `unverified` — and name, the login capitalised,
// released for the scopes openid, email and profile in the ID token as well as
// at userinfo (conformIdTokenClaims off), so a client may read either.
//
// The development pages import a web font from the Internet; every HTML answer
// is stripped of that import so a browser on this machine asks nothing of any
// host but loopback.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { parseArgs } from 'node:util'
import Provider from 'oidc-provider'

const CLIENT_ID = 'zeroauth'
const CLIENT_SECRET = 'upstream-browser-secret-0123456789'
const EMAIL_DOMAIN = 'upstream.test'

const usage = 'usage: node idp.mjs --port P --cert CERT.pem --key KEY.pem --redirect URI [--redirect URI…]'
let args
try {
  ;({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      redirect: { type: 'string', multiple: true },
    },
    strict: true,
  }))
} catch (e) {
  console.error(`idp: ${e.message}\n${usage}`)
  process.exit(2)
}
const port = Number(args.port)
if (!Number.isInteger(port) || port < 1 || port > 65535 || !args.cert || !args.key || !args.redirect?.length) {
  console.error(usage)
  process.exit(2)
}
const issuer = `https://localhost:${port}`

// The claims of one login. Any login signs in; the `unverified…` ones have an
// address the upstream does not vouch for.
function claimsOf(login) {
  return {
    sub: login,
    email: `${login}@${EMAIL_DOMAIN}`,
    email_verified: !login.startsWith('unverified'),
    name: login.charAt(0).toUpperCase() + login.slice(1),
  }
}

// A signing key of this run's own, rather than the library's published
// development keys.
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    client_name: 'ZeroAuth',
    redirect_uris: args.redirect,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  responseTypes: ['code'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    return { accountId: id, claims: async () => claimsOf(id) }
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  conformIdTokenClaims: false,
  jwks: { keys: [{ ...signing, kid: 'upstream-rs256', use: 'sig', alg: 'RS256' }] },
  cookies: {
    // The browser keeps one cookie jar per host, whatever the port: names of
    // their own keep these apart from ZeroAuth's on http://localhost.
    names: { session: 'upstream_session', interaction: 'upstream_interaction', resume: 'upstream_resume' },
    keys: [randomBytes(32).toString('base64url')],
  },
})

provider.use(async (ctx, next) => {
  await next()
  if (typeof ctx.body === 'string' && /html/.test(ctx.type)) {
    ctx.body = ctx.body.replace(/@import url\(https?:\/\/[^)]*\);?/g, '')
  }
})

// What went wrong, on stderr, for the log that scripts/browser-check keeps.
for (const event of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error']) {
  provider.on(event, (_ctx, error) => console.error(`idp: ${event}: ${error?.message ?? error} ${error?.error_description ?? ''}`))
}

const tls = { cert: readFileSync(args.cert), key: readFileSync(args.key) }
const server = createServer(tls, provider.callback())
server.on('error', (e) => {
  console.error(`idp: ${e.message}`)
  process.exit(1)
})
server.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`))
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
