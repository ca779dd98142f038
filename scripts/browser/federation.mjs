// Sign-in with an upstream provider in headless Chromium, end to end, as a
// person would go through it: node-oidc-provider (scripts/upstream/idp.mjs, a
// real OpenID provider nobody here wrote) is the upstream, its own development
// login and consent pages are typed into, and ZeroAuth's pages do the rest.
// openid-client builds each authorization URL (PKCE, nonce, state) and
// exchanges each code ZeroAuth gives the client, validating the ID token.
//
//   1. "Continue with Upstream ID" on ZeroAuth's sign-in page → the upstream's
//      login (dave, any password) and consent → ZeroAuth's own consent page
//      "Allow <client>?" → the client's code; the ID token is ZeroAuth's (a sub
//      of its own, amr "fed", idp "upstream") with the upstream's verified email.
//   2. Signed out of ZeroAuth but still signed in at the upstream, dave starts
//      at another client: the upstream answers without asking, and ZeroAuth
//      still asks its own consent, naming that client, before it gives a code
//      (the confused deputy: one client's approval is no other's).
//   3. carol@upstream.test is a ZeroAuth person already (a password sign-in
//      gives her sub): signing in at the upstream as carol leads to "Connect
//      your Upstream ID account", where a wrong password is refused and the
//      right one links the identity; the code's ID token has carol's sub; a
//      second federated sign-in goes straight to consent, same sub.
//   4. Cancelling at the upstream's consent page: ZeroAuth sends the client
//      error=access_denied with its state and ZeroAuth's iss.
//
// Every request the pages make to a host other than loopback is refused and
// fails the check it happened in (idp.mjs strips its pages' web-font import).
//
// With ZEROAUTH_SHOTS=DIR (config `shots`) each ZeroAuth page on the way is
// saved as DIR/federation-<name>-1280.png and DIR/federation-<name>-375.png
// (1280×800 and 375×812, full page), as self-service.mjs does.
//
// check.mjs runs it in its Chromium, with its reporter:
//   federation({ browser, report, base, shots, ...config.federation })
// config.federation: { upstream, provider, providerName,
//   first: { clientId, clientSecret, redirectUri, name },
//   second: { clientId, clientSecret, redirectUri, name },
//   carol: { username, password, email } }
// Prints one `browser check: federation: … ok|FAILED` line per check.

import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import * as client from 'openid-client'

const SIZES = [[1280, 800], [375, 812]]
const EMAIL_DOMAIN = 'upstream.test' // idp.mjs: <login>@upstream.test
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

