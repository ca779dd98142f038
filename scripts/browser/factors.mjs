// Passkeys and second factors in headless Chromium, end to end, as a person
// would go through them (docs/factors.md). The passkeys are made and used by
// Chromium's own WebAuthn stack against a CDP virtual authenticator (CTAP2.1,
// internal, resident keys, user verification), so ZeroAuth's page script
// (shared/src/factors/passkey.js) runs for real under the page's Content
// Security Policy; the authenticator-app codes are made by otplib, a TOTP
// implementation nobody here wrote. openid-client builds each authorization
// URL (PKCE, nonce, state) and exchanges each code, validating the ID token.
//
//   Passkeys (one browser context, its page holding the authenticator):
//   1. a password sign-in, then "Add a passkey" on /account/security: the
//      page says "Passkey added" and lists it, and the authenticator holds one
//      resident credential for the RP ID localhost;
//   2. cookies cleared (signed out), "Sign in with a passkey" alone lands a
//      code: the ID token says amr hwk|swk and mfa, acr phr (the autofill
//      offer the page makes on load is left pending: the authenticator's
//      automatic presence is off until the button is pressed);
//   2b. signed out again, the autofill offer alone signs in (the virtual
//      authenticator picks the passkey as a person would from the list);
//   3. acr_values=phr with the password: "Confirm it is you" offers "Use a
//      passkey", which lands a code: amr pwd, hwk|swk and mfa, acr phr (the
//      sign-in page's autofill offer is again left pending for the password).
//   An authenticator app (another person):
//   4. the key read from /account/security and otplib's code turn the app on
//      (and recovery codes are shown once);
//   5. signed out, the password and otplib's current code on "Confirm it is
//      you" land a code: amr pwd, otp and mfa;
//   6. in a fresh browser the same code is refused (400, "each works once"),
//      and the next step's code passes.
//   7. no Content Security Policy violation on any of these pages.
//
// The TOTP part waits at most once, for the step after the one the app was
// turned on in (a code is good once, so the sign-in needs a later one): up to
// 30 s, none when that step has begun by the time the factor page shows.
//
// With ZEROAUTH_SHOTS=DIR (config `shots`) the sign-in page with its passkey
// button, the factor pages and the security page with its QR code are saved
// as DIR/factors-<name>-1280.png and DIR/factors-<name>-375.png (1280×800 and
// 375×812, full page), as self-service.mjs does.
//
// check.mjs runs it in its Chromium, with its reporter:
//   factors({ browser, report, base, shots, ...config.factors })
// config.factors: { clientId, clientSecret, redirectUri, name,
//   passkeyUser: { username, password }, totpUser: { username, password } }
// Prints one `browser check: factors: … ok|FAILED` line per check.

import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import * as client from 'openid-client'
import { generate } from 'otplib'

const SIZES = [[1280, 800], [375, 812]]
const LABEL = 'Check laptop'
const RP_ID = 'localhost'
const STEP = 30 // seconds of a TOTP step
const CONFIRM = 'Confirm it is you'
const USED_ONCE = /each works once/i

