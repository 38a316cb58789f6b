//! Deterministic simulation: N full nodes (admission, mempool, gossip, state
//! machine, marshal and Simplex, exactly as production wires them through
//! [`start_actors`]) on Commonware's `deterministic` runtime and simulated
//! network, under seeded faults: lossy and slow links, crashes and restarts,
//! and a partition that heals.
//!
//! Everything, message order and loss included, follows from the seed, so a
//! failure replays exactly from the seed it prints. After the faults heal
//! the run checks safety (one block per height on every node, the same state
//! root, money conserved) and liveness (every node reaches the target
//! height).

use super::app::now_ms;
use super::engine::{Channels, GossipInbox, Validator, start_actors};
use super::{ConsensusPublicKey, engine_private_key};
use crate::admission::{Admission, admission};
use crate::chain::Chain;
use crate::core::NodeCore;
use crate::limits::GOSSIP_BATCHES_QUEUED_MAX;
use crate::metrics::NodeMetrics;
use cityledger_state::audit::audit_conservation;
use cityledger_state::genesis::consortium_genesis;
use cityledger_storage::{MemoryStore, Store};
use cityledger_types::genesis::{Genesis, GenesisValidator};
use cityledger_types::tx::{TransferOrder, TxBody};
use cityledger_types::{
    Address, Amount, ChainId, ClientTxId, CurrencyCode, Digest, Height, OrgName, SecretKey,
    SignedTx,
};
use commonware_cryptography::Signer as _;
use commonware_p2p::simulated::{self, Link, Oracle};
use commonware_runtime::deterministic::{self, Context};
use commonware_runtime::{Clock, Handle, Runner as _, Spawner as _, Supervisor as _};
use commonware_utils::ordered::Set;
use commonware_utils::{NZUsize, Probability};
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Fewest and most validators a simulation runs.
pub const VALIDATORS_RANGE: std::ops::RangeInclusive<usize> = 4..=25;
/// Virtual time a run may take before it counts as stalled.
const RUN_DEADLINE: Duration = Duration::from_secs(600);
/// Blocks every node must finalize after the faults heal.
const HEIGHT_AFTER_HEAL: u64 = 5;
/// Citizens that send each other money.
const CITIZENS: usize = 8;
/// What each citizen starts with, in minor units.
const FUNDING_MINOR: u128 = 1_000_000;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimulationConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of validators, in [`VALIDATORS_RANGE`].
    pub validators: usize,
    /// Transfers submitted over the run.
    pub transfers: usize,
    /// Whether to crash and later restart validators (up to f of them).
    pub crashes: bool,
    /// Whether to partition the network and heal it.
    pub partition: bool,
    /// Share of messages a link delivers, in percent (100: no loss).
    pub delivery_percent: u8,
    /// Validators replaced by Commonware's conflicter mock, which signs
    /// conflicting votes in every view. Only test builds carry the mocks;
    /// elsewhere any Byzantine validator is refused.
    pub conflicters: usize,
    /// Validators replaced by Commonware's equivocator mock, which as leader
    /// sends different proposals to different validators.
    pub equivocators: usize,
}

impl SimulationConfig {
    fn byzantine(&self) -> usize {
        self.conflicters + self.equivocators
    }
}

impl SimulationConfig {
    /// The default mix of faults for `seed`.
    pub fn with_faults(seed: u64, validators: usize) -> SimulationConfig {
        SimulationConfig {
            seed,
            validators,
            transfers: 200,
            crashes: true,
            partition: true,
            delivery_percent: 95,
            conflicters: 0,
            equivocators: 0,
        }
    }
}

/// What a successful run saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulationReport {
    /// The seed.
    pub seed: u64,
    /// Height every node reached.
    pub common_height: u64,
    /// State root at that height, the same on every node.
    pub state_root: Digest,
    /// Transactions finalized up to that height.
    pub finalized_txs: u64,
    /// Crashes injected.
    pub crashes: usize,
    /// Virtual time the run took, in ms.
    pub virtual_ms: u64,
    /// For each honest node, the validators it caught equivocating.
    pub accused: Vec<Vec<cityledger_types::PublicKey>>,
}

