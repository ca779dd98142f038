// A stand-in for GitHub's OAuth app endpoints and the two REST calls a
// sign-in needs, over https on loopback (node:https, the certificate
// scripts/mcp-check makes), following GitHub's documented shapes:
//
//   GET  /login/oauth/authorize      client_id, redirect_uri (must be the
//        registered callback), state, code_challenge with
//        code_challenge_method=S256, scope. The person is already signed in
//        at GitHub and authorized the app before: 302 straight back to
//        redirect_uri?code=…&state=… (GitHub asks nothing).
//   POST /login/oauth/access_token   client_id + client_secret (body or HTTP
//        Basic), code (single use, 10 minutes), redirect_uri (if sent, the
//        same), code_verifier (PKCE S256). JSON with `Accept:
//        application/json`, form-encoded otherwise; errors are HTTP 200 with
//        `error` (incorrect_client_credentials, bad_verification_code,
//        redirect_uri_mismatch), as GitHub answers them.
//   GET  /api/user, /api/user/emails `Authorization: Bearer gho_…` (or
//        `token gho_…`) and a User-Agent (GitHub refuses requests without
//        one); the emails need the user:email scope.
//
// Tokens are random `gho_…` strings remembered with the person and scope
// they were issued for, so whoever holds one (ZeroAuth at sign-in, the MCP
// server after a token exchange) learns the same login from /api/user.
//
//   node github-stub.mjs PORT CERT KEY CLIENT_ID CLIENT_SECRET CALLBACK_URL
// Prints `github stub: listening on https://localhost:PORT` when ready and
// one line per request (never a token or a secret).
import crypto from 'node:crypto'
import fs from 'node:fs'
import https from 'node:https'

const [port, certFile, keyFile, clientId, clientSecret, callback] = process.argv.slice(2)
if (!callback) {
  console.error('usage: node github-stub.mjs PORT CERT KEY CLIENT_ID CLIENT_SECRET CALLBACK_URL')
  process.exit(2)
}

// The one person signed in at this "GitHub".
const people = new Map([
  [5830231, { login: 'octo-walker', id: 5830231, name: 'Octo Walker', email: 'octo-walker@github.test' }],
])
const signedIn = 5830231

const codes = new Map() // code → { person, challenge, redirectUri, scope, expiresAt, used }
const tokens = new Map() // access token → { person, scope }
const random = (n) => crypto.randomBytes(n).toString('base64url')
const safeEqual = (a, b) => {
  const x = Buffer.from(String(a))
  const y = Buffer.from(String(b))
  return x.length === y.length && crypto.timingSafeEqual(x, y)
}
const log = (...words) => console.log('github stub:', ...words)

const json = (res, status, body, headers = {}) =>
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body))
const text = (res, status, body) => res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body)

