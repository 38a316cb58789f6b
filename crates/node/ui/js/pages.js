// The pages of the explorer. Each renders into the container it is given
// from the public REST API (./api.js) and the live stream (./live.js), and
// may return a function that stops what it started (subscriptions, timers).
//
// What a page shows (see ARCHITECTURE.md, "UI invariants"): identifiers,
// amounts, kinds, statuses and times. Free text that a signer typed (memos,
// obligation references, reasons) is not shown; a field that a service
// declares a commitment is shown as a commitment, never resolved.

import * as api from './api.js';
import { badge, errorBox, facts, h, link, loading, replace, table } from './dom.js';
import { ago, decimal, majorUnits, short, time, words } from './format.js';
import { receiptFromFile } from './qr.js';
import { loadVerifier, verifyReceipt } from './verify.js';

/** @typedef {import('./live.js').Live} Live */
/** @typedef {import('./api.js').Genesis} Genesis */
/** @typedef {import('./dom.js').Child} Child */

/**
 * @typedef {{genesis: Genesis | null, decimals: Map<string, number>, live: Live}} Context
 * @typedef {(container: HTMLElement, params: string[], query: URLSearchParams, context: Context)
 *   => Promise<void | (() => void)>} AsyncPage
 * @typedef {(container: HTMLElement, params: string[], query: URLSearchParams, context: Context)
 *   => void | (() => void)} SyncPage
 * @typedef {AsyncPage | SyncPage} Page
 */

/** A node whose tip is older than this, in ms, is lagging. */
export const STALE_TIP_MS = 30000;
/** A node this many finalized views behind its peers is lagging. */
export const LAG_VIEWS_MAX = 10;
/** Refresh period of the figures the stream does not carry, in ms. */
const STATUS_REFRESH_MS = 5000;
/** Blocks on the dashboard. */
const DASHBOARD_BLOCKS = 10;
/** Blocks scanned by the operator view for validator-set changes. */
const VALIDATOR_SET_SCAN_BLOCKS = 100;
/** Where the trusted genesis is remembered in this browser. */
const TRUST_STORAGE_KEY = 'cityledger.trusted-genesis';

/**
 * A page's title and its content, with the title focused for screen
 * readers and keyboard users.
 * @param {HTMLElement} container
 * @param {string} title
 * @param {...(Child | Child[])} content
 */
function page(container, title, ...content) {
  const heading = h('h1', { tabindex: '-1' }, title);
  replace(container, heading, ...content);
  document.title = `${title} · CityLedger explorer`;
  return heading;
}

/**
 * Fills `target` with what `load` renders, showing a loading line first
 * and the error if it fails.
 * @param {HTMLElement} target
 * @param {() => Promise<Child | Child[]>} load
 */
async function fill(target, load) {
  replace(target, loading());
  try {
    replace(target, await load());
  } catch (error) {
    replace(target, errorBox(error));
  }
}

/**
 * `minor` units of `currency` in major units with the code.
 * @param {Context} context
 * @param {string} minor
 * @param {string} currency
 */
function money(context, minor, currency) {
  return `${majorUnits(minor, context.decimals.get(currency) ?? 2)} ${currency}`;
}

/** @param {string} address */
const accountLink = (address) => link(`/accounts/${encodeURIComponent(address)}`, short(address, 10), 'mono');
/** @param {string} hash */
const txLink = (hash) => link(`/txs/${hash}`, short(hash), 'mono');
/** @param {number} height */
const blockLink = (height) => link(`/blocks/${height}`, String(height));

/**
 * The outcome of a finalized transaction as a badge.
 * @param {{outcome: string, code?: string}} outcome
 */
function outcomeBadge(outcome) {
  return outcome.outcome === 'applied'
    ? badge('applied', 'good')
    : badge(`rejected: ${outcome.code ?? ''}`, 'bad');
}

/**
 * What a listed transaction did, in a few words.
 * @param {Context} context
 * @param {api.TxSummary} tx
 */
function txWhat(context, tx) {
  if (!tx.transfer) return words(tx.kind);
  const transfer = tx.transfer;
  return h('span', {}, `${money(context, transfer.amount, transfer.currency)} `,
    accountLink(transfer.from), ' → ', accountLink(transfer.to));
}

/**
 * Rows of transaction summaries.
 * @param {Context} context
 * @param {api.TxSummary[]} items
 */
function txRows(context, items) {
  return items.map((tx) => [
    txLink(tx.hash),
    blockLink(tx.height),
    time(tx.timestamp_ms),
    txWhat(context, tx),
    outcomeBadge(tx),
  ]);
}

/**
 * Rows of block summaries.
 * @param {api.BlocksPage['items']} items
 */
function blockRows(items) {
  return items.map((block) => [
    blockLink(block.height),
    time(block.timestamp_ms),
    { value: block.tx_count, num: true },
    { value: block.rejected_count, num: true },
    h('span', { class: 'mono' }, short(block.id)),
    block.certified ? badge('certified', 'good') : badge('no certificate', 'warn'),
  ]);
}

const BLOCK_HEADINGS = ['Height', 'Time', 'Txs', 'Rejected', 'Id', 'Finality'];
const TX_HEADINGS = ['Hash', 'Block', 'Time', 'What', 'Outcome'];

/**
 * Whether the node lags, and why.
 * @param {api.StatusView} status
 * @param {number} [now]
 * @returns {string[]}
 */