/// Why a run failed. Every variant names the seed that replays it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimulationFailure {
    /// Two nodes finalized different blocks at one height.
    #[error("seed {seed}: nodes {a} and {b} finalized different blocks at height {height}")]
    Fork {
        /// The seed.
        seed: u64,
        /// The height.
        height: u64,
        /// One node.
        a: usize,
        /// The other.
        b: usize,
    },
    /// Money was created or destroyed.
    #[error("seed {seed}: node {node} does not conserve money: {detail}")]
    NotConserved {
        /// The seed.
        seed: u64,
        /// The node.
        node: usize,
        /// The audit's finding.
        detail: String,
    },
    /// A node did not reach the target height in time.
    #[error(
        "seed {seed}: node {node} stayed at height {height}, below {target}, after the faults healed"
    )]
    NoProgress {
        /// The seed.
        seed: u64,
        /// The node.
        node: usize,
        /// Its height.
        height: u64,
        /// The target.
        target: u64,
    },
    /// The configuration cannot run.
    #[error("seed {seed}: {reason}")]
    BadConfig {
        /// The seed.
        seed: u64,
        /// Why.
        reason: String,
    },
}

/// Runs one simulation.
pub fn simulate(config: SimulationConfig) -> Result<SimulationReport, SimulationFailure> {
    if !VALIDATORS_RANGE.contains(&config.validators) {
        return Err(SimulationFailure::BadConfig {
            seed: config.seed,
            reason: format!("validators must be in {VALIDATORS_RANGE:?}"),
        });
    }
    if !(50..=100).contains(&config.delivery_percent) {
        return Err(SimulationFailure::BadConfig {
            seed: config.seed,
            reason: "delivery_percent must be between 50 and 100".into(),
        });
    }
    let faulty = (config.validators - 1) / 3;
    if config.byzantine() > faulty || (config.byzantine() > 0 && !cfg!(test)) {
        return Err(SimulationFailure::BadConfig {
            seed: config.seed,
            reason: format!(
                "{} Byzantine validators: at most {faulty} of {}, and only in test builds",
                config.byzantine(),
                config.validators
            ),
        });
    }
    let runtime = deterministic::Config::new()
        .with_seed(config.seed)
        .with_start_time(UNIX_EPOCH + Duration::from_secs(1_767_225_600));
    deterministic::Runner::new(runtime).start(|context| run(context, config))
}

/// One validator of the simulation, with what survives its crashes.
struct SimNode {
    index: usize,
    node_key_seed: [u8; 32],
    store: Arc<MemoryStore>,
    running: Option<Running>,
    incarnation: usize,
}

struct Running {
    core: Arc<NodeCore>,
    admission: Admission,
    handles: Vec<Handle<()>>,
}

struct World {
    genesis: Genesis,
    participants: Set<ConsensusPublicKey>,
    oracle: Oracle<ConsensusPublicKey, Context>,
    link: Link,
}