function authorize(res, q) {
  // GitHub shows an error page for these rather than redirecting.
  if (q.get('client_id') !== clientId) return text(res, 404, 'unknown client_id')
  const redirectUri = q.get('redirect_uri') ?? callback
  if (redirectUri !== callback) return text(res, 400, `redirect_uri_mismatch: ${redirectUri} is not ${callback}`)
  const back = new URL(redirectUri)
  const state = q.get('state')
  const challenge = q.get('code_challenge')
  const fail = (error, description) => {
    back.searchParams.set('error', error)
    back.searchParams.set('error_description', description)
    if (state) back.searchParams.set('state', state)
    res.writeHead(302, { location: back.href }).end()
  }
  // GitHub makes neither required; this stub does, as the brief for ZeroAuth says it sends both.
  if (!state) return fail('invalid_request', 'state is required here')
  if (!challenge || q.get('code_challenge_method') !== 'S256') {
    return fail('invalid_request', 'code_challenge with code_challenge_method=S256 is required here')
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return fail('invalid_request', 'code_challenge is not an S256 challenge')
  const code = random(15)
  codes.set(code, {
    person: signedIn,
    challenge,
    redirectUri,
    scope: (q.get('scope') ?? '').split(/[ ,]+/).filter(Boolean),
    expiresAt: Date.now() + 600_000,
    used: false,
  })
  back.searchParams.set('code', code)
  back.searchParams.set('state', state)
  log(`authorize: ${people.get(signedIn).login} is signed in, scope "${q.get('scope') ?? ''}": 302 to ${back.origin}${back.pathname}`)
  res.writeHead(302, { location: back.href }).end()
}

function accessToken(req, res, body) {
  const params = (req.headers['content-type'] ?? '').includes('application/json')
    ? new URLSearchParams(Object.entries(JSON.parse(body || '{}')))
    : new URLSearchParams(body)
  const wantsJson = (req.headers.accept ?? '').includes('application/json')
  const answer = (fields) => {
    if (wantsJson) return json(res, 200, fields)
    res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }).end(new URLSearchParams(fields).toString())
  }
  const error = (error, description) => {
    log(`access_token: ${error}`)
    answer({ error, error_description: description, error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors' })
  }
  let [id, secret] = [params.get('client_id'), params.get('client_secret')]
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString()
    const i = decoded.indexOf(':')
    ;[id, secret] = [decodeURIComponent(decoded.slice(0, i)), decodeURIComponent(decoded.slice(i + 1))]
  }
  if (id !== clientId || !safeEqual(secret ?? '', clientSecret)) {
    return error('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.')
  }
  const code = params.get('code') ?? ''
  const grant = codes.get(code)
  const bad = () => error('bad_verification_code', 'The code passed is incorrect or expired.')
  if (!grant || grant.used || grant.expiresAt < Date.now()) return bad()
  grant.used = true // spent by any presentation, right or wrong
  if (params.has('redirect_uri') && params.get('redirect_uri') !== grant.redirectUri) {
    return error('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.')
  }
  const verifier = params.get('code_verifier') ?? ''
  const computed = crypto.createHash('sha256').update(verifier).digest('base64url')
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !safeEqual(computed, grant.challenge)) return bad()
  const token = `gho_${random(27)}`
  tokens.set(token, { person: grant.person, scope: grant.scope })
  log(`access_token: issued a gho_ token for ${people.get(grant.person).login}`)
  answer({ access_token: token, token_type: 'bearer', scope: grant.scope.join(',') })
}

function api(req, res, path) {
  if (!req.headers['user-agent']) {
    return text(res, 403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.')
  }
  const presented = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
  const held = presented && tokens.get(presented)
  if (!held) {
    log(`${path}: bad credentials`)
    return json(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' })
  }
  const p = people.get(held.person)
  const headers = { 'x-oauth-scopes': held.scope.join(', '), 'x-github-api-version-selected': '2022-11-28' }
  if (path === '/api/user') {
    log(`/api/user: ${p.login} (User-Agent ${req.headers['user-agent']})`)
    return json(res, 200, {
      login: p.login,
      id: p.id,
      node_id: Buffer.from(`04:User${p.id}`).toString('base64'),
      type: 'User',
      site_admin: false,
      name: p.name,
      email: null, // no public address
    }, headers)
  }
  // /api/user/emails
  if (!held.scope.includes('user:email') && !held.scope.includes('user')) {
    log('/api/user/emails: the token lacks user:email')
    return json(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/users/emails', status: '404' }, headers)
  }
  log(`/api/user/emails: ${p.login}`)
  return json(res, 200, [
    { email: p.email, primary: true, verified: true, visibility: 'private' },
    { email: `${p.id}+${p.login}@users.noreply.github.com`, primary: false, verified: true, visibility: null },
  ], headers)
}

const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (req, res) => {
  const url = new URL(req.url, `https://localhost:${port}`)
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (c) => { body += c; if (body.length > 65536) req.destroy() })
  req.on('end', () => {
    try {
      if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') return authorize(res, url.searchParams)
      if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') return accessToken(req, res, body)
      if (req.method === 'GET' && (url.pathname === '/api/user' || url.pathname === '/api/user/emails')) return api(req, res, url.pathname)
      log(`${req.method} ${url.pathname}: 404`)
      json(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' })
    } catch (e) {
      log(`${req.method} ${url.pathname}: ${e}`)
      if (!res.headersSent) text(res, 500, 'stub error')
    }
  })
})
server.listen(Number(port), '127.0.0.1', () => log(`listening on https://localhost:${port}`))
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
