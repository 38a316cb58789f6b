// The WASM verifier, loaded by Node.js as a browser would load it: no glue,
// four exported functions over the module's memory (see src/lib.rs).
//
// node --test crates/verifier-wasm/js/verify.test.mjs
// with CITYLEDGER_WASM (the .wasm file) and CITYLEDGER_FIXTURES (the
// directory written by `cargo run -p cityledger-verifier-wasm --example fixtures`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const wasmPath = process.env.CITYLEDGER_WASM;
const fixtures = process.env.CITYLEDGER_FIXTURES;
assert.ok(wasmPath && fixtures, 'set CITYLEDGER_WASM and CITYLEDGER_FIXTURES');

const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const { memory, cityledger_input, cityledger_verify, cityledger_output } = instance.exports;

/** Verifies `receipt` (bytes) under `trust` (genesis JSON bytes). */
function verify(receipt, trust) {
  const pointer = cityledger_input(receipt.length + trust.length);
  assert.notEqual(pointer, 0, 'input accepted');
  // The memory may have grown inside cityledger_input: view it afresh.
  new Uint8Array(memory.buffer, pointer, receipt.length).set(receipt);
  new Uint8Array(memory.buffer, pointer + receipt.length, trust.length).set(trust);
  const length = cityledger_verify(receipt.length, trust.length);
  const output = new Uint8Array(memory.buffer, cityledger_output(), length);
  return JSON.parse(new TextDecoder().decode(output));
}

const file = (name) => new Uint8Array(readFileSync(join(fixtures, name)));
const genesis = file('genesis.json');

test('a transfer receipt verifies, binary or text', () => {
  for (const name of ['transfer.bin', 'transfer.txt']) {
    const verdict = verify(file(name), genesis);
    assert.equal(verdict.valid, true, JSON.stringify(verdict));
    assert.equal(verdict.kind, 'transaction');
    assert.match(verdict.statement, /was applied in block 12 .* transfer of 12\.50 CITY/);
    assert.equal(verdict.signers.length, 3);
    assert.equal(verdict.signer_names.length, 3);
    for (const name of verdict.signer_names) {
      assert.ok(['treasury', 'transport', 'health', 'police'].includes(name), name);
    }
  }
});

test('a balance receipt verifies', () => {
  const verdict = verify(file('balance.txt'), genesis);
  assert.equal(verdict.valid, true, JSON.stringify(verdict));
  assert.match(verdict.statement, /held 87\.50 CITY/);
});

test('a tampered receipt fails', () => {
  const verdict = verify(file('tampered.bin'), genesis);
  assert.equal(verdict.valid, false);
  assert.ok(verdict.error.length > 0);
});

test('every flipped byte of the transfer receipt fails', () => {
  const receipt = file('transfer.bin');
  for (let index = 0; index < receipt.length; index += 1) {
    const tampered = Uint8Array.from(receipt);
    tampered[index] ^= 0x01;
    assert.equal(verify(tampered, genesis).valid, false, `byte ${index}`);
  }
});

test('verification time, for the record', () => {
  const receipt = file('transfer.bin');
  const rounds = 50;
  const started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round += 1) {
    assert.equal(verify(receipt, genesis).valid, true);
  }
  const microseconds = Number(process.hrtime.bigint() - started) / 1000 / rounds;
  console.log(`wasm: a transfer receipt verifies in ${Math.round(microseconds)} us`);
});

test("another chain's genesis does not vouch for it", () => {
  const verdict = verify(file('transfer.bin'), file('other-genesis.json'));
  assert.equal(verdict.valid, false);
  assert.match(verdict.error, /chain/);
});

test('garbage gets a refusal, not a crash', () => {
  for (const bytes of [new Uint8Array(0), new TextEncoder().encode('hello'), new Uint8Array(5000)]) {
    assert.equal(verify(bytes, genesis).valid, false);
  }
});