export async function factors({ browser, report, base, shots, clientId, clientSecret, redirectUri, name, passkeyUser, totpUser }) {
  const zeroauth = new URL(base).origin
  const troubles = [] // CSP violations, from every page here

  // A browser context of its own, its page's Content Security Policy
  // reports kept for the last check.
  const open = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) troubles.push(`${page.url()}: ${m.text()}`) })
    const t = {
      context,
      page,
      shot: async (shotName) => {
        if (!shots) return
        await mkdir(shots, { recursive: true })
        for (const [width, height] of SIZES) {
          await page.setViewportSize({ width, height })
          await page.screenshot({ path: join(shots, `factors-${shotName}-${width}.png`), fullPage: true })
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

  let config // discovered in the first check of each part
  const discover = async () => {
    config ??= await client.discovery(new URL(base), clientId, clientSecret, undefined, {
      execute: [client.allowInsecureRequests],
    })
    return config
  }
  // A fresh authorization request (PKCE, nonce, state), kept to check the answer.
  const authorization = async (extra = {}) => {
    const c = await discover()
    const verifier = client.randomPKCECodeVerifier()
    const a = { verifier, nonce: client.randomNonce(), state: client.randomState() }
    a.url = client.buildAuthorizationUrl(c, {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce: a.nonce,
      state: a.state,
      ...extra,
    })
    return a
  }
  const atClient = (u) => `${u.origin}${u.pathname}` === redirectUri
  // The library's exchange of the code the browser landed with, ID token validated.
  const exchange = async (a, landed) => {
    const tokens = await client.authorizationCodeGrant(config, landed, {
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
  // What the ID token must say: every `amr` value listed, `acr` if given.
  const expectClaims = (claims, { amr, acr }) => {
    const got = Array.isArray(claims.amr) ? claims.amr : []
    const wrong = []
    for (const want of amr) {
      const options = want.split('|')
      if (!options.some((o) => got.includes(o))) wrong.push(`amr has no ${want}`)
    }
    if (acr && claims.acr !== acr) wrong.push(`acr is ${claims.acr}, not ${acr}`)
    if (wrong.length) throw new Error(`the ID token is wrong: ${wrong.join('; ')}: ${JSON.stringify(claims)}`)
    return `amr ${got.join(' ')}, acr ${claims.acr}`
  }
  // Waits until the browser is at the client and returns where it landed.
  const landing = async (t, a, act, what) => {
    const { page } = t
    try {
      await Promise.all([page.waitForURL((u) => atClient(u), { timeout: 15000 }), act()])
    } catch (e) {
      throw new Error(`${what} did not land at the client (${e.message.split('\n')[0]}); at ${page.url()}: "${await t.shown()}"`)
    }
    const landed = new URL(page.url())
    if (!landed.searchParams.get('code')) throw new Error(`landed at ${landed} without a code`)
    if (landed.searchParams.get('state') !== a.state) throw new Error(`landed at ${landed} with another state`)
    return landed
  }
  // The sign-in (and consent) page of `a`, the password typed and approved.
  // Returns once the navigation after it has settled (a factor page, or the
  // client).
  const withPassword = async (t, a, who) => {
    const { page } = t
    await page.goto(a.url.href)
    await t.visible(page.locator('#username'), 'the sign-in form')
    await page.fill('#username', who.username)
    await page.fill('#password', who.password)
    await Promise.all([page.waitForNavigation({ timeout: 15000 }), page.click('button[name=decision][value=approve]')])
  }
  const expectAt = (t, path) => {
    const at = new URL(t.page.url())
    if (at.origin !== zeroauth || at.pathname !== path) throw new Error(`expected ${path}, at ${t.page.url()}`)
  }

  // ---- Passkeys --------------------------------------------------------
  let p // the passkey person's context, with the virtual authenticator
  let cdp, authenticatorId
  // Whether the virtual authenticator answers requests by itself.
  const presence = (enabled) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled })
  // Counts the page's POSTs to /passkey/options until stopped.
  const watchOptions = (page) => {
    const w = { count: 0 }
    const on = (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname === '/passkey/options') w.count++ }
    page.on('request', on)
    w.stop = () => page.off('request', on)
    return w
  }
  const passkeySteps = [
    [`a password sign-in, then "Add a passkey" on /account/security: "Passkey added", listed, one resident credential for ${RP_ID} in the authenticator`, async () => {
      p = await open()
      cdp = await p.context.newCDPSession(p.page)
      await cdp.send('WebAuthn.enable')
      ;({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal',
          hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
        },
      }))
      const a = await authorization()
      await withPassword(p, a, passkeyUser)
      if (!atClient(new URL(p.page.url()))) {
        throw new Error(`a person without a factor did not land at the client: at ${p.page.url()}: "${await p.shown()}"`)
      }
      await exchange(a, new URL(p.page.url()))

      const { page } = p
      await page.goto(`${base}/account/security`)
      await p.visible(page.getByRole('heading', { name: 'Sign-in security' }), 'the security page')
      await p.visible(page.locator('form[data-passkey=create] #passkey-label'), 'the passkey name field')
      await page.fill('#passkey-label', LABEL)
      await Promise.all([
        page.waitForNavigation({ timeout: 15000 }),
        page.getByRole('button', { name: 'Add a passkey' }).click(),
      ]).catch(async (e) => {
        const said = await page.locator('[data-passkey-error]').innerText().catch(() => '')
        throw new Error(`"Add a passkey" did not post the form${said ? `: the page says "${said}"` : ''} (${e.message.split('\n')[0]})`)
      })
      await p.visible(page.getByText('Passkey added'), '"Passkey added"')
      await p.visible(page.locator('ul.items li').filter({ hasText: LABEL }), `the passkey "${LABEL}" in the list`)
      await p.visible(page.getByRole('button', { name: `Remove ${LABEL}` }), `"Remove ${LABEL}"`)
      await p.shot('security-passkey')
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
      const resident = credentials.filter((c) => c.isResidentCredential && c.rpId === RP_ID)
      if (credentials.length !== 1 || resident.length !== 1) {
        throw new Error(`the authenticator holds ${JSON.stringify(credentials.map((c) => ({ rpId: c.rpId, resident: c.isResidentCredential })))}`)
      }
      return `credential ${resident[0].credentialId.slice(0, 12)}…`
    }],
    ['signed out, "Sign in with a passkey" alone lands a code; the ID token says amr hwk|swk and mfa, acr phr', async () => {
      const { page } = p
      await p.context.clearCookies()
      const a = await authorization()
      // The page offers the passkey in the username field's autofill from
      // the start, and the virtual authenticator would answer that offer by
      // itself, as no person does: it waits untouched until the button.
      await presence(false)
      const options = watchOptions(page)
      const offered = page.waitForResponse((r) => new URL(r.url()).pathname === '/passkey/options', { timeout: 15000 })
      await page.goto(a.url.href)
      const button = page.getByRole('button', { name: 'Sign in with a passkey' })
      await p.visible(button, 'the "Sign in with a passkey" button')
      await offered.catch(() => { throw new Error('the page did not start its autofill offer (no POST /passkey/options)') })
      if ((await page.locator('form.passkey[data-passkey=get][data-passkey-autofill] input[name=method][value=passkey]').count()) !== 1) {
        throw new Error('the passkey button is not in a form.passkey[data-passkey=get][data-passkey-autofill] with method=passkey')
      }
      if (!/\bwebauthn\b/.test((await page.locator('#username').getAttribute('autocomplete')) ?? '')) {
        throw new Error('the username field does not offer passkeys in its autofill (autocomplete="username webauthn")')
      }
      await p.shot('sign-in')
      const signCount = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0]?.signCount
      const before = await signCount()
      await presence(true)
      // A passkey sign-in from the page approves too (its form says so): a
      // consent page after it is followed, if the client shows one.
      const landed = await landing(p, a, async () => {
        await button.click()
        await page.waitForURL((u) => atClient(u) || u.pathname !== new URL(a.url).pathname, { timeout: 15000 })
        if (!atClient(new URL(page.url()))) {
          const allow = page.locator('button[name=decision][value=approve]')
          if (await allow.count()) await allow.click()
        }
      }, '"Sign in with a passkey"').catch(async (e) => {
        const said = await page.locator('[data-passkey-error]').innerText().catch(() => '')
        throw said ? new Error(`${e.message}; the page says "${said}"`) : e
      })
      options.stop()
      // The button's own ceremony: options asked for again after the press.
      if (options.count < 2) throw new Error(`the sign-in went through without the button's ceremony (${options.count} options request)`)
      const claims = await exchange(a, landed)
      const after = await signCount()
      if (!(after > before)) throw new Error(`the authenticator's counter did not move (${before} → ${after}): was the passkey used?`)
      return expectClaims(claims, { amr: ['hwk|swk', 'mfa'], acr: 'phr' })
    }],
    ['signed out, the passkey offered in the username field\'s autofill (conditional mediation) signs in with no button pressed', async () => {
      const { page } = p
      await p.context.clearCookies()
      const a = await authorization()
      // The virtual authenticator picks the offered passkey itself, as a
      // person would from the autofill list.
      const options = watchOptions(page)
      // From the sign-in page: the previous check left the page at the client.
      await page.goto(a.url.href)
      // An untrusted client's consent page comes after the passkey.
      await page.waitForURL((u) => atClient(u) || u.pathname.endsWith('/callback'), { timeout: 15000 }).catch(() => {})
      if (!atClient(new URL(page.url()))) {
        const allow = page.locator('button[name=decision][value=approve]')
        if (await allow.count()) await allow.click()
      }
      await page.waitForURL((u) => atClient(u), { timeout: 15000 }).catch(async () => {
        throw new Error(`the autofill offer did not sign in; at ${page.url()}: "${await p.shown()}"`)
      })
      const landed = new URL(page.url())
      if (landed.searchParams.get('state') !== a.state || !landed.searchParams.get('code')) throw new Error(`landed at ${landed}`)
      options.stop()
      if (options.count !== 1) throw new Error(`${options.count} options requests, not the autofill's one`)
      const claims = await exchange(a, landed)
      return expectClaims(claims, { amr: ['hwk|swk', 'mfa'], acr: 'phr' })
    }],
    ['acr_values=phr after the password: "Confirm it is you" offers "Use a passkey", which lands a code; amr pwd, hwk|swk and mfa', async () => {
      const { page } = p
      await p.context.clearCookies()
      const a = await authorization({ acr_values: 'phr' })
      // The sign-in page's autofill offer is left untouched: the password first.
      await presence(false)
      await withPassword(p, a, passkeyUser)
      if (atClient(new URL(page.url()))) throw new Error(`acr_values=phr after a password got a code without a passkey: ${page.url()}`)
      await p.visible(page.getByRole('heading', { name: CONFIRM }), `"${CONFIRM}"`)
      const use = page.getByRole('button', { name: 'Use a passkey' })
      await p.visible(use, 'the "Use a passkey" button')
      if (await page.locator('#totp-code, #recovery-code').count()) throw new Error('phr is asked, yet the page offers codes, which cannot reach it')
      await p.shot('confirm-passkey')
      await presence(true)
      const landed = await landing(p, a, () => use.click(), '"Use a passkey"').catch(async (e) => {
        const said = await page.locator('[data-passkey-error]').innerText().catch(() => '')
        throw said ? new Error(`${e.message}; the page says "${said}"`) : e
      })
      const claims = await exchange(a, landed)
      return expectClaims(claims, { amr: ['pwd', 'hwk|swk', 'mfa'], acr: 'phr' })
    }],
  ]

  // ---- An authenticator app ---------------------------------------------
  let t, key, onStep, used, usedStep
  // otplib's code for TOTP step `step` (SHA-1, 6 digits, 30 s).
  const codeAt = (step) => generate({ secret: key, algorithm: 'sha1', digits: 6, period: STEP, epoch: step * STEP })
  const stepNow = () => Math.floor(Date.now() / 1000 / STEP)
  const totpForm = (page) => page.locator('form').filter({ has: page.locator('input[name=factor][value=totp]') })
  // Types `code` on the factor page, presses "Continue" and returns the
  // answer to that POST (the navigation's response).
  const typeCode = async (page, code) => {
    const form = totpForm(page)
    await form.locator('#totp-code').fill(code)
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login/factor', { timeout: 15000 })
    await form.getByRole('button', { name: 'Continue' }).click()
    return answer
  }
  let waited = 0
  const totpSteps = [
    ['the key from <code class="secret"> on /account/security and otplib\'s code turn the authenticator app on; recovery codes are shown once', async () => {
      t = await open()
      const { page } = t
      const a = await authorization()
      await withPassword(t, a, totpUser)
      if (!atClient(new URL(page.url()))) {
        throw new Error(`a person without a factor did not land at the client: at ${page.url()}: "${await t.shown()}"`)
      }
      await exchange(a, new URL(page.url()))
      await page.goto(`${base}/account/security`)
      const secret = page.locator('code.secret')
      await t.visible(secret, 'the authenticator key')
      await t.visible(page.getByRole('img', { name: /QR code/i }).locator('svg'), 'the QR code')
      await t.shot('security-totp-setup')
      key = (await secret.innerText()).replace(/\s+/g, '')
      if (!/^[A-Z2-7]{32}$/.test(key)) throw new Error(`the key "${key}" is not 160 bits of base32`)
      onStep = stepNow()
      await page.fill('#totp-code', await codeAt(onStep))
      await Promise.all([page.waitForNavigation({ timeout: 15000 }), page.getByRole('button', { name: 'Turn on' }).click()])
      await t.visible(page.getByText('Authenticator app on'), '"Authenticator app on"')
      await t.visible(page.getByText('On: sign-ins ask for a code from your app.'), 'the app shown as on')
      const codes = await page.locator('ul.codes li').count()
      if (codes !== 10) throw new Error(`${codes} recovery codes shown, not 10`)
      await t.shot('security-totp-on')
    }],
    ['signed out, the password and otplib\'s current code on "Confirm it is you" land a code; amr pwd, otp and mfa', async () => {
      const { page } = t
      await t.context.clearCookies()
      const a = await authorization()
      await withPassword(t, a, totpUser)
      if (atClient(new URL(page.url()))) throw new Error(`a person with an app got a code without it: ${page.url()}`)
      await t.visible(page.getByRole('heading', { name: CONFIRM }), `"${CONFIRM}"`)
      await t.visible(totpForm(page).locator('#totp-code'), 'the code field')
      await t.shot('confirm-code')
      // The step the app was turned on in is spent: its code works no more.
      const start = Date.now()
      while (stepNow() <= onStep) await new Promise((r) => setTimeout(r, 200))
      waited = Date.now() - start
      usedStep = stepNow()
      used = await codeAt(usedStep)
      const landed = await landing(t, a, () => typeCode(page, used), 'the code')
      const claims = await exchange(a, landed)
      return `${expectClaims(claims, { amr: ['pwd', 'otp', 'mfa'] })}; waited ${(waited / 1000).toFixed(1)} s for a new step`
    }],
    ['in a fresh browser the same code is refused (400, "each works once"), and the next step\'s code passes', async () => {
      const fresh = await open()
      try {
        const { page } = fresh
        const a = await authorization()
        await withPassword(fresh, a, totpUser)
        await fresh.visible(page.getByRole('heading', { name: CONFIRM }), `"${CONFIRM}"`)
        const answer = await typeCode(page, used)
        await page.waitForLoadState()
        if (atClient(new URL(page.url()))) throw new Error(`the same code signed in twice: ${page.url()}`)
        if (answer.status() !== 400) throw new Error(`the same code again answered ${answer.status()}, not 400`)
        const alert = page.getByRole('alert').filter({ hasText: USED_ONCE })
        await fresh.visible(alert, 'a message that each code works once')
        await fresh.shot('code-used')
        // The next step's code, which the server takes one step early.
        const next = await codeAt(usedStep + 1)
        if (next === used) throw new Error('otplib made the same code for two steps: rerun')
        const landed = await landing(fresh, a, () => typeCode(page, next), 'the next code')
        const claims = await exchange(a, landed)
        return expectClaims(claims, { amr: ['pwd', 'otp', 'mfa'] })
      } finally {
        await fresh.context.close()
      }
    }],
  ]

  const run = async (steps) => {
    let broken = null
    for (const [title, step] of steps) {
      const name = `factors: ${title}`
      if (broken) {
        await report(name, async () => { throw `not run: "${broken}" failed` })
        continue
      }
      let ok = true
      await report(name, () => step().catch((e) => { ok = false; throw e }))
      if (!ok) broken = title
    }
  }
  const started = Date.now()
  try {
    await run(passkeySteps)
  } finally {
    await p?.context.close()
  }
  try {
    await run(totpSteps)
  } finally {
    await t?.context.close()
  }
  await report('factors: no Content Security Policy violation on the passkey, factor and security pages', async () => {
    if (troubles.length) throw new Error(troubles.join(' | '))
    return `${((Date.now() - started) / 1000).toFixed(1)} s for the factor checks`
  })
}
