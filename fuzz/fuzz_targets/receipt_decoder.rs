//! The receipt decoder and verifier on arbitrary bytes: they must never
//! panic, and a receipt that decodes must encode back to the same bytes
//! (one receipt, one encoding).

#![no_main]

use cityledger_verifier::certificate::Finalization;
use cityledger_verifier::validators::{TrustAnchor, ValidatorSet};
use cityledger_verifier::{Receipt, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Finalization::decode(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Receipt::from_text(text);
    }
    // Most inputs fail at the magic; give the body decoder a chance too.
    let mut framed = b"CLRC\x01".to_vec();
    framed.extend_from_slice(data);
    for bytes in [data, &framed[..]] {
        if let Ok(receipt) = Receipt::from_bytes(bytes) {
            assert_eq!(receipt.to_bytes(), bytes, "decoding is not canonical");
            let keys = receipt.validators.base.keys().to_vec();
            let anchor = TrustAnchor {
                chain_id: receipt.block.header.chain_id.clone(),
                set: ValidatorSet::new(receipt.validators.base.epoch, keys)
                    .expect("a decoded set is a valid set"),
                names: Vec::new(),
                source: "fuzz".into(),
            };
            let _ = verify(&receipt, &anchor);
        }
    }
});