export function lagReasons(status, now = Date.now()) {
  const reasons = [];
  if (status.syncing) reasons.push('it is catching up with its peers');
  if (status.views_behind > LAG_VIEWS_MAX) {
    reasons.push(`it is ${status.views_behind} finalized views behind its peers`);
  }
  if (now - status.timestamp_ms > STALE_TIP_MS) {
    reasons.push(`its newest finalized block is from ${ago(status.timestamp_ms, now)}`);
  }
  const quorum = Math.floor((2 * status.validators.length) / 3) + 1;
  if (status.validators_live < quorum) {
    reasons.push(`only ${status.validators_live} of ${status.validators.length} validators are live (quorum ${quorum})`);
  }
  return reasons;
}

// --- dashboard -------------------------------------------------------------

/** @type {AsyncPage} */
export async function dashboard(container, _params, _query, context) {
  const value = (/** @type {string} */ id) => h('div', { class: 'value', id }, '–');
  const card = (/** @type {string} */ label, /** @type {string} */ id, /** @type {string} */ note) =>
    h('div', { class: 'card' }, h('div', { class: 'label' }, label), value(id), h('div', { class: 'note' }, note));
  const validators = h('div', {}, loading());
  const blocks = h('div', {}, loading());
  const txs = h('div', {}, loading());
  page(container, 'Dashboard',
    h('div', { class: 'cards' },
      card('Height', 'dash-height', 'newest finalized block'),
      card('Finalized tx/s', 'dash-tps', 'over the last blocks, by block time'),
      card('Finality latency', 'dash-latency', 'block time to finalized, seen here'),
      card('Mempool', 'dash-mempool', 'transactions waiting'),
      card('Validators live', 'dash-validators', 'voted recently')),
    h('h2', {}, 'Validators'), validators,
    h('h2', {}, 'Latest blocks'), blocks,
    h('h2', {}, 'Latest transactions'), txs);

  /** @type {api.BlocksPage['items']} */
  let recent = [];
  const set = (/** @type {string} */ id, /** @type {string} */ text) => {
    const element = container.querySelector(`#${id}`);
    if (element) element.textContent = text;
  };
  const showRates = () => {
    const height = context.live.height();
    if (height !== null) set('dash-height', String(height));
    set('dash-tps', decimal(context.live.txPerSecond(), 1));
    const latency = context.live.finalityLatencyMs();
    set('dash-latency', Number.isFinite(latency) ? `${decimal(latency / 1000, 2)} s` : '–');
  };
  const showBlocks = () => replace(blocks, table('Latest blocks', BLOCK_HEADINGS, blockRows(recent)));
  const loadTxs = () => fill(txs, async () => {
    const page = await api.txs(null, DASHBOARD_BLOCKS);
    return table('Latest transactions', TX_HEADINGS, txRows(context, page.items), 'No transactions yet.');
  });
  const loadStatus = async () => {
    try {
      const status = await api.status();
      set('dash-mempool', String(status.mempool_size));
      set('dash-validators', `${status.validators_live} / ${status.validators.length}`);
      if (context.live.height() === null) set('dash-height', String(status.height));
      replace(validators, validatorTable(status));
    } catch (error) {
      replace(validators, errorBox(error));
    }
  };

  await Promise.all([
    loadStatus(),
    loadTxs(),
    fill(blocks, async () => {
      const page = await api.blocks(null, DASHBOARD_BLOCKS);
      recent = page.items;
      context.live.seed(page.items);
      return table('Latest blocks', BLOCK_HEADINGS, blockRows(recent));
    }),
  ]);
  showRates();

  const unsubscribe = context.live.subscribe((message) => {
    if (message.type !== 'block') return;
    const event = message.event;
    showRates();
    if (!recent.some((block) => block.height === event.height)) {
      // The stream carries what the table shows but the certificate; a
      // block delivered by the stream is finalized, and the listing says
      // whether this node holds its certificate on the next load.
      recent = [{
        height: event.height,
        id: event.block_id,
        timestamp_ms: event.timestamp_ms,
        tx_count: event.tx_count,
        rejected_count: 0,
        state_root: '',
        validator_set_hash: '',
        round: { epoch: 0, view: 0, parent_view: 0 },
        certified: true,
      }, ...recent].slice(0, DASHBOARD_BLOCKS);
      api.blocks(event.height + 1, 1).then((page) => {
        const fresh = page.items[0];
        if (fresh) recent = recent.map((block) => (block.height === fresh.height ? fresh : block));
        showBlocks();
      }).catch(() => showBlocks());
      showBlocks();
    }
    if (event.tx_count > 0) loadTxs();
  });
  const timer = setInterval(loadStatus, STATUS_REFRESH_MS);
  return () => {
    unsubscribe();
    clearInterval(timer);
  };
}

/**
 * The validators as this node sees them.
 * @param {api.StatusView} status
 */
function validatorTable(status) {
  return table('Validators', ['Organisation', 'Key', 'Status', 'Last view', 'Last seen'],
    status.validators.map((validator) => [
      validator.org,
      h('span', { class: 'mono', title: validator.key }, short(validator.key)),
      validator.live ? badge('live', 'good') : badge('silent', 'bad'),
      { value: validator.last_view ?? '–', num: true },
      validator.last_seen_ms ? ago(validator.last_seen_ms) : 'never',
    ]));
}

// --- blocks ----------------------------------------------------------------