async fn run(
    context: Context,
    config: SimulationConfig,
) -> Result<SimulationReport, SimulationFailure> {
    let started = context.current();
    let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed);
    let seeds: Vec<[u8; 32]> = (0..config.validators)
        .map(|i| Digest::of(format!("cityledger/sim/{}/{i}", config.seed).as_bytes()).0)
        .collect();
    let keys: Vec<_> = seeds
        .iter()
        .map(|seed| engine_private_key(seed).expect("hash outputs are valid ed25519 seeds"))
        .collect();
    let participants = Set::from_iter_dedup(keys.iter().map(|k| k.public_key()));
    let treasury = SecretKey::from_seed(Digest::of(b"cityledger/sim/treasury").0);
    let genesis = sim_genesis(&seeds, &treasury, now_ms(&context));
    let (network, oracle) = simulated::Network::new_with_peers(
        context.child("network"),
        simulated::Config {
            max_size: 10 * 1024 * 1024,
            disconnect_on_block: true,
            tracked_peer_sets: NZUsize!(1),
            max_peers_per_set: NZUsize!(config.validators),
        },
        participants.iter().cloned(),
    )
    .await;
    network.start();
    let link = Link {
        latency: Duration::from_millis(rng.gen_range(5..50)),
        jitter: Duration::from_millis(rng.gen_range(0..20)),
        success_rate: Probability::new(u64::from(config.delivery_percent), 100)
            .expect("checked above"),
    };
    let world = World {
        genesis,
        participants,
        oracle,
        link,
    };
    link_all(&world, &keys, &[]).await;
    let mut nodes: Vec<SimNode> = seeds
        .iter()
        .enumerate()
        .map(|(index, seed)| SimNode {
            index,
            node_key_seed: *seed,
            store: Arc::new(MemoryStore::new()),
            running: None,
            incarnation: 0,
        })
        .collect();
    let honest = config.validators - config.byzantine();
    for node in &mut nodes[..honest] {
        start_node(&context, &world, node).await;
    }
    #[cfg(test)]
    for (n, node) in nodes[honest..].iter().enumerate() {
        if n < config.conflicters {
            start_conflicter(&context, &world, node).await;
        } else {
            start_equivocator(&context, &world, node).await;
        }
    }
    let mut nodes = nodes;
    nodes.truncate(honest);

    let citizens: Vec<SecretKey> = (0..CITIZENS)
        .map(|i| SecretKey::from_seed(Digest::of(format!("citizen/{i}").as_bytes()).0))
        .collect();
    let chain_id = world.genesis.chain_id.clone();
    for (i, citizen) in citizens.iter().enumerate() {
        let tx = transfer(
            &treasury,
            &chain_id,
            Address::parse_or_alias("treasury:issuance").expect("valid alias"),
            Address::of_key(&citizen.public_key()),
            FUNDING_MINOR,
            &format!("fund-{i}"),
            now_ms(&context),
        );
        submit(&nodes, &mut rng, tx, now_ms(&context)).await;
    }

    // Load and faults, interleaved in virtual time. Crashes and Byzantine
    // validators share the budget of f faulty ones.
    let faulty = (config.validators - 1) / 3 - config.byzantine();
    let mut crashes = 0;
    let partition_at = config.transfers / 3;
    let heal_at = 2 * config.transfers / 3;
    let mut partitioned = false;
    for n in 0..config.transfers {
        let from = rng.gen_range(0..CITIZENS);
        let to = (from + rng.gen_range(1..CITIZENS)) % CITIZENS;
        let tx = transfer(
            &citizens[from],
            &chain_id,
            Address::of_key(&citizens[from].public_key()),
            Address::of_key(&citizens[to].public_key()),
            rng.gen_range(1..100),
            &format!("t-{n}"),
            now_ms(&context),
        );
        submit(&nodes, &mut rng, tx, now_ms(&context)).await;
        context
            .sleep(Duration::from_millis(rng.gen_range(10..100)))
            .await;

        if config.crashes && faulty > 0 && rng.gen_ratio(1, 40) {
            let victim = rng.gen_range(0..nodes.len());
            let down = nodes.iter().filter(|n| n.running.is_none()).count();
            if nodes[victim].running.is_some() && down < faulty {
                crash(&mut nodes[victim]).await;
                crashes += 1;
            } else if nodes[victim].running.is_none() {
                start_node(&context, &world, &mut nodes[victim]).await;
            }
        }
        if config.partition && n == partition_at {
            let minority: Vec<usize> = (0..config.validators / 2).collect();
            link_all(&world, &keys, &minority).await;
            partitioned = true;
        }
        if partitioned && n == heal_at {
            link_all(&world, &keys, &[]).await;
            partitioned = false;
        }
    }
    // Heal everything: links back, crashed nodes restarted.
    if partitioned {
        link_all(&world, &keys, &[]).await;
    }
    for node in &mut nodes {
        if node.running.is_none() {
            start_node(&context, &world, node).await;
        }
    }

    let target = highest(&nodes) + HEIGHT_AFTER_HEAL;
    wait_for_height(&context, &nodes, target, started, config.seed).await?;
    let (state_root, finalized_txs) = check_safety(&nodes, target, config.seed)?;
    let virtual_ms = context
        .current()
        .duration_since(started)
        .map_or(0, |d| d.as_millis() as u64);
    let accused = nodes
        .iter()
        .filter_map(|n| n.running.as_ref())
        .map(|r| {
            let mut keys: Vec<_> = r
                .core
                .network()
                .equivocations()
                .map(|e| e.validator)
                .collect();
            keys.sort();
            keys.dedup();
            keys
        })
        .collect();
    for node in &mut nodes {
        crash(node).await;
    }
    Ok(SimulationReport {
        accused,
        seed: config.seed,
        common_height: target,
        state_root,
        finalized_txs,
        crashes,
        virtual_ms,
    })
}

