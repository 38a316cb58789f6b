// The explorer in a real browser against a real dev node.
//
// Starts `cityledger dev` on 127.0.0.1 in a fresh home, drives Debian's
// Chromium through playwright-core (no browser download), makes a
// transfer and fetches its receipt with the CLI, and checks what the pages
// show. Screenshots of the main pages go to CITYLEDGER_SCREENSHOTS
// (default target/ui-screenshots).
//
//   CITYLEDGER_BIN=target/debug/cityledger node --test crates/node/ui/tests/
//
// Every wait has a deadline; no test asserts a duration. The browser may
// reach the node under test only: any other request is aborted and fails
// the run.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
const repository = resolve(import.meta.dirname, '../../../..');
const binary = resolve(repository, process.env.CITYLEDGER_BIN ?? 'target/debug/cityledger');
const browserPath = process.env.CITYLEDGER_CHROMIUM ?? '/usr/bin/chromium';
const screenshots = resolve(repository, process.env.CITYLEDGER_SCREENSHOTS ?? 'target/ui-screenshots');

/** Longest any one wait may take, in ms. */
const WAIT_MS = 60_000;
/** Longest a test may take, in ms. */
const TEST_MS = 180_000;
/** Ports tried, below the ephemeral range, like the Rust tests' helpers. */
const PORT_RANGE = [20_000, 32_000];
const PORT_PROBES_MAX = 200;

const work = mkdtempSync(join(tmpdir(), 'cityledger-ui-'));
const home = join(work, 'home');
let url = '';
/** @type {import('node:child_process').ChildProcess | null} */
let node = null;
/** @type {import('playwright-core').BrowserContext | null} */
let browser = null;
/** Requests the browser tried to send anywhere but the node. */
const foreignRequests = [];
/** Errors thrown by the pages' scripts. */
const pageErrors = [];

/** Whether `port` is free on 127.0.0.1 now. */
function portFree(port) {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** A port p with p (API) and p + 1 (p2p) free. */
async function freePortPair() {
  for (let probe = 0; probe < PORT_PROBES_MAX; probe += 1) {
    const port = PORT_RANGE[0] + Math.floor(Math.random() * (PORT_RANGE[1] - PORT_RANGE[0]));
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error(`no free port pair in ${PORT_PROBES_MAX} probes`);
}

/** Polls `check` every 200 ms until it returns a truthy value or `WAIT_MS` passes. */
async function eventually(what, check) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${what}: not within ${WAIT_MS / 1000} s${last ? ` (${last})` : ''}`);
}

/** Commands that read keys from the dev home and so take `--home`. */
const HOME_COMMANDS = new Set(['keys', 'tx']);

/** The CLI's arguments, with the dev home where the command takes one. */
const withHome = (args) => (HOME_COMMANDS.has(args[0]) ? [...args, '--home', home] : args);

/** Runs the CLI against the node; returns stdout. */
async function cli(...args) {
  const { stdout } = await run(binary, withHome(args), { timeout: WAIT_MS });
  return stdout.trim();
}

/** Runs the CLI and returns its exit code and output, failing or not. */
async function cliOutcome(...args) {
  try {
    const { stdout, stderr } = await run(binary, withHome(args), { timeout: WAIT_MS });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return { code: error.code, stdout: error.stdout ?? '', stderr: error.stderr ?? '' };
  }
}

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  const port = await freePortPair();
  url = `http://127.0.0.1:${port}`;
  const log = openSync(join(work, 'node.log'), 'w');
  node = spawn(binary, ['dev', '--home', home, '--api', `127.0.0.1:${port}`], {
    stdio: ['ignore', log, log],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  await eventually('the node answers /health', async () => {
    if (node.exitCode !== null) throw new Error(`the node exited with ${node.exitCode}`);
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok;
  });
  browser = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: browserPath,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    timeout: WAIT_MS,
  });
  browser.setDefaultTimeout(WAIT_MS);
  await browser.route('**/*', (route) => {
    const target = route.request().url();
    if (target.startsWith(`${url}/`) || target.startsWith('data:') || target.startsWith('blob:')) {
      return route.continue();
    }
    foreignRequests.push(target);
    return route.abort();
  });
  browser.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(String(error))));
});

after(async () => {
  await browser?.close().catch(() => {});
  if (node && node.exitCode === null) {
    node.kill('SIGTERM');
    const exited = new Promise((done) => node.once('exit', done));
    const timeout = new Promise((done) => setTimeout(done, 10_000));
    await Promise.race([exited, timeout]);
    if (node.exitCode === null) node.kill('SIGKILL');
  }
  if (process.exitCode && node) {
    console.log(readFileSync(join(work, 'node.log'), 'utf8').split('\n').slice(-40).join('\n'));
  }
  rmSync(work, { recursive: true, force: true });
  assert.deepEqual(foreignRequests, [], 'the browser only talked to the node');
  assert.deepEqual(pageErrors, [], 'no script error on any page');
});