/** @type {AsyncPage} */
export async function blocks(container, _params, query) {
  const before = query.get('before');
  const body = h('div', {});
  page(container, 'Blocks', body);
  await fill(body, async () => {
    const result = await api.blocks(before ? Number(before) : null, 20);
    return [
      table('Blocks', BLOCK_HEADINGS, blockRows(result.items)),
      pager(before ? '/blocks' : null,
        result.next_before !== null && result.next_before !== undefined
          ? `/blocks?before=${result.next_before}` : null),
    ];
  });
}

/**
 * Links to the first and the next page.
 * @param {string | null} first
 * @param {string | null} next
 */
function pager(first, next) {
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    first ? link(first, 'Newest') : null,
    next ? link(next, 'Older') : null);
}

/** @type {AsyncPage} */
export async function block(container, params, _query, context) {
  const ref = params[0];
  const body = h('div', {});
  page(container, `Block ${short(ref)}`, body);
  await fill(body, async () => {
    const found = await api.block(ref);
    const heading = container.querySelector('h1');
    if (heading) heading.textContent = `Block ${found.height}`;
    document.title = `Block ${found.height} · CityLedger explorer`;
    return [
      facts([
        ['Height', String(found.height)],
        ['Id', h('span', { class: 'mono' }, found.id)],
        ['Parent', found.height > 0 ? link(`/blocks/${found.height - 1}`, h('span', { class: 'mono' }, found.parent)) : 'none (genesis)'],
        ['Time', time(found.timestamp_ms)],
        ['Transactions', String(found.tx_count)],
        ['State root', h('span', { class: 'mono' }, found.state_root)],
        ['Transaction root', h('span', { class: 'mono' }, found.tx_root)],
        ['Validator set', h('span', { class: 'mono' }, found.validator_set_hash)],
        ['Round', `epoch ${found.round.epoch}, view ${found.round.view} (parent view ${found.round.parent_view})`],
        ['Leader', found.round.leader ? h('span', { class: 'mono' }, found.round.leader) : '–'],
        ['Finality certificate', found.certificate ? `${Math.round(found.certificate.length * 0.75)} bytes` : 'none held by this node'],
      ]),
      h('nav', { class: 'pager', 'aria-label': 'Neighbours' },
        found.height > 0 ? link(`/blocks/${found.height - 1}`, '← Previous') : null,
        link(`/blocks/${found.height + 1}`, 'Next →')),
      h('h2', {}, 'Transactions'),
      table('Transactions of the block', ['#', 'Hash', 'Signer', 'What', 'Outcome'],
        found.txs.map((tx, position) => [
          { value: position, num: true },
          txLink(tx.hash),
          h('span', { class: 'mono', title: tx.signer }, short(tx.signer)),
          actionWhat(context, tx.action),
          outcomeBadge(tx),
        ]), 'An empty block.'),
    ];
  });
}

// --- transactions ----------------------------------------------------------

/**
 * What an action does, in a few words.
 * @param {Context} context
 * @param {api.TxView['action']} action
 */
function actionWhat(context, action) {
  if (action.kind === 'transfer') {
    return h('span', {}, `${money(context, action.amount, action.currency)} `,
      accountLink(action.from), ' → ', accountLink(action.to));
  }
  return words(action.kind);
}

/** @type {AsyncPage} */
export async function txs(container, _params, query, context) {
  const cursor = query.get('cursor');
  const body = h('div', {});
  page(container, 'Transactions', body);
  await fill(body, async () => {
    const result = await api.txs(cursor, 20);
    return [
      table('Transactions', TX_HEADINGS, txRows(context, result.items), 'No transactions in the blocks read.'),
      pager(cursor ? '/txs' : null,
        result.next_cursor ? `/txs?cursor=${encodeURIComponent(result.next_cursor)}` : null),
    ];
  });
}

/** @type {AsyncPage} */
export async function tx(container, params, _query, context) {
  const hash = params[0];
  const body = h('div', {});
  page(container, `Transaction ${short(hash)}`, body);
  await fill(body, async () => {
    const status = await api.txStatus(hash);
    if (status.state === 'unknown') {
      return h('p', { class: 'empty' }, 'This node knows no such transaction: never received, dropped or expired.');
    }
    if (status.state === 'pending') {
      return facts([['Hash', h('span', { class: 'mono' }, hash)], ['Status', badge('pending in the mempool', 'warn')]]);
    }
    const found = await api.block(status.height);
    const view = found.txs[status.position];
    if (!view) throw new Error(`block ${status.height} has no transaction at position ${status.position}`);
    return [
      facts([
        ['Hash', h('span', { class: 'mono' }, view.hash)],
        ['Status', badge('finalized', 'good')],
        ['Block', h('span', {}, blockLink(status.height), ` (position ${status.position}, ${time(found.timestamp_ms)})`)],
        ['Signer', h('span', { class: 'mono' }, view.signer)],
        ['Client id', h('span', { class: 'mono' }, view.id)],
        ['Expires', time(view.expires_at_ms)],
        ['What', words(view.action.kind)],
        ...actionFacts(context, view.action),
        ['Outcome', view.outcome === 'applied' ? badge('applied', 'good')
          : h('span', {}, badge(`rejected: ${view.code ?? ''}`, 'bad'), ` ${view.detail ?? ''}`)],
      ]),
      h('h2', {}, 'Receipt'),
      h('p', {}, 'Anyone can check this transaction offline with its receipt: ',
        h('a', { href: `/v1/receipts/tx/${hash}` }, 'download it (JSON)'),
        ', then paste its ', h('code', {}, 'receipt'), ' text into ',
        link(`/verify`, 'Verify a receipt'), ', or run ',
        h('code', {}, `cityledger receipt tx ${hash}`), '.'),
    ];
  });
}

