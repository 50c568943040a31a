// Drives the demo's GraphiQL page in Debian's headless Chromium, as a newcomer would: no key is
// typed. It checks that the Docs pane lists the Query type's fields (the introspection query
// passed), that the prefilled demo key runs the default query, that the key picker switches to
// the other key, that headers persist across a reload, and that the page raised no error and
// no Content-Security-Policy violation. The Go test (cmd/viewgate, TestGraphiQLBrowser) runs it.
//
//   node graphiql.mjs BASE_URL ACME_KEY GLOBEX_KEY
// Exits 0 after printing "ok", else 1 with the reason on stderr (and a screenshot of the page
// at $SCREENSHOT, when set).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, acmeKey, globexKey] = process.argv.slice(2);
if (!base || !acmeKey || !globexKey) {
  console.error('usage: node graphiql.mjs BASE_URL ACME_KEY GLOBEX_KEY');
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'viewgate-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
  timeout: 60000,
});
context.setDefaultTimeout(30000);

const problems = [];
function watch(page) {
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      problems.push(`console error: ${msg.text()}`);
    }
  });
}

// run executes the query in the editor and returns the result pane's text once it holds want.
async function run(page, want) {
  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.result-window');
  await result.filter({ hasText: want }).waitFor();
  return result.innerText();
}

function check(ok, what) {
  if (!ok) {
    throw new Error(what);
  }
}

let failed = false;
const page = context.pages()[0] || (await context.newPage());
try {
  watch(page);
  await page.goto(base);

  // Docs: the root type's fields, which GraphiQL knows only if the introspection query passed.
  await page.locator('button[aria-label="Show Documentation Explorer"]').click();
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.locator('a.graphiql-doc-explorer-type-name', { hasText: /^Query$/ }).click();
  const fields = await docs.locator('.graphiql-doc-explorer-field-name').allInnerTexts();
  for (const f of ['invoices', 'customers', 'products']) {
    check(fields.includes(f), `Docs pane lists Query fields ${JSON.stringify(fields)}, not ${f}`);
  }

  // The first screen runs as it is: the demo's default query with the acme key prefilled.
  let text = await run(page, 'ACM-');
  check(text.includes('totalCount') && !text.includes('UNAUTHENTICATED'), `acme result: ${text}`);

  // The picker writes the other key into the headers; globex has no pii role.
  await page.locator('.vg-demo-keys select').selectOption(globexKey);
  text = await run(page, 'GLX-');
  check(text.includes('****'), `globex should see masked e-mails: ${text}`);

  // Headers persist across a reload: the next run is still globex's, with nothing typed.
  // GraphiQL stores the tab state half a second after an edit.
  await page.waitForFunction((k) => (localStorage.getItem('graphiql:tabState') || '').includes(k), globexKey);
  await page.reload();
  text = await run(page, 'GLX-');
  check(!text.includes('ACM-'), `after a reload: ${text}`);
  const picked = await page.locator('.vg-demo-keys select').inputValue();
  check(picked === globexKey, `the picker shows ${picked} after a reload, not the globex key`);

  check(problems.length === 0, problems.join('\n'));
  console.log('ok');
} catch (err) {
  failed = true;
  console.error(err.message);
  if (process.env.SCREENSHOT) {
    await page.screenshot({ path: process.env.SCREENSHOT }).catch(() => {});
  }
  if (problems.length > 0) {
    console.error(problems.join('\n'));
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
