// The admin console in a real browser (run by .ci/check-browser, README "CI and extra
// checks"): Debian's chromium through playwright-core. Pages are found through the menu and
// the markup contract (data-metric, data-action, data-field), never through wording or
// layout, so pages added later are visited and restyled pages keep passing.
import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

class Failure extends Error {}

function setting(name) {
  const value = process.env[name];
  if (!value) throw new Failure(`${name} is not set (.ci/check-browser sets it)`);
  return value;
}

const base = setting('BROWSER_URL');
const refreshMs = Number(setting('BROWSER_REFRESH_MS'));
const admin = { email: setting('BROWSER_ADMIN_EMAIL'), password: setting('BROWSER_ADMIN_PASSWORD') };
const customer = { email: setting('BROWSER_CUSTOMER_EMAIL'), password: setting('BROWSER_CUSTOMER_PASSWORD') };
const levee = { bin: setting('BROWSER_LEVEE_BIN'), config: setting('BROWSER_LEVEE_CONFIG') };
const shots = setting('BROWSER_SCREENSHOTS');
// The probe job fails until this long after it was enqueued (the contract's example).
const PROBE_FAIL_MS = 5000;
const POST_SLUG = 'browser-check';
const POST_READS = 20;
const ORDER_SKU = 'BROWSER-KETTLE';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const check = (ok, message) => { if (!ok) throw new Failure(message); };
const summary = [];
const note = (line) => { summary.push(line); console.log(`ok: ${line}`); };

// Polls `probe` until it returns something truthy; fails naming `what` after `ms`.
async function until(what, ms, probe, every = 250) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Failure(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

async function api(method, path, { token, body, headers: extra = {} } = {}) {
  const headers = { ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const resp = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: /metrics, or an empty body */ }
  return { status: resp.status, json, text };
}

async function expectApi(method, path, status, options) {
  const resp = await api(method, path, options);
  check(resp.status === status, `${method} ${path} answered ${resp.status}, expected ${status}: ${resp.text.slice(0, 300)}`);
  return resp;
}

async function login({ email, password }) {
  return (await expectApi('POST', '/auth/login', 200, { body: { email, password } })).json.access_token;
}

async function screenshot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// Clicks `locator` and waits for the request it starts (`method` to `path`) and for the next
// page to load; answers the request's response (a 303 for a POST form).
async function press(page, locator, method, path) {
  const response = page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path);
  const loaded = page.waitForEvent('load');
  await locator.click();
  const [resp] = await Promise.all([response, loaded]);
  return resp;
}

async function open(page, path) {
  const resp = await page.goto(base + path);
  check(resp && resp.status() === 200, `GET ${path} answered ${resp && resp.status()} in the browser`);
  return resp;
}

async function signIn(page) {
  await open(page, '/admin/login');
  await screenshot(page, 'login');
  await page.fill('form.login input[name=email]', admin.email);
  await page.fill('form.login input[name=password]', admin.password);
  const resp = await press(page, page.locator('form.login button[type=submit]'), 'POST', '/admin/login');
  check(resp.status() === 303, `signing in answered ${resp.status()}, expected 303`);
  check(new URL(page.url()).pathname === '/admin/', `signing in landed on ${page.url()}, expected /admin/`);
  note(`signed in as ${admin.email} through the form`);
}

// Public reads, repeated reads of one published post among them so the cache has hits.
async function traffic() {
  const token = await login(admin);
  await expectApi('POST', '/posts', 201, { token, body: { title: 'Browser check', body: 'Read by the browser test.', slug: POST_SLUG } });
  await expectApi('POST', `/posts/${POST_SLUG}/publish`, 200, { token });
  for (const path of ['/posts', '/products', '/health']) await expectApi('GET', path, 200);
  for (let i = 0; i < POST_READS; i++) await expectApi('GET', `/posts/${POST_SLUG}`, 200);
  note(`traffic: a post created and published, public lists read, GET /posts/${POST_SLUG} ${POST_READS} times`);
}

