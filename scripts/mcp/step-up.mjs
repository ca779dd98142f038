// A step-up round (RFC 9470) between ZeroAuth and an MCP server, with the
// official MCP TypeScript SDK on both sides:
//   - the MCP server (Express, requireBearerAuth verifying tokens by
//     introspection at ZeroAuth, as check.mjs does) has two tools: `whoami`
//     for any of its tokens, and `approve_payment`, which needs a sign-in
//     with a second factor. requireBearerAuth knows only invalid_token and
//     insufficient_scope, so a small middleware of this file's own answers a
//     call of that tool with a token whose `acr` is neither
//     urn:zeroauth:acr:mfa nor phr: 401 and
//     WWW-Authenticate: Bearer error="insufficient_user_authentication",
//     error_description="…", acr_values="urn:zeroauth:acr:mfa";
//   - the MCP host (the SDK client's auth() with a pre-registered public
//     client) signs the person in with their password in a scripted
//     browser that keeps its cookies, and that browser turns an
//     authenticator app on at /account/security (codes made by otplib);
//     the tool refuses the one-factor token; the host authorizes again with
//     the challenge's acr_values added to the authorization URL, and the
//     browser, still signed in at ZeroAuth, is asked only for a code from
//     the app; the new token says acr urn:zeroauth:acr:mfa and amr
//     pwd otp mfa, and the tool runs.
//
//   node step-up.mjs BASE MCP_PORT RS_ID RS_SECRET CLIENT_ID USERNAME PASSWORD
import net from 'node:net'
import express from 'express'
import { generate } from 'otplib'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import { mcpAuthMetadataRouter, getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js'
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { Browser, formsOf, reporter, text } from '../lib/browser.mjs'

const [base, mcpPort, rsId, rsSecret, clientId, username, password] = process.argv.slice(2)
const mcpUrl = new URL(`http://127.0.0.1:${mcpPort}/mcp`)
const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(mcpUrl)
const { report, counts } = reporter('mcp')
const expect = (cond, what) => { if (!cond) throw new Error(what) }

const SFA = 'urn:zeroauth:acr:sfa'
const MFA = 'urn:zeroauth:acr:mfa'
const STRONG = new Set([MFA, 'phr'])
const NEEDS_MFA = new Set(['approve_payment'])
const SCOPE = 'openid mcp:tools'

const asMetadata = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()
const rsBasic = 'Basic ' + Buffer.from(`${encodeURIComponent(rsId)}:${encodeURIComponent(rsSecret)}`).toString('base64')

// RFC 7662 at ZeroAuth, as the resource's own confidential client.
async function introspect(token) {
  const res = await fetch(asMetadata.introspection_endpoint, {
    method: 'POST',
    headers: { authorization: rsBasic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  })
  return res.json()
}

// --- The MCP server, protected by ZeroAuth, with a tool that needs more ----
const verifier = {
  async verifyAccessToken(token) {
    const info = await introspect(token)
    if (!info.active) throw new InvalidTokenError('the token is not active')
    return {
      token,
      clientId: info.client_id,
      scopes: (info.scope ?? '').split(' ').filter(Boolean),
      expiresAt: info.exp,
      resource: info.aud ? new URL(info.aud) : undefined,
      extra: { sub: info.sub, acr: info.acr, amr: info.amr ?? [], auth_time: info.auth_time },
    }
  },
}

// RFC 9470 section 3: a call of a tool that needs a second factor, with a
// token from a sign-in without one, is refused with
// insufficient_user_authentication and the acr_values that would do.
// requireBearerAuth cannot say this (its verifier sees the token, not the
// tool), so this runs after it, on the JSON-RPC message it let through.
function requireStepUp(req, res, next) {
  const calls = [req.body].flat().filter((m) => m?.method === 'tools/call' && NEEDS_MFA.has(m.params?.name))
  if (!calls.length || STRONG.has(req.auth?.extra?.acr)) return next()
  const description = `${calls[0].params.name} needs a sign-in with a second factor`
  res.set('WWW-Authenticate',
    `Bearer error="insufficient_user_authentication", error_description="${description}", acr_values="${MFA}", resource_metadata="${resourceMetadataUrl}"`)
  res.status(401).json({ error: 'insufficient_user_authentication', error_description: description })
}

const app = express()
app.use(express.json())
app.use(mcpAuthMetadataRouter({ oauthMetadata: asMetadata, resourceServerUrl: mcpUrl, scopesSupported: ['mcp:tools'], resourceName: 'ZeroAuth step-up check' }))
app.post(
  '/mcp',
  requireBearerAuth({ verifier, requiredScopes: ['mcp:tools'], resourceMetadataUrl, expectedResource: mcpUrl }),
  requireStepUp,
  async (req, res) => {
    const server = new McpServer({ name: 'zeroauth-step-up-check', version: '1.0.0' })
    const said = (extra, more = {}) => ({
      content: [{ type: 'text', text: JSON.stringify({ sub: extra.authInfo?.extra?.sub, acr: extra.authInfo?.extra?.acr, ...more }) }],
    })
    server.registerTool('whoami', { description: 'Who is calling (any sign-in)' }, async (extra) => said(extra))
    server.registerTool('approve_payment', { description: 'Approves a payment (a sign-in with a second factor)' }, async (extra) => {
      // The middleware let only a strong sign-in through; the tool checks again.
      if (!STRONG.has(extra.authInfo?.extra?.acr)) return { isError: true, content: [{ type: 'text', text: 'not strong enough' }] }
      return said(extra, { approved: true })
    })
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => { transport.close(); server.close() })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  },
)
const mcpHttp = await new Promise((resolve) => { const s = app.listen(Number(mcpPort), '127.0.0.1', () => resolve(s)) })

// --- The person's authenticator app: otplib, each 30 s step used once ------
// ZeroAuth takes a code for the current step or one either side, and only
// for a step later than the last it took: each code here is for the next
// unused step, as early as that window allows.
let secret
let lastStep = 0
async function nextCode() {
  const now = Date.now() / 1000
  const current = Math.floor(now / 30)
  let step = Math.max(lastStep + 1, current - 1)
  // A step behind, close to the next step's start, could be two behind by the time it arrives.
  if (step === current - 1 && now - current * 30 > 25) step = current
  const wait = (step - 1) * 30 - now
  if (wait > 0) await new Promise((r) => setTimeout(r, wait * 1000 + 200))
  lastStep = step
  return generate({ secret, epoch: step * 30 })
}

// --- The MCP host: a pre-registered public client, and the person's browser --
const browser = new Browser()
const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) })