export async function federation({ browser, report, base, shots, upstream, provider, providerName, first, second, carol }) {
  const zeroauth = new URL(base).origin
  const upstreamOrigin = new URL(upstream).origin
  const callback = `${base.replace(/\/$/, '')}/federation/callback`
  const continueWith = `Continue with ${providerName}`
  const connectHeading = `Connect your ${providerName} account`
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

  // A browser context of its own (cookies, both servers'), with the page's
  // Content Security Policy reports and non-loopback requests kept.
  const open = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true })
    const troubles = []
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url())
      if (LOOPBACK.has(url.hostname) || url.protocol === 'data:') return route.continue()
      troubles.push(`a request left loopback: ${url.href}`)
      return route.abort()
    })
    const page = await context.newPage()
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) troubles.push(m.text()) })
    const t = {
      context,
      page,
      // Fails on anything seen so far that should not have happened.
      clean: () => { if (troubles.length) throw new Error(troubles.join(' | ')) },
      shot: async (name) => {
        if (!shots) return
        await mkdir(shots, { recursive: true })
        for (const [width, height] of SIZES) {
          await page.setViewportSize({ width, height })
          await page.screenshot({ path: join(shots, `federation-${name}-${width}.png`), fullPage: true })
        }
        await page.setViewportSize({ width: 1280, height: 800 })
      },
      shown: async () => (await page.locator('body').innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 400),
      visible: async (locator, what) => {
        try {
          await locator.first().waitFor({ state: 'visible', timeout: 5000 })
        } catch {
          throw new Error(`${what} is not shown at ${page.url()}: "${await t.shown()}"`)
        }
      },
    }
    return t
  }

  // A client's view of ZeroAuth (discovery) and a fresh authorization request
  // (PKCE, nonce, state) kept to check the answer.
  const clients = new Map()
  const configOf = async (c) => {
    if (!clients.has(c.clientId)) {
      clients.set(c.clientId, await client.discovery(new URL(base), c.clientId, c.clientSecret, undefined, {
        execute: [client.allowInsecureRequests],
      }))
    }
    return clients.get(c.clientId)
  }
  const authorization = async (c) => {
    const config = await configOf(c)
    const verifier = client.randomPKCECodeVerifier()
    const a = { c, config, verifier, nonce: client.randomNonce(), state: client.randomState() }
    a.url = client.buildAuthorizationUrl(config, {
      redirect_uri: c.redirectUri,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce: a.nonce,
      state: a.state,
    })
    return a
  }
  // The library's exchange of the code the browser landed with, ID token validated.
  const exchange = async (a, landed) => {
    const tokens = await client.authorizationCodeGrant(a.config, landed, {
      pkceCodeVerifier: a.verifier,
      expectedNonce: a.nonce,
      expectedState: a.state,
      idTokenExpected: true,
    }).catch(async (e) => {
      // The token endpoint's answer says more than the library's stack.
      if (e?.error) throw new Error(`${e.message}: ${e.status ?? ''} ${e.error}: ${e.error_description ?? ''}`)
      if (e?.cause instanceof Response) {
        throw new Error(`${e.message}: ${e.cause.status} ${(await e.cause.text().catch(() => '')).slice(0, 300)}`)
      }
      throw e
    })
    return tokens.claims()
  }
  // What an ID token after a federated sign-in as `login` must say.
  const expectFederated = (claims, login) => {
    const wrong = []
    if (!Array.isArray(claims.amr) || !claims.amr.includes('fed')) wrong.push('amr has no "fed"')
    if (claims.idp !== provider) wrong.push(`idp is not "${provider}"`)
    if (!claims.sub || claims.sub === login) wrong.push(`sub is the upstream's (${login}), not ZeroAuth's own`)
    if (claims.email !== `${login}@${EMAIL_DOMAIN}`) wrong.push(`email is not ${login}@${EMAIL_DOMAIN}`)
    if (claims.email_verified !== true) wrong.push('email_verified is not true')
    if (wrong.length) throw new Error(`the ID token is wrong: ${wrong.join('; ')}: ${JSON.stringify(claims)}`)
  }
  const atClient = (a, u) => `${u.origin}${u.pathname}` === a.c.redirectUri

  // From the client's authorization URL, ZeroAuth's sign-in page and its
  // provider button, up to the upstream's authorization endpoint; checks the
  // request ZeroAuth makes there. Returns once the navigation has settled,
  // wherever it landed (the upstream's page, or back at ZeroAuth already).
  const startFederated = async (t, a, shotName) => {
    const { page } = t
    await page.goto(a.url.href)
    const button = page.getByRole('button', { name: continueWith })
    await t.visible(button, `the "${continueWith}" button`)
    const named = page.locator(`form button[name=provider][value="${provider}"]`)
    if ((await named.count()) !== 1) throw new Error(`"${continueWith}" is not a <button name=provider value=${provider}> inside a form`)
    if (shotName) await t.shot(shotName)
    const toUpstream = page.waitForRequest((r) => r.url().startsWith(`${upstreamOrigin}/auth`), { timeout: 15000 })
    toUpstream.catch(() => {})
    const moved = page.waitForNavigation({ timeout: 15000 })
    moved.catch(() => {})
    await button.click()
    let request
    try {
      request = await toUpstream
    } catch {
      if (await page.locator('input:invalid').count()) {
        throw new Error(`"${continueWith}" did not submit the form: its required fields stop it (the button needs formnovalidate)`)
      }
      throw new Error(`"${continueWith}" did not lead to ${upstreamOrigin}/auth; at ${page.url()}: "${await t.shown()}"`)
    }
    await moved
    const asked = new URL(request.url()).searchParams
    const expect = { client_id: 'zeroauth', redirect_uri: callback, response_type: 'code', code_challenge_method: 'S256' }
    for (const [k, v] of Object.entries(expect)) {
      if (asked.get(k) !== v) throw new Error(`ZeroAuth asked the upstream with ${k}=${asked.get(k)}, expected ${v}: ${request.url()}`)
    }
    if (!asked.get('state') || !asked.get('code_challenge')) throw new Error(`no state or code_challenge in ${request.url()}`)
  }

  // Through the upstream's own pages, if it shows any: types `login` (any
  // password) on its login page and approves its consent page, or cancels
  // there with `cancel`. Returns the pages it showed, once the browser has
  // left the upstream.
  const throughUpstream = async (t, login, { cancel = false } = {}) => {
    const { page } = t
    const showed = []
    for (let i = 0; i < 4; i++) {
      if (new URL(page.url()).origin !== upstreamOrigin) return showed
      const leave = (act) => Promise.all([page.waitForNavigation({ timeout: 15000 }), act])
      if (await page.locator('input[name=login]').count()) {
        showed.push('login')
        await page.fill('input[name=login]', login)
        await page.fill('input[name=password]', 'any password will do')
        await leave(page.click('button[type=submit]'))
      } else if (await page.locator('input[name=prompt][value=consent]').count()) {
        showed.push('consent')
        await leave(cancel ? page.getByRole('link', { name: '[ Cancel ]' }).click() : page.click('button[type=submit]'))
      } else {
        throw new Error(`the upstream shows neither its login nor its consent page at ${page.url()}: "${await t.shown()}"`)
      }
    }
    throw new Error(`still at the upstream after four of its pages: ${page.url()}`)
  }

  // ZeroAuth's consent page for `c`, signed in as `login`: the page names
  // the person by username, name or address, whichever it has first (carol
  // has a username; dave, made by the upstream, a name).
  const consentPage = async (t, c, login, what) => {
    const { page } = t
    if (atClient({ c }, new URL(page.url()))) {
      throw new Error(`ZeroAuth gave ${c.name} an answer without its own consent: ${page.url()}`)
    }
    if (new URL(page.url()).origin !== zeroauth) throw new Error(`expected ZeroAuth's consent page, at ${page.url()}`)
    await t.visible(page.getByRole('heading', { name: `Allow ${c.name}?` }), `"Allow ${c.name}?" (${what})`)
    // idp.mjs's name is the login capitalised: case aside, name and username are alike.
    const who = new RegExp(`Signed in as (${escape(login)}|${escape(`${login}@${EMAIL_DOMAIN}`)})\\b`, 'i')
    await t.visible(page.getByText(who), `"Signed in as ${login}" (by name, username or address)`)
    await t.visible(page.locator('button[name=decision][value=approve]'), 'the "Allow" button')
  }
  // Presses "Allow" and waits to land at the client with a code.
  const allow = async (t, a) => {
    const { page } = t
    await Promise.all([
      page.waitForURL((u) => atClient(a, u), { timeout: 15000 }),
      page.locator('button[name=decision][value=approve]').click(),
    ])
    const landed = new URL(page.url())
    if (!landed.searchParams.get('code')) throw new Error(`landed at ${landed} without a code`)
    if (landed.searchParams.get('state') !== a.state) throw new Error(`landed at ${landed} with another state`)
    return landed
  }

  let dave // check 1's context: its cookies, ZeroAuth's and the upstream's, are check 2's start
  let daveSub
  await report(`federation: "${continueWith}", the upstream's login and consent, ZeroAuth's consent, a code; the ID token is ZeroAuth's (amr fed, idp ${provider})`, async () => {
    dave = await open()
    const a = await authorization(first)
    await startFederated(dave, a, 'sign-in')
    const showed = await throughUpstream(dave, 'dave')
    if (!showed.includes('login')) throw new Error(`the upstream showed no login page (${showed.join(', ') || 'none'})`)
    await consentPage(dave, first, 'dave', 'after the upstream')
    await dave.shot('consent')
    const claims = await exchange(a, await allow(dave, a))
    expectFederated(claims, 'dave')
    daveSub = claims.sub
    dave.clean()
    return `sub ${claims.sub}`
  })

  await report(`federation: signed in at the upstream already, another client (${second.name}) still gets ZeroAuth's own consent first`, async () => {
    // It starts where the first check ended, signed in at both.
    if (!daveSub) throw `not run: the first federation check failed`
    const t = dave
    const { page } = t
    // Out of ZeroAuth (if the federated sign-in left a session there), not
    // out of the upstream.
    await page.goto(`${base}/logout`)
    const signOut = page.getByRole('button', { name: 'Sign out' })
    await t.visible(signOut.or(page.getByText('You are not signed in.')), 'the "Sign out" button')
    if (await signOut.count()) {
      await Promise.all([page.waitForNavigation(), signOut.click()])
      await t.visible(page.getByText('You are signed out.'), '"You are signed out."')
    }
    const a = await authorization(second)
    await startFederated(t, a)
    const showed = await throughUpstream(t, 'dave')
    await consentPage(t, second, 'dave', `for ${second.name}`)
    await t.shot('consent-second-client')
    const claims = await exchange(a, await allow(t, a))
    expectFederated(claims, 'dave')
    if (claims.sub !== daveSub) throw new Error(`signed in as ${claims.sub}, the first time as ${daveSub}`)
    t.clean()
    return `the upstream showed ${showed.join(' and ') || 'nothing'}`
  })
  await dave?.context.close()

  await report(`federation: ${carol.email}, a ZeroAuth person, connects the upstream identity with her password (a wrong one is refused) and keeps her sub`, async () => {
    const contexts = []
    try {
      // Her sub, from a password sign-in.
      const byPassword = await open()
      contexts.push(byPassword)
      const p = await authorization(first)
      await byPassword.page.goto(p.url.href)
      await byPassword.visible(byPassword.page.locator('#username'), 'the sign-in form')
      await byPassword.page.fill('#username', carol.username)
      await byPassword.page.fill('#password', carol.password)
      await Promise.all([
        byPassword.page.waitForURL((u) => atClient(p, u), { timeout: 15000 }),
        byPassword.page.click('button[value=approve]'),
      ])
      const sub = (await exchange(p, new URL(byPassword.page.url()))).sub

      // A browser new to both: the upstream as carol, then the connect page.
      const t = await open()
      contexts.push(t)
      const { page } = t
      const a = await authorization(first)
      await startFederated(t, a)
      await throughUpstream(t, 'carol')
      if (atClient(a, new URL(page.url()))) throw new Error(`ZeroAuth answered the client without asking for carol's password: ${page.url()}`)
      const heading = page.getByRole('heading', { name: connectHeading })
      await t.visible(heading, `"${connectHeading}"`)
      await t.visible(page.locator('input[name=password]'), 'the password field')
      const connect = page.getByRole('button', { name: 'Sign in and connect' })
      await t.visible(connect, 'the "Sign in and connect" button')
      await t.shot('connect')
      await page.fill('input[name=password]', `not ${carol.password}`)
      await Promise.all([page.waitForNavigation({ timeout: 15000 }), connect.click()])
      if (atClient(a, new URL(page.url()))) throw new Error(`a wrong password connected: ${page.url()}`)
      await t.visible(heading, `"${connectHeading}" after a wrong password`)
      await t.visible(page.getByRole('alert'), 'an error after a wrong password')
      await t.shot('connect-wrong-password')
      await page.fill('input[name=password]', carol.password)
      await Promise.all([page.waitForNavigation({ timeout: 15000 }), page.getByRole('button', { name: 'Sign in and connect' }).click()])
      await consentPage(t, first, 'carol', 'after connecting')
      const claims = await exchange(a, await allow(t, a))
      expectFederated(claims, 'carol')
      if (claims.sub !== sub) throw new Error(`connected, the ID token's sub is ${claims.sub}, carol's is ${sub}`)
      t.clean()

      // Connected: the next federated sign-in asks no password.
      const again = await open()
      contexts.push(again)
      const b = await authorization(first)
      await startFederated(again, b)
      await throughUpstream(again, 'carol')
      if (await again.page.getByRole('heading', { name: connectHeading }).count()) {
        throw new Error(`the second federated sign-in as carol asks to connect again`)
      }
      await consentPage(again, first, 'carol', 'the second federated sign-in')
      const repeated = await exchange(b, await allow(again, b))
      expectFederated(repeated, 'carol')
      if (repeated.sub !== sub) throw new Error(`the second federated sign-in's sub is ${repeated.sub}, carol's is ${sub}`)
      again.clean()
      return `sub ${sub}`
    } finally {
      for (const t of contexts) await t.context.close()
    }
  })

  await report('federation: cancelling at the upstream sends the client error=access_denied with its state and ZeroAuth\'s iss', async () => {
    const t = await open()
    try {
      const { page } = t
      const a = await authorization(first)
      await startFederated(t, a)
      const showed = await throughUpstream(t, 'erin', { cancel: true })
      if (!showed.includes('consent')) throw new Error(`the upstream showed no consent page to cancel (${showed.join(', ') || 'none'})`)
      // ZeroAuth may pass through a page of its own; the answer goes to the client.
      await page.waitForURL((u) => atClient(a, u), { timeout: 15000 }).catch(async () => {
        throw new Error(`the client got no answer; at ${page.url()}: "${await t.shown()}"`)
      })
      const landed = new URL(page.url())
      const got = Object.fromEntries(landed.searchParams)
      const issuer = a.config.serverMetadata().issuer
      if (got.error !== 'access_denied' || got.state !== a.state || got.iss !== issuer || got.code) {
        throw new Error(`expected error=access_denied, state=${a.state}, iss=${issuer} and no code: ${landed}`)
      }
      t.clean()
    } finally {
      await t.context.close()
    }
  })
}
