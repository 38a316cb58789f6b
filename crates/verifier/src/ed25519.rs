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

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::SecretKey;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};

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

    /// The scalar and prefix an ed25519 key derives from its seed (RFC 8032).
    fn expand(seed: [u8; 32]) -> (Scalar, [u8; 32]) {
        let hash: [u8; 64] = Sha512::digest(seed).into();
        let mut lower = [0u8; 32];
        lower.copy_from_slice(&hash[..32]);
        lower[0] &= 248;
        lower[31] &= 127;
        lower[31] |= 64;
        let mut prefix = [0u8; 32];
        prefix.copy_from_slice(&hash[32..]);
        (Scalar::from_bytes_mod_order(lower), prefix)
    }

    /// A signature whose nonce point carries a small-order component:
    /// valid under the cofactored equation only.
    fn torsioned_signature(seed: [u8; 32], message: &[u8]) -> [u8; 64] {
        let (a, _) = expand(seed);
        let public = (ED25519_BASEPOINT_POINT * a).compress().to_bytes();
        let r = Scalar::from_bytes_mod_order([7; 32]);
        let big_r = (ED25519_BASEPOINT_POINT * r + EIGHT_TORSION[1]).compress();
        let k = Scalar::from_bytes_mod_order_wide(
            &Sha512::new()
                .chain_update(big_r.as_bytes())
                .chain_update(public)
                .chain_update(message)
                .finalize()
                .into(),
        );
        let s = r + k * a;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(big_r.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        signature
    }

    #[test]
    fn accepts_what_zip215_accepts_and_dalek_refuses() {
        let secret = SecretKey::from_seed([4; 32]);
        let signature = torsioned_signature([4; 32], b"vote");
        let key = VerifyingKey::new(&secret.public_key()).expect("key");
        assert!(key.verifies(b"vote", &signature));
        assert!(!key.verifies(b"other", &signature));
        let dalek = cityledger_types::Signature(signature);
        assert!(secret.public_key().verify(b"vote", &dalek).is_err());
    }

    #[test]
    fn refuses_non_canonical_s() {
        let secret = SecretKey::from_seed([5; 32]);
        let key = VerifyingKey::new(&secret.public_key()).expect("key");
        let mut signature = secret.sign(b"m").0;
        // s + l encodes the same residue but is not canonical.
        let s = Scalar::from_canonical_bytes(signature[32..].try_into().expect("32 bytes"))
            .expect("canonical");
        let l_bytes = {
            let mut minus_one = (-Scalar::ONE).to_bytes();
            minus_one[0] += 1;
            minus_one
        };
        let mut sum = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let total = u16::from(s.as_bytes()[i]) + u16::from(l_bytes[i]) + carry;
            sum[i] = total as u8;
            carry = total >> 8;
        }
        if carry == 0 && sum[31] < 0x80 {
            signature[32..].copy_from_slice(&sum);
            assert!(!key.verifies(b"m", &signature));
        }
    }
}
