// The offline receipt verifier: the cityledger-verifier crate built for
// WebAssembly, embedded in the node and loaded from /ui/verifier.wasm.
// Verifying calls no node: bytes go into the module's memory, a JSON
// verdict comes out (see crates/verifier-wasm/src/lib.rs for the ABI).

/**
 * What the module says. A valid verdict carries what the receipt proves.
 * @typedef {{valid: true, kind: string, statement: string, signers?: string[],
 *   signer_names?: string[], [key: string]: unknown} |
 *   {valid: false, error: string}} Verdict
 */

/**
 * @typedef {{
 *   memory: WebAssembly.Memory,
 *   cityledger_input: (length: number) => number,
 *   cityledger_verify: (receiptLength: number, trustLength: number) => number,
 *   cityledger_output: () => number,
 * }} VerifierExports
 */

/** @type {Promise<VerifierExports> | null} */
let loading = null;

/**
 * The module, fetched and compiled once per page.
 * @returns {Promise<VerifierExports>}
 */
export function loadVerifier() {
  loading ??= (async () => {
    const response = await fetch('/ui/verifier.wasm', { signal: AbortSignal.timeout(30000) });
    if (!response.ok) throw new Error(`the verifier module could not be loaded (${response.status})`);
    const { instance } = await WebAssembly.instantiate(await response.arrayBuffer(), {});
    return /** @type {VerifierExports} */ (/** @type {unknown} */ (instance.exports));
  })();
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/**
 * Verifies `receipt` (binary, or its base64url text as UTF-8) against
 * `trust` (a genesis document as UTF-8 JSON).
 * @param {Uint8Array} receipt
 * @param {Uint8Array} trust
 * @returns {Promise<Verdict>}
 */
export async function verifyReceipt(receipt, trust) {
  const module = await loadVerifier();
  const pointer = module.cityledger_input(receipt.length + trust.length);
  if (pointer === 0) return { valid: false, error: 'the receipt and trust anchor are too large' };
  // The memory may have grown inside cityledger_input: view it afresh.
  new Uint8Array(module.memory.buffer, pointer, receipt.length).set(receipt);
  new Uint8Array(module.memory.buffer, pointer + receipt.length, trust.length).set(trust);
  const length = module.cityledger_verify(receipt.length, trust.length);
  const output = new Uint8Array(module.memory.buffer, module.cityledger_output(), length);
  return JSON.parse(new TextDecoder().decode(output));
}