/** A new tab at `route` of the explorer, rendered. */
async function open(route, viewport) {
  const page = await browser.newPage();
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(`${url}/#${route}`);
  await page.waitForSelector('main[data-ready] h1');
  await page.waitForFunction(() => !document.querySelector('main .loading'));
  return page;
}

/**
 * Saves a screenshot and checks the page for obvious breakage: a visible
 * title, no error box, real content, and nothing wider than the screen.
 */
async function snapshot(page, name, title) {
  const file = join(screenshots, `${name}.png`);
  const image = await page.screenshot({ path: file, fullPage: true });
  assert.ok(image.length > 8_000, `${name}: the screenshot is not blank (${image.length} bytes)`);
  assert.match(await page.locator('main h1').innerText(), title, `${name}: title`);
  assert.equal(await page.locator('main .error').count(), 0, `${name}: no error shown`);
  const { text, overflow } = await page.evaluate(() => ({
    text: document.querySelector('main')?.innerText.length ?? 0,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  }));
  assert.ok(text > 40, `${name}: the page has content`);
  assert.ok(overflow <= 1, `${name}: nothing is wider than the screen (${overflow} px)`);
}

/** The dashboard's height, as a number (NaN before the first). */
async function shownHeight(page) {
  return Number(await page.locator('#dash-height').innerText());
}

let alice = '';
let paidHash = '';

test('the dashboard height advances live, over the event stream', { timeout: TEST_MS }, async () => {
  const page = await open('/');
  const first = await eventually('a height is shown', async () => {
    const height = await shownHeight(page);
    return Number.isFinite(height) ? height : null;
  });
  await page.waitForSelector('#live-state.on');
  const navigations = [];
  page.on('framenavigated', (frame) => navigations.push(frame.url()));
  // A transfer makes a block even if the chain idles slowly.
  alice = await cli('keys', 'new', 'alice');
  await cli('tx', 'transfer', '--node', url, '--signer', 'treasury', '--from', 'treasury:issuance',
    '--to', alice, '--amount', '100');
  await eventually('the height advances', async () => (await shownHeight(page)) > first);
  assert.deepEqual(navigations, [], 'the page was not reloaded');
  assert.match(await page.locator('#dash-validators').innerText(), /^1 \/ 1$/);
  await snapshot(page, 'dashboard', /Dashboard/);
  await page.close();
});

test('a transfer made with the CLI shows up in the explorer', { timeout: TEST_MS }, async () => {
  const page = await open('/');
  const bob = await cli('keys', 'new', 'bob');
  const sent = JSON.parse(await cli('tx', 'transfer', '--node', url, '--signer', 'alice',
    '--to', bob, '--amount', '12.50', '--json'));
  paidHash = sent.hash;
  assert.match(paidHash, /^[0-9a-f]{64}$/);
  // Live: the dashboard's latest transactions list it without a reload.
  await page.locator(`main a[href="#/txs/${paidHash}"]`).first().waitFor();
  await page.close();

  const detail = await open(`/txs/${paidHash}`);
  const text = await detail.locator('main').innerText();
  assert.match(text, /12\.50 CITY/);
  assert.match(text, /applied/);
  assert.ok(text.includes(paidHash), 'the hash is shown');
  await snapshot(detail, 'transaction', /Transaction/);

  // Search by hash leads to it; by address to the account.
  // The detail page is already at the hash's route, so leave it first: the
  // wait then sees the search's own move.
  await detail.goto(`${url}/#/txs`);
  await detail.fill('#search-input', paidHash);
  await detail.press('#search-input', 'Enter');
  await detail.waitForURL(`**/#/txs/${paidHash}`);
  await detail.waitForFunction(() => !document.querySelector('main .loading'));
  await detail.fill('#search-input', bob);
  await detail.press('#search-input', 'Enter');
  await detail.waitForURL(`**/#/accounts/${bob}`);
  await detail.waitForFunction(() => !document.querySelector('main .loading'));
  assert.match(await detail.locator('main').innerText(), /12\.50/);
  await snapshot(detail, 'account', /Account/);
  await detail.close();

  const list = await open('/txs');
  assert.ok((await list.locator('main').innerText()).includes(paidHash.slice(0, 8)));
  await snapshot(list, 'transactions', /Transactions/);
  await list.close();
});

/** The verify page with the dev chain's genesis chosen as the anchor. */
async function verifyPage() {
  const page = await browser.newPage();
  const module = page.waitForResponse((response) => response.url().endsWith('/ui/verifier.wasm'));
  await page.goto(`${url}/#/verify`);
  assert.equal((await module).status(), 200);
  await page.waitForSelector('main[data-ready] h1');
  await page.setInputFiles('#genesis-file', join(home, 'genesis.json'));
  await page.locator('#trust-state', { hasText: 'trusted' }).waitFor();
  return page;
}

/** Verifies what the form holds; returns the verdict and the requests sent meanwhile. */
async function submitVerify(page) {
  const requests = [];
  const listener = (request) => requests.push(request.url());
  page.on('request', listener);
  await page.click('#verify-button');
  await page.waitForSelector('#verdict');
  page.off('request', listener);
  return { valid: await page.getAttribute('#verdict', 'data-valid'), requests };
}

