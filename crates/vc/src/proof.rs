//! Data Integrity proofs of the `eddsa-jcs-2022` cryptosuite (W3C Data
//! Integrity EdDSA Cryptosuites v1.0, section 3.3): JCS-canonical proof
//! options and document, each hashed with SHA-256, the two hashes signed
//! with Ed25519, the signature written as base58btc.

use crate::jcs::{JcsError, canonicalize};
use crate::multibase::{self, MultibaseError};
use cityledger_types::{PublicKey, SecretKey, Signature};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// The proof type of every Data Integrity proof.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The cryptosuite.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
/// The purpose of an issuer's proof.
pub const ASSERTION_METHOD: &str = "assertionMethod";

/// Why a document could not be signed or its proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The document is not a JSON object.
    #[error("a secured document is a JSON object")]
    NotAnObject,
    /// It has no proof, or not one of this cryptosuite.
    #[error("the document has no {CRYPTOSUITE} DataIntegrityProof")]
    NoProof,
    /// A proof field is missing or not a string.
    #[error("the proof has no string {0}")]
    MissingField(&'static str),
    /// The proof's `@context` is not the start of the document's.
    #[error("the proof's @context does not match the document's")]
    ContextMismatch,
    /// The proof value or the verification method does not decode.
    #[error(transparent)]
    Multibase(#[from] MultibaseError),
    /// The proof value is not a 64-byte signature.
    #[error("the proof value is {0} bytes, not a 64-byte Ed25519 signature")]
    BadSignatureLength(usize),
    /// The signature does not verify under the verification method's key.
    #[error("the signature does not verify")]
    BadSignature,
    /// The document cannot be canonicalized.
    #[error(transparent)]
    Canonical(#[from] JcsError),
}

/// The bytes an `eddsa-jcs-2022` signature covers: SHA-256 of the
/// canonical proof options, then SHA-256 of the canonical document.
pub fn hash_data(proof_options: &Value, document: &Value) -> Result<Vec<u8>, ProofError> {
    let mut data = Sha256::digest(canonicalize(proof_options)?.as_bytes()).to_vec();
    data.extend_from_slice(&Sha256::digest(canonicalize(document)?.as_bytes()));
    Ok(data)
}

/// The proof options of a signature by `key` at `created` (an XML Schema
/// dateTime), carrying the document's `@context` as the cryptosuite
/// requires.
pub fn proof_options(document: &Value, key: &PublicKey, created: &str) -> Value {
    let mut options = Map::new();
    options.insert("type".into(), PROOF_TYPE.into());
    options.insert("cryptosuite".into(), CRYPTOSUITE.into());
    options.insert("created".into(), created.into());
    options.insert(
        "verificationMethod".into(),
        multibase::verification_method(key).into(),
    );
    options.insert("proofPurpose".into(), ASSERTION_METHOD.into());
    if let Some(context) = document.get("@context") {
        options.insert("@context".into(), context.clone());
    }
    Value::Object(options)
}

/// `document` with an `eddsa-jcs-2022` proof by `key`, made at `created`.
pub fn sign(document: &Value, key: &SecretKey, created: &str) -> Result<Value, ProofError> {
    let Value::Object(fields) = document else {
        return Err(ProofError::NotAnObject);
    };
    let mut unsecured = fields.clone();
    unsecured.remove("proof");
    let unsecured = Value::Object(unsecured);
    let mut options = proof_options(&unsecured, &key.public_key(), created);
    let signature = key.sign(&hash_data(&options, &unsecured)?);
    if let Value::Object(options) = &mut options {
        options.insert(
            "proofValue".into(),
            multibase::encode_base58btc(&signature.0).into(),
        );
    }
    let Value::Object(mut secured) = unsecured else {
        unreachable!("built as an object above");
    };
    secured.insert("proof".into(), options);
    Ok(Value::Object(secured))
}

/// Verifies the `eddsa-jcs-2022` proof of `secured`; returns the key that
/// signed it (from its `did:key` verification method), for the caller to
/// check against the issuer it trusts.
pub fn verify(secured: &Value) -> Result<PublicKey, ProofError> {
    let Value::Object(fields) = secured else {
        return Err(ProofError::NotAnObject);
    };
    let Some(Value::Object(proof)) = fields.get("proof") else {
        return Err(ProofError::NoProof);
    };
    let text = |name: &'static str| {
        proof
            .get(name)
            .and_then(Value::as_str)
            .ok_or(ProofError::MissingField(name))
    };
    if text("type")? != PROOF_TYPE || text("cryptosuite")? != CRYPTOSUITE {
        return Err(ProofError::NoProof);
    }
    let signature = multibase::decode_base58btc(text("proofValue")?)?;
    let signature: [u8; 64] = signature
        .as_slice()
        .try_into()
        .map_err(|_| ProofError::BadSignatureLength(signature.len()))?;
    let key = multibase::key_of_did(text("verificationMethod")?)?;
    let mut options = proof.clone();
    options.remove("proofValue");
    let mut unsecured = fields.clone();
    unsecured.remove("proof");
    if let Some(context) = options.get("@context") {
        if !context_starts(unsecured.get("@context"), context) {
            return Err(ProofError::ContextMismatch);
        }
        unsecured.insert("@context".into(), context.clone());
    }
    let data = hash_data(&Value::Object(options), &Value::Object(unsecured))?;
    key.verify(&data, &Signature(signature))
        .map_err(|_| ProofError::BadSignature)?;
    Ok(key)
}

/// Whether the document's `@context` starts with every entry of the
/// proof's, in order.
fn context_starts(document: Option<&Value>, proof: &Value) -> bool {
    let as_list = |value: &Value| match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let Some(document) = document else {
        return false;
    };
    let (document, proof) = (as_list(document), as_list(proof));
    document.len() >= proof.len() && document.iter().zip(&proof).all(|(a, b)| a == b)
}
