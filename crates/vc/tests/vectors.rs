//! The published test vectors: the W3C Data Integrity EdDSA Cryptosuites
//! v1.0 example of `eddsa-jcs-2022` (its key, canonical forms, hashes and
//! proof value), and the RFC 8785 test data of the JCS reference
//! implementation (Apache-2.0), input and expected output.

use cityledger_types::{PublicKey, SecretKey};
use cityledger_vc::jcs::canonicalize;
use cityledger_vc::multibase::{decode_base58btc, public_key_multibase};
use cityledger_vc::proof::{self, ProofError};
use serde_json::Value;
use sha2::{Digest, Sha256};

// W3C vc-di-eddsa, TestVectors/keyPair.json and TestVectors/eddsa-jcs-2022/.
const PUBLIC_KEY_MULTIBASE: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
const PRIVATE_KEY_MULTIBASE: &str = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";
const UNSIGNED: &str = r#"{
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2"
    ],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {
        "id": "did:example:abcdefgh",
        "alumniOf": "The School of Examples"
    }
}"#;
const CREATED: &str = "2023-02-24T23:36:38Z";
const CANON_DOC: &str = r#"{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},"description":"A minimum viable example of an Alumni Credential.","id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","issuer":"https://vc.example/issuers/5678","name":"Alumni Credential","type":["VerifiableCredential","AlumniCredential"],"validFrom":"2023-01-01T00:00:00Z"}"#;
const DOC_HASH: &str = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19";
const PROOF_CANON: &str = r#"{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],"created":"2023-02-24T23:36:38Z","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod","type":"DataIntegrityProof","verificationMethod":"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}"#;
const PROOF_HASH: &str = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db";
const SIGNATURE_HEX: &str = "407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b80351da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808";
const PROOF_VALUE: &str =
    "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX";
const SIGNED: &str = r#"{
  "@context": [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2"
  ],
  "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
  "type": ["VerifiableCredential", "AlumniCredential"],
  "name": "Alumni Credential",
  "description": "A minimum viable example of an Alumni Credential.",
  "issuer": "https://vc.example/issuers/5678",
  "validFrom": "2023-01-01T00:00:00Z",
  "credentialSubject": {
    "id": "did:example:abcdefgh",
    "alumniOf": "The School of Examples"
  },
  "proof": {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    "proofPurpose": "assertionMethod",
    "@context": [
      "https://www.w3.org/ns/credentials/v2",
      "https://www.w3.org/ns/credentials/examples/v2"
    ],
    "proofValue": "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
  }
}"#;

/// The vector's key: multicodec ed25519-priv (0x1300, varint 0x80 0x26)
/// and the 32-byte seed.
fn vector_key() -> SecretKey {
    let bytes = decode_base58btc(PRIVATE_KEY_MULTIBASE).unwrap();
    let seed: [u8; 32] = bytes
        .strip_prefix(&[0x80, 0x26])
        .unwrap()
        .try_into()
        .unwrap();
    SecretKey::from_seed(seed)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn sha256_hex(text: &str) -> String {
    hex_of(&Sha256::digest(text.as_bytes()))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn eddsa_jcs_2022_reproduces_the_w3c_example_step_by_step() {
    let key = vector_key();
    assert_eq!(
        public_key_multibase(&key.public_key()),
        PUBLIC_KEY_MULTIBASE
    );
    let unsigned = json(UNSIGNED);
    let canonical = canonicalize(&unsigned).unwrap();
    assert_eq!(canonical, CANON_DOC);
    assert_eq!(sha256_hex(&canonical), DOC_HASH);
    let options = proof::proof_options(&unsigned, &key.public_key(), CREATED);
    let options_canonical = canonicalize(&options).unwrap();
    assert_eq!(options_canonical, PROOF_CANON);
    assert_eq!(sha256_hex(&options_canonical), PROOF_HASH);
    let data = proof::hash_data(&options, &unsigned).unwrap();
    assert_eq!(hex_of(&data), format!("{PROOF_HASH}{DOC_HASH}"));
    let signed = proof::sign(&unsigned, &key, CREATED).unwrap();
    let proof_value = signed["proof"]["proofValue"].as_str().unwrap();
    assert_eq!(proof_value, PROOF_VALUE);
    assert_eq!(
        hex_of(&decode_base58btc(proof_value).unwrap()),
        SIGNATURE_HEX
    );
    assert_eq!(signed, json(SIGNED), "the whole secured document");
}

/// A change made to a secured document.
type Edit = fn(&mut Value);

#[test]
fn the_w3c_signed_example_verifies_and_its_tampered_copies_do_not() {
    let key: PublicKey = proof::verify(&json(SIGNED)).unwrap();
    assert_eq!(key, vector_key().public_key());
    let tamper = |edit: fn(&mut Value)| {
        let mut document = json(SIGNED);
        edit(&mut document);
        proof::verify(&document)
    };
    let cases: Vec<(&str, Edit, ProofError)> = vec![
        (
            "a claim",
            |d| d["credentialSubject"]["alumniOf"] = "Elsewhere".into(),
            ProofError::BadSignature,
        ),
        (
            "the proof's date",
            |d| d["proof"]["created"] = "2024-01-01T00:00:00Z".into(),
            ProofError::BadSignature,
        ),
        (
            "the context",
            |d| d["@context"] = json(r#"["https://www.w3.org/ns/credentials/v2"]"#),
            ProofError::ContextMismatch,
        ),
        (
            "the cryptosuite",
            |d| d["proof"]["cryptosuite"] = "eddsa-rdfc-2022".into(),
            ProofError::NoProof,
        ),
        (
            "no proof value",
            |d| {
                d["proof"].as_object_mut().unwrap().remove("proofValue");
            },
            ProofError::MissingField("proofValue"),
        ),
        (
            "a short signature",
            |d| d["proof"]["proofValue"] = "z2HnFSSPP".into(),
            ProofError::BadSignatureLength(6),
        ),
    ];
    for (what, edit, expected) in cases {
        assert_eq!(tamper(edit), Err(expected), "{what}");
    }
}

/// The input and expected output files of the JCS reference
/// implementation's test data.
const JCS_CASES: &[(&str, &str, &str)] = &[
    (
        "arrays",
        r#"[
  56,
  {
    "d": true,
    "10": null,
    "1": [ ]
  }
]"#,
        r#"[56,{"1":[],"10":null,"d":true}]"#,
    ),
    (
        "french",
        r#"{
  "peach": "This sorting order",
  "péché": "is wrong according to French",
  "pêche": "but canonicalization MUST",
  "sin":   "ignore locale"
}"#,
        r#"{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}"#,
    ),
    (
        "structures",
        r#"{
  "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
  "10": { },
  "": "empty",
  "a": { },
  "111": [ {"e": "yes","E": "no" } ],
  "A": { }
}"#,
        r#"{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{},"a":{}}"#,
    ),
    (
        "unicode",
        r#"{
  "Unnormalized Unicode":"A\u030a"
}"#,
        "{\"Unnormalized Unicode\":\"A\u{030a}\"}",
    ),
    (
        "values",
        r#"{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#,
        r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#,
    ),
    (
        "weird",
        r#"{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\u000a": "Newline",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}"#,
        "{\"\\n\":\"Newline\",\"\\r\":\"Carriage Return\",\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u{80}\":\"Control\u{7f}\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😂\":\"Smiley\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}",
    ),
];

#[test]
fn jcs_matches_the_rfc_8785_test_data() {
    for (name, input, expected) in JCS_CASES {
        assert_eq!(canonicalize(&json(input)).unwrap(), *expected, "{name}");
    }
}
