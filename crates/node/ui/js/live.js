// The live view of the chain: finalized blocks from the event stream
// (/v1/stream, server-sent events), and the figures derived from them.
// EventSource reconnects by itself and resumes after the last event id,
// so a dropped connection loses no block.

/** @typedef {import('./api.js').StreamEvent} StreamEvent */

/** Blocks kept for the rates: about a minute at one block a second. */
const WINDOW_BLOCKS = 60;

/**
 * One finalized block as the page saw it.
 * @typedef {{height: number, timestamp_ms: number, tx_count: number, received_ms: number | null}} Seen
 */

/**
 * @typedef {{type: 'block', event: StreamEvent} | {type: 'state', connected: boolean}} LiveMessage
 */

export class Live {
  constructor() {
    /** @type {Seen[]} */
    this.window = [];
    /** @type {Set<(message: LiveMessage) => void>} */
    this.listeners = new Set();
    /** @type {EventSource | null} */
    this.source = null;
    this.connected = false;
  }

  /** Opens the stream (once). */
  start() {
    if (this.source) return;
    const source = new EventSource('/v1/stream');
    this.source = source;
    source.addEventListener('open', () => this.setConnected(true));
    source.addEventListener('error', () => this.setConnected(false));
    source.addEventListener('block', (message) => {
      /** @type {StreamEvent} */
      let event;
      try {
        event = JSON.parse(/** @type {MessageEvent} */ (message).data);
      } catch {
        return;
      }
      this.remember({
        height: event.height,
        timestamp_ms: event.timestamp_ms,
        tx_count: event.tx_count,
        received_ms: Date.now(),
      });
      this.emit({ type: 'block', event });
    });
  }

  /** @param {boolean} connected */
  setConnected(connected) {
    if (this.connected === connected) return;
    this.connected = connected;
    this.emit({ type: 'state', connected });
  }

  /**
   * Seeds the window with blocks read from the listing, so that rates show
   * before the stream has delivered a minute of blocks.
   * @param {{height: number, timestamp_ms: number, tx_count: number}[]} blocks
   */
  seed(blocks) {
    for (const block of blocks) {
      this.remember({ ...block, received_ms: null });
    }
  }

  /** @param {Seen} seen */
  remember(seen) {
    if (this.window.some((known) => known.height === seen.height)) return;
    this.window.push(seen);
    this.window.sort((a, b) => a.height - b.height);
    if (this.window.length > WINDOW_BLOCKS) this.window.splice(0, this.window.length - WINDOW_BLOCKS);
  }

  /** @param {LiveMessage} message */
  emit(message) {
    for (const listener of this.listeners) listener(message);
  }

  /**
   * Calls `listener` on every message until the returned function is called.
   * @param {(message: LiveMessage) => void} listener
   * @returns {() => void}
   */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Height of the newest block seen, or null. */
  height() {
    const last = this.window.at(-1);
    return last ? last.height : null;
  }

  /**
   * Finalized transactions per second over the window, by block time: the
   * transactions of every block after the first, over the time between
   * the first and the last.
   */
  txPerSecond() {
    if (this.window.length < 2) return NaN;
    const first = this.window[0];
    const last = /** @type {Seen} */ (this.window.at(-1));
    const seconds = (last.timestamp_ms - first.timestamp_ms) / 1000;
    if (seconds <= 0) return NaN;
    const txs = this.window.slice(1).reduce((sum, seen) => sum + seen.tx_count, 0);
    return txs / seconds;
  }

  /**
   * Mean time from a block's timestamp (set by its proposer) to the page
   * receiving it finalized, over the blocks received live, in ms. It
   * compares two clocks, the proposer's and this computer's, so it is as
   * good as their agreement.
   */
  finalityLatencyMs() {
    const live = this.window.filter((seen) => seen.received_ms !== null);
    if (live.length === 0) return NaN;
    const total = live.reduce((sum, seen) => sum + ((seen.received_ms ?? 0) - seen.timestamp_ms), 0);
    return Math.max(0, total / live.length);
  }

  /** Mean block interval over the window, in ms. */
  blockIntervalMs() {
    if (this.window.length < 2) return NaN;
    const first = this.window[0];
    const last = /** @type {Seen} */ (this.window.at(-1));
    return (last.timestamp_ms - first.timestamp_ms) / (this.window.length - 1);
  }
}
