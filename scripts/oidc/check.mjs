// The OpenID Connect code flow against a running `zeroauth serve`, through
// openid-client v6 and oauth4webapi v3: each builds the authorization URL
// (PKCE, state, nonce), a scripted browser signs in on ZeroAuth's page, and
// the library exchanges the code and validates the ID token — signature
// against jwks_uri, iss, aud, nonce, at_hash. oauth4webapi also validates a
// JWT access token (RFC 9068) with the published keys.
//
//   node check.mjs BASE_URL CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD
import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import { reporter, signIn as browserSignIn } from '../lib/browser.mjs'

const [base, clientId, clientSecret, redirectUri, username, password] = process.argv.slice(2)
const { report, counts } = reporter('oidc')

const signIn = async (url) => (await browserSignIn(url, redirectUri, username, password)).back

await report('openid-client v6: code flow with PKCE and nonce, ID token signature checked against jwks_uri', async () => {
  const config = await client.discovery(new URL(base), clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  })
  client.enableNonRepudiationChecks(config)
  const verifier = client.randomPKCECodeVerifier()
  const nonce = client.randomNonce()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  })
  const callback = await signIn(url)
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  if (claims?.nonce !== nonce || claims?.preferred_username !== username) throw new Error(JSON.stringify(claims))
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  if (refreshed.claims()?.sub !== claims.sub) throw new Error('the refreshed ID token names someone else')
  const info = await client.fetchUserInfo(config, refreshed.access_token, claims.sub)
  return `sub ${info.sub}`
})

await report('oauth4webapi v3: code flow, ID token and JWT access token validated with the published keys', async () => {
  const issuer = new URL(base)
  const insecure = { [oauth.allowInsecureRequests]: true }
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  const c = { client_id: clientId }
  const auth = oauth.ClientSecretBasic(clientSecret)
  const verifier = oauth.generateRandomCodeVerifier()
  const nonce = oauth.generateRandomNonce()
  const state = oauth.generateRandomState()
  const url = new URL(as.authorization_endpoint)
  for (const [k, v] of Object.entries({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid profile',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  })) url.searchParams.set(k, v)
  const params = oauth.validateAuthResponse(as, c, await signIn(url), state)
  const response = await oauth.authorizationCodeGrantRequest(as, c, auth, params, redirectUri, verifier, insecure)
  const result = await oauth.processAuthorizationCodeResponse(as, c, response, { expectedNonce: nonce, requireIdToken: true })
  await oauth.validateApplicationLevelSignature(as, response, insecure)
  const claims = oauth.getValidatedIdTokenClaims(result)
  const request = new Request(`${base}/api`, { headers: { authorization: `Bearer ${result.access_token}` } })
  const at = await oauth.validateJwtAccessToken(as, request, base, insecure)
  if (at.sub !== claims.sub || at.client_id !== clientId) throw new Error(JSON.stringify(at))
  return `access token scope "${at.scope}"`
})

const { passed, failed } = counts()
console.log(`oidc check: ${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
