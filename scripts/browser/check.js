// Signs in through the real sign-in page in headless Chromium: opens the
// authorization URL, fills the form, approves, and follows the 303 to a client
// on another origin. Prints the code it lands with.
//
//   node check.js <authorization URL> <username> <password> <redirect prefix>
const { chromium } = require('playwright-core');

(async () => {
  const [url, username, password, redirectPrefix] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const blocked = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
    await page.goto(url);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(redirectPrefix), { timeout: 15000 }),
      page.click('button[value=approve]'),
    ]);
    const landed = new URL(page.url());
    const code = landed.searchParams.get('code');
    if (!code || blocked.length) {
      throw new Error(`landed on ${page.url()} ${blocked.join(' ')}`);
    }
    console.log(code);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(`browser check: ${e.message}`); process.exit(1); });
