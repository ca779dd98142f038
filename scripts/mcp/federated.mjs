// ZeroAuth in front of an MCP server that acts on the person's GitHub
// account, driven by the official MCP TypeScript SDK on both sides, with
// GitHub played by github-stub.mjs (https on loopback):
//   - the MCP server (Express, requireBearerAuth verifying tokens by
//     introspection with its own URL as the expected resource, as check.mjs
//     does) has a tool `whoami_on_github`: it exchanges the ZeroAuth access
//     token it was called with for the person's GitHub token (RFC 8693,
//     requested_token_type upstream-access-token) as the resource's own
//     confidential client, calls GitHub's /api/user with it and answers the
//     login;
//   - the SDK client's auth() registers (RFC 7591) and sends the person to
//     ZeroAuth's sign-in page, where "Continue with GitHub" is taken (HTTP
//     requests with a cookie jar, no browser): ZeroAuth → GitHub, already
//     signed in there, straight back → ZeroAuth's own consent page → the
//     code, exchanged with PKCE and resource.
// Checks that the tool learns the login, that ZeroAuth asked its own
// consent naming the MCP client, that no other client gets the upstream
// token, that the ID token is ZeroAuth's (amr fed, its own sub), that the
// token survives a refresh, that a password sign-in kept none, and that
// revoking the grant ends it.
//
//   node federated.mjs BASE MCP_PORT CERT GITHUB_PORT RS_ID RS_SECRET OTHER_ID OTHER_SECRET USERNAME PASSWORD
import crypto from 'node:crypto'
import fs from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import express from 'express'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import { mcpAuthMetadataRouter, getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js'
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { reporter, signIn } from '../lib/browser.mjs'

const [base, mcpPort, certFile, githubPort, rsId, rsSecret, otherId, otherSecret, username, password] = process.argv.slice(2)
const mcpUrl = new URL(`http://127.0.0.1:${mcpPort}/mcp`)
const github = `https://localhost:${githubPort}`
const ca = fs.readFileSync(certFile)
const { report, counts } = reporter('mcp')
const expect = (cond, what) => { if (!cond) throw new Error(what) }

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'
const UPSTREAM = 'urn:zeroauth:params:oauth:token-type:upstream-access-token'
const GITHUB_LOGIN = 'octo-walker' // github-stub.mjs's signed-in person
const GITHUB_ID = 5830231
const GITHUB_EMAIL = 'octo-walker@github.test'
const CLIENT_NAME = 'Federated MCP host'

const asMetadata = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()
const basicOf = (id, secret) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')
const rsBasic = basicOf(rsId, rsSecret)
const form = { 'content-type': 'application/x-www-form-urlencoded' }

// A GET over https trusting the check's certificate (fetch cannot be told one).
const httpsGet = (url, headers = {}) => new Promise((resolve, reject) => {
  https.get(url, { ca, headers }, (res) => {
    let body = ''
    res.setEncoding('utf8')
    res.on('data', (c) => { body += c })
    res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }))
  }).on('error', reject)
})

// RFC 8693 at ZeroAuth: `subject` for the person's upstream token, as `client`.
async function upstreamToken(subject, client) {
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE,
    subject_token: subject,
    subject_token_type: ACCESS_TOKEN,
    requested_token_type: UPSTREAM,
  })
  const headers = { ...form }
  if (client.secret) headers.authorization = basicOf(client.id, client.secret)
  else body.set('client_id', client.id)
  const res = await fetch(asMetadata.token_endpoint, { method: 'POST', headers, body })
  return { status: res.status, body: await res.json().catch(() => ({})) }
}

