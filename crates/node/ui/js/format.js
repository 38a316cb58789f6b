// Formatting for people: amounts in major units from minor-unit strings
// (never through floats), shortened hashes, times.

/**
 * `minor` (a decimal string of minor units, maybe negative) in major
 * units with `decimals` places: ("1250", 2) is "12.50".
 * @param {string} minor
 * @param {number} decimals
 */
export function majorUnits(minor, decimals) {
  const negative = minor.startsWith('-');
  const digits = (negative ? minor.slice(1) : minor).padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${decimals > 0 ? `.${fraction}` : ''}`;
}

/**
 * The first and last characters of a long hex string or address.
 * @param {string} text
 * @param {number} [keep]
 */
export function short(text, keep = 8) {
  return text.length <= keep * 2 + 1 ? text : `${text.slice(0, keep)}…${text.slice(-4)}`;
}

/**
 * A block time as an ISO date and time (UTC), seconds precision.
 * @param {number} ms since the Unix epoch
 */
export function time(ms) {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/**
 * How long ago `ms` was, coarsely.
 * @param {number} ms
 * @param {number} [now]
 */
export function ago(ms, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/**
 * A number with at most `digits` decimals.
 * @param {number} value
 * @param {number} [digits]
 */
export function decimal(value, digits = 1) {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

/**
 * A kind tag (`issue_obligations`) as words (`issue obligations`).
 * @param {string} tag
 */
export function words(tag) {
  return tag.replaceAll('_', ' ');
}
