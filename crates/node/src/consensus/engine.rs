//! Wiring: Simplex with marshal, buffered broadcast, backfill resolver and
//! the authenticated `lookup` p2p network, on the production runtime.
//!
//! The application and finalizer it starts ([`super::app`]) are generic over
//! the runtime traits; only this glue names the tokio runtime and the real
//! network, so a simulation harness can wire the same parts over
//! `deterministic` and `p2p::simulated`.

use super::app::{App, Finalizer, run_finalizer};
use super::block::EngineBlockBox;
use super::watch::Watch;
use super::{CONSENSUS_NAMESPACE, ConsensusPublicKey, ConsensusScheme, to_engine_digest};
use super::{gossip, replication};
use crate::admission::Admission;
use crate::core::NodeCore;
use crate::replication::{MESSAGE_BYTES_MAX as REPLICATION_MESSAGE_BYTES_MAX, Replicator};
use commonware_broadcast::{Broadcaster as _, buffered};
use commonware_consensus::Reporters;
use commonware_consensus::marshal::core::Actor as MarshalActor;
use commonware_consensus::marshal::resolver::p2p as marshal_resolver;
use commonware_consensus::marshal::standard::{Inline, Standard};
use commonware_consensus::marshal::{self, Start};
use commonware_consensus::simplex::config::{Floor, ForwardPolicy, SkipBudget, SkipPolicy};
use commonware_consensus::simplex::elector::RoundRobin;
use commonware_consensus::simplex::types::Finalization as EngineFinalization;
use commonware_consensus::simplex::{self, Engine as SimplexEngine};
use commonware_consensus::types::{Epoch, FixedEpocher, ViewDelta};
use commonware_cryptography::certificate::ConstantProvider;
use commonware_cryptography::sha256::Digest as EngineDigest;
use commonware_cryptography::sha256::Sha256;
use commonware_cryptography::{ChaCha20Poly1305, Signer as _};
use commonware_cryptography::{Digested, ed25519};
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{
    Address, AddressableManager as _, Blocker, Provider, Receiver, Recipients, Sender,
};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Handle, Metrics, Quota, Spawner, Storage, Supervisor, tokio};
use commonware_storage::archive::immutable;
use commonware_stream::{cups, sake};
use commonware_utils::ordered::{Map, Set};
use commonware_utils::{NZDuration, NZU16, NZU32, NZU64, NZUsize};
use rand_core_10::CryptoRng;
use std::net::SocketAddr;
use std::num::{NonZeroU16, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;

const VOTE_CHANNEL: u64 = 0;
const CERTIFICATE_CHANNEL: u64 = 1;
const RESOLVER_CHANNEL: u64 = 2;
const BACKFILL_CHANNEL: u64 = 3;
const BROADCAST_CHANNEL: u64 = 4;
const GOSSIP_CHANNEL: u64 = 5;
const REPLICATION_CHANNEL: u64 = 6;

/// Votes and certificates: a few per view per peer; views last tens of ms.
const VOTE_QUOTA: Quota = Quota::per_second(NZU32!(256));
/// Consensus fetches and marshal backfill: bursts while catching up.
const FETCH_QUOTA: Quota = Quota::per_second(NZU32!(128));
/// Block dissemination: one block per view from the leader.
const BROADCAST_QUOTA: Quota = Quota::per_second(NZU32!(64));
/// Transaction gossip: up to 512 transactions per message, so this admits
/// about 130,000 transactions per second from each peer.
const GOSSIP_QUOTA: Quota = Quota::per_second(NZU32!(256));
/// Blob replication: asks, and parts of up to 4 MiB, so a 64 MiB blob
/// (16 parts) crosses within a second of quota.
const REPLICATION_QUOTA: Quota = Quota::per_second(NZU32!(32));

/// Largest p2p message: a full block plus framing and certificates.
const MAX_MESSAGE_BYTES: u32 = 10 * 1024 * 1024;
const _: () = assert!(REPLICATION_MESSAGE_BYTES_MAX <= MAX_MESSAGE_BYTES as usize);
const MAILBOX_SIZE: NonZeroUsize = NZUsize!(1024);
const PAGE_SIZE: NonZeroU16 = NZU16!(4096);
const PAGE_CACHE_PAGES: NonZeroUsize = NZUsize!(1024);
const IO_BUFFER: NonZeroUsize = NZUsize!(1024 * 1024);
/// One epoch for the whole chain until validator-set changes land.
const BLOCKS_PER_EPOCH: std::num::NonZeroU64 = NZU64!(1 << 62);

/// What the engine needs to run one validator.
pub struct EngineConfig {
    /// This validator's consensus and p2p key.
    pub signer: ed25519::PrivateKey,
    /// Every validator with its p2p address, self included.
    pub validators: Vec<(ConsensusPublicKey, SocketAddr)>,
    /// Where to listen for peers.
    pub p2p_listen: SocketAddr,
    /// Whether consensus should move quickly (one validator).
    pub leader_timeout: Duration,
    /// Start consensus from the chain's finalized tip instead of genesis:
    /// for a node whose consensus journals are gone (after a restore) and
    /// that has no peer to learn the tip's view from (ADR 0010).
    pub resume_from_tip: bool,
}

/// The finalized block consensus starts above, with its certificate.
#[derive(Clone, Debug)]
pub struct TipAnchor {
    /// The block.
    pub block: Arc<cityledger_types::Block>,
    /// Its finalization, as the store holds it.
    pub certificate: Vec<u8>,
}

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: &CacheRef,
    codec_config: C,
) -> immutable::Config<C> {
    let partition = |part: &str| format!("{prefix}-{name}-{part}");
    immutable::Config {
        metadata_partition: partition("metadata"),
        freezer_table_partition: partition("freezer-table"),
        freezer_table_initial_size: 65_536,
        freezer_table_resize_frequency: 4,
        freezer_table_resize_chunk_size: 16_384,
        freezer_key_partition: partition("freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: partition("freezer-value"),
        freezer_value_target_size: 256 * 1024 * 1024,
        freezer_value_compression: None,
        ordinal_partition: partition("ordinal"),
        items_per_section: NZU64!(4096),
        codec_config,
        replay_buffer: IO_BUFFER,
        freezer_key_write_buffer: IO_BUFFER,
        freezer_value_write_buffer: IO_BUFFER,
        ordinal_write_buffer: IO_BUFFER,
    }
}

/// Admitted client transactions to gossip, one batch per item.
pub type GossipInbox = futures::channel::mpsc::Receiver<Vec<Arc<cityledger_types::SignedTx>>>;

/// The p2p channels of one validator, registered on whichever network
/// carries them: the authenticated `lookup` network in production, the
/// simulated one in simulations.
pub struct Channels<S, R> {
    /// Simplex votes.
    pub votes: (S, R),
    /// Simplex certificates.
    pub certificates: (S, R),
    /// Simplex fetches of missing certificates.
    pub resolver: (S, R),
    /// Marshal backfill of missing blocks.
    pub backfill: (S, R),
    /// Block dissemination.
    pub broadcast: (S, R),
    /// Transaction gossip.
    pub gossip: (S, R),
    /// Records' blobs for the nodes that may read them.
    pub replication: (S, R),
}

/// Every channel with its quota, in the order [`Channels::from_plan`] takes.
pub const CHANNEL_PLAN: [(u64, Quota); 7] = [
    (VOTE_CHANNEL, VOTE_QUOTA),
    (CERTIFICATE_CHANNEL, VOTE_QUOTA),
    (RESOLVER_CHANNEL, FETCH_QUOTA),
    (BACKFILL_CHANNEL, FETCH_QUOTA),
    (BROADCAST_CHANNEL, BROADCAST_QUOTA),
    (GOSSIP_CHANNEL, GOSSIP_QUOTA),
    (REPLICATION_CHANNEL, REPLICATION_QUOTA),
];

impl<S, R> Channels<S, R> {
    /// The channels registered in [`CHANNEL_PLAN`] order.
    pub fn from_plan(registered: Vec<(S, R)>) -> Channels<S, R> {
        assert_eq!(
            registered.len(),
            CHANNEL_PLAN.len(),
            "one pair per planned channel"
        );
        let mut pairs = registered.into_iter();
        let mut next = || pairs.next().expect("length checked above");
        Channels {
            votes: next(),
            certificates: next(),
            resolver: next(),
            backfill: next(),
            broadcast: next(),
            gossip: next(),
            replication: next(),
        }
    }
}

/// What the actors of one validator need besides the network.
pub struct Validator<C, B> {
    /// Its key.
    pub signer: ed25519::PrivateKey,
    /// The validator set, self included.
    pub participants: Set<ConsensusPublicKey>,
    /// Who is connected, for broadcast and backfill.
    pub peers: C,
    /// Where misbehaving peers are reported.
    pub blocker: B,
    /// Leader timeout.
    pub leader_timeout: Duration,
    /// Prefix of the journals' and archives' partitions.
    pub partition_prefix: String,
    /// Where consensus starts: `None` for genesis.
    pub anchor: Option<TipAnchor>,
}

/// Starts one validator on the production runtime and the authenticated
/// `lookup` network, and returns the handles of every actor.
pub async fn start(
    context: tokio::Context,
    core: Arc<NodeCore>,
    config: EngineConfig,
    admission: Admission,
    gossip: GossipInbox,
) -> Vec<Handle<()>> {
    let participants: Set<ConsensusPublicKey> =
        Set::from_iter_dedup(config.validators.iter().map(|(k, _)| k.clone()));
    // Peers are paired explicitly: `Set` sorts keys, so zipping it with a list
    // in another order would dial the wrong identity.
    let peers: Map<ConsensusPublicKey, Address> = Map::from_iter_dedup(
        config
            .validators
            .iter()
            .map(|(k, a)| (k.clone(), Address::from(*a))),
    );
    let handshake = cups::Cups::<_, ChaCha20Poly1305>::new(
        sake::Sake {
            signer: config.signer.clone(),
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let p2p_config = lookup::Config::local(
        handshake,
        b"cityledger/p2p/v1",
        config.p2p_listen,
        NZUsize!(participants.len().max(1)),
        MAX_MESSAGE_BYTES,
        MAILBOX_SIZE,
    );
    let (mut network, mut oracle) = lookup::Network::new(context.child("p2p"), p2p_config);
    oracle.track(0, peers);
    let registered = CHANNEL_PLAN
        .iter()
        .map(|(channel, quota)| network.register(*channel, *quota))
        .collect();
    let channels = Channels::from_plan(registered);
    let network_handle = network.start();
    let anchor = if config.resume_from_tip {
        tip_anchor(&core)
    } else {
        None
    };
    let validator = Validator {
        signer: config.signer,
        participants,
        peers: oracle.clone(),
        blocker: oracle,
        leader_timeout: config.leader_timeout,
        partition_prefix: String::new(),
        anchor,
    };
    let mut handles = start_actors(context, core, validator, channels, admission, gossip).await;
    handles.push(network_handle);
    handles
}

/// The chain's finalized tip with its stored certificate, or `None` (logged)
/// when the store cannot give it: consensus then starts from genesis.
fn tip_anchor(core: &NodeCore) -> Option<TipAnchor> {
    let tip = core.chain.finalized();
    let height = tip.block.header.height;
    match core.chain.store().block(height) {
        Ok(Some(stored)) => Some(TipAnchor {
            block: tip.block.clone(),
            certificate: stored.certificate,
        }),
        Ok(None) => {
            tracing::error!(%height, "the finalized tip is not in the store; consensus starts from genesis");
            None
        }
        Err(error) => {
            tracing::error!(%height, %error, "cannot read the finalized tip; consensus starts from genesis");
            None
        }
    }
}

/// The engine's finalization of `anchor`, checked to be of its block.
fn anchor_finalization(
    anchor: &TipAnchor,
    participants: usize,
) -> Option<EngineFinalization<ConsensusScheme, EngineDigest>> {
    use commonware_codec::Decode as _;
    let finalization = match EngineFinalization::<ConsensusScheme, EngineDigest>::decode_cfg(
        anchor.certificate.clone(),
        &participants,
    ) {
        Ok(finalization) => finalization,
        Err(error) => {
            tracing::error!(%error, "the tip's certificate does not decode; consensus starts from genesis");
            return None;
        }
    };
    if finalization.proposal.payload != to_engine_digest(&anchor.block.id()) {
        tracing::error!("the tip's certificate is of another block; consensus starts from genesis");
        return None;
    }
    Some(finalization)
}

/// Starts Simplex, marshal, broadcast, backfill, gossip and the finalizer
/// for one validator, on any runtime and any network, and returns their
/// handles.
pub async fn start_actors<E, S, R, C, B>(
    context: E,
    core: Arc<NodeCore>,
    validator: Validator<C, B>,
    channels: Channels<S, R>,
    admission: Admission,
    gossip: GossipInbox,
) -> Vec<Handle<()>>
where
    E: Spawner + Clock + Storage + Metrics + Supervisor + CryptoRng,
    S: Sender<PublicKey = ConsensusPublicKey>,
    R: Receiver<PublicKey = ConsensusPublicKey>,
    C: Provider<PublicKey = ConsensusPublicKey> + Clone,
    B: Blocker<PublicKey = ConsensusPublicKey> + Clone,
{
    let Validator {
        signer,
        participants,
        peers,
        blocker,
        leader_timeout,
        partition_prefix,
        anchor,
    } = validator;
    let floor = anchor.as_ref().and_then(|anchor| {
        let finalization = anchor_finalization(anchor, participants.len())?;
        let digest = to_engine_digest(&anchor.block.id());
        let block = Digested::precomputed(EngineBlockBox::new(anchor.block.clone()), digest);
        tracing::info!(height = %anchor.block.header.height, "consensus starts from the finalized tip");
        Some((finalization, block))
    });
    let me = signer.public_key();
    let (gossip_sender, gossip_receiver) = channels.gossip;
    let gossip_out = context.child("gossip_out").spawn({
        let admission = admission.clone();
        move |_| gossip::send_loop(gossip_sender, gossip, admission)
    });
    let gossip_in = context
        .child("gossip_in")
        .spawn(move |clock| gossip::receive_loop(clock, gossip_receiver, admission));
    let (replication_in, replication_out) =
        start_replication(&context, &core, &me, channels.replication);

    let scheme = ConsensusScheme::signer(CONSENSUS_NAMESPACE, participants.clone(), signer)
        .expect("this validator is in the validator set");
    let provider = ConstantProvider::<ConsensusScheme, Epoch>::new(scheme.clone());
    let page_cache = CacheRef::new(PAGE_SIZE, PAGE_CACHE_PAGES);

    let resolver = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: peers.clone(),
            blocker: blocker.clone(),
            mailbox_size: MAILBOX_SIZE,
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let (broadcast_engine, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size: MAILBOX_SIZE,
            deque_size: 16,
            priority: false,
            codec_config: (),
            peer_provider: peers,
            strategy: Sequential,
        },
    );
    let broadcast_handle = broadcast_engine.start(channels.broadcast);

    let prefix = format!("{partition_prefix}marshal");
    let finalizations = immutable::Archive::init(
        context.child("finalizations"),
        archive_config(&prefix, "finalizations", &page_cache, <ConsensusScheme as commonware_cryptography::certificate::Verifier>::certificate_codec_config_unbounded()),
    )
    .await
    .expect("open the finalizations archive");
    let blocks = immutable::Archive::init(
        context.child("blocks"),
        archive_config(&prefix, "blocks", &page_cache, ()),
    )
    .await
    .expect("open the finalized blocks archive");

    let genesis_digest = to_engine_digest(&core.chain.genesis_block().id());
    let genesis = Digested::precomputed(
        EngineBlockBox::new(core.chain.genesis_block()),
        genesis_digest,
    );
    let (marshal_actor, marshal_mailbox, _floor) =
        MarshalActor::<_, Standard<EngineBlockBox>, _, _, _, _, _>::init(
            context.child("marshal"),
            finalizations,
            blocks,
            marshal::Config {
                provider,
                epocher: FixedEpocher::new(BLOCKS_PER_EPOCH),
                start: match &floor {
                    Some((finalization, _)) => Start::Floor(finalization.clone()),
                    None => Start::Genesis(genesis),
                },
                partition_prefix: prefix.clone(),
                mailbox_size: MAILBOX_SIZE,
                view_retention: ViewDelta::new(64),
                prunable_items_per_section: NZU64!(64),
                page_cache: page_cache.clone(),
                replay_buffer: IO_BUFFER,
                key_write_buffer: IO_BUFFER,
                value_write_buffer: IO_BUFFER,
                block_codec_config: (),
                max_repair: NZUsize!(64),
                max_pending_acks: NZUsize!(4),
                strategy: Sequential,
            },
        )
        .await;

    let inline = Inline::new(
        context.child("application"),
        App::new(core.clone(), leader_timeout / 2),
        marshal_mailbox.clone(),
        FixedEpocher::new(BLOCKS_PER_EPOCH),
    );
    let engine = SimplexEngine::new(
        context.child("simplex"),
        simplex::config::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: inline.clone(),
            relay: inline.clone(),
            reporter: Reporters::from((
                inline.clone(),
                Watch::new(context.child("watch"), core.clone(), participants.clone()),
            )),
            track_historical_votes: false,
            strategy: Sequential,
            partition: format!("{partition_prefix}simplex"),
            mailbox_size: MAILBOX_SIZE,
            epoch: Epoch::zero(),
            floor: match &floor {
                Some((finalization, _)) => Floor::Finalized(finalization.clone()),
                None => Floor::Genesis(genesis_digest),
            },
            replay_buffer: IO_BUFFER,
            write_buffer: IO_BUFFER,
            page_cache: page_cache.clone(),
            leader_timeout,
            certification_timeout: leader_timeout * 2,
            timeout_retry: Duration::from_secs(1),
            view_retention: ViewDelta::new(64),
            skip: SkipPolicy::Enabled {
                timeout: Duration::from_secs(10),
                budget: SkipBudget::Participants,
            },
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            forward: ForwardPolicy::Disabled,
        },
    );
    let engine_handle = engine.start(channels.votes, channels.certificates, channels.resolver);

    // Marshal installs its floor from a block it can find: with no journals
    // and maybe no peer, the anchor is handed to the broadcast cache.
    if let Some((_, block)) = floor {
        let _ = buffer.broadcast(Recipients::Some(Vec::new()), block);
    }
    let (finalizer, updates) = Finalizer::new();
    let marshal_handle = marshal_actor.start(finalizer, buffer, resolver);
    let finalizer_handle = context
        .child("finalizer")
        .spawn(move |runtime| run_finalizer(runtime, core, marshal_mailbox, updates));
    let _ = context.encode();
    vec![
        broadcast_handle,
        marshal_handle,
        engine_handle,
        finalizer_handle,
        gossip_out,
        gossip_in,
        replication_in,
        replication_out,
    ]
}

/// Starts blob replication's two loops: one answers peers, one turns the
/// node's notices into asks.
fn start_replication<E, S, R>(
    context: &E,
    core: &Arc<NodeCore>,
    me: &ConsensusPublicKey,
    (sender, receiver): (S, R),
) -> (Handle<()>, Handle<()>)
where
    E: Spawner + Clock + Metrics + Supervisor,
    S: Sender<PublicKey = ConsensusPublicKey>,
    R: Receiver<PublicKey = ConsensusPublicKey>,
{
    let me = cityledger_types::PublicKey(super::public_key_bytes(me));
    let replicator = Arc::new(std::sync::Mutex::new(Replicator::new(core.clone(), me)));
    let notices = core.replication_notices();
    let incoming = context.child("replication_in").spawn({
        let (sender, replicator) = (sender.clone(), replicator.clone());
        move |_| replication::receive_loop(sender, receiver, replicator)
    });
    let outgoing = context
        .child("replication_out")
        .spawn(move |clock| replication::notice_loop(clock, sender, notices, replicator));
    (incoming, outgoing)
}