// --- The MCP server, protected by ZeroAuth, acting at GitHub -------------
const verifier = {
  async verifyAccessToken(token) {
    const res = await fetch(asMetadata.introspection_endpoint, {
      method: 'POST',
      headers: { ...form, authorization: rsBasic },
      body: new URLSearchParams({ token }),
    })
    const info = await res.json()
    if (!info.active) throw new InvalidTokenError('the token is not active')
    return {
      token,
      clientId: info.client_id,
      scopes: (info.scope ?? '').split(' ').filter(Boolean),
      expiresAt: info.exp,
      resource: info.aud ? new URL(info.aud) : undefined,
      extra: { sub: info.sub },
    }
  },
}
const upstreamSeen = [] // the upstream tokens the tool got, kept on the server's side
const app = express()
app.use(express.json())
app.use(mcpAuthMetadataRouter({ oauthMetadata: asMetadata, resourceServerUrl: mcpUrl, scopesSupported: ['mcp:tools'], resourceName: 'ZeroAuth federated check' }))
app.post(
  '/mcp',
  requireBearerAuth({ verifier, requiredScopes: ['mcp:tools'], resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpUrl), expectedResource: mcpUrl }),
  async (req, res) => {
    const server = new McpServer({ name: 'zeroauth-federated-check', version: '1.0.0' })
    server.registerTool('whoami_on_github', { description: 'The caller\'s GitHub login, asked of GitHub with their own token' }, async (extra) => {
      const failed = (what) => ({ isError: true, content: [{ type: 'text', text: what }] })
      const ex = await upstreamToken(extra.authInfo.token, { id: rsId, secret: rsSecret })
      if (ex.status !== 200) return failed(`token exchange answered ${ex.status}: ${JSON.stringify(ex.body)}`)
      upstreamSeen.push(ex.body.access_token)
      const gh = await httpsGet(`${github}/api/user`, {
        authorization: `Bearer ${ex.body.access_token}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'zeroauth-mcp-check',
      })
      if (gh.status !== 200) return failed(`GitHub's /api/user answered ${gh.status}: ${gh.body}`)
      const user = JSON.parse(gh.body)
      return {
        content: [{
          type: 'text',
          text: JSON.stringify({
            login: user.login,
            github_id: user.id,
            sub: extra.authInfo.extra?.sub,
            client: extra.authInfo.clientId,
            exchange: { issued_token_type: ex.body.issued_token_type, token_type: ex.body.token_type, expires_in: ex.body.expires_in },
          }),
        }],
      }
    })
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => { transport.close(); server.close() })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  },
)
const mcpHttp = await new Promise((resolve) => { const s = app.listen(Number(mcpPort), '127.0.0.1', () => resolve(s)) })

// --- Driving ZeroAuth's pages and the GitHub stub with HTTP requests ------
const unescape = (s) => s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&#x27;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')
const attrs = (tag) => Object.fromEntries([...tag.matchAll(/([a-zA-Z_:-]+)(?:="([^"]*)")?/g)].slice(1).map(([, k, v]) => [k.toLowerCase(), unescape(v ?? '')]))
// The forms of a page: action, hidden fields and buttons.
const formsOf = (html) => [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, open, inner]) => ({
  action: attrs(`<form ${open}`).action,
  hidden: [...inner.matchAll(/<input\b[^>]*>/g)].map(([t]) => attrs(t)).filter((a) => a.type === 'hidden' && a.name),
  buttons: [...inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/g)].map(([, a, label]) => ({ ...attrs(`<button ${a}`), label: label.replace(/<[^>]*>/g, '').trim() })),
}))
const text = (html) => unescape(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ')

class CookieJar {
  jar = new Map()
  keep(res) { for (const c of res.headers.getSetCookie()) { const [pair] = c.split(';'); const i = pair.indexOf('='); const [k, v] = [pair.slice(0, i), pair.slice(i + 1)]; if (v) this.jar.set(k, v); else this.jar.delete(k) } }
  get header() { return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') }
}

// From the SDK's authorization URL to the code at the client's redirect
// URI, by "Continue with GitHub". Returns what each step showed.
async function signInWithGitHub(authorizationUrl, redirectUri) {
  const jar = new CookieJar()
  const zeroauth = async (url, init = {}) => {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: jar.header } })
    jar.keep(res)
    return res
  }
  // 1. ZeroAuth's sign-in page, and its GitHub button.
  const page = await zeroauth(authorizationUrl)
  const signInPage = await page.text()
  const signInForm = formsOf(signInPage).find((f) => f.buttons.some((b) => b.name === 'provider' && b.value === 'github'))
  expect(page.status === 200 && signInForm, `no GitHub button on the sign-in page (${page.status}): ${text(signInPage).slice(0, 300)}`)
  const button = signInForm.buttons.find((b) => b.name === 'provider')
  expect(button.label === 'Continue with GitHub' && 'formnovalidate' in button, `the button is ${JSON.stringify(button)}`)
  const fields = (f, extra) => new URLSearchParams([...f.hidden.map((h) => [h.name, h.value]), ...Object.entries(extra)])
  // 2. Its form with provider=github: 303 to GitHub's authorize endpoint.
  const toGitHub = await zeroauth(new URL(signInForm.action, authorizationUrl), { method: 'POST', headers: form, body: fields(signInForm, { provider: 'github' }) })
  const atGitHub = new URL(toGitHub.headers.get('location') ?? 'about:blank')
  expect(toGitHub.status === 303 && atGitHub.href.startsWith(`${github}/login/oauth/authorize?`), `the GitHub button answered ${toGitHub.status} ${atGitHub.href}`)
  expect([...jar.jar.keys()].some((k) => k.includes('za_upstream')), `no binding cookie (za_upstream) was set: ${[...jar.jar.keys()]}`)
  const asked = Object.fromEntries(atGitHub.searchParams)
  expect(asked.client_id === 'Iv1.test' && asked.redirect_uri === `${base}/federation/callback` && asked.code_challenge_method === 'S256' && asked.state,
    `ZeroAuth asked GitHub ${JSON.stringify(asked)}`)
  // 3. GitHub, already signed in: 302 straight back, no page.
  const fromGitHub = await httpsGet(atGitHub.href)
  const callback = new URL(fromGitHub.headers.location ?? 'about:blank')
  expect(fromGitHub.status === 302 && callback.href.startsWith(`${base}/federation/callback?`), `GitHub answered ${fromGitHub.status} ${fromGitHub.headers.location ?? fromGitHub.body}`)
  expect(callback.searchParams.get('state') === asked.state && callback.searchParams.get('code'), `GitHub sent back ${callback.search}`)
  // 4. ZeroAuth's callback with the binding cookie: its own consent page.
  const consentRes = await zeroauth(callback)
  const consentPage = await consentRes.text()
  expect(consentRes.status === 200, `the federation callback answered ${consentRes.status}: ${text(consentPage).slice(0, 300)}`)
  const consentForm = formsOf(consentPage).find((f) => f.buttons.some((b) => b.name === 'decision' && b.value === 'approve'))
  expect(consentForm?.hidden.some((h) => h.name === 'request'), `no consent form after GitHub: ${text(consentPage).slice(0, 300)}`)
  // 5. Approve: 303 to the client with code, state and iss.
  const approved = await zeroauth(new URL(consentForm.action, callback), { method: 'POST', headers: form, body: fields(consentForm, { decision: 'approve' }) })
  const location = approved.headers.get('location')
  expect(approved.status === 303 && location?.startsWith(redirectUri), `approving answered ${approved.status} ${location ?? text(await approved.text()).slice(0, 300)}`)
  return { back: new URL(location), consentPage, githubAnswer: fromGitHub.status, asked }
}

