// What the library checks share (scripts/oidc, scripts/mcp): a scripted
// browser that signs a person in on ZeroAuth's page, and the reporter that
// prints one line per check for scripts/test to count. No dependencies.

// GET the authorization URL keeping cookies, post the sign-in form it shows
// with the password, and return the redirect to the client (and the page).
// A browser of its own each time: nothing is kept after it.
export async function signIn(authorizationUrl, redirectUri, username, password) {
  return new Browser().signIn(authorizationUrl, redirectUri, username, password)
}

// A scripted browser that keeps its cookies from one request to the next,
// as a person's browser keeps ZeroAuth's session between two sign-ins and
// its account pages. Redirects are not followed: each answer is returned.
export class Browser {
  jar = new Map()

  // Set-Cookie: a cookie set, or dropped when emptied or expired.
  keep(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';')
      const i = pair.indexOf('=')
      const [name, value] = [pair.slice(0, i).trim(), pair.slice(i + 1)]
      if (!value || attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a))) this.jar.delete(name)
      else this.jar.set(name, value)
    }
  }

  get cookie() { return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') }

  async fetch(url, init = {}) {
    const headers = { ...init.headers }
    if (this.jar.size) headers.cookie = this.cookie
    const res = await fetch(url, { ...init, redirect: 'manual', headers })
    this.keep(res)
    return res
  }

  // GET a page: its answer and its HTML.
  async open(url) {
    const res = await this.fetch(url)
    return { res, html: await res.text() }
  }

  // POST a form's fields (an object or pairs) to `url`.
  post(url, fields) {
    return this.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    })
  }

  // A form from formsOf(), its hidden fields and `extra`, posted to its
  // action (relative to `pageUrl`).
  submit(form, pageUrl, extra = {}) {
    const fields = [...form.hidden.map((h) => [h.name, h.value]), ...Object.entries(extra)]
    return this.post(new URL(form.action, pageUrl), fields)
  }

  // The password sign-in of signIn(), keeping this browser's cookies: the
  // session it starts is there for the next authorization request.
  async signIn(authorizationUrl, redirectUri, username, password) {
    const { res: page, html } = await this.open(authorizationUrl)
    const request = html.match(/name="request" value="([^"]*)"/)?.[1]
    const action = html.match(/<form[^>]*action="([^"]*)"/)?.[1]
    if (!request || !action) throw new Error(`no sign-in form (status ${page.status}): ${html.slice(0, 300)}`)
    const body = { request: unescape(request), username, password, decision: 'approve' }
    const posted = await this.post(new URL(unescape(action), authorizationUrl), body)
    const location = posted.headers.get('location')
    if (posted.status !== 303 || !location?.startsWith(redirectUri)) {
      throw new Error(`sign-in answered ${posted.status} ${location ?? (await posted.text()).slice(0, 300)}`)
    }
    return { back: new URL(location), page: html }
  }
}

// HTML text with maud's escapes (and numeric quotes) undone.
export const unescape = (s) =>
  s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&#x27;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')

const attrs = (tag) => Object.fromEntries([...tag.matchAll(/([a-zA-Z_:-]+)(?:="([^"]*)")?/g)].slice(1).map(([, k, v]) => [k.toLowerCase(), unescape(v ?? '')]))

// The forms of a page: action, hidden fields, the other inputs, buttons.
export const formsOf = (html) => [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, open, inner]) => {
  const inputs = [...inner.matchAll(/<input\b[^>]*>/g)].map(([t]) => attrs(t))
  return {
    action: attrs(`<form ${open}`).action,
    hidden: inputs.filter((a) => a.type === 'hidden' && a.name),
    inputs: inputs.filter((a) => a.type !== 'hidden'),
    buttons: [...inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/g)].map(([, a, label]) => ({ ...attrs(`<button ${a}`), label: label.replace(/<[^>]*>/g, '').trim() })),
  }
})

// A page's text, tags dropped and spaces folded.
export const text = (html) => unescape(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ')

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
