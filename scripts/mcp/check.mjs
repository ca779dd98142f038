// ZeroAuth protecting an MCP server, driven by the official MCP TypeScript
// SDK (@modelcontextprotocol/sdk) on both sides:
//   - a small MCP server (Express) publishes its protected resource metadata
//     with mcpAuthMetadataRouter and checks every request with
//     requireBearerAuth, expecting its own URL as the token's resource; it
//     verifies tokens by introspection at ZeroAuth as the resource's client;
//   - the SDK client's auth() discovers ZeroAuth, registers (RFC 7591) or
//     names its client metadata document, sends the person through the
//     sign-in page (a scripted browser), exchanges the code with PKCE and
//     resource, and calls a tool; then refreshes;
//   - a browser-style CORS preflight at the token endpoint.
//
//   node check.mjs BASE MCP_PORT DOC_PORT CERT KEY RS_ID RS_SECRET USERNAME PASSWORD
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

const [base, mcpPort, docPort, certFile, keyFile, rsId, rsSecret, username, password] = process.argv.slice(2)
const mcpUrl = new URL(`http://127.0.0.1:${mcpPort}/mcp`)
const { report, counts } = reporter('mcp')
const expect = (cond, what) => { if (!cond) throw new Error(what) }

// --- The MCP server, protected by ZeroAuth -------------------------------
const asMetadata = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()
const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(rsId)}:${encodeURIComponent(rsSecret)}`).toString('base64')
const verifier = {
  async verifyAccessToken(token) {
    const res = await fetch(asMetadata.introspection_endpoint, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
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
const app = express()
app.use(express.json())
app.use(mcpAuthMetadataRouter({ oauthMetadata: asMetadata, resourceServerUrl: mcpUrl, scopesSupported: ['mcp:tools'], resourceName: 'ZeroAuth check' }))
app.post(
  '/mcp',
  requireBearerAuth({ verifier, requiredScopes: ['mcp:tools'], resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpUrl), expectedResource: mcpUrl }),
  async (req, res) => {
    const server = new McpServer({ name: 'zeroauth-check', version: '1.0.0' })
    server.registerTool('whoami', { description: 'Who is calling' }, async (extra) => ({
      content: [{ type: 'text', text: JSON.stringify({ client: extra.authInfo?.clientId, sub: extra.authInfo?.extra?.sub }) }],
    }))
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => { transport.close(); server.close() })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  },
)
const mcpHttp = await new Promise((resolve) => { const s = app.listen(Number(mcpPort), '127.0.0.1', () => resolve(s)) })

// --- A client metadata document over https (self-signed certificate) -----
const docUrl = `https://localhost:${docPort}/oauth/client.json`
let docHits = 0
const document = {
  client_id: docUrl,
  client_name: 'ZeroAuth MCP check (metadata document)',
  redirect_uris: ['http://127.0.0.1/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
}
const docServer = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (req, res) => {
  if (req.url !== '/oauth/client.json') { res.writeHead(404).end(); return }
  docHits++
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(JSON.stringify(document))
})
await new Promise((resolve) => docServer.listen(Number(docPort), '127.0.0.1', resolve))

// An OAuthClientProvider kept in memory, as an MCP host would keep it.
class Provider {
  constructor(redirectUrl, clientMetadataUrl) {
    this._redirect = redirectUrl
    this.clientMetadataUrl = clientMetadataUrl
  }
  get redirectUrl() { return this._redirect }
  get clientMetadata() {
    return {
      client_name: 'ZeroAuth MCP check',
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
    const { back, page } = await signIn(url, this._redirect, username, password)
    this.consentPage = page
    this.code = back.searchParams.get('code')
    this.iss = back.searchParams.get('iss')
  }
}

const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) })