// An OAuthClientProvider kept in memory. `acrValues`, when set, goes on the
// authorization URL (the SDK's auth() has no parameter for it); `visit`
// is what the browser does with that URL.
class Provider {
  constructor(redirectUrl) { this._redirect = redirectUrl; this.info = { client_id: clientId } }
  get redirectUrl() { return this._redirect }
  get clientMetadata() {
    return {
      client_name: 'Step-up MCP host',
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
  invalidateCredentials(what) { if (what === 'tokens' || what === 'all') this._tokens = undefined }
  async redirectToAuthorization(url) {
    if (this.acrValues) url.searchParams.set('acr_values', this.acrValues)
    this.authorizationUrl = url
    if (!this.visit) throw new Error(`auth() sent the person to authorize unexpectedly: ${url}`)
    this.back = await this.visit(url)
  }
}

// auth() twice (the redirect, then the code), as an MCP host does.
async function authorize(provider) {
  const first = await auth(provider, { serverUrl: mcpUrl, scope: SCOPE, resourceMetadataUrl })
  expect(first === 'REDIRECT', `auth() answered ${first}, expected REDIRECT`)
  const code = provider.back?.searchParams.get('code')
  expect(code, `no code came back to the redirect URI: ${provider.back}`)
  expect(provider.back.searchParams.get('iss') === asMetadata.issuer, `the redirect carried iss=${provider.back.searchParams.get('iss')} (RFC 9207)`)
  const second = await auth(provider, { serverUrl: mcpUrl, authorizationCode: code, resourceMetadataUrl })
  expect(second === 'AUTHORIZED', `auth() with the code answered ${second}`)
}

// A tool called through the SDK client; every HTTP exchange it made is kept.
async function callTool(provider, name) {
  const seen = []
  const recording = async (url, init = {}) => {
    const res = await fetch(url, init)
    seen.push({ url: String(url), body: String(init.body ?? ''), status: res.status, challenge: res.headers.get('www-authenticate') })
    return res
  }
  const client = new Client({ name: 'zeroauth-step-up-check', version: '1.0.0' })
  try {
    await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: recording }))
    const result = await client.callTool({ name, arguments: {} })
    const said = result.content?.[0]?.text ?? ''
    if (result.isError) throw new Error(`the tool failed: ${said}`)
    return { result: JSON.parse(said), seen }
  } catch (error) {
    return { error, seen }
  } finally {
    await client.close()
  }
}

// `Bearer a="b", c="d"` → { scheme, a, c }.
function challengeOf(header) {
  const scheme = header?.match(/^\s*(\S+)/)?.[1]
  const params = Object.fromEntries([...(header ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v.replace(/\\(.)/g, '$1')]))
  return { scheme, ...params }
}

