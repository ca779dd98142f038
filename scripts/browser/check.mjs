// The browser checks, in one headless Chromium against one `zeroauth serve`:
//   - a password sign-in through the real sign-in page: open the
//     authorization URL, fill the form, approve, follow the 303 to a client on
//     another origin, and exchange the code it lands with;
//   - the self-service flow (self-service.mjs): sign-up, verification by the
//     mailed link, sign-out, a reset through the mail, and a sign-in with the
//     new password, each code exchanged by openid-client;
//   - sign-in with an upstream provider (federation.mjs): the upstream's
//     login and consent, ZeroAuth's consent for two clients, connecting an
//     existing person with her password, a cancel at the upstream;
//   - passkeys and second factors (factors.mjs): a passkey added on
//     /account/security through a virtual authenticator, a sign-in with it
//     alone and as the second step of acr_values=phr, an authenticator app
//     turned on and used with codes made by otplib, a code refused the second
//     time.
// Prints one `browser check: … ok|FAILED` line per check for
// scripts/browser-check to count.
//
//   node check.mjs CONFIG.json
// CONFIG: { base, maildir, shots?, password: { clientId, clientSecret,
//   redirectUri, username, password }, selfService: { clientId,
//   clientSecret, redirectUri }, federation: { upstream, provider,
//   providerName, first, second, carol } (federation.mjs says what each is),
//   factors: { clientId, clientSecret, redirectUri, name, passkeyUser,
//   totpUser } (factors.mjs) }
import { readFileSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { reporter } from '../lib/browser.mjs'
import { factors } from './factors.mjs'
import { federation } from './federation.mjs'
import { selfService } from './self-service.mjs'

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const { base } = config
const { report } = reporter('browser')

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
try {
  const pw = config.password
  let code = null
  await report("signed in and redirected to the client's origin", async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const blocked = []
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()) })
    const url = new URL(`${base}/authorize`)
    for (const [k, v] of Object.entries({ client_id: pw.clientId, scope: 'openid profile', state: 'browser', redirect_uri: pw.redirectUri })) {
      url.searchParams.set(k, v)
    }
    await page.goto(url.toString())
    await page.fill('#username', pw.username)
    await page.fill('#password', pw.password)
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(pw.redirectUri), { timeout: 15000 }),
      page.click('button[value=approve]'),
    ])
    const landed = new URL(page.url())
    await context.close()
    code = landed.searchParams.get('code')
    if (!code || blocked.length) throw new Error(`landed on ${landed} ${blocked.join(' ')}`)
  })
  await report('the code from the browser exchanges for tokens', async () => {
    if (!code) throw 'not run: there is no code'
    const res = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${pw.clientId}:${pw.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: pw.redirectUri }),
    })
    const answer = await res.text()
    if (!answer.includes('"access_token":"za_at_')) throw new Error(answer)
  })
  await selfService({ browser, report, base, maildir: config.maildir, shots: config.shots, ...config.selfService })
  await federation({ browser, report, base, shots: config.shots, ...config.federation })
  await factors({ browser, report, base, shots: config.shots, ...config.factors })
} finally {
  await browser.close()
}