// Every menu entry: 200, a nonce-based CSP, an <h1> in <main>, and a screenshot.
async function visitMenu(page) {
  await open(page, '/admin/');
  const links = await page.locator('header nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  check(links.length > 0, 'the console menu is empty');
  const names = [];
  for (const href of links) {
    const resp = await open(page, href);
    const csp = (await resp.allHeaders())['content-security-policy'] || '';
    check(/script-src[^;]*'nonce-/.test(csp), `${href} has no nonce-based script-src in its CSP: "${csp}"`);
    const title = (await page.locator('main h1').first().textContent({ timeout: 5000 })) || '';
    check(title.trim() !== '', `${href} has no <h1> in <main>`);
    const name = href.replace(/^\/admin\/?/, '').replace(/\/+$/, '').replace(/[^A-Za-z0-9]+/g, '-') || 'overview';
    await screenshot(page, name);
    names.push(name);
  }
  note(`menu: ${links.length} pages visited and screenshotted (${names.join(', ')})`);
  return links;
}

// The samples of one metric family in Prometheus text: [{ labels, value }].
function samples(text, metric) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!m || m[1] !== metric) continue;
    const labels = {};
    for (const [, key, value] of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

// What the overview should show, from /metrics: every request counted by the HTTP layer,
// and cache answers (fresh or stale, from L1 or L2) over all lookups (answers plus fetches
// from the database), as src/cache/lookups.rs counts them.
async function fromMetrics() {
  const { text } = await expectApi('GET', '/metrics', 200);
  const sum = (list) => list.reduce((acc, s) => acc + s.value, 0);
  const requests = sum(samples(text, 'http_server_request_duration_seconds_count'));
  const cache = samples(text, 'levee_cache_requests_total');
  const hits = sum(cache.filter((s) => s.labels.result === 'hit' || s.labels.result === 'stale'));
  const misses = sum(cache.filter((s) => s.labels.result === 'miss'));
  return { requests, ratio: hits + misses > 0 ? (100 * hits) / (hits + misses) : null, hits, misses };
}

// The live panel as it stands, with the number of times app.js has replaced it.
async function panel(page) {
  return page.evaluate(() => ({
    refreshes: window.__panelRefreshes,
    requests: document.querySelector('[data-metric=requests_total]').textContent.trim(),
    ratio: document.querySelector('[data-metric=cache_hit_ratio]').textContent.trim(),
  }));
}

async function nextRefresh(page, after) {
  return until('the overview panel to refresh', 5 * refreshMs + 5000, async () => {
    const now = await panel(page);
    return now.refreshes > after.refreshes && now;
  }, 50);
}

const percent = (text) => (text === '–' ? null : Number(text.replace('%', '')));

// The overview's tiles against /metrics. Requests keep arriving (the panel's own refreshes,
// the /metrics read), so the /metrics figures must lie between a panel refreshed just
// before the read and one refreshed after it; the ratio is shown to one decimal.
async function compareOverview(page) {
  await open(page, '/admin/');
  await page.evaluate(() => {
    window.__panelRefreshes = 0;
    new MutationObserver(() => { window.__panelRefreshes += 1; })
      .observe(document.getElementById('live'), { childList: true });
  });
  let last = '';
  for (let attempt = 1; attempt <= 5; attempt++) {
    const before = await nextRefresh(page, await panel(page));
    const metrics = await fromMetrics();
    // Two refreshes: the first may have been sent before /metrics answered.
    const after = await nextRefresh(page, await nextRefresh(page, before));
    const [r1, r2] = [Number(before.requests), Number(after.requests)];
    const [p1, p2] = [percent(before.ratio), percent(after.ratio)];
    const requestsAgree = r1 <= metrics.requests && metrics.requests <= r2;
    const ratioAgree = metrics.ratio === null
      ? p1 === null && p2 === null
      : p1 !== null && p2 !== null
        && Math.min(p1, p2) - 0.05 - 1e-9 <= metrics.ratio && metrics.ratio <= Math.max(p1, p2) + 0.05 + 1e-9;
    last = `overview requests ${r1}…${r2}, /metrics ${metrics.requests}; overview cache hit ratio `
      + `${before.ratio}…${after.ratio}, /metrics ${metrics.ratio === null ? '–' : metrics.ratio.toFixed(3) + '%'} `
      + `(${metrics.hits} answers, ${metrics.misses} fetches)`;
    if (requestsAgree && ratioAgree) {
      check(metrics.hits > 0, `the cache counted no hits after ${POST_READS} reads of one post: ${last}`);
      note(`overview matches /metrics (attempt ${attempt}): ${last}`);
      return;
    }
    console.log(`attempt ${attempt}: not yet in agreement: ${last}`);
  }
  throw new Failure(`the overview disagrees with /metrics: ${last}`);
}

// A `jobs.probe` that is dead after its one attempt and succeeds once retried after its
// failure window, replayed with the queues page's retry button.
async function replayDeadJob(page) {
  const { stdout } = await promisify(execFile)(levee.bin,
    ['--config', levee.config, 'jobs', 'probe', '--fail-for', `${PROBE_FAIL_MS / 1000}s`, '--max-attempts', '1'],
    { timeout: 30000 })
    .catch((e) => { throw new Failure(`levee jobs probe failed: ${(e.stderr || e.message).trim()}`); });
  const enqueuedBy = Date.now();
  const id = stdout.trim().split('\n').pop().trim();
  check(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id), `levee jobs probe printed no job id: "${stdout}"`);
  // The dead jobs table's row: the one with a retry button.
  const row = page.locator(`tr[data-job-id="${id}"]:has([data-action=retry])`).first();
  await until(`job ${id} to be listed dead on /admin/queues`, 20000, async () => {
    await open(page, '/admin/queues');
    return (await row.count()) === 1;
  }, 500);
  await screenshot(page, 'queues-dead-job');
  // fail_until is rounded up to a whole second: up to a second past the window.
  await sleep(Math.max(0, enqueuedBy + PROBE_FAIL_MS + 1500 - Date.now()));
  const resp = await press(page, row.locator('[data-action=retry]'), 'POST', `/admin/queues/jobs/${id}/retry`);
  check(resp.status() === 303, `the retry button's form answered ${resp.status()}, expected 303`);
  let state = '';
  await until(`job ${id} to complete after the retry`, 30000, async () => {
    await open(page, `/admin/queues/jobs/${id}`);
    state = ((await page.locator('[data-field=state]').first().textContent()) || '').trim();
    return state === 'completed';
  }, 500).catch((e) => { throw new Failure(`${e.message}; its page last said "${state}"`); });
  await screenshot(page, 'queues-job');
  note(`dead job ${id} retried with its button and completed`);
}

// An order placed through the API makes the simulated providers answer a charge and a
// shipment; the resilience page then lists this process's two breakers closed with those
// calls in their windows, and the guards' configuration of both providers.
async function resilienceAfterAnOrder(page) {
  const product = { sku: ORDER_SKU, name: 'Browser kettle', price: { amount: 3900, currency: 'EUR' }, stock: 5 };
  await expectApi('POST', '/products', 201, { token: await login(admin), body: product });
  const token = await login(customer);
  const address = { name: 'Ada Lovelace', line1: '1 Main St', city: 'London', postal_code: 'N1 9GU', country: 'GB' };
  const order = { items: [{ sku: ORDER_SKU, quantity: 1 }], shipping_address: address };
  const headers = { 'idempotency-key': crypto.randomUUID() };
  const { id } = (await expectApi('POST', '/orders', 202, { token, headers, body: order })).json;
  await until(`order ${id} to complete`, 30000, async () =>
    (await expectApi('GET', `/orders/${id}`, 200, { token })).json.status === 'completed');
  await open(page, '/admin/resilience');
  const here = page.locator('section.instance').first();
  for (const name of ['payment', 'shipping']) {
    const row = here.locator(`tr[data-dependency="${name}"]`);
    const field = async (f) => ((await row.locator(`[data-field=${f}]`).textContent()) || '').trim();
    check(await field('state') === 'closed', `the ${name} breaker shows "${await field('state')}", expected closed`);
    check(Number(await field('window_calls')) >= 1, `the ${name} breaker counts ${await field('window_calls')} calls after an order`);
    check(await page.locator(`tr[data-guard="${name}"]`).count() === 1, `no configuration row for ${name}`);
  }
  await screenshot(page, 'resilience-after-order');
  note(`order ${id} completed; the resilience page shows payment and shipping closed with their calls`);
}

// A products report requested with the reports page's form (POST with the session's CSRF
// token), listed as done once the background job has written it, and its CSV downloaded with
// the console session.
async function requestReport(page) {
  await open(page, '/admin/reports');
  await page.selectOption('select[name=type]', 'products');
  const resp = await press(page, page.locator('[data-action=request-report]'), 'POST', '/admin/reports');
  check(resp.status() === 303, `requesting a report answered ${resp.status()}, expected 303`);
  const done = page.locator('tr[data-status="done"]').first();
  await until('the report to be done', 30000, async () => {
    await open(page, '/admin/reports');
    return (await done.count()) === 1;
  });
  await screenshot(page, 'reports-done');
  const href = await done.locator('[data-action=download]').getAttribute('href');
  const csv = await page.request.get(base + href);
  check(csv.status() === 200, `GET ${href} answered ${csv.status()}`);
  const type = csv.headers()['content-type'] || '';
  check(type === 'text/csv; charset=utf-8', `GET ${href} is "${type}", expected text/csv`);
  const header = (await csv.text()).split('\n')[0];
  check(header.startsWith('id,sku,name'), `the report's header row is "${header}"`);
  note(`a products report requested on the reports page, done, and ${href} downloaded as CSV`);
}

const status = async (page) => ((await page.locator('[data-field=status]').first().textContent()) || '').trim();

// The customer found by the users page's search, disabled through the confirmation page,
// and refused at the API's login afterwards.
async function disableCustomer(page) {
  const token = await login(customer);
  const id = (await expectApi('GET', '/me', 200, { token })).json.id;
  await open(page, '/admin/users');
  await page.fill('input[name=q]', customer.email);
  const searched = page.waitForEvent('load');
  await page.press('input[name=q]', 'Enter');
  await searched;
  const row = page.locator(`tr[data-user-id="${id}"]`);
  check((await row.count()) === 1, `searching the users page for ${customer.email} did not list user ${id}`);
  await screenshot(page, 'users-search');
  await press(page, row.locator(`a[href$="/admin/users/${id}"]`), 'GET', `/admin/users/${id}`);
  check(await status(page) === 'active', `user ${id} shows status "${await status(page)}" before disabling`);
  await screenshot(page, 'user');
  await press(page, page.locator('[data-action=disable]'), 'GET', `/admin/users/${id}/disable`);
  await screenshot(page, 'user-disable');
  const resp = await press(page, page.locator('[data-action=confirm]'), 'POST', `/admin/users/${id}/disable`);
  check(resp.status() === 303, `confirming the disable answered ${resp.status()}, expected 303`);
  check(new URL(page.url()).pathname === `/admin/users/${id}`, `confirming the disable landed on ${page.url()}`);
  check(await status(page) === 'disabled', `user ${id} shows status "${await status(page)}" after disabling`);
  await screenshot(page, 'user-disabled');
  const refused = await api('POST', '/auth/login', { body: customer });
  check(refused.status >= 400 && refused.status < 500,
    `the disabled customer's API login answered ${refused.status}, expected a refusal`);
  note(`customer ${customer.email} disabled on the users page; API login now answers ${refused.status}`);
}

async function main() {
  await rm(shots, { recursive: true, force: true });
  await mkdir(shots, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const errors = [];
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15000);
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`${page.url()}: ${msg.text()}`); });
    page.on('pageerror', (err) => errors.push(`${page.url()}: uncaught ${err.message}`));
    const steps = [signIn, traffic, visitMenu, compareOverview, replayDeadJob, resilienceAfterAnOrder, requestReport, disableCustomer];
    for (const step of steps) {
      const started = Date.now();
      await step(page);
      console.log(`   (${step.name}: ${Date.now() - started} ms)`);
    }
  } finally {
    await browser.close();
  }
  const csp = errors.filter((e) => /Content[ -]Security[ -]Policy/i.test(e));
  check(csp.length === 0, `the page reported CSP violations:\n  ${csp.join('\n  ')}`);
  check(errors.length === 0, `the page logged errors:\n  ${errors.join('\n  ')}`);
  note('no CSP violation or other error in the browser console');
  console.log(`\nconsole browser check passed (screenshots in ${shots}):\n- ${summary.join('\n- ')}`);
}

main().catch((e) => {
  console.error(`\nconsole browser check FAILED: ${e instanceof Failure ? e.message : e.stack}`);
  process.exit(1);
});