/**
 * The details of an action worth a line each.
 * @param {Context} context
 * @param {api.TxView['action']} action
 * @returns {[string, Child][]}
 */
function actionFacts(context, action) {
  if (action.kind === 'transfer') {
    return [
      ['From', accountLink(action.from)],
      ['To', accountLink(action.to)],
      ['Amount', money(context, action.amount, action.currency)],
      ['Memo', action.memo ? `${action.memo.length} characters (not shown)` : 'none'],
    ];
  }
  if (action.kind === 'pay_obligation') {
    return [
      ['Obligation', link(`/obligations/${action.obligation}`, short(action.obligation), 'mono')],
      ['From', accountLink(action.from)],
      ['Amount', money(context, action.amount, action.currency)],
    ];
  }
  return [];
}

// --- accounts --------------------------------------------------------------

/** @type {AsyncPage} */
export async function accounts(container, _params, _query, context) {
  const recent = h('div', {});
  const form = h('form', { class: 'toolbar', id: 'account-form' },
    h('div', {}, h('label', { for: 'account-address' }, 'Address or org:account alias'),
      h('input', { id: 'account-address', name: 'address', required: true, size: 48, spellcheck: 'false' })),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (form.querySelector('input'));
    const address = input.value.trim();
    if (address) location.hash = `#/accounts/${encodeURIComponent(address)}`;
  });
  const orgs = context.genesis?.orgs ?? [];
  page(container, 'Accounts', form,
    h('h2', {}, 'Organisation accounts'),
    table('Organisation accounts', ['Organisation', 'Account'],
      orgs.flatMap((org) => (org.accounts ?? []).map((account) => [
        org.name,
        link(`/accounts/${encodeURIComponent(`${org.name}:${account.name}`)}`, `${org.name}:${account.name}`, 'mono'),
      ]))),
    h('h2', {}, 'Recently active'), recent);
  await fill(recent, async () => {
    const page = await api.txs(null, 50);
    const seen = new Set();
    for (const item of page.items) {
      if (item.transfer) {
        seen.add(item.transfer.from);
        seen.add(item.transfer.to);
      }
    }
    return table('Recently active accounts', ['Address'], [...seen].map((address) => [accountLink(address)]),
      'No transfers in the latest blocks.');
  });
}

/** @type {AsyncPage} */
export async function account(container, params, query) {
  const address = decodeURIComponent(params[0]);
  const cursor = query.get('cursor');
  const body = h('div', {});
  page(container, 'Account', body);
  await fill(body, async () => {
    const [found, history] = await Promise.all([api.account(address), api.accountTxs(address, cursor)]);
    return [
      facts([
        ['Address', h('span', { class: 'mono', id: 'account-address-value' }, found.address)],
        ['Kind', words(found.kind)],
        ['Owner', found.owner ? h('span', { class: 'mono' }, found.owner) : 'not opened yet'],
        ['Flags', found.flags === 0 ? 'none' : [found.flags & 1 ? 'may go negative' : '', found.flags & 2 ? 'frozen' : ''].filter(Boolean).join(', ')],
      ]),
      h('h2', {}, 'Balances'),
      table('Balances', ['Currency', 'Balance', 'Available'], found.balances.map((balance) => [
        balance.currency,
        { value: majorUnits(balance.balance_minor, balance.decimals), num: true },
        { value: majorUnits(balance.available_minor, balance.decimals), num: true },
      ]), 'No balance yet.'),
      h('p', {}, h('a', { href: `/v1/receipts/balance/${encodeURIComponent(found.address)}` }, 'Balance receipt (JSON)'),
        ' — verify its text on ', link('/verify', 'Verify a receipt'), '.'),
      h('h2', {}, 'Transactions'),
      table('Transactions of the account', ['Hash', 'Block', 'Outcome'], history.items.map((item) => [
        txLink(item.hash), blockLink(item.height), outcomeBadge(item),
      ]), 'No transactions.'),
      pager(cursor ? `/accounts/${encodeURIComponent(address)}` : null,
        history.next_cursor ? `/accounts/${encodeURIComponent(address)}?cursor=${encodeURIComponent(history.next_cursor)}` : null),
    ];
  });

}

// --- obligations, applications, credentials ---------------------------------

/**
 * A filter form whose fields are kept in the route's query.
 * @param {string} route
 * @param {URLSearchParams} query
 * @param {{name: string, label: string, options?: string[]}[]} fields
 */
function filterForm(route, query, fields) {
  const form = h('form', { class: 'toolbar' },
    fields.map((field) => {
      const id = `filter-${field.name}`;
      const current = query.get(field.name) ?? '';
      const control = field.options
        ? h('select', { id, name: field.name },
          h('option', { value: '' }, 'any'),
          field.options.map((option) => h('option', { value: option, selected: option === current }, option)))
        : h('input', { id, name: field.name, value: current, size: 30, spellcheck: 'false' });
      return h('div', {}, h('label', { for: id }, field.label), control);
    }),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new URLSearchParams();
    for (const [name, value] of new FormData(/** @type {HTMLFormElement} */ (form))) {
      if (typeof value === 'string' && value.trim()) data.set(name, value.trim());
    }
    location.hash = `#${route}${data.size ? `?${data}` : ''}`;
  });
  return form;
}

