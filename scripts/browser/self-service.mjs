// The self-service flow in headless Chromium, end to end, as a person would
// go through it: from a client's sign-in page they create an account, open
// the link from the mail that arrived, verify their address and land back at
// the client with a code; they sign out, ask for a password reset from the
// sign-in page, choose a new password through the mailed link, and sign in
// with it. openid-client builds each authorization URL (PKCE, nonce, state)
// and exchanges each code, validating the ID token, which must say
// `email_verified: true` for the address they signed up with.
//
// Mail is read back from the SMTP sink's directory (scripts/smtp-sink) and
// parsed by mailparser, a MIME parser nobody here wrote.
//
// With ZEROAUTH_SHOTS=DIR every new page is also saved as DIR/<name>-1280.png
// and DIR/<name>-375.png (1280×800 and 375×812, full page), for a person to
// look at; the check itself writes nothing.

import { readdir, readFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { simpleParser } from 'mailparser'
import * as client from 'openid-client'

const EMAIL = 'river@zeroauth.test'
const NAME = 'River Walker'
const FIRST_PASSWORD = 'violet ledger mountain tram'
const NEW_PASSWORD = 'orbit canyon plum velvet'
const CHANGED = 'Your password is changed. Sign in with your new password.'
const SIZES = [[1280, 800], [375, 812]]

// Messages in the sink's directory, oldest first, each read once: waits up
// to 10 s for one to `to` whose subject matches.
function mailbox(dir) {
  const seen = new Set()
  return async function waitForMail(to, subject) {
    const deadline = Date.now() + 10_000
    for (;;) {
      const names = (await readdir(dir)).filter((n) => /^\d+\.eml$/.test(n))
      names.sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
      for (const name of names) {
        if (seen.has(name)) continue
        seen.add(name)
        const mail = await simpleParser(await readFile(join(dir, name)))
        const recipients = (mail.to?.value ?? []).map((a) => a.address?.toLowerCase())
        if (recipients.includes(to.toLowerCase()) && subject.test(mail.subject ?? '')) return mail
      }
      if (Date.now() > deadline) throw new Error(`no mail to ${to} with a subject like ${subject} within 10 s`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

// The 6-digit code and the link (on `path` under `base`) of a mail's text part.
function codeAndLink(mail, base, path) {
  const text = mail.text ?? ''
  const code = text.match(/^\s+(\d{6})\s*$/m)?.[1]
  const link = text.match(/https?:\/\/\S+/g)?.map((u) => new URL(u)).find((u) => u.pathname === path)
  if (!code) throw new Error(`no 6-digit code in the mail:\n${text}`)
  if (!link || link.origin !== new URL(base).origin || !link.searchParams.get('t')) {
    throw new Error(`no ${path}?t=… link to ${base} in the mail:\n${text}`)
  }
  return { code, link: link.toString() }
}

// Runs the scenario with `browser`, printing one line per step through
// `report`. A step that fails leaves the later ones unrun, each reported as
// failed, so a run always prints the same number of lines.
export async function selfService({ browser, report, base, clientId, clientSecret, redirectUri, maildir, shots }) {
  const waitForMail = mailbox(maildir)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  const blocked = []
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()) })

  const shot = async (name) => {
    if (!shots) return
    await mkdir(shots, { recursive: true })
    for (const [width, height] of SIZES) {
      await page.setViewportSize({ width, height })
      await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true })
    }
    await page.setViewportSize({ width: 1280, height: 800 })
  }
  const expectPath = (path) => {
    const at = new URL(page.url())
    if (at.origin !== new URL(base).origin || at.pathname !== path) throw new Error(`expected ${path}, at ${page.url()}`)
  }
  const visible = async (locator, what) => {
    try {
      await locator.first().waitFor({ state: 'visible', timeout: 5000 })
    } catch {
      const shown = (await page.locator('main').innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 400)
      throw new Error(`${what} is not shown at ${page.url()}: "${shown}"`)
    }
  }

  let config // discovered in the first step, so that a failure is reported there
  // A fresh authorization request (PKCE, nonce, state), kept to check the answer.
  const authorization = async () => {
    const verifier = client.randomPKCECodeVerifier()
    const a = {
      verifier,
      nonce: client.randomNonce(),
      state: client.randomState(),
    }
    a.url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce: a.nonce,
      state: a.state,
    })
    return a
  }
  // Presses the approve button ("Sign in" or "Allow") and waits to land at the client.
  const approveToClient = async () => {
    await Promise.all([
      page.waitForURL((u) => `${u.origin}${u.pathname}` === redirectUri, { timeout: 15000 }),
      page.click('button[value=approve]'),
    ])
    return new URL(page.url())
  }
  // The library's exchange of the code the browser landed with, ID token validated.
  const exchange = async (a, callback) => {
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: a.verifier,
      expectedNonce: a.nonce,
      expectedState: a.state,
      idTokenExpected: true,
    }).catch((e) => {
      // The token endpoint's answer says more than the library's stack.
      if (e?.error) throw new Error(`${e.message}: ${e.status ?? ''} ${e.error}: ${e.error_description ?? ''}`)
      throw e
    })
    const claims = tokens.claims()
    if (claims?.email !== EMAIL || claims?.email_verified !== true) {
      throw new Error(`the ID token says ${JSON.stringify(claims)}`)
    }
    return { tokens, claims }
  }

  let first, second, verifyMail, resetMail, landed, sub
  const steps = [
    ['the sign-in page links to "Create an account" and "Forgot your password?"', async () => {
      config = await client.discovery(new URL(base), clientId, clientSecret, undefined, {
        execute: [client.allowInsecureRequests],
      })
      first = await authorization()
      await page.goto(first.url.toString())
      await visible(page.locator('#username'), 'the sign-in form')
      await visible(page.getByRole('link', { name: 'Create an account' }), 'the sign-up link')
      await visible(page.getByRole('link', { name: 'Forgot your password?' }), 'the reset link')
      await shot('sign-in')
    }],
    ['signs up on /signup and is asked for the mailed code on /verify', async () => {
      await page.getByRole('link', { name: 'Create an account' }).click()
      await page.waitForURL((u) => u.pathname === '/signup')
      await visible(page.locator('#email'), 'the sign-up form')
      await shot('sign-up')
      await page.fill('#email', EMAIL)
      await page.fill('#name', NAME)
      await page.fill('#password', FIRST_PASSWORD)
      await Promise.all([page.waitForURL((u) => u.pathname === '/verify'), page.click('button[type=submit]')])
      expectPath('/verify')
      await visible(page.locator('#code'), 'the code field')
      await visible(page.getByRole('button', { name: 'Send a new code' }), 'the resend button')
      await shot('verify-code')
    }],
    ['the verification mail arrives with a 6-digit code and a /verify link', async () => {
      verifyMail = codeAndLink(await waitForMail(EMAIL, /verify your email/i), base, '/verify')
      return `code ${verifyMail.code}`
    }],
    ['the link from the mail verifies the address and the authorization goes on, signed in', async () => {
      await page.goto(verifyMail.link)
      await visible(page.getByRole('button', { name: 'Verify my address' }), 'the "Verify my address" button')
      await shot('verify-link')
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Verify my address' }).click()])
      await visible(page.getByText(`Signed in as ${NAME}`), `"Signed in as ${NAME}"`)
      await shot('signed-in')
      landed = await approveToClient()
      if (!landed.searchParams.get('code')) throw new Error(`landed at ${landed} without a code`)
    }],
    ['openid-client exchanges that code; the ID token says email_verified: true', async () => {
      const { claims } = await exchange(first, landed)
      sub = claims.sub
      return `sub ${sub}`
    }],
    ['signs out at /logout', async () => {
      await page.goto(`${base}/logout`)
      await visible(page.getByRole('button', { name: 'Sign out' }), 'the "Sign out" button')
      await shot('sign-out')
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out' }).click()])
      await visible(page.getByText('You are signed out.'), '"You are signed out."')
    }],
    ['"Forgot your password?" mails a code and a /reset link to the address', async () => {
      second = await authorization()
      await page.goto(second.url.toString())
      // Signed out: the form asks for the password again.
      await visible(page.locator('#password'), 'the password field (still signed in?)')
      await page.getByRole('link', { name: 'Forgot your password?' }).click()
      await page.waitForURL((u) => u.pathname === '/reset')
      await visible(page.locator('#email'), 'the reset request form')
      await shot('reset-request')
      await page.fill('#email', EMAIL)
      await Promise.all([
        page.waitForURL((u) => u.pathname === '/reset' && u.searchParams.get('step') === 'code'),
        page.getByRole('button', { name: 'Send the code' }).click(),
      ])
      await visible(page.locator('#code'), 'the code field')
      await visible(page.locator('#password'), 'the new password field')
      await shot('reset-code')
      resetMail = codeAndLink(await waitForMail(EMAIL, /reset your/i), base, '/reset')
      return `code ${resetMail.code}`
    }],
    ['the link from the mail changes the password and leads back to the sign-in page, signed out', async () => {
      await page.goto(resetMail.link)
      await visible(page.getByRole('button', { name: 'Change my password' }), 'the "Change my password" button')
      await shot('reset-link')
      await page.fill('#password', NEW_PASSWORD)
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Change my password' }).click()])
      await visible(page.getByText(CHANGED), `"${CHANGED}"`)
      await visible(page.locator('#password'), 'the password field')
      await shot('sign-in-after-reset')
    }],
    ['the old password no longer signs in', async () => {
      await page.fill('#username', EMAIL)
      await page.fill('#password', FIRST_PASSWORD)
      await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')])
      await visible(page.getByRole('alert'), 'an error')
      if (page.url().startsWith(redirectUri)) throw new Error(`the old password signed in: ${page.url()}`)
    }],
    ['the new password signs in at the client; openid-client exchanges the code, email_verified: true', async () => {
      await page.fill('#username', EMAIL)
      await page.fill('#password', NEW_PASSWORD)
      const back = await approveToClient()
      const { tokens, claims } = await exchange(second, back)
      if (claims.sub !== sub) throw new Error(`signed in as ${claims.sub}, signed up as ${sub}`)
      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
      if (info.email !== EMAIL || info.email_verified !== true) throw new Error(`userinfo says ${JSON.stringify(info)}`)
      return `sub ${claims.sub}`
    }],
    ['no Content Security Policy violation on the way', async () => {
      if (blocked.length) throw new Error(blocked.join(' | '))
    }],
  ]

  let broken = null
  for (const [name, step] of steps) {
    const title = `self-service: ${name}`
    if (broken) {
      await report(title, async () => { throw `not run: "${broken}" failed` })
      continue
    }
    let ok = true
    await report(title, () => step().catch((e) => { ok = false; throw e }))
    if (!ok) broken = name
  }
  await context.close()
}
