// The explorer's entry point: routes (`#/blocks/12`), the search box, the
// menu on narrow screens, the live indicator and the lag alert.
//
// Routing is by the URL's fragment, so the node serves one page at `/`
// and every view has a link that can be bookmarked and shared.

import * as api from './api.js';
import { errorBox, replace } from './dom.js';
import { Live } from './live.js';
import * as pages from './pages.js';

/** Period of the lag check, in ms. */
const LAG_CHECK_MS = 10000;

/** @type {[RegExp, pages.Page][]} */
const ROUTES = [
  [/^\/$/, pages.dashboard],
  [/^\/blocks$/, pages.blocks],
  [/^\/blocks\/([0-9]+|[0-9a-fA-F]{64})$/, pages.block],
  [/^\/txs$/, pages.txs],
  [/^\/txs\/([0-9a-fA-F]{64})$/, pages.tx],
  [/^\/accounts$/, pages.accounts],
  [/^\/accounts\/([^/]+)$/, pages.account],
  [/^\/obligations$/, pages.obligations],
  [/^\/obligations\/([0-9a-fA-F]{64})$/, pages.obligation],
  [/^\/applications$/, pages.applications],
  [/^\/applications\/([0-9a-fA-F]{64})$/, pages.application],
  [/^\/credentials$/, pages.credentials],
  [/^\/credentials\/([0-9a-fA-F]{64})$/, pages.credential],
  [/^\/search$/, pages.search],
  [/^\/verify$/, pages.verify],
  [/^\/operator$/, pages.operator],
];

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
/** @type {pages.Context} */
const context = { genesis: null, decimals: new Map(), live: new Live() };
/** @type {(() => void) | null} */
let stopPage = null;
let renderCount = 0;

/** Renders the page the fragment names. */
async function render() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = hash.split('?', 2);
  const query = new URLSearchParams(search);
  stopPage?.();
  stopPage = null;
  const ticket = ++renderCount;
  markCurrent(path);
  const [pattern, show] = ROUTES.find(([route]) => route.test(path)) ?? [null, pages.notFound];
  const params = pattern ? (pattern.exec(path) ?? []).slice(1) : [];
  try {
    const stop = await show(main, params, query, context);
    // A page that finished after the reader moved on stops at once.
    if (typeof stop === 'function') {
      if (ticket === renderCount) stopPage = stop;
      else stop();
    }
  } catch (error) {
    replace(main, errorBox(error));
  }
  if (ticket === renderCount) {
    const heading = main.querySelector('h1');
    // After a move within the explorer, focus goes to the new page's
    // title, as a page load would put it at the top; on the first load it
    // stays at the top, where the skip link is. A reader already typing in
    // a field (the search box) keeps it: a page that finished loading must
    // not take their next keystroke.
    const active = document.activeElement;
    const typing = active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement;
    if (heading instanceof HTMLElement && ticket > 1 && !typing) heading.focus();
    main.setAttribute("data-ready", String(ticket));
  }
}

/** @param {string} path */
function markCurrent(path) {
  const section = `/${path.split('/')[1] ?? ''}`;
  for (const anchor of document.querySelectorAll('nav a')) {
    const target = (anchor.getAttribute('href') ?? '').replace(/^#/, '');
    if (target === section) anchor.setAttribute('aria-current', 'page');
    else anchor.removeAttribute('aria-current');
  }
  document.getElementById('nav-list')?.classList.remove('open');
  document.getElementById('nav-toggle')?.setAttribute('aria-expanded', 'false');
}

function setUpChrome() {
  const form = /** @type {HTMLFormElement} */ (document.getElementById('search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (form.elements.namedItem('q'));
    const text = input.value.trim();
    if (text) location.hash = `#/search?q=${encodeURIComponent(text)}`;
  });
  const toggle = /** @type {HTMLButtonElement} */ (document.getElementById('nav-toggle'));
  toggle.addEventListener('click', () => {
    const list = document.getElementById('nav-list');
    const open = !(list?.classList.contains('open') ?? false);
    list?.classList.toggle('open', open);
    toggle.setAttribute('aria-expanded', String(open));
  });
  const liveState = /** @type {HTMLElement} */ (document.getElementById('live-state'));
  context.live.subscribe((message) => {
    if (message.type === 'state') {
      liveState.textContent = message.connected ? 'live' : 'reconnecting…';
      liveState.className = `live-dot ${message.connected ? 'on' : 'off'}`;
    }
  });
  context.live.start();
}

/** Shows the alert banner while the node lags. */
async function checkLag() {
  const alert = /** @type {HTMLElement} */ (document.getElementById('alert'));
  try {
    const status = await api.status();
    const reasons = pages.lagReasons(status);
    alert.hidden = reasons.length === 0;
    alert.textContent = reasons.length ? `This node lags: ${reasons.join('; ')}.` : '';
  } catch (error) {
    alert.hidden = false;
    alert.textContent = `The node does not answer: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function start() {
  setUpChrome();
  try {
    const genesis = await api.genesis();
    context.genesis = genesis;
    for (const currency of genesis.currencies) context.decimals.set(currency.code, currency.decimals);
    const chain = document.getElementById('chain-id');
    if (chain) chain.textContent = genesis.chain_id;
  } catch (error) {
    // Pages still work without it: amounts fall back to two decimals.
    console.warn('genesis not loaded', error);
  }
  window.addEventListener('hashchange', render);
  await render();
  checkLag();
  setInterval(checkLag, LAG_CHECK_MS);
}

start();