async function authorizeAndCall(provider) {
  const first = await auth(provider, { serverUrl: mcpUrl })
  expect(first === 'REDIRECT', `auth() answered ${first}, expected REDIRECT`)
  expect(provider.code, 'no code came back to the redirect URI')
  expect(provider.iss === asMetadata.issuer, `the redirect carried iss=${provider.iss} (RFC 9207)`)
  expect(provider.authorizationUrl.searchParams.get('resource') === mcpUrl.href, `the SDK asked for resource ${provider.authorizationUrl.searchParams.get('resource')}`)
  const second = await auth(provider, { serverUrl: mcpUrl, authorizationCode: provider.code })
  expect(second === 'AUTHORIZED', `auth() with the code answered ${second}`)
  return callTool(provider)
}

async function callTool(provider) {
  const client = new Client({ name: 'zeroauth-check', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }))
  const result = await client.callTool({ name: 'whoami', arguments: {} })
  await client.close()
  return JSON.parse(result.content[0].text)
}

const registered = new Provider(`http://127.0.0.1:${await freePort()}/callback`)
await report('MCP SDK auth(): dynamic registration (RFC 7591), sign-in with PKCE and resource, then tools/call behind requireBearerAuth', async () => {
  const who = await authorizeAndCall(registered)
  expect(registered.info?.client_id?.startsWith('za_client_'), `registered client ${JSON.stringify(registered.info)}`)
  expect(who.client === registered.info.client_id && who.sub, `the tool saw ${JSON.stringify(who)}`)
  expect(registered.consentPage.includes('is not verified by this server'), 'the consent page marks the client unverified')
  return `client ${who.client}, sub ${who.sub}`
})

await report('MCP SDK auth(): a refresh keeps the token bound to the MCP server', async () => {
  const before = registered.tokens()?.access_token
  expect(before, 'no tokens from the previous check')
  expect((await auth(registered, { serverUrl: mcpUrl })) === 'AUTHORIZED', 'refresh did not authorize')
  expect(registered.tokens().access_token !== before, 'the access token was not renewed')
  const who = await callTool(registered)
  return `tool called again as ${who.sub}`
})

await report('requireBearerAuth refuses a ZeroAuth token issued for another audience', async () => {
  const cc = await fetch(asMetadata.token_endpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'mcp:tools' }),
  })
  const token = (await cc.json()).access_token
  expect(token, `no client_credentials token (${cc.status})`)
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  })
  const body = await res.text()
  expect(res.status === 401 && body.includes('not issued for this resource'), `answered ${res.status}: ${body}`)
  return '401 invalid_token'
})

await report('MCP SDK auth(): a client metadata document over https, redirect on an ephemeral loopback port', async () => {
  const provider = new Provider(`http://127.0.0.1:${await freePort()}/callback`, docUrl)
  const who = await authorizeAndCall(provider)
  expect(provider.info?.client_id === docUrl, `client ${JSON.stringify(provider.info)}`)
  expect(who.client === docUrl, `the tool saw ${JSON.stringify(who)}`)
  expect(docHits >= 1, 'ZeroAuth never fetched the document')
  return `document fetched ${docHits} time(s); redirect ${provider.redirectUrl}`
})

await report('a browser-style CORS preflight at the token endpoint', async () => {
  const res = await fetch(asMetadata.token_endpoint, {
    method: 'OPTIONS',
    headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, mcp-protocol-version' },
  })
  expect(res.status === 204, `status ${res.status}`)
  expect(res.headers.get('access-control-allow-origin') === '*', 'no Access-Control-Allow-Origin: *')
  expect(!res.headers.get('access-control-allow-credentials'), 'credentials must not be allowed')
  const page = await fetch(`${base}/authorize`, { method: 'OPTIONS' })
  expect(!page.headers.get('access-control-allow-origin'), '/authorize must not allow other origins')
  return `allows ${res.headers.get('access-control-allow-methods')}`
})

mcpHttp.close()
docServer.close()
const { passed, failed } = counts()
console.log(`mcp check: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