fn sim_genesis(seeds: &[[u8; 32]], treasury: &SecretKey, now_ms: u64) -> Genesis {
    let orgs: Vec<(OrgName, cityledger_types::PublicKey)> = (0..seeds.len())
        .map(|i| {
            let name = if i == 0 {
                "treasury".to_owned()
            } else {
                format!("agency{i}")
            };
            let admin = if i == 0 {
                treasury.public_key()
            } else {
                SecretKey::from_seed(Digest::of(name.as_bytes()).0).public_key()
            };
            (
                OrgName::new(name.as_str()).expect("simulation org names are valid"),
                admin,
            )
        })
        .collect();
    let validators = orgs
        .iter()
        .zip(seeds)
        .map(|((org, _), seed)| GenesisValidator {
            org: org.clone(),
            key: SecretKey::from_seed(*seed).public_key(),
        })
        .collect();
    consortium_genesis(
        ChainId::new("cityledger-sim").expect("valid chain id"),
        now_ms,
        &orgs,
        validators,
    )
}

fn transfer(
    key: &SecretKey,
    chain_id: &ChainId,
    from: Address,
    to: Address,
    amount: u128,
    id: &str,
    now_ms: u64,
) -> SignedTx {
    TxBody::transfer(
        chain_id.clone(),
        key.public_key(),
        ClientTxId::new(id).expect("simulation ids are valid"),
        now_ms + 10 * 60 * 1000,
        TransferOrder::new(
            from,
            to,
            CurrencyCode::new("CITY").expect("valid code"),
            Amount(amount),
        ),
    )
    .sign(key)
}

/// Submits `tx` to a random running node, as a client would; a refusal
/// (node down, id seen) is part of the scenario, not a failure.
async fn submit(nodes: &[SimNode], rng: &mut impl Rng, tx: SignedTx, now_ms: u64) {
    let running: Vec<&Running> = nodes.iter().filter_map(|n| n.running.as_ref()).collect();
    if running.is_empty() {
        return;
    }
    let target = running[rng.gen_range(0..running.len())];
    let bytes = borsh::object_length(&tx).unwrap_or(0);
    let _ = target.admission.submit(tx, bytes, now_ms).await;
}

/// Links every pair of validators, except across the cut between `minority`
/// and the rest.
async fn link_all(
    world: &World,
    keys: &[commonware_cryptography::ed25519::PrivateKey],
    minority: &[usize],
) {
    for (i, a) in keys.iter().enumerate() {
        for (j, b) in keys.iter().enumerate() {
            if i == j {
                continue;
            }
            let (a, b) = (a.public_key(), b.public_key());
            let _ = world.oracle.remove_link(a.clone(), b.clone()).await;
            if minority.contains(&i) != minority.contains(&j) {
                continue;
            }
            let _ = world.oracle.add_link(a, b, world.link.clone()).await;
        }
    }
}

async fn start_node(context: &Context, world: &World, node: &mut SimNode) {
    node.incarnation += 1;
    let context = context
        .child("node")
        .with_attribute("index", node.index)
        .with_attribute("incarnation", node.incarnation);
    let chain =
        Chain::open(node.store.clone(), world.genesis.clone()).expect("a simulated store reopens");
    let me = SecretKey::from_seed(node.node_key_seed).public_key();
    let metrics = NodeMetrics::register(&context.child("cityledger"));
    let blobs = Arc::new(cityledger_storage::MemoryBlobStore::default());
    let core = NodeCore::new(
        chain,
        metrics,
        format!("node{}", node.index),
        me,
        blobs,
        crate::mempool::MempoolLimits::default(),
    );
    let (outbox, inbox): (_, GossipInbox) =
        futures::channel::mpsc::channel(GOSSIP_BATCHES_QUEUED_MAX);
    let (admission_handle, worker) = admission(core.clone(), Some(outbox));
    let mut handles = vec![context.child("admission").spawn(move |_| worker.run())];
    let signer = engine_private_key(&node.node_key_seed).expect("valid seed");
    let control = world.oracle.control(signer.public_key());
    let mut registered = Vec::new();
    for (channel, quota) in super::engine::CHANNEL_PLAN {
        let pair = control
            .register(channel, quota)
            .await
            .expect("the simulated network registers a channel");
        registered.push(pair);
    }
    let channels = Channels::from_plan(registered);
    let validator = Validator {
        signer,
        participants: world.participants.clone(),
        peers: world.oracle.manager(),
        blocker: control,
        leader_timeout: Duration::from_secs(1),
        partition_prefix: format!("node{}-", node.index),
        anchor: None,
    };
    handles.extend(
        start_actors(
            context.child("consensus"),
            core.clone(),
            validator,
            channels,
            admission_handle.clone(),
            inbox,
        )
        .await,
    );
    node.running = Some(Running {
        core,
        admission: admission_handle,
        handles,
    });
}

