//! What a node decodes from outside, on arbitrary bytes: a submitted
//! transaction (REST JSON body, its base64url text, its borsh bytes), a
//! gossiped list of transactions (p2p) and a block (p2p, backfill). None may
//! panic, and whatever decodes must encode back to the same bytes: one
//! value, one encoding, so hashes and signatures cannot be malleated.

#![no_main]

use cityledger_api::SubmitTxRequest;
use cityledger_api::tx_text::{decode_tx, encode_tx};
use cityledger_types::block::{Block, BlockTxs};
use cityledger_types::encoding::{decode_exact, encode};
use cityledger_types::limits::BLOCK_BYTES_MAX;
use cityledger_types::tx::SignedTx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = SignedTx::from_bytes(data) {
        assert_eq!(
            tx.to_bytes(),
            data,
            "a transaction's decoding is not canonical"
        );
        // Admission checks the signature of whatever decodes.
        let _ = tx
            .body
            .signer
            .verify(&tx.body.signing_payload(), &tx.signature);
        assert_eq!(decode_tx(&encode_tx(&tx)).ok(), Some(tx));
    }
    if let Ok(txs) = decode_exact::<BlockTxs>(data, "gossip", BLOCK_BYTES_MAX) {
        assert_eq!(
            encode(&txs),
            data,
            "a gossip message's decoding is not canonical"
        );
    }
    if let Ok(block) = Block::from_bytes(data) {
        assert_eq!(
            block.to_bytes(),
            data,
            "a block's decoding is not canonical"
        );
        let _ = block.id();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode_tx(text);
        if let Ok(request) = serde_json::from_str::<SubmitTxRequest>(text) {
            let _ = decode_tx(&request.tx);
        }
    }
});
