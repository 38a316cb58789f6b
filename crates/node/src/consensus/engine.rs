//! Wiring: Simplex with marshal, buffered broadcast, backfill resolver and
//! the authenticated `lookup` p2p network, on the production runtime.
//!
//! The application and finalizer it starts ([`super::app`]) are generic over
//! the runtime traits; only this glue names the tokio runtime and the real
//! network, so a simulation harness can wire the same parts over
//! `deterministic` and `p2p::simulated`.

use super::app::{App, Finalizer, run_finalizer};
use super::block::EngineBlockBox;
use super::gossip;
use super::watch::Watch;
use super::{CONSENSUS_NAMESPACE, ConsensusPublicKey, ConsensusScheme, to_engine_digest};
use crate::admission::Admission;
use crate::core::NodeCore;
use commonware_broadcast::buffered;
use commonware_consensus::Reporters;
use commonware_consensus::marshal::core::Actor as MarshalActor;
use commonware_consensus::marshal::resolver::p2p as marshal_resolver;
use commonware_consensus::marshal::standard::{Inline, Standard};
use commonware_consensus::marshal::{self, Start};
use commonware_consensus::simplex::config::{Floor, ForwardPolicy, SkipBudget, SkipPolicy};
use commonware_consensus::simplex::elector::RoundRobin;
use commonware_consensus::simplex::{self, Engine as SimplexEngine};
use commonware_consensus::types::{Epoch, FixedEpocher, ViewDelta};
use commonware_cryptography::certificate::ConstantProvider;
use commonware_cryptography::sha256::Sha256;
use commonware_cryptography::{ChaCha20Poly1305, Signer as _};
use commonware_cryptography::{Digested, ed25519};
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{Address, AddressableManager as _};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Handle, Metrics as _, Quota, Spawner as _, Supervisor as _, tokio};
use commonware_storage::archive::immutable;
use commonware_stream::{cups, sake};
use commonware_utils::ordered::{Map, Set};
use commonware_utils::{NZDuration, NZU16, NZU32, NZU64, NZUsize};
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

/// Votes and certificates: a few per view per peer; views last tens of ms.
const VOTE_QUOTA: Quota = Quota::per_second(NZU32!(256));
/// Consensus fetches and marshal backfill: bursts while catching up.
const FETCH_QUOTA: Quota = Quota::per_second(NZU32!(128));
/// Block dissemination: one block per view from the leader.
const BROADCAST_QUOTA: Quota = Quota::per_second(NZU32!(64));
/// Transaction gossip: up to 512 transactions per message, so this admits
/// about 130,000 transactions per second from each peer.
const GOSSIP_QUOTA: Quota = Quota::per_second(NZU32!(256));

/// Largest p2p message: a full block plus framing and certificates.
const MAX_MESSAGE_BYTES: u32 = 10 * 1024 * 1024;
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

/// Starts every consensus actor for one validator and returns their handles.
/// Transactions from `gossip` go to every peer; those peers gossip arrive
/// through `admission`.
pub async fn start(
    context: tokio::Context,
    core: Arc<NodeCore>,
    config: EngineConfig,
    admission: Admission,
    gossip: GossipInbox,
) -> Vec<Handle<()>> {
    let me = config.signer.public_key();
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
    let votes = network.register(VOTE_CHANNEL, VOTE_QUOTA);
    let certificates = network.register(CERTIFICATE_CHANNEL, VOTE_QUOTA);
    let resolver_channel = network.register(RESOLVER_CHANNEL, FETCH_QUOTA);
    let backfill = network.register(BACKFILL_CHANNEL, FETCH_QUOTA);
    let broadcast_channel = network.register(BROADCAST_CHANNEL, BROADCAST_QUOTA);
    let (gossip_sender, gossip_receiver) = network.register(GOSSIP_CHANNEL, GOSSIP_QUOTA);
    let network_handle = network.start();
    let gossip_out = context.child("gossip_out").spawn({
        let admission = admission.clone();
        move |_| gossip::send_loop(gossip_sender, gossip, admission)
    });
    let gossip_in = context
        .child("gossip_in")
        .spawn(move |clock| gossip::receive_loop(clock, gossip_receiver, admission));

    let scheme = ConsensusScheme::signer(
        CONSENSUS_NAMESPACE,
        participants.clone(),
        config.signer.clone(),
    )
    .expect("this validator is in the validator set");
    let provider = ConstantProvider::<ConsensusScheme, Epoch>::new(scheme.clone());
    let page_cache = CacheRef::new(PAGE_SIZE, PAGE_CACHE_PAGES);

    let resolver = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: oracle.clone(),
            blocker: oracle.clone(),
            mailbox_size: MAILBOX_SIZE,
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        backfill,
    );
    let (broadcast_engine, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size: MAILBOX_SIZE,
            deque_size: 16,
            priority: false,
            codec_config: (),
            peer_provider: oracle.clone(),
            strategy: Sequential,
        },
    );
    let broadcast_handle = broadcast_engine.start(broadcast_channel);

    let prefix = "marshal";
    let finalizations = immutable::Archive::init(
        context.child("finalizations"),
        archive_config(prefix, "finalizations", &page_cache, <ConsensusScheme as commonware_cryptography::certificate::Verifier>::certificate_codec_config_unbounded()),
    )
    .await
    .expect("open the finalizations archive");
    let blocks = immutable::Archive::init(
        context.child("blocks"),
        archive_config(prefix, "blocks", &page_cache, ()),
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
                start: Start::Genesis(genesis),
                partition_prefix: prefix.to_string(),
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
        App::new(core.clone(), config.leader_timeout / 2),
        marshal_mailbox.clone(),
        FixedEpocher::new(BLOCKS_PER_EPOCH),
    );
    let engine = SimplexEngine::new(
        context.child("simplex"),
        simplex::config::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker: oracle.clone(),
            automaton: inline.clone(),
            relay: inline.clone(),
            reporter: Reporters::from((
                inline.clone(),
                Watch::new(context.child("watch"), core.clone(), participants.clone()),
            )),
            track_historical_votes: false,
            strategy: Sequential,
            partition: "simplex".to_string(),
            mailbox_size: MAILBOX_SIZE,
            epoch: Epoch::zero(),
            floor: Floor::Genesis(genesis_digest),
            replay_buffer: IO_BUFFER,
            write_buffer: IO_BUFFER,
            page_cache: page_cache.clone(),
            leader_timeout: config.leader_timeout,
            certification_timeout: config.leader_timeout * 2,
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
    let engine_handle = engine.start(votes, certificates, resolver_channel);

    let (finalizer, updates) = Finalizer::new();
    let marshal_handle = marshal_actor.start(finalizer, buffer, resolver);
    let finalizer_handle = context
        .child("finalizer")
        .spawn(move |runtime| run_finalizer(runtime, core, marshal_mailbox, updates));
    let _ = context.encode();
    vec![
        network_handle,
        broadcast_handle,
        marshal_handle,
        engine_handle,
        finalizer_handle,
        gossip_out,
        gossip_in,
    ]
}