/// Runs `node` as Commonware's conflicter mock: in every view it signs two
/// notarize and two finalize votes for different payloads.
#[cfg(test)]
async fn start_conflicter(context: &Context, world: &World, node: &SimNode) {
    use commonware_consensus::simplex::mocks::conflicter::{Config, Conflicter};
    use commonware_cryptography::sha256::Sha256;
    let signer = engine_private_key(&node.node_key_seed).expect("valid seed");
    let control = world.oracle.control(signer.public_key());
    let (vote, _) = super::engine::CHANNEL_PLAN[0];
    let votes = control
        .register(
            vote,
            commonware_runtime::Quota::per_second(commonware_utils::NZU32!(1024)),
        )
        .await
        .expect("the simulated network registers a channel");
    let scheme = super::ConsensusScheme::signer(
        super::CONSENSUS_NAMESPACE,
        world.participants.clone(),
        signer,
    )
    .expect("the conflicter is a participant");
    let context = context
        .child("conflicter")
        .with_attribute("index", node.index);
    let _handle = Conflicter::<_, _, Sha256>::new(context, Config { scheme }).start(votes);
}

/// Runs `node` as Commonware's equivocator mock: when it leads, it sends
/// one proposal to one validator and another to the rest.
#[cfg(test)]
async fn start_equivocator(context: &Context, world: &World, node: &SimNode) {
    use commonware_consensus::simplex::elector::RoundRobin;
    use commonware_consensus::simplex::mocks::equivocator::{Config, Equivocator};
    use commonware_consensus::simplex::mocks::relay::Relay;
    use commonware_consensus::types::Epoch;
    use commonware_cryptography::sha256::Sha256;
    let signer = engine_private_key(&node.node_key_seed).expect("valid seed");
    let control = world.oracle.control(signer.public_key());
    let quota = commonware_runtime::Quota::per_second(commonware_utils::NZU32!(1024));
    let mut channels = Vec::new();
    for (channel, _) in &super::engine::CHANNEL_PLAN[..2] {
        channels.push(
            control
                .register(*channel, quota)
                .await
                .expect("the simulated network registers a channel"),
        );
    }
    let certificates = channels.pop().expect("two channels");
    let votes = channels.pop().expect("two channels");
    let scheme = super::ConsensusScheme::signer(
        super::CONSENSUS_NAMESPACE,
        world.participants.clone(),
        signer,
    )
    .expect("the equivocator is a participant");
    let config = Config {
        scheme,
        elector: RoundRobin::<Sha256>::default(),
        epoch: Epoch::zero(),
        relay: Arc::new(Relay::new()),
    };
    let context = context
        .child("equivocator")
        .with_attribute("index", node.index);
    let _handle = Equivocator::<_, _, _, Sha256>::new(context, config).start(votes, certificates);
}

/// Stops every task of `node` at once, as a power cut would; its store and
/// the runtime's storage keep what was written.
async fn crash(node: &mut SimNode) {
    if let Some(running) = node.running.take() {
        for handle in running.handles {
            handle.abort();
            let _ = handle.await;
        }
    }
}

fn highest(nodes: &[SimNode]) -> u64 {
    nodes
        .iter()
        .filter_map(|n| n.running.as_ref())
        .map(|r| r.core.chain.finalized().block.header.height.0)
        .max()
        .unwrap_or(0)
}

async fn wait_for_height(
    context: &Context,
    nodes: &[SimNode],
    target: u64,
    started: SystemTime,
    seed: u64,
) -> Result<(), SimulationFailure> {
    loop {
        let lagging = nodes.iter().find_map(|n| {
            let height = n
                .running
                .as_ref()?
                .core
                .chain
                .finalized()
                .block
                .header
                .height
                .0;
            (height < target).then_some((n.index, height))
        });
        let Some((node, height)) = lagging else {
            return Ok(());
        };
        let elapsed = context
            .current()
            .duration_since(started)
            .unwrap_or_default();
        if elapsed > RUN_DEADLINE {
            return Err(SimulationFailure::NoProgress {
                seed,
                node,
                height,
                target,
            });
        }
        context.sleep(Duration::from_millis(100)).await;
    }
}

