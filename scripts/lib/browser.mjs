// What the library checks share (scripts/oidc, scripts/mcp): a scripted
// browser that signs a person in on ZeroAuth's page, and the reporter that
// prints one line per check for scripts/test to count. No dependencies.

// GET the authorization URL keeping cookies, post the sign-in form it shows
// with the password, and return the redirect to the client (and the page).
export async function signIn(authorizationUrl, redirectUri, username, password) {
  const jar = new Map()
  const keep = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const i = pair.indexOf('=')
      jar.set(pair.slice(0, i), pair.slice(i + 1))
    }
  }
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const page = await fetch(authorizationUrl, { redirect: 'manual' })
  keep(page)
  const html = await page.text()
  const request = html.match(/name="request" value="([^"]*)"/)?.[1]
  const action = html.match(/<form[^>]*action="([^"]*)"/)?.[1]
  if (!request || !action) throw new Error(`no sign-in form (status ${page.status}): ${html.slice(0, 300)}`)
  const unescape = (s) => s.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>')
  const body = new URLSearchParams({ request: unescape(request), username, password, decision: 'approve' })
  const posted = await fetch(new URL(unescape(action), authorizationUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
    body,
  })
  const location = posted.headers.get('location')
  if (posted.status !== 303 || !location?.startsWith(redirectUri)) {
    throw new Error(`sign-in answered ${posted.status} ${location ?? (await posted.text()).slice(0, 300)}`)
  }
  return { back: new URL(location), page: html }
}

// `report(name, fn)` runs one check and prints `<prefix> check: name ... ok`
// or `... FAILED: why`; `counts()` says how many of each.
export function reporter(prefix) {
  let passed = 0
  let failed = 0
  const report = (name, fn) =>
    fn().then(
      (detail) => { passed++; console.log(`${prefix} check: ${name} ... ok${detail ? ` (${detail})` : ''}`) },
      (e) => { failed++; console.log(`${prefix} check: ${name} ... FAILED: ${e?.stack ?? e}`) },
    )
  return { report, counts: () => ({ passed, failed }) }
}
