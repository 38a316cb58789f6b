//! The offline verifier (`cityledger-verifier`) re-implements Commonware's
//! finalization certificate and ed25519 rules without depending on the
//! engine. These tests hold it to the engine: certificates assembled by
//! Commonware itself must verify, their tampered copies must not, the
//! verifier's own encoder must produce the engine's exact bytes, and both
//! must give the same verdict on signatures at the edges of the ed25519
//! rules.

use super::{CONSENSUS_NAMESPACE, ConsensusScheme, to_engine_digest};
use cityledger_types::block::ConsensusRound;
use cityledger_types::tx::ChainId;
use cityledger_types::{BlockHeader, Digest, Height, SecretKey};
use cityledger_verifier::certificate::{self, CertificateError, Finalization, verify_certificate};
use cityledger_verifier::ed25519::{VerifyingKey, testing::edge_cases};
use cityledger_verifier::validators::ValidatorSet;
use commonware_codec::{Decode, DecodeExt, Encode};
use commonware_consensus::simplex::types::{
    Finalization as EngineFinalization, Finalize, Proposal,
};
use commonware_consensus::types::{Epoch, Round, View};
use commonware_cryptography::sha256::Digest as EngineDigest;
use commonware_cryptography::{Signer as _, Verifier as _, ed25519};
use commonware_parallel::Sequential;
use commonware_utils::Faults as _;
use commonware_utils::iter::NonEmpty;
use commonware_utils::ordered::Set;
use commonware_utils::{N3f1, TestRng, union_unique};

/// Seeds of the validators' keys.
fn seeds(count: u8) -> Vec<[u8; 32]> {
    (0..count)
        .map(|i| [i.wrapping_mul(37).wrapping_add(11); 32])
        .collect()
}

struct Committee {
    engine_keys: Vec<ed25519::PrivateKey>,
    our_keys: Vec<SecretKey>,
    participants: Set<ed25519::PublicKey>,
    set: ValidatorSet,
}

impl Committee {
    fn new(count: u8, epoch: u64) -> Committee {
        let seeds = seeds(count);
        let engine_keys: Vec<ed25519::PrivateKey> = seeds
            .iter()
            .map(|seed| super::engine_private_key(seed).expect("a seed is a key"))
            .collect();
        let our_keys: Vec<SecretKey> = seeds
            .iter()
            .map(|seed| SecretKey::from_seed(*seed))
            .collect();
        let participants = Set::from_iter_dedup(engine_keys.iter().map(|key| key.public_key()));
        let set = ValidatorSet::new(epoch, our_keys.iter().map(SecretKey::public_key))
            .expect("distinct keys");
        Committee {
            engine_keys,
            our_keys,
            participants,
            set,
        }
    }

    fn header(&self, view: u64) -> BlockHeader {
        BlockHeader {
            chain_id: ChainId::new("cityledger-engine-test").expect("chain id"),
            height: Height(42),
            parent: Digest::of(b"parent"),
            timestamp_ms: 1_800_000_000_000,
            round: ConsensusRound {
                epoch: self.set.epoch,
                view,
                parent_view: view - 1,
                leader: self.set.keys().first().copied(),
            },
            tx_root: Digest::ZERO,
            outcomes_root: Digest::ZERO,
            state_root: Digest::of(b"state"),
            validator_set_hash: self.set.hash(),
            tx_count: 0,
        }
    }

    fn scheme(&self, index: usize) -> ConsensusScheme {
        ConsensusScheme::signer(
            CONSENSUS_NAMESPACE,
            self.participants.clone(),
            self.engine_keys[index].clone(),
        )
        .expect("a participant signs")
    }

    /// The engine's finalization of `header`, signed by the validators at
    /// `signers` (indices in key-generation order).
    fn finalize(
        &self,
        header: &BlockHeader,
        signers: &[usize],
    ) -> EngineFinalization<ConsensusScheme, EngineDigest> {
        let proposal = Proposal::new(
            Round::new(Epoch::new(header.round.epoch), View::new(header.round.view)),
            View::new(header.round.parent_view),
            to_engine_digest(&header.id()),
        );
        let mut votes = signers.iter().map(|&index| {
            Finalize::sign(&self.scheme(index), proposal.clone()).expect("a signer signs")
        });
        let first = votes.next().expect("at least one signer");
        EngineFinalization::from_owned_finalizes(
            &self.scheme(0),
            NonEmpty::new(first, votes),
            &Sequential,
        )
        .expect("a quorum assembles")
    }

    /// The engine's own verdict on certificate bytes for `header`.
    fn engine_accepts(&self, bytes: &[u8], header: &BlockHeader) -> bool {
        let verifier = ConsensusScheme::verifier(CONSENSUS_NAMESPACE, self.participants.clone());
        let Ok(decoded) = EngineFinalization::<ConsensusScheme, EngineDigest>::decode_cfg(
            bytes.to_vec(),
            &self.participants.len(),
        ) else {
            return false;
        };
        let round = &header.round;
        decoded.proposal.payload == to_engine_digest(&header.id())
            && decoded.proposal.round == Round::new(Epoch::new(round.epoch), View::new(round.view))
            && decoded.proposal.parent == View::new(round.parent_view)
            && decoded.verify(&mut TestRng::new(7), &verifier, &Sequential)
    }