const amrOf = (info) => [info.amr ?? []].flat()
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'))

// --- The checks --------------------------------------------------------------
const host = new Provider(`http://127.0.0.1:${await freePort()}/callback`)
let challenge
let oneFactor

await report('step-up: a password sign-in through MCP SDK auth() (a pre-registered public client) gives a one-factor token (introspection acr sfa, amr pwd) that an ordinary tool takes', async () => {
  host.visit = async (url) => (await browser.signIn(url, host.redirectUrl, username, password)).back
  await authorize(host)
  host.visit = undefined
  oneFactor = await introspect(host.tokens().access_token)
  expect(oneFactor.active && oneFactor.acr === SFA && amrOf(oneFactor).join(' ') === 'pwd' && oneFactor.auth_time > 0,
    `introspection: ${JSON.stringify(oneFactor)}`)
  expect(oneFactor.aud === mcpUrl.href, `the token is for ${oneFactor.aud}`)
  const { result, error } = await callTool(host, 'whoami')
  expect(!error && result.sub === oneFactor.sub && result.acr === SFA, `whoami answered ${error ?? JSON.stringify(result)}`)
  expect(browser.jar.size > 0, 'the browser kept no cookie from ZeroAuth')
  return `acr ${oneFactor.acr}, amr ${amrOf(oneFactor)}, sub ${oneFactor.sub}`
})

await report('step-up: the same browser turns an authenticator app on at /account/security with a code made by otplib', async () => {
  const page = `${base}/account/security`
  const { res, html } = await browser.open(page)
  expect(res.status === 200, `/account/security answered ${res.status}: ${text(html).slice(0, 300)}`)
  const key = html.match(/<code class="secret">([^<]*)<\/code>/)?.[1]
  expect(key, `no key on the page (signed in within 10 minutes?): ${text(html).slice(0, 400)}`)
  secret = key.replace(/\s+/g, '')
  expect(/^[A-Z2-7]{32}$/.test(secret), `the key ${key} is not 160 bits of base32`)
  const form = formsOf(html).find((f) => f.hidden.some((h) => h.name === 'action' && h.value === 'add_totp'))
  expect(form?.hidden.some((h) => h.name === 'csrf') && form.hidden.some((h) => h.name === 'setup'), 'no add_totp form with csrf and setup')
  const before = browser.cookie
  const posted = await browser.submit(form, page, { code: await nextCode() })
  const after = await posted.text()
  expect(posted.status === 200 && text(after).includes('Authenticator app on.'), `turning it on answered ${posted.status}: ${text(after).slice(0, 400)}`)
  expect(text(after).includes('On: sign-ins ask for a code from your app.'), 'the page does not say the app is on')
  expect(browser.cookie !== before, 'the session was not started afresh with the new epoch')
  const codes = (after.match(/<ul class="codes">([\s\S]*?)<\/ul>/)?.[1].match(/<li>/g) ?? []).length
  return `${codes} recovery codes shown; the session cookie renewed`
})

await report('step-up: the tool that needs a second factor refuses the one-factor token: 401 insufficient_user_authentication with acr_values (RFC 9470), which the SDK client cannot act on', async () => {
  const { result, error, seen } = await callTool(host, 'approve_payment')
  expect(error && !result, `the tool ran with a one-factor token: ${JSON.stringify(result)}`)
  const refused = seen.filter((s) => s.url === mcpUrl.href && s.status === 401)
  expect(refused.length, `no 401 from the MCP server: ${seen.map((s) => `${s.status} ${s.url}`).join(', ')}; ${error}`)
  challenge = challengeOf(refused[0].challenge)
  expect(challenge.scheme === 'Bearer' && challenge.error === 'insufficient_user_authentication' && challenge.error_description,
    `WWW-Authenticate: ${refused[0].challenge}`)
  expect(challenge.acr_values === MFA, `acr_values ${challenge.acr_values}`)
  expect(challenge.resource_metadata === resourceMetadataUrl, `resource_metadata ${challenge.resource_metadata}`)
  // The SDK (1.32.2) takes any 401 for an expired token: it refreshes and
  // tries again. The refreshed token must not be any stronger.
  const refreshes = seen.filter((s) => s.url === asMetadata.token_endpoint && s.body.includes('grant_type=refresh_token'))
  const renewed = await introspect(host.tokens().access_token)
  expect(renewed.active && renewed.acr === SFA, `after the SDK's refresh: ${JSON.stringify(renewed)}`)
  return `acr_values ${challenge.acr_values}; the SDK refreshed ${refreshes.length} time(s), got ${refused.length} 401(s) and gave up: ${error.message}`
})

