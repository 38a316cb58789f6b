// The public REST API of the node that served this page, typed by the
// schemas generated from its /openapi.json (types/api.d.ts). Every request
// has a deadline; every failure becomes an ApiError with the problem
// document's detail (RFC 9457).

/** @typedef {import('../types/api').components['schemas']} Schemas */
/** @typedef {Schemas['StatusView']} StatusView */
/** @typedef {Schemas['BlockView']} BlockView */
/** @typedef {Schemas['BlocksPage']} BlocksPage */
/** @typedef {Schemas['TxsPage']} TxsPage */
/** @typedef {Schemas['TxSummary']} TxSummary */
/** @typedef {Schemas['TxView']} TxView */
/** @typedef {Schemas['TxStatusView']} TxStatusView */
/** @typedef {Schemas['AccountView']} AccountView */
/** @typedef {Schemas['AccountTxsPage']} AccountTxsPage */
/** @typedef {Schemas['ObligationView']} ObligationView */
/** @typedef {Schemas['ObligationsPage']} ObligationsPage */
/** @typedef {Schemas['ObligationHistoryPage']} HistoryPage */
/** @typedef {Schemas['ApplicationView']} ApplicationView */
/** @typedef {Schemas['ApplicationsPage']} ApplicationsPage */
/** @typedef {Schemas['CredentialView']} CredentialView */
/** @typedef {Schemas['CredentialsPage']} CredentialsPage */
/** @typedef {Schemas['StreamEvent']} StreamEvent */
/** @typedef {Schemas['Problem']} Problem */

/**
 * The genesis document (`GET /v1/genesis`); the API documents it as plain
 * JSON, so its shape is written here.
 * @typedef {{
 *   chain_id: string,
 *   genesis_time_ms: number,
 *   currencies: {code: string, decimals: number}[],
 *   orgs: {name: string, accounts?: {name: string}[]}[],
 *   validators: {org: string, key: string}[],
 * }} Genesis
 */

/** Longest wait for one answer, in ms. */
export const REQUEST_TIMEOUT_MS = 15000;

/** A request the node refused, or that did not complete. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status HTTP status; 0 when there was no answer
   * @param {Problem | null} problem
   */
  constructor(message, status, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

/**
 * GETs `path` and parses its JSON.
 * @param {string} path
 * @returns {Promise<any>}
 */
async function get(path) {
  let response;
  try {
    response = await fetch(path, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError'
      ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
      : 'the node cannot be reached';
    throw new ApiError(`${path}: ${reason}`, 0, null);
  }
  if (!response.ok) {
    /** @type {Problem | null} */
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      // Not a problem document: the status line says enough.
    }
    const detail = problem?.detail ?? response.statusText;
    throw new ApiError(detail, response.status, problem);
  }
  return response.json();
}

/**
 * A query string of the parameters that are set.
 * @param {Record<string, string | number | null | undefined>} params
 */
function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

const segment = encodeURIComponent;

/** @returns {Promise<StatusView>} */
export const status = () => get('/v1/status');
/** @returns {Promise<Genesis>} */
export const genesis = () => get('/v1/genesis');
/** @param {number | null} [before] @param {number} [limit] @returns {Promise<BlocksPage>} */
export const blocks = (before, limit) => get(`/v1/blocks${query({ before, limit })}`);
/** @param {string | number} heightOrId @returns {Promise<BlockView>} */
export const block = (heightOrId) => get(`/v1/blocks/${segment(String(heightOrId))}`);
/** @param {string | null} [cursor] @param {number} [limit] @returns {Promise<TxsPage>} */
export const txs = (cursor, limit) => get(`/v1/txs${query({ cursor, limit })}`);
/** @param {string} hash @returns {Promise<TxStatusView>} */
export const txStatus = (hash) => get(`/v1/txs/${segment(hash)}`);
/** @param {string} address @returns {Promise<AccountView>} */
export const account = (address) => get(`/v1/accounts/${segment(address)}`);
/** @param {string} address @param {string | null} [cursor] @returns {Promise<AccountTxsPage>} */
export const accountTxs = (address, cursor) =>
  get(`/v1/accounts/${segment(address)}/txs${query({ cursor, limit: 20 })}`);
/** @param {Record<string, string | null | undefined>} params @returns {Promise<ObligationsPage>} */
export const obligations = (params) => get(`/v1/obligations${query({ ...params, limit: 20 })}`);
/** @param {string} id @returns {Promise<ObligationView>} */
export const obligation = (id) => get(`/v1/obligations/${segment(id)}`);
/** @param {string} id @returns {Promise<HistoryPage>} */
export const obligationHistory = (id) => get(`/v1/obligations/${segment(id)}/history`);
/** @param {Record<string, string | null | undefined>} params @returns {Promise<ApplicationsPage>} */
export const applications = (params) => get(`/v1/applications${query({ ...params, limit: 20 })}`);
/** @param {string} id @returns {Promise<ApplicationView>} */
export const application = (id) => get(`/v1/applications/${segment(id)}`);
/** @param {Record<string, string | null | undefined>} params @returns {Promise<CredentialsPage>} */
export const credentials = (params) => get(`/v1/credentials${query({ ...params, limit: 20 })}`);
/** @param {string} id @returns {Promise<CredentialView>} */
export const credential = (id) => get(`/v1/credentials/${segment(id)}`);