/**
 * The organisations of the genesis, by name.
 * @param {Context} context
 */
const orgNames = (context) => (context.genesis?.orgs ?? []).map((org) => org.name);

/**
 * The query of a listing, with `defaultName` set to the first
 * organisation when no filter is given, and the cursor passed on.
 * @param {URLSearchParams} query
 * @param {string[]} names filter names
 * @param {string} defaultName
 * @param {Context} context
 */
function listingQuery(query, names, defaultName, context) {
  /** @type {Record<string, string>} */
  const params = {};
  for (const name of [...names, 'cursor']) {
    const value = query.get(name);
    if (value) params[name] = value;
  }
  if (!names.some((name) => params[name] && name !== 'status')) {
    params[defaultName] = orgNames(context)[0] ?? '';
  }
  return params;
}

const OBLIGATION_STATUSES = ['open', 'partially_paid', 'overdue', 'payable', 'paid', 'waived', 'appealed', 'cancelled'];

/** @type {AsyncPage} */
export async function obligations(container, _params, query, context) {
  const body = h('div', {});
  page(container, 'Obligations',
    filterForm('/obligations', query, [
      { name: 'issuer', label: 'Issuer', options: orgNames(context) },
      { name: 'payer', label: 'Payer address' },
      { name: 'status', label: 'Status', options: OBLIGATION_STATUSES },
    ]), body);
  await fill(body, async () => {
    const params = listingQuery(query, ['issuer', 'payer', 'status'], 'issuer', context);
    const result = await api.obligations(params);
    return [
      h('p', { class: 'note' }, params.payer ? `Owed by ${params.payer}` : `Issued by ${params.issuer}`),
      table('Obligations', ['Id', 'Kind', 'Issuer', 'Payer', 'Amount', 'Owed', 'Due', 'Status'],
        result.items.map((item) => [
          link(`/obligations/${item.id}`, short(item.id), 'mono'),
          words(item.kind), item.issuer, accountLink(item.payer),
          { value: money(context, item.amount, item.currency), num: true },
          { value: money(context, item.owed, item.currency), num: true },
          time(item.due_at_ms), statusBadge(item.status, item.overdue),
        ]), 'No obligations match.'),
      nextPage('/obligations', query, result.next_cursor),
    ];
  });
}

/**
 * A link to the next page of a cursor listing, keeping the filters.
 * @param {string} route
 * @param {URLSearchParams} query
 * @param {string | null | undefined} cursor
 */
function nextPage(route, query, cursor) {
  const first = new URLSearchParams(query);
  first.delete('cursor');
  const next = new URLSearchParams(first);
  if (cursor) next.set('cursor', cursor);
  return pager(query.get('cursor') ? `${route}?${first}` : null, cursor ? `${route}?${next}` : null);
}

/**
 * @param {string} status
 * @param {boolean} [overdue]
 */
function statusBadge(status, overdue = false) {
  const good = ['paid', 'valid', 'approved', 'applied'];
  const bad = ['cancelled', 'revoked', 'rejected', 'expired'];
  const tone = overdue || bad.includes(status) ? 'bad' : good.includes(status) ? 'good' : 'warn';
  return badge(overdue ? `${words(status)} (overdue)` : words(status), tone);
}

/**
 * A history listing (obligations, applications and credentials share it).
 * @param {api.HistoryPage} history
 */
function historyTable(history) {
  return table('History', ['Block', 'Time', 'Event', 'Transaction'], history.items.map((item) => [
    blockLink(item.height), time(item.timestamp_ms),
    words(String(/** @type {Record<string, unknown>} */ (item.event).type ?? 'event')), txLink(item.tx),
  ]), 'No history.');
}

/** @type {AsyncPage} */
export async function obligation(container, params, _query, context) {
  const id = params[0];
  const body = h('div', {});
  page(container, `Obligation ${short(id)}`, body);
  await fill(body, async () => {
    const [found, history] = await Promise.all([api.obligation(id), api.obligationHistory(id)]);
    return [
      facts([
        ['Id', h('span', { class: 'mono' }, found.id)],
        ['Kind', words(found.kind)],
        ['Issuer', found.issuer],
        ['Payer', accountLink(found.payer)],
        ['Payee', accountLink(found.payee)],
        ['Amount', money(context, found.amount, found.currency)],
        ['Paid', money(context, found.paid, found.currency)],
        ['Penalty', money(context, found.penalty, found.currency)],
        ['Owed', money(context, found.owed, found.currency)],
        ['Issued', time(found.issued_at_ms)],
        ['Due', time(found.due_at_ms)],
        ['Status', statusBadge(found.status, found.overdue)],
        ['Reference', found.reference.length ? `${found.reference.map((field) => field.key).join(', ')} (values not shown)` : 'none'],
        ['Evidence', found.evidence ? h('span', { class: 'mono' }, found.evidence) : 'none'],
      ]),
      h('p', {}, h('a', { href: `/v1/receipts/obligation/${found.id}` }, 'Obligation receipt (JSON)')),
      h('h2', {}, 'History'), historyTable(history),
    ];
  });
}

/**
 * Fields of an application or claims of a credential: names and types;
 * values unless they are commitments, which are shown as such.
 * @param {{name: string, value: {type: string, value?: unknown}}[]} fields
 */
