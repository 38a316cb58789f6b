//! The offline receipt verifier as a WebAssembly module: bytes in, a JSON
//! verdict out.
//!
//! The ABI is four plain functions over the module's memory, so that a
//! browser or Node.js needs no generated glue:
//!
//! 1. `cityledger_input(len)` returns where to write `len` input bytes: the
//!    receipt (binary, or its base64url text) followed by the trust anchor
//!    (the genesis document as JSON);
//! 2. `cityledger_verify(receipt_len, trust_len)` checks them and returns
//!    the length of the verdict;
//! 3. `cityledger_output()` returns where the verdict is: UTF-8 JSON,
//!    `{"valid": true, …what it proves…}` or `{"valid": false, "error": …}`.
//!
//! The buffers are `Vec`s owned by this module; the host writes into the
//! input only between calls, so no Rust reference to it is alive then. No
//! `unsafe` block is needed: the only `unsafe` is the `no_mangle`
//! attribute, which is sound because these symbol names (prefixed
//! `cityledger_`) are defined nowhere else in the module.

use cityledger_types::genesis::Genesis;
use cityledger_verifier::{Receipt, TrustAnchor, verify};
use std::cell::RefCell;

thread_local! {
    /// What the host wrote: receipt, then trust anchor.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The last verdict.
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Largest input the module accepts: a receipt's text form and a genesis.
pub const INPUT_BYTES_MAX: usize =
    cityledger_verifier::limits::RECEIPT_TEXT_BYTES_MAX + 4 * 1024 * 1024;

/// Makes room for `len` input bytes and returns where the host writes them
/// (null when `len` is above [`INPUT_BYTES_MAX`]).
#[unsafe(no_mangle)]
pub extern "C" fn cityledger_input(len: u32) -> *mut u8 {
    let len = len as usize;
    if len > INPUT_BYTES_MAX {
        return std::ptr::null_mut();
    }
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        input.clear();
        input.resize(len, 0);
        input.as_mut_ptr()
    })
}

/// Verifies the input (`receipt_len` bytes of receipt, then `trust_len`
/// bytes of genesis JSON) and returns the length of the verdict.
#[unsafe(no_mangle)]
pub extern "C" fn cityledger_verify(receipt_len: u32, trust_len: u32) -> u32 {
    let verdict = INPUT.with(|input| {
        let input = input.borrow();
        let receipt_len = receipt_len as usize;
        let end = receipt_len.saturating_add(trust_len as usize);
        match (input.get(..receipt_len), input.get(receipt_len..end)) {
            (Some(receipt), Some(trust)) => verdict(receipt, trust),
            _ => refusal("the lengths do not fit the input written"),
        }
    });
    OUTPUT.with(|output| {
        let mut output = output.borrow_mut();
        *output = verdict.into_bytes();
        output.len() as u32
    })
}

/// Where the last verdict is.
#[unsafe(no_mangle)]
pub extern "C" fn cityledger_output() -> *const u8 {
    OUTPUT.with(|output| output.borrow().as_ptr())
}

/// The JSON verdict on `receipt` (binary or text) under `trust` (genesis
/// JSON); the whole module's logic, callable natively too.
pub fn verdict(receipt: &[u8], trust: &[u8]) -> String {
    let decoded = if receipt.starts_with(&cityledger_verifier::receipt::RECEIPT_MAGIC) {
        Receipt::from_bytes(receipt)
    } else {
        match std::str::from_utf8(receipt) {
            Ok(text) => Receipt::from_text(text),
            Err(_) => return refusal("the receipt is neither binary nor text"),
        }
    };
    let receipt = match decoded {
        Ok(receipt) => receipt,
        Err(error) => return refusal(&error.to_string()),
    };
    let anchor = match serde_json::from_slice::<Genesis>(trust)
        .map_err(|error| error.to_string())
        .and_then(|genesis| TrustAnchor::from_genesis(&genesis).map_err(|e| e.to_string()))
    {
        Ok(anchor) => anchor,
        Err(error) => return refusal(&format!("the trust anchor is not a genesis: {error}")),
    };
    match verify(&receipt, &anchor) {
        Ok(verified) => {
            let mut value = serde_json::to_value(&verified).unwrap_or_default();
            value["valid"] = serde_json::Value::Bool(true);
            value.to_string()
        }
        Err(error) => refusal(&error.to_string()),
    }
}

fn refusal(error: &str) -> String {
    serde_json::json!({ "valid": false, "error": error }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_gets_a_refusal_not_a_panic() {
        for (receipt, trust) in [
            (&b""[..], &b""[..]),
            (b"CLRC\x01", b"{}"),
            (b"\xff\xfe", b"[]"),
        ] {
            let verdict: serde_json::Value =
                serde_json::from_str(&verdict(receipt, trust)).expect("JSON");
            assert_eq!(verdict["valid"], false);
        }
        assert!(cityledger_input(u32::MAX).is_null());
        let pointer = cityledger_input(3);
        assert!(!pointer.is_null());
        let length = cityledger_verify(2, 5);
        assert!(length > 0);
        assert!(!cityledger_output().is_null());
    }
}