test('a receipt fetched with the CLI verifies in the page, calling no node', { timeout: TEST_MS }, async () => {
  assert.ok(paidHash, 'the transfer test ran first');
  const receipt = await cli('receipt', 'tx', paidHash, '--node', url);
  const page = await verifyPage();
  await page.fill('#receipt-text', receipt);
  const { valid, requests } = await submitVerify(page);
  assert.equal(valid, 'true', await page.locator('#verdict').innerText());
  assert.deepEqual(requests, [], 'verifying sent no request');
  const statement = await page.locator('#verdict-statement').innerText();
  assert.match(statement, /was applied in block \d+/);
  assert.match(statement, /12\.50 CITY/);
  await snapshot(page, 'verify-valid', /Verify a receipt/);
  await page.close();
});

test('a tampered receipt is refused with the reason the CLI gives', { timeout: TEST_MS }, async () => {
  const receipt = await cli('receipt', 'tx', paidHash, '--node', url);
  const bytes = Buffer.from(receipt, 'base64url');
  bytes[bytes.length - 40] ^= 0x01;
  const tampered = bytes.toString('base64url');
  const page = await verifyPage();
  await page.fill('#receipt-text', tampered);
  const { valid, requests } = await submitVerify(page);
  assert.equal(valid, 'false');
  assert.deepEqual(requests, []);
  const reason = (await page.locator('#verdict-reason').innerText()).trim();
  assert.ok(reason.length > 10, `a reason is given: ${reason}`);
  const file = join(work, 'tampered.receipt');
  writeFileSync(file, tampered);
  const checked = await cliOutcome('verify', file, '--trust', join(home, 'genesis.json'));
  assert.notEqual(checked.code, 0, 'the CLI refuses it too');
  assert.ok(checked.stderr.includes(reason), `the CLI says the same: ${checked.stderr}`);
  await snapshot(page, 'verify-tampered', /Verify a receipt/);
  await page.close();
});

test('a receipt QR image uploaded to the page verifies', { timeout: TEST_MS }, async () => {
  const image = join(work, 'paid.png');
  await cli('receipt', 'tx', paidHash, '--node', url, '--qr', image);
  const page = await verifyPage();
  await page.setInputFiles('#receipt-file', image);
  const { valid } = await submitVerify(page);
  assert.equal(valid, 'true', await page.locator('#verdict').innerText());
  assert.match(await page.locator('#verdict-statement').innerText(), /12\.50 CITY/);
  await page.close();
});

test('the other pages render, on a desktop and on a phone', { timeout: TEST_MS }, async () => {
  const height = Number(await (await fetch(`${url}/v1/status`)).json().then((s) => s.height));
  const pages = [
    ['blocks', '/blocks', /Blocks/],
    ['block', `/blocks/${height}`, /Block \d+/],
    ['accounts', '/accounts', /Accounts/],
    ['obligations', '/obligations', /Obligations/],
    ['applications', '/applications', /Applications/],
    ['credentials', '/credentials', /Credentials/],
    ['operator', '/operator', /Operator/],
  ];
  for (const [name, route, title] of pages) {
    const page = await open(route);
    await snapshot(page, name, title);
    await page.close();
  }
  const operator = await open('/operator');
  const text = await operator.locator('main').innerText();
  assert.match(text, /in step/);
  assert.match(text, /treasury/);
  await operator.close();

  const phone = { width: 390, height: 844 };
  for (const [name, route, title] of [['phone-dashboard', '/', /Dashboard/], ['phone-verify', '/verify', /Verify/]]) {
    const page = await open(route, phone);
    await snapshot(page, name, title);
    // The menu is folded behind its button and opens from it.
    assert.equal(await page.locator('#nav-list').isVisible(), false);
    await page.click('#nav-toggle');
    assert.equal(await page.locator('#nav-list').isVisible(), true);
    await page.close();
  }
});

test('every control has a label, and the keyboard reaches the content first', { timeout: TEST_MS }, async () => {
  for (const route of ['/', '/verify', '/obligations', '/accounts']) {
    const page = await open(route);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter((control) => control.labels.length === 0 && !control.getAttribute('aria-label'))
        .map((control) => control.outerHTML));
    assert.deepEqual(unlabelled, [], `${route}: unlabelled controls`);
    // From the top of the page, as a keyboard user arriving at it.
    await page.evaluate(() => (document.activeElement instanceof HTMLElement) && document.activeElement.blur());
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.close();
  }
});

test('an unknown page and a failed lookup say so', { timeout: TEST_MS }, async () => {
  const page = await open('/nowhere');
  assert.match(await page.locator('main h1').innerText(), /Not found/);
  await page.goto(`${url}/#/blocks/999999999`);
  await page.locator('main .error').waitFor();
  assert.match(await page.locator('main .error').innerText(), /no finalized block/);
  await page.goto(`${url}/#/search?q=nothing-like-an-id`);
  await page.locator('#search-none').waitFor();
  await page.close();
});