function fieldList(fields) {
  return table('Fields', ['Name', 'Value'], fields.map((field) => [
    field.name,
    field.value.type === 'commitment'
      ? h('span', {}, badge('commitment', 'warn'), ' ', h('span', { class: 'mono' }, short(String(field.value.value))))
      : String(field.value.value ?? ''),
  ]), 'None.');
}

/** @type {AsyncPage} */
export async function applications(container, _params, query, context) {
  const body = h('div', {});
  page(container, 'Applications',
    filterForm('/applications', query, [
      { name: 'org', label: 'Deciding organisation', options: orgNames(context) },
      { name: 'applicant', label: 'Applicant address' },
      { name: 'status', label: 'Status', options: ['open', 'decided'] },
    ]), body);
  await fill(body, async () => {
    const params = listingQuery(query, ['org', 'applicant', 'status'], 'org', context);
    const result = await api.applications(params);
    return [
      table('Applications', ['Id', 'Service', 'Organisation', 'Applicant', 'Submitted', 'Status'],
        result.items.map((item) => [
          link(`/applications/${item.id}`, short(item.id), 'mono'),
          words(item.service), item.org, accountLink(item.applicant_address),
          time(item.submitted_at_ms), statusBadge(String(item.status)),
        ]), 'No applications match.'),
      nextPage('/applications', query, result.next_cursor),
    ];
  });
}

/** @type {AsyncPage} */
export async function application(container, params) {
  const id = params[0];
  const body = h('div', {});
  page(container, `Application ${short(id)}`, body);
  await fill(body, async () => {
    const found = await api.application(id);
    return [
      facts([
        ['Id', h('span', { class: 'mono' }, found.id)],
        ['Service', words(found.service)],
        ['Organisation', found.org],
        ['Applicant', accountLink(found.applicant_address)],
        ['Submitted', time(found.submitted_at_ms)],
        ['Status', statusBadge(String(found.status))],
        ['Fee', found.fee_obligation ? link(`/obligations/${found.fee_obligation}`, short(found.fee_obligation), 'mono') : 'none'],
        ['Documents', found.documents.length ? `${found.documents.map((doc) => doc.name).join(', ')} (committed by hash)` : 'none'],
      ]),
      h('h2', {}, 'Fields'), fieldList(/** @type {any} */ (found.fields)),
    ];
  });
}

/** @type {AsyncPage} */
export async function credentials(container, _params, query, context) {
  const body = h('div', {});
  page(container, 'Credentials',
    filterForm('/credentials', query, [
      { name: 'issuer', label: 'Issuer', options: orgNames(context) },
      { name: 'holder', label: 'Holder address' },
    ]), body);
  await fill(body, async () => {
    const params = listingQuery(query, ['issuer', 'holder'], 'issuer', context);
    const result = await api.credentials(params);
    return [
      table('Credentials', ['Id', 'Type', 'Issuer', 'Holder', 'Valid until', 'Status'],
        result.items.map((item) => [
          link(`/credentials/${item.id}`, short(item.id), 'mono'),
          words(item.credential_type), item.issuer, accountLink(item.holder_address),
          time(item.valid_until_ms), statusBadge(String(item.status)),
        ]), 'No credentials match.'),
      nextPage('/credentials', query, result.next_cursor),
    ];
  });
}

/** @type {AsyncPage} */
export async function credential(container, params) {
  const id = params[0];
  const body = h('div', {});
  page(container, `Credential ${short(id)}`, body);
  await fill(body, async () => {
    const found = await api.credential(id);
    return [
      facts([
        ['Id', h('span', { class: 'mono' }, found.id)],
        ['Type', words(found.credential_type)],
        ['Issuer', found.issuer],
        ['Holder', accountLink(found.holder_address)],
        ['Valid', `${time(found.valid_from_ms)} to ${time(found.valid_until_ms)}`],
        ['Status', statusBadge(String(found.status))],
        ['As of', `block ${found.as_of_height}, ${time(found.as_of_ms)}`],
        ['Application', found.application ? link(`/applications/${found.application}`, short(found.application), 'mono') : 'none'],
      ]),
      h('p', {}, h('a', { href: `/v1/receipts/credential/${found.id}` }, 'Credential receipt (JSON)')),
      h('h2', {}, 'Claims'), fieldList(/** @type {any} */ (found.claims)),
      h('h2', {}, 'Status history'),
      table('Status history', ['At', 'Status'], found.history.map((change) => [
        time(/** @type {any} */ (change).at_ms ?? 0), words(String(/** @type {any} */ (change).status ?? '')),
      ]), 'Unchanged since issued.'),
    ];
  });
}

// --- search ----------------------------------------------------------------

/**
 * Where a search leads: a route, or null when nothing matches. Heights and
 * addresses are recognised by their form; a 64-hex value is tried as a
 * transaction, block, obligation, application and credential in turn.
 * @param {string} text
 * @returns {Promise<string | null>}
 */
export async function resolveSearch(text) {
  const query = text.trim();
  if (/^\d+$/.test(query)) return `/blocks/${query}`;
  if (/^cl1[0-9a-z]+$/i.test(query) || /^[a-z0-9_-]+:[a-z0-9_-]+$/i.test(query)) {
    return `/accounts/${encodeURIComponent(query)}`;
  }
  if (!/^[0-9a-f]{64}$/i.test(query)) return null;
  const hex = query.toLowerCase();
  const found = async (/** @type {() => Promise<unknown>} */ probe) => {
    try {
      await probe();
      return true;
    } catch (error) {
      if (error instanceof api.ApiError && error.status === 404) return false;
      throw error;
    }
  };
  const status = await api.txStatus(hex);
  if (status.state !== 'unknown') return `/txs/${hex}`;
  if (await found(() => api.block(hex))) return `/blocks/${hex}`;
  if (await found(() => api.obligation(hex))) return `/obligations/${hex}`;
  if (await found(() => api.application(hex))) return `/applications/${hex}`;
  if (await found(() => api.credential(hex))) return `/credentials/${hex}`;
  return null;
}