// An OAuthClientProvider kept in memory, as an MCP host would keep it.
class Provider {
  constructor(redirectUrl, how, name = CLIENT_NAME) { this._redirect = redirectUrl; this.how = how; this.name = name }
  get redirectUrl() { return this._redirect }
  get clientMetadata() {
    return {
      client_name: this.name,
      redirect_uris: [this._redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }
  clientInformation() { return this.info }
  saveClientInformation(info) { this.info = info }
  tokens() { return this._tokens }
  saveTokens(tokens) { this._tokens = tokens }
  saveCodeVerifier(v) { this._verifier = v }
  codeVerifier() { return this._verifier }
  async redirectToAuthorization(url) {
    this.authorizationUrl = url
    if (this.how === 'password') {
      const { back, page } = await signIn(url, this._redirect, username, password)
      Object.assign(this, { back, consentPage: page })
    } else {
      Object.assign(this, await signInWithGitHub(url, this._redirect))
    }
  }
}

const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) })

// auth() twice (the redirect, then the code), as an MCP host does.
async function authorize(provider, scope) {
  const first = await auth(provider, { serverUrl: mcpUrl, scope })
  expect(first === 'REDIRECT', `auth() answered ${first}, expected REDIRECT`)
  const code = provider.back?.searchParams.get('code')
  expect(code, 'no code came back to the redirect URI')
  expect(provider.back.searchParams.get('iss') === asMetadata.issuer, `the redirect carried iss=${provider.back.searchParams.get('iss')} (RFC 9207)`)
  expect(provider.authorizationUrl.searchParams.get('resource') === mcpUrl.href, `the SDK asked for resource ${provider.authorizationUrl.searchParams.get('resource')}`)
  const second = await auth(provider, { serverUrl: mcpUrl, authorizationCode: code })
  expect(second === 'AUTHORIZED', `auth() with the code answered ${second}`)
}

async function whoamiOnGitHub(provider) {
  const client = new Client({ name: 'zeroauth-federated-check', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }))
  const tools = await client.listTools()
  expect(tools.tools.some((t) => t.name === 'whoami_on_github'), `tools/list: ${tools.tools.map((t) => t.name)}`)
  const result = await client.callTool({ name: 'whoami_on_github', arguments: {} })
  await client.close()
  const said = result.content?.[0]?.text ?? ''
  if (result.isError) throw new Error(`the tool failed: ${said}`)
  return JSON.parse(said)
}