    /// Signer positions in the sorted set for validators in generation order.
    fn sorted_positions(&self, signers: &[usize]) -> Vec<usize> {
        let mut positions: Vec<usize> = signers
            .iter()
            .map(|&index| {
                self.set
                    .index_of(&self.our_keys[index].public_key())
                    .expect("a member")
            })
            .collect();
        positions.sort();
        positions
    }
}

#[test]
fn engine_certificates_verify_offline() {
    for (count, signers) in [
        (1u8, vec![0]),
        (4, vec![0, 1, 2]),
        (4, vec![3, 1, 0, 2]),
        (7, vec![6, 0, 2, 4, 5]),
    ] {
        let committee = Committee::new(count, 0);
        let header = committee.header(9);
        let bytes = committee.finalize(&header, &signers).encode().to_vec();
        assert!(committee.engine_accepts(&bytes, &header));
        let signed_by = verify_certificate(&bytes, &committee.set, &header)
            .unwrap_or_else(|error| panic!("{count} validators: {error}"));
        assert_eq!(signed_by.len(), signers.len());
        // The verifier's encoder writes exactly the engine's bytes.
        let ours = certificate::testing::certify(
            &header,
            &committee.our_keys,
            &committee.sorted_positions(&signers),
        );
        assert_eq!(ours, bytes, "{count} validators");
        // The message every vote signs is the verifier's.
        let decoded = Finalization::decode(&bytes).expect("decodes");
        let proposal = decoded.proposal_bytes();
        let engine_proposal = EngineFinalization::<ConsensusScheme, EngineDigest>::decode_cfg(
            bytes.clone(),
            &committee.participants.len(),
        )
        .expect("decodes")
        .proposal
        .encode()
        .to_vec();
        assert_eq!(proposal, engine_proposal);
        let namespace = [CONSENSUS_NAMESPACE, certificate::FINALIZE_SUFFIX].concat();
        assert_eq!(
            decoded.signed_message(),
            union_unique(&namespace, &proposal)
        );
    }
}

#[test]
fn epochs_and_large_views_encode_alike() {
    let committee = Committee::new(4, 3);
    let header = committee.header(1 << 40);
    let bytes = committee.finalize(&header, &[0, 1, 3]).encode().to_vec();
    assert!(verify_certificate(&bytes, &committee.set, &header).is_ok());
    let other_epoch = ValidatorSet::new(4, committee.set.keys().iter().copied()).expect("set");
    assert!(matches!(
        verify_certificate(&bytes, &other_epoch, &header),
        Err(CertificateError::WrongEpoch { .. })
    ));
}

#[test]
fn tampered_engine_certificates_fail_in_both() {
    let committee = Committee::new(4, 0);
    let header = committee.header(9);
    let bytes = committee.finalize(&header, &[0, 1, 2]).encode().to_vec();
    for index in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut tampered = bytes.clone();
            tampered[index] ^= mask;
            let ours = verify_certificate(&tampered, &committee.set, &header).is_ok();
            let engine = committee.engine_accepts(&tampered, &header);
            assert!(
                !ours && !engine,
                "byte {index} mask {mask:#x}: ours {ours}, engine {engine}"
            );
        }
    }
}

#[test]
fn quorum_matches_the_engine() {
    for validators in 1..=128u32 {
        assert_eq!(
            certificate::quorum(validators as usize),
            N3f1::quorum(validators) as usize,
            "{validators}"
        );
    }
    // A certificate with one signer too few cannot even be assembled by
    // the engine, and fails offline.
    let committee = Committee::new(4, 0);
    let header = committee.header(9);
    let two = certificate::testing::certify(&header, &committee.our_keys, &[0, 2]);
    assert!(!committee.engine_accepts(&two, &header));
    assert!(matches!(
        verify_certificate(&two, &committee.set, &header),
        Err(CertificateError::NoQuorum { .. })
    ));
}

#[test]
fn ed25519_verdicts_match_the_engine_at_the_edges() {
    let namespace = [CONSENSUS_NAMESPACE, certificate::FINALIZE_SUFFIX].concat();
    for seed in seeds(5) {
        let engine_key = super::engine_private_key(&seed).expect("key").public_key();
        let our_key = VerifyingKey::new(&SecretKey::from_seed(seed).public_key()).expect("key");
        for message in [&b"proposal"[..], b"", &[0xab; 300]] {
            let payload = union_unique(&namespace, message);
            for (name, signature, valid) in edge_cases(seed, &payload) {
                let engine_signature =
                    ed25519::Signature::decode(signature.to_vec()).expect("64 bytes decode");
                let engine = engine_key.verify(&namespace, message, &engine_signature);
                let ours = our_key.verifies(&payload, &signature);
                assert_eq!((engine, ours), (valid, valid), "{name}");
            }
        }
    }
}