let factorPage
let factorAt
await report('step-up: authorizing again with those acr_values, the browser still signed in is asked only for the app\'s code (no password), and the otplib code gets a new code', async () => {
  expect(challenge?.acr_values, 'no challenge from the previous check')
  // The one-factor tokens cannot be stepped up by a refresh: drop them and
  // send the person to authorize with what the server asked for.
  host.invalidateCredentials('tokens')
  host.acrValues = challenge.acr_values
  host.visit = async (url) => {
    const { res, html } = await browser.open(url)
    factorPage = html
    const shown = text(html)
    expect(res.status === 200 && shown.includes('Confirm it is you'), `/authorize answered ${res.status}: ${shown.slice(0, 400)}`)
    const forms = formsOf(html)
    expect(!/type="password"|name="password"/.test(html) && !forms.some((f) => f.inputs.some((i) => i.name === 'password' || i.name === 'username')),
      `the page asks for the password again: ${shown.slice(0, 400)}`)
    const totp = forms.find((f) => f.hidden.some((h) => h.name === 'factor' && h.value === 'totp'))
    expect(totp && new URL(totp.action, url).pathname === '/login/factor' && totp.hidden.some((h) => h.name === 'request') && totp.hidden.some((h) => h.name === 'step'),
      `no authenticator-app form posting to /login/factor: ${JSON.stringify(forms.map((f) => f.action))}`)
    expect(totp.inputs.some((i) => i.name === 'code'), 'the form has no code field')
    const code = await nextCode()
    factorAt = Math.floor(Date.now() / 1000)
    const posted = await browser.submit(totp, url, { code })
    const location = posted.headers.get('location')
    expect(posted.status === 303 && location?.startsWith(host.redirectUrl), `the code answered ${posted.status} ${location ?? text(await posted.text()).slice(0, 300)}`)
    return new URL(location)
  }
  await authorize(host)
  host.visit = undefined
  expect(host.authorizationUrl.searchParams.get('acr_values') === MFA, `the authorization URL was ${host.authorizationUrl}`)
  return `the page said "${text(factorPage).match(/One more step to sign in to [^.]*/)?.[0]?.trim()}."`
})

await report('step-up: the new token\'s introspection says acr urn:zeroauth:acr:mfa, amr pwd otp mfa, auth_time that of the second factor; the ID token says so too', async () => {
  const info = await introspect(host.tokens().access_token)
  const amr = amrOf(info)
  expect(info.active && info.acr === MFA, `introspection: ${JSON.stringify(info)}`)
  expect(['pwd', 'otp', 'mfa'].every((a) => amr.includes(a)), `amr ${JSON.stringify(info.amr)}`)
  expect(info.sub === oneFactor.sub && info.aud === mcpUrl.href, `sub ${info.sub}, aud ${info.aud}`)
  expect(info.auth_time >= factorAt && info.auth_time >= oneFactor.auth_time, `auth_time ${info.auth_time}, the code was posted at ${factorAt}`)
  const idToken = host.tokens().id_token
  expect(idToken, `no id_token (scope ${host.tokens().scope})`)
  const claims = claimsOf(idToken)
  expect(claims.acr === MFA && ['pwd', 'otp', 'mfa'].every((a) => claims.amr?.includes(a)), `ID token: acr ${claims.acr}, amr ${claims.amr}`)
  return `acr ${info.acr}, amr ${amr.join(' ')}, auth_time ${info.auth_time} (the password's ${oneFactor.auth_time})`
})

await report('step-up: the tool that needs a second factor now runs', async () => {
  const { result, error, seen } = await callTool(host, 'approve_payment')
  expect(!error && result.approved === true && result.acr === MFA && result.sub === oneFactor.sub, `approve_payment answered ${error ?? JSON.stringify(result)}`)
  expect(!seen.some((s) => s.status === 401), 'the MCP server refused a request on the way')
  return `approved for ${result.sub}`
})

await report('step-up: a refresh of the stepped-up grant keeps acr mfa, and the tool still runs', async () => {
  const before = host.tokens().access_token
  expect((await auth(host, { serverUrl: mcpUrl, resourceMetadataUrl })) === 'AUTHORIZED', 'refresh did not authorize')
  expect(host.tokens().access_token !== before, 'the access token was not renewed')
  const info = await introspect(host.tokens().access_token)
  expect(info.active && info.acr === MFA && amrOf(info).includes('otp'), `after the refresh: ${JSON.stringify(info)}`)
  const { result, error } = await callTool(host, 'approve_payment')
  expect(!error && result.approved === true, `approve_payment answered ${error ?? JSON.stringify(result)}`)
  return `acr ${info.acr}`
})

mcpHttp.close()
const { passed, failed } = counts()
console.log(`mcp step-up check: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