/** @type {AsyncPage} */
export async function search(container, _params, query) {
  const text = query.get('q') ?? '';
  const body = h('div', {});
  page(container, 'Search', body);
  await fill(body, async () => {
    if (!text.trim()) return h('p', { class: 'empty' }, 'Type a height, hash, address or id in the search box.');
    const asked = location.hash;
    const route = await resolveSearch(text);
    // A slow lookup must not pull the reader back from a newer search or
    // page they moved to while it ran.
    if (location.hash !== asked) return loading();
    if (route) {
      location.replace(`#${route}`);
      return loading();
    }
    return h('p', { class: 'empty', id: 'search-none' },
      `Nothing matches “${text}”. A search takes a block height, a 64-hex hash or id, or an address (cl1… or org:account).`);
  });
}

// --- verify ----------------------------------------------------------------

/**
 * The genesis this browser trusts, if one was chosen.
 * @returns {{text: string, source: string} | null}
 */
function trustedGenesis() {
  try {
    const stored = localStorage.getItem(TRUST_STORAGE_KEY);
    return stored ? JSON.parse(stored) : null;
  } catch {
    return null;
  }
}

/**
 * Remembers the genesis to verify against, after checking it is one.
 * @param {string} text
 * @param {string} source where it came from, for people
 */
function trustGenesis(text, source) {
  const parsed = JSON.parse(text);
  if (!parsed || typeof parsed.chain_id !== 'string' || !Array.isArray(parsed.validators)) {
    throw new Error('this is not a genesis document (no chain_id or validators)');
  }
  try {
    localStorage.setItem(TRUST_STORAGE_KEY, JSON.stringify({ text, source }));
  } catch {
    // Private browsing may refuse storage; the choice then lasts this page.
  }
  return { text, source };
}

/** @type {SyncPage} */
export function verify(container) {
  let trust = trustedGenesis();
  const trustLine = h('p', { id: 'trust-state', role: 'status' });
  const showTrust = () => {
    if (!trust) {
      replace(trustLine, badge('none', 'warn'), ' Choose the genesis you trust before verifying.');
      return;
    }
    let chain = '?';
    try {
      chain = JSON.parse(trust.text).chain_id;
    } catch {
      // Checked when it was chosen.
    }
    replace(trustLine, badge('trusted', 'good'), ` Genesis of chain ${chain}, from ${trust.source}.`);
  };
  showTrust();

  const genesisFile = h('input', { type: 'file', id: 'genesis-file', accept: '.json,application/json' });
  genesisFile.addEventListener('change', async () => {
    const file = /** @type {HTMLInputElement} */ (genesisFile).files?.[0];
    if (!file) return;
    try {
      trust = trustGenesis(await file.text(), `the file ${file.name}`);
      showTrust();
    } catch (error) {
      replace(trustLine, errorBox(error));
    }
  });
  const fromNode = h('button', { type: 'button', class: 'secondary', id: 'genesis-from-node' }, "Use this node's genesis");
  fromNode.addEventListener('click', async () => {
    try {
      const [document, status] = await Promise.all([api.genesis(), api.status()]);
      trust = trustGenesis(JSON.stringify(document), `this node (genesis hash ${short(status.genesis_hash)})`);
      showTrust();
    } catch (error) {
      replace(trustLine, errorBox(error));
    }
  });

  const text = /** @type {HTMLTextAreaElement} */ (h('textarea', {
    id: 'receipt-text', name: 'receipt', spellcheck: 'false', autocomplete: 'off',
    placeholder: 'CLRC… receipt text (base64url), as printed by cityledger receipt',
  }));
  const receiptFile = /** @type {HTMLInputElement} */ (h('input', {
    type: 'file', id: 'receipt-file', accept: 'image/*,.receipt,.txt,.bin',
  }));
  const result = h('div', { id: 'verdict-area', 'aria-live': 'polite' });
  const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', id: 'verify-button' }, 'Verify'));
  const form = h('form', { id: 'verify-form' },
    h('div', { class: 'field' }, h('label', { for: 'receipt-text' }, 'Receipt text'), text),
    h('div', { class: 'field' }, h('label', { for: 'receipt-file' }, 'Or upload its QR image or receipt file'), receiptFile),
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    replace(result, loading('Verifying in this browser…'));
    try {
      if (!trust) throw new Error('choose the genesis you trust first');
      const file = receiptFile.files?.[0];
      /** @type {Uint8Array} */
      let receipt;
      if (text.value.trim()) receipt = new TextEncoder().encode(text.value.trim());
      else if (file) receipt = await receiptFromFile(file);
      else throw new Error('paste a receipt or choose a file');
      const verdict = await verifyReceipt(receipt, new TextEncoder().encode(trust.text));
      replace(result, verdictBox(verdict));
    } catch (error) {
      replace(result, errorBox(error));
    } finally {
      button.disabled = false;
    }
  });

  page(container, 'Verify a receipt',
    h('p', {}, 'A receipt proves a transaction and its outcome, a balance, an obligation or a credential, ',
      'with the validators\' signatures and Merkle proofs. It is checked here, in your browser, by the ',
      'WebAssembly build of the CityLedger verifier: nothing is sent to any node.'),
    h('h2', {}, 'Trust anchor'),
    h('p', { class: 'note' }, 'A receipt is only as good as the validator keys it is checked against: the genesis ',
      'document of the chain. Use the genesis.json the consortium gave you; taking it from this node trusts this node.'),
    trustLine,
    h('div', { class: 'toolbar' },
      h('div', {}, h('label', { for: 'genesis-file' }, 'Genesis file'), genesisFile), fromNode),
    h('h2', {}, 'Receipt'), form, result);
  // Fetch and compile the module now, so the first check is quick.
  loadVerifier().catch(() => {});
}

