//! Ed25519 verification with the rules Commonware's validators use (ZIP 215).
//!
//! A certificate is only as good as the rule that checked it. Commonware
//! 2026.10.0 verifies consensus votes with its vendored `ed25519-consensus`
//! (`commonware-cryptography/src/ed25519/core`), which follows ZIP 215:
//!
//! - the key `A` and the nonce `R` must decompress to curve points, and
//!   non-canonical encodings are accepted;
//! - `s` must be canonical (below the group order `l`);
//! - the cofactored equation `[8][s]B = [8]R + [8][k]A` must hold, with
//!   `k = SHA-512(R ‖ A ‖ M) mod l`.
//!
//! `ed25519-dalek`'s `verify` checks the cofactorless equation instead, so
//! it refuses some signatures (those whose `R` carries a small-order
//! component) that the validators accept, and a receipt signed that way by
//! a Byzantine validator would verify in the network but not here. This
//! module therefore mirrors Commonware's rule line by line; the node's tests
//! check both agree on real and on deliberately odd signatures.
//!
//! Batch verification is not used: a certificate has at most a few dozen
//! signatures, and ZIP 215 makes the batch and the single check agree
//! anyway.

use cityledger_types::crypto::{PUBLIC_KEY_LEN, PublicKey, SIGNATURE_LEN};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use sha2::{Digest as _, Sha512};

/// A public key decompressed once, for checking many signatures.
#[derive(Clone, Copy, Debug)]
pub struct VerifyingKey {
    bytes: [u8; PUBLIC_KEY_LEN],
    minus_a: EdwardsPoint,
}

impl VerifyingKey {
    /// Decompresses `key`; `None` if its bytes are no curve point, which
    /// Commonware refuses as a participant too.
    pub fn new(key: &PublicKey) -> Option<VerifyingKey> {
        let point = CompressedEdwardsY(key.0).decompress()?;
        Some(VerifyingKey {
            bytes: key.0,
            minus_a: -point,
        })
    }

    /// Whether `signature` is valid over `message` under ZIP 215.
    pub fn verifies(&self, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
        let mut r_bytes = [0u8; 32];
        r_bytes.copy_from_slice(&signature[..32]);
        let mut s_bytes = [0u8; 32];
        s_bytes.copy_from_slice(&signature[32..]);
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
            return false;
        };
        let Some(r) = CompressedEdwardsY(r_bytes).decompress() else {
            return false;
        };
        let mut hasher = Sha512::new();
        hasher.update(r_bytes);
        hasher.update(self.bytes);
        hasher.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        // R' = [s]B - [k]A; the signature holds when [8](R - R') is the identity.
        let r_prime = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &self.minus_a, &s);
        (r - r_prime).mul_by_cofactor().is_identity()
    }
}

/// Signatures at the edges of the rules, to hold this module and
/// Commonware's verifier to the same verdicts (the node's tests do).
pub mod testing {
    use super::*;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};

    /// The scalar an ed25519 key derives from its seed (RFC 8032).
    fn secret_scalar(seed: [u8; 32]) -> Scalar {
        let hash: [u8; 64] = Sha512::digest(seed).into();
        let mut lower = [0u8; 32];
        lower.copy_from_slice(&hash[..32]);
        lower[0] &= 248;
        lower[31] &= 127;
        lower[31] |= 64;
        Scalar::from_bytes_mod_order(lower)
    }

    /// A signature with nonce point bytes `r_bytes` (which must decompress
    /// to `r_point`, the nonce `r` times the base point plus anything).
    fn sign_with(seed: [u8; 32], message: &[u8], r: Scalar, r_bytes: [u8; 32]) -> [u8; 64] {
        let a = secret_scalar(seed);
        let public = (ED25519_BASEPOINT_POINT * a).compress().to_bytes();
        let k = Scalar::from_bytes_mod_order_wide(
            &Sha512::new()
                .chain_update(r_bytes)
                .chain_update(public)
                .chain_update(message)
                .finalize()
                .into(),
        );
        let s = r + k * a;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(&r_bytes);
        signature[32..].copy_from_slice(s.as_bytes());
        signature
    }

    /// Named signatures by the key of `seed` over `message`, each with
    /// the verdict ZIP 215 gives it.
    pub fn edge_cases(seed: [u8; 32], message: &[u8]) -> Vec<(&'static str, [u8; 64], bool)> {
        let nonce = Scalar::from_bytes_mod_order([7; 32]);
        let honest_r = (ED25519_BASEPOINT_POINT * nonce).compress().to_bytes();
        let honest = sign_with(seed, message, nonce, honest_r);
        let torsioned_r = (ED25519_BASEPOINT_POINT * nonce + EIGHT_TORSION[1])
            .compress()
            .to_bytes();
        let torsioned = sign_with(seed, message, nonce, torsioned_r);
        // The identity as a nonce point, canonically (y = 1) and not
        // (y = p + 1, which reduces to 1).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let identity_signature = sign_with(seed, message, Scalar::ZERO, identity);
        let mut non_canonical_identity = [0xffu8; 32];
        non_canonical_identity[0] = 0xee;
        non_canonical_identity[31] = 0x7f;
        let non_canonical = sign_with(seed, message, Scalar::ZERO, non_canonical_identity);
        let mut high_s = honest;
        high_s[63] |= 0xf0;
        let mut wrong_r = honest;
        wrong_r[0] ^= 1;
        let mut not_a_point = honest;
        not_a_point[..32].copy_from_slice(&[0xff; 32]);
        vec![
            ("honest", honest, true),
            ("small-order component in R", torsioned, true),
            ("identity R", identity_signature, true),
            ("non-canonical encoding of R", non_canonical, true),
            ("s above the group order", high_s, false),
            ("R of another signature", wrong_r, false),
            ("R not on the curve", not_a_point, false),
            ("all zero", [0; 64], false),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::SecretKey;

    #[test]
    fn agrees_with_dalek_on_ordinary_signatures() {
        let secret = SecretKey::from_seed([9; 32]);
        let key = VerifyingKey::new(&secret.public_key()).expect("a real key decompresses");
        let signature = secret.sign(b"message");
        assert!(key.verifies(b"message", &signature.0));
        assert!(!key.verifies(b"messagE", &signature.0));
        let mut bad = signature.0;
        bad[10] ^= 1;
        assert!(!key.verifies(b"message", &bad));
    }

    #[test]
    fn edge_cases_get_the_zip215_verdict() {
        let secret = SecretKey::from_seed([4; 32]);
        let key = VerifyingKey::new(&secret.public_key()).expect("key");
        for (name, signature, valid) in testing::edge_cases([4; 32], b"vote") {
            assert_eq!(key.verifies(b"vote", &signature), valid, "{name}");
            if valid {
                assert!(!key.verifies(b"another vote", &signature), "{name}");
            }
        }
        // dalek checks the cofactorless equation and refuses a nonce with a
        // small-order component, which the validators accept.
        let (_, torsioned, _) = testing::edge_cases([4; 32], b"vote")[1];
        let dalek = cityledger_types::Signature(torsioned);
        assert!(secret.public_key().verify(b"vote", &dalek).is_err());
    }
}