// A JWT's claims once its signature verifies against ZeroAuth's key set.
async function verifiedClaims(jwt) {
  const [h, p, s] = jwt.split('.')
  const header = JSON.parse(Buffer.from(h, 'base64url'))
  const jwks = await (await fetch(asMetadata.jwks_uri ?? `${base}/jwks`)).json()
  const jwk = jwks.keys.find((k) => k.kid === header.kid)
  expect(jwk, `no key ${header.kid} at the key set`)
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' })
  const algs = {
    RS256: ['sha256', {}], RS384: ['sha384', {}], RS512: ['sha512', {}],
    PS256: ['sha256', { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
    ES256: ['sha256', { dsaEncoding: 'ieee-p1363' }], ES384: ['sha384', { dsaEncoding: 'ieee-p1363' }],
    EdDSA: [null, {}],
  }
  expect(algs[header.alg], `unexpected alg ${header.alg}`)
  const [hash, opts] = algs[header.alg]
  expect(crypto.verify(hash, Buffer.from(`${h}.${p}`), { key, ...opts }, Buffer.from(s, 'base64url')), 'the signature does not verify')
  return JSON.parse(Buffer.from(p, 'base64url'))
}

// --- The checks ------------------------------------------------------------
const host = new Provider(`http://127.0.0.1:${await freePort()}/callback`, 'github')
let who
await report('federated: MCP SDK auth() through "Continue with GitHub" (GitHub 302s straight back), then whoami_on_github exchanges the token and asks GitHub', async () => {
  await authorize(host, 'openid email mcp:tools')
  expect(host.info?.client_id?.startsWith('za_client_'), `registered client ${JSON.stringify(host.info)}`)
  who = await whoamiOnGitHub(host)
  expect(who.login === GITHUB_LOGIN && who.github_id === GITHUB_ID, `the tool answered ${JSON.stringify(who)}`)
  expect(who.client === host.info.client_id, `the tool saw client ${who.client}`)
  expect(who.exchange.issued_token_type === UPSTREAM && /^bearer$/i.test(who.exchange.token_type) && who.exchange.expires_in > 0,
    `the exchange answered ${JSON.stringify(who.exchange)}`)
  const upstream = upstreamSeen.at(-1)
  expect(upstream?.startsWith('gho_') && upstream !== host.tokens().access_token && !JSON.stringify(host.tokens()).includes(upstream),
    'the MCP client must hold a ZeroAuth token, never the GitHub one')
  return `GitHub login ${who.login}; expires_in ${who.exchange.expires_in}`
})

await report('federated: ZeroAuth\'s own consent page named the MCP client, although GitHub asked nothing', async () => {
  expect(host.githubAnswer === 302, `GitHub answered ${host.githubAnswer}`)
  const shown = text(host.consentPage ?? '')
  expect(shown.includes(`Allow ${CLIENT_NAME}?`), `the consent page does not ask "Allow ${CLIENT_NAME}?": ${shown.slice(0, 400)}`)
  expect(/Signed in as/.test(shown), `the consent page does not say who is signed in: ${shown.slice(0, 400)}`)
  expect(shown.includes('is not verified by this server'), 'the consent page does not mark the registered client unverified')
  return shown.match(/Signed in as [^.?!]*/)?.[0]?.trim().slice(0, 80)
})

await report('federated: the MCP client, with its own ZeroAuth token, cannot get the GitHub token (unauthorized_client)', async () => {
  const own = await upstreamToken(host.tokens().access_token, { id: host.info.client_id })
  expect(own.body.error === 'unauthorized_client' && !own.body.access_token, `the MCP client got ${own.status} ${JSON.stringify(own.body)}`)
  return `${own.status} ${own.body.error}`
})

await report('federated: a confidential client registered for token exchange, not the resource\'s, cannot either (unauthorized_client)', async () => {
  const other = await upstreamToken(host.tokens().access_token, { id: otherId, secret: otherSecret })
  expect(other.body.error === 'unauthorized_client' && !other.body.access_token, `${otherId} got ${other.status} ${JSON.stringify(other.body)}`)
  return `${other.status} ${other.body.error}: ${other.body.error_description}`
})

await report('federated: the ID token is ZeroAuth\'s: amr fed, idp github, its own sub (not the GitHub id), GitHub\'s verified primary address', async () => {
  const idToken = host.tokens().id_token
  expect(idToken, `no id_token in the token response (scope ${host.tokens().scope})`)
  const claims = await verifiedClaims(idToken)
  const wrong = []
  if (claims.iss !== asMetadata.issuer) wrong.push(`iss ${claims.iss}`)
  if (![claims.aud].flat().includes(host.info.client_id)) wrong.push(`aud ${claims.aud}`)
  if (!claims.amr?.includes('fed')) wrong.push(`amr ${JSON.stringify(claims.amr)}`)
  if (claims.idp !== 'github') wrong.push(`idp ${claims.idp}`)
  if (!claims.sub || claims.sub === String(GITHUB_ID) || claims.sub === GITHUB_LOGIN) wrong.push(`sub ${claims.sub} is GitHub's`)
  if (claims.sub !== who?.sub) wrong.push(`sub ${claims.sub} is not the one introspection gave the MCP server (${who?.sub})`)
  if (claims.email !== GITHUB_EMAIL || claims.email_verified !== true) wrong.push(`email ${claims.email} (verified ${claims.email_verified})`)
  expect(!wrong.length, `${wrong.join('; ')}: ${JSON.stringify(claims)}`)
  return `sub ${claims.sub}, amr ${claims.amr.join(' ')}, idp ${claims.idp}`
})

await report('federated: after a refresh the new access token still reaches the kept GitHub token', async () => {
  const before = host.tokens().access_token
  expect((await auth(host, { serverUrl: mcpUrl })) === 'AUTHORIZED', 'refresh did not authorize')
  expect(host.tokens().access_token !== before, 'the access token was not renewed')
  const again = await whoamiOnGitHub(host)
  expect(again.login === GITHUB_LOGIN && again.sub === who.sub, `the tool answered ${JSON.stringify(again)}`)
  return `login ${again.login}`
})

await report('federated: another MCP host, GitHub again: its own consent, the same ZeroAuth person, its own kept GitHub token', async () => {
  const second = new Provider(`http://127.0.0.1:${await freePort()}/callback`, 'github', 'Second MCP host')
  await authorize(second)
  const shown = text(second.consentPage ?? '')
  expect(second.githubAnswer === 302 && shown.includes('Allow Second MCP host?'), `the consent page: ${shown.slice(0, 400)}`)
  const seen = upstreamSeen.length
  const there = await whoamiOnGitHub(second)
  expect(there.login === GITHUB_LOGIN && there.sub === who.sub && there.client === second.info.client_id, `the tool answered ${JSON.stringify(there)}`)
  const mine = await whoamiOnGitHub(host)
  const [secondsToken, firstsToken] = upstreamSeen.slice(seen)
  expect(secondsToken && firstsToken && secondsToken !== firstsToken && firstsToken === upstreamSeen[0],
    'each grant must hand out the GitHub token its own sign-in got')
  expect(mine.sub === who.sub, `the first host's tool call answered ${JSON.stringify(mine)}`)
  return `sub ${there.sub} for both`
})

await report('federated: a password sign-in for the same resource kept no GitHub token (invalid_grant)', async () => {
  const walker = new Provider(`http://127.0.0.1:${await freePort()}/callback`, 'password')
  await authorize(walker)
  const ex = await upstreamToken(walker.tokens().access_token, { id: rsId, secret: rsSecret })
  expect(ex.status === 400 && ex.body.error === 'invalid_grant' && !ex.body.access_token, `the resource's client got ${ex.status} ${JSON.stringify(ex.body)}`)
  return ex.body.error_description
})

await report('federated: revoking the MCP client\'s refresh token ends the GitHub token\'s hand-out', async () => {
  const { access_token: access, refresh_token: refresh } = host.tokens()
  expect(refresh, 'no refresh token')
  const revoked = await fetch(asMetadata.revocation_endpoint ?? `${base}/revoke`, {
    method: 'POST', headers: form, body: new URLSearchParams({ token: refresh, token_type_hint: 'refresh_token', client_id: host.info.client_id }),
  })
  expect(revoked.status === 200, `revocation answered ${revoked.status}`)
  const ex = await upstreamToken(access, { id: rsId, secret: rsSecret })
  expect(ex.body.error === 'invalid_grant' && !ex.body.access_token, `after revocation the resource's client got ${ex.status} ${JSON.stringify(ex.body)}`)
  return `${ex.status} ${ex.body.error}`
})

mcpHttp.close()
const { passed, failed } = counts()
console.log(`mcp federated check: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