/**
 * @param {import('./verify.js').Verdict} verdict
 */
function verdictBox(verdict) {
  if (!verdict.valid) {
    return h('div', { class: 'verdict invalid', id: 'verdict', 'data-valid': 'false' },
      h('h2', {}, 'Not valid'),
      h('p', { id: 'verdict-reason' }, verdict.error));
  }
  const signers = verdict.signer_names?.length ? verdict.signer_names.join(', ') : null;
  return h('div', { class: 'verdict valid', id: 'verdict', 'data-valid': 'true' },
    h('h2', {}, 'Valid receipt'),
    h('p', { class: 'statement', id: 'verdict-statement' }, verdict.statement),
    facts([
      ['Kind', words(verdict.kind)],
      ['Finalized by', signers ?? `${verdict.signers?.length ?? 0} validators`],
    ]));
}

// --- operator --------------------------------------------------------------

/** @type {AsyncPage} */
export async function operator(container) {
  const summary = h('div', {});
  const lag = h('div', { id: 'operator-lag' });
  const peers = h('div', {});
  const equivocations = h('div', {});
  const validatorSet = h('div', {});
  page(container, 'Operator', lag, summary,
    h('h2', {}, 'Validators and peers'),
    h('p', { class: 'note' }, 'Each validator is a peer of this node; "live" means this node saw its vote recently.'),
    peers,
    h('h2', {}, 'Equivocations'), equivocations,
    h('h2', {}, 'Validator set'), validatorSet);

  const refresh = async () => {
    try {
      const status = await api.status();
      const reasons = lagReasons(status);
      replace(lag, reasons.length
        ? h('p', { class: 'error', role: 'alert', id: 'lag-alert' }, `This node lags: ${reasons.join('; ')}.`)
        : h('p', {}, badge('in step', 'good'), ' This node is in step with the chain.'));
      replace(summary, facts([
        ['Node', `${status.node_name} (version ${status.version})`],
        ['Chain', status.chain_id],
        ['Height', String(status.height)],
        ['Newest block', `${time(status.timestamp_ms)} (${ago(status.timestamp_ms)})`],
        ['Consensus view', String(status.view)],
        ['Sync', status.syncing ? badge(`catching up, ${status.views_behind} views behind`, 'warn') : badge('in step', 'good')],
        ['Mempool', `${status.mempool_size} transactions`],
        ['Validators live', `${status.validators_live} of ${status.validators.length}`],
        ['Genesis hash', h('span', { class: 'mono' }, status.genesis_hash)],
      ]));
      replace(peers, validatorTable(status));
      replace(equivocations, table('Equivocations', ['Validator', 'View', 'Kind', 'Detected'],
        status.equivocations.map((evidence) => [
          h('span', { class: 'mono' }, short(evidence.validator)), { value: evidence.view, num: true },
          words(evidence.kind), time(evidence.detected_ms),
        ]), 'None detected since this node started.'));
    } catch (error) {
      replace(lag, errorBox(error));
    }
  };
  await Promise.all([
    refresh(),
    fill(validatorSet, async () => {
      const [status, page] = await Promise.all([api.status(), api.blocks(null, VALIDATOR_SET_SCAN_BLOCKS)]);
      /** @type {Child[][]} */
      const changes = [];
      for (let index = 0; index + 1 < page.items.length; index += 1) {
        const newer = page.items[index];
        const older = page.items[index + 1];
        if (newer.validator_set_hash !== older.validator_set_hash || newer.round.epoch !== older.round.epoch) {
          changes.push([blockLink(newer.height), `epoch ${older.round.epoch} → ${newer.round.epoch}`,
            h('span', { class: 'mono' }, short(newer.validator_set_hash))]);
        }
      }
      const oldest = page.items.at(-1);
      return [
        facts([
          ['Current set', h('span', { class: 'mono' }, status.validator_set_hash)],
          ['Members', status.validators.map((validator) => validator.org).join(', ')],
        ]),
        h('p', { class: 'note' }, oldest
          ? `Changes in the blocks ${oldest.height} to ${page.items[0].height}:` : 'No blocks yet.'),
        table('Validator-set changes', ['Block', 'Epoch', 'New set'], changes, 'No change in these blocks.'),
      ];
    }),
  ]);
  const timer = setInterval(refresh, STATUS_REFRESH_MS);
  return () => clearInterval(timer);
}

/** @type {SyncPage} */
export function notFound(container) {
  page(container, 'Not found',
    h('p', {}, 'The explorer has no such page. '), link('/', 'Back to the dashboard'));
}