/// One block per height on every node, the same state root, and money
/// conserved in each node's state.
fn check_safety(
    nodes: &[SimNode],
    height: u64,
    seed: u64,
) -> Result<(Digest, u64), SimulationFailure> {
    let mut finalized_txs = 0;
    let mut state_root = Digest::default();
    for h in 1..=height {
        let mut reference: Option<(usize, Digest)> = None;
        for node in nodes {
            let Some(stored) = node.store.block(Height(h)).ok().flatten() else {
                continue;
            };
            let block = cityledger_types::Block::from_bytes(&stored.block_bytes)
                .expect("a stored block decodes");
            match reference {
                None => {
                    reference = Some((node.index, block.id()));
                    finalized_txs += u64::from(block.header.tx_count);
                    state_root = block.header.state_root;
                }
                Some((a, id)) if id != block.id() => {
                    return Err(SimulationFailure::Fork {
                        seed,
                        height: h,
                        a,
                        b: node.index,
                    });
                }
                Some(_) => {}
            }
        }
    }
    for node in nodes {
        let Some(running) = node.running.as_ref() else {
            continue;
        };
        let finalized = running.core.chain.finalized();
        if let Err(unbalanced) = audit_conservation(finalized.state.iter()) {
            return Err(SimulationFailure::NotConserved {
                seed,
                node: node.index,
                detail: format!("{unbalanced:?}"),
            });
        }
    }
    Ok((state_root, finalized_txs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds CI runs; `cityledger simulate` sweeps more.
    const CI_SEEDS: [u64; 3] = [1, 2, 3];

    #[test]
    fn four_validators_stay_safe_and_live_under_faults() {
        for seed in CI_SEEDS {
            let report = simulate(SimulationConfig::with_faults(seed, 4))
                .unwrap_or_else(|failure| panic!("{failure}"));
            assert!(report.common_height >= HEIGHT_AFTER_HEAL, "{report:?}");
            assert!(report.finalized_txs > 0, "{report:?}");
        }
    }

    #[test]
    fn a_seed_replays_exactly() {
        let first = simulate(SimulationConfig::with_faults(7, 4));
        let second = simulate(SimulationConfig::with_faults(7, 4));
        assert_eq!(first, second);
    }

    #[test]
    fn seven_validators_without_faults_agree() {
        let config = SimulationConfig {
            crashes: false,
            partition: false,
            delivery_percent: 100,
            transfers: 50,
            ..SimulationConfig::with_faults(11, 7)
        };
        let report = simulate(config).unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(report.crashes, 0);
        assert!(report.finalized_txs >= 50, "{report:?}");
    }

    #[test]
    fn a_validator_signing_conflicting_votes_is_caught_by_every_honest_node() {
        let config = SimulationConfig {
            crashes: false,
            partition: false,
            delivery_percent: 100,
            transfers: 30,
            conflicters: 1,
            ..SimulationConfig::with_faults(21, 4)
        };
        let report = simulate(config).unwrap_or_else(|failure| panic!("{failure}"));
        let conflicter =
            SecretKey::from_seed(Digest::of(format!("cityledger/sim/{}/{}", 21, 3).as_bytes()).0)
                .public_key();
        assert_eq!(report.accused.len(), 3, "{report:?}");
        for accused in &report.accused {
            assert_eq!(accused, &vec![conflicter], "only the conflicter is accused");
        }
        assert!(
            report.finalized_txs > 0,
            "the honest three stay live: {report:?}"
        );
    }

    #[test]
    fn a_leader_sending_different_proposals_breaks_neither_safety_nor_liveness() {
        for seed in [31, 32] {
            let config = SimulationConfig {
                crashes: false,
                partition: false,
                transfers: 60,
                equivocators: 1,
                ..SimulationConfig::with_faults(seed, 4)
            };
            let report = simulate(config).unwrap_or_else(|failure| panic!("{failure}"));
            assert!(report.finalized_txs > 0, "{report:?}");
        }
    }

    #[test]
    fn bad_configurations_are_refused() {
        let too_few = simulate(SimulationConfig::with_faults(1, 3));
        assert!(matches!(too_few, Err(SimulationFailure::BadConfig { .. })));
        let lossy = simulate(SimulationConfig {
            delivery_percent: 10,
            ..SimulationConfig::with_faults(1, 4)
        });
        assert!(matches!(lossy, Err(SimulationFailure::BadConfig { .. })));
        let too_many_byzantine = simulate(SimulationConfig {
            conflicters: 2,
            ..SimulationConfig::with_faults(1, 4)
        });
        assert!(matches!(
            too_many_byzantine,
            Err(SimulationFailure::BadConfig { .. })
        ));
    }
}
