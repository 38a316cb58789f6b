//! A node killed with SIGKILL under load restarts on the same home and has
//! lost nothing it reported finalized: the same transactions at the same
//! heights with the same outcomes, the same blocks, balanced books, and a
//! chain that goes on. Two kill points, on one home.

mod common;

use cityledger_api::{OutcomeView, SubmitResult, TxStatusView};
use cityledger_client::Client;
use cityledger_types::{Address, ChainId, Digest, Height, SecretKey, SignedTx};
use common::*;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Citizens sending to each other under load.
const CITIZENS: usize = 16;
/// What each is funded with, in minor units: far above anything the load
/// can send, so every load transfer applies whatever the order.
const FUNDING_MINOR: u128 = 1_000_000_000;
/// Largest load transfer, in minor units.
const LOAD_AMOUNT_MAX: u128 = 1_000;
/// Transfers per load request.
const LOAD_BATCH: usize = 50;
/// Most load requests per round (the kill normally ends the load first).
const LOAD_BATCHES_MAX: usize = 400;
/// Pause between load requests.
const LOAD_PAUSE: Duration = Duration::from_millis(50);
/// Transactions of a round that must be finalized before the kill.
const FINALIZED_BEFORE_KILL: usize = 300;
/// Kill, restart and check this many times on one home.
const ROUNDS: usize = 2;
/// Attempts at restarting on the same port.
const RESTART_ATTEMPTS_MAX: usize = 3;

/// Where a finalized transaction was, as the API reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    height: Height,
    block_id: Digest,
    position: u32,
    outcome: OutcomeView,
}

/// A finalized block, as the API reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SeenBlock {
    id: Digest,
    state_root: Digest,
    tx_hashes: Vec<Digest>,
}

fn seen_of(status: &TxStatusView) -> Option<Seen> {
    match status {
        TxStatusView::Finalized {
            height,
            block_id,
            position,
            outcome,
            ..
        } => Some(Seen {
            height: *height,
            block_id: *block_id,
            position: *position,
            outcome: outcome.clone(),
        }),
        _ => None,
    }
}

/// Everything ever sent: a transaction may be admitted even when the
/// answer is lost to the kill, so it is recorded before it is sent.
type Sent = Arc<Mutex<Vec<SignedTx>>>;

/// Sends batches of random transfers among the citizens until the node
/// stops answering or `LOAD_BATCHES_MAX` requests were made. Returns the
/// number of requests the node answered.
async fn load(
    client: Client,
    citizens: Arc<Vec<SecretKey>>,
    chain: ChainId,
    round: usize,
    seed: u64,
    sent: Sent,
) -> usize {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ (round as u64 + 1));
    let addresses: Vec<Address> = citizens.iter().map(address_of).collect();
    let mut answered = 0;
    for batch in 0..LOAD_BATCHES_MAX {
        let txs: Vec<SignedTx> = (0..LOAD_BATCH)
            .map(|i| {
                let from = rng.gen_range(0..CITIZENS);
                let to = (from + rng.gen_range(1..CITIZENS)) % CITIZENS;
                transfer(
                    &citizens[from],
                    &chain,
                    addresses[from],
                    addresses[to],
                    rng.gen_range(1..=LOAD_AMOUNT_MAX),
                    &format!("r{round}-b{batch}-{i}"),
                )
            })
            .collect();
        sent.lock().expect("sent lock").extend(txs.iter().cloned());
        match client.submit_many(&txs).await {
            Ok(_) => answered += 1,
            // The node is gone (killed): the load ends.
            Err(_) => return answered,
        }
        tokio::time::sleep(LOAD_PAUSE).await;
    }
    answered
}

/// Polls until `hash` is finalized, within `WAIT_MAX`; connection errors
/// are failures.
async fn wait_until_finalized(client: &Client, hash: &Digest) {
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        let status = client.tx_status(hash).await.expect("GET /v1/txs/{hash}");
        if status.is_finalized() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{hash} not finalized within {WAIT_MAX:?}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The blocks from 1 to `tip`.
async fn blocks_up_to(client: &Client, tip: Height) -> BTreeMap<Height, SeenBlock> {
    let mut blocks = BTreeMap::new();
    for height in 1..=tip.0 {
        let block = client
            .block(Height(height))
            .await
            .unwrap_or_else(|e| panic!("GET /v1/blocks/{height}: {e}"));
        assert_eq!(block.height, Height(height));
        blocks.insert(
            Height(height),
            SeenBlock {
                id: block.id,
                state_root: block.state_root,
                tx_hashes: block.txs.iter().map(|tx| tx.hash).collect(),
            },
        );
    }
    blocks
}

/// Restarts the node on its home and port.
async fn restart(home: &std::path::Path, port: u16) -> Node {
    let mut failures = Vec::new();
    for _ in 0..RESTART_ATTEMPTS_MAX {
        match Node::start(home, port).await {
            Ok(node) => return node,
            Err(error) => failures.push(error),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    panic!(
        "the node did not restart on {}: {failures:#?}",
        home.display()
    );
}

/// Checks the books after a restart: every transaction ever sent is
/// finalized or unknown (lost with the mempool), never pending; every
/// finalized one applied; and the balances are what the applied ones make.
/// Returns the number of transactions lost with the mempool.
async fn check_books(
    client: &Client,
    addresses: &[Address],
    funding_issued: i128,
    sent: &[SignedTx],
) -> usize {
    let issuance = org_account("treasury:issuance");
    let mut model: BTreeMap<Address, i128> = addresses
        .iter()
        .map(|a| (*a, FUNDING_MINOR as i128))
        .collect();
    let mut lost = 0;
    for tx in sent {
        let status = client
            .tx_status(&tx.hash())
            .await
            .expect("GET /v1/txs/{hash}");
        match &status {
            TxStatusView::Finalized { outcome, .. } => {
                assert_eq!(*outcome, OutcomeView::Applied, "{status:?}");
                let cityledger_types::Action::Ledger(cityledger_types::LedgerOp::Transfer(order)) =
                    &tx.body.action
                else {
                    unreachable!("the load sends transfers only");
                };
                *model.get_mut(&order.from).expect("a citizen") -= order.amount.0 as i128;
                *model.get_mut(&order.to).expect("a citizen") += order.amount.0 as i128;
            }
            TxStatusView::Unknown { .. } => lost += 1,
            TxStatusView::Pending { .. } => {
                panic!("nothing is being submitted, yet {status:?}")
            }
        }
    }
    for address in addresses {
        assert_eq!(
            balance(client, address).await,
            model[address],
            "balance of {address}"
        );
    }
    assert_eq!(balance(client, &issuance).await, -funding_issued);
    let mut every_account = dev_org_accounts();
    every_account.extend(addresses);
    let every_balance = balances(client, &every_account).await;
    assert_eq!(
        every_balance.iter().sum::<i128>(),
        0,
        "money is conserved: {every_account:?} hold {every_balance:?}"
    );
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_finalized() {
    let seed = test_seed();
    eprintln!("seed {seed} (replay with CITYLEDGER_TEST_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut node = Node::start_fresh(dir.path()).await;
    let (home, port) = (node.home.clone(), node.port);
    let client = node.client();
    let chain = chain_id(&client).await;
    let treasury = treasury_key(&home);
    let issuance = org_account("treasury:issuance");

    let citizens: Arc<Vec<SecretKey>> =
        Arc::new((0..CITIZENS).map(|_| random_key(&mut rng)).collect());
    let addresses: Vec<Address> = citizens.iter().map(address_of).collect();
    let funding: Vec<SignedTx> = addresses
        .iter()
        .enumerate()
        .map(|(i, to)| {
            transfer(
                &treasury,
                &chain,
                issuance,
                *to,
                FUNDING_MINOR,
                &format!("fund-{i}"),
            )
        })
        .collect();
    for result in submit_batches(&client, &funding, LOAD_BATCH).await {
        assert!(
            matches!(result, SubmitResult::Accepted(_)),
            "funding refused: {result:?}"
        );
    }
    let hashes: Vec<Digest> = funding.iter().map(SignedTx::hash).collect();
    for status in wait_all_finalized(&client, &hashes).await {
        assert_eq!(outcome_code(&status), None, "funding: {status:?}");
    }
    let funding_issued = (FUNDING_MINOR * CITIZENS as u128) as i128;

    let sent: Sent = Arc::new(Mutex::new(Vec::new()));
    let mut seen_txs: BTreeMap<Digest, Seen> = BTreeMap::new();
    let mut seen_blocks: BTreeMap<Height, SeenBlock> = BTreeMap::new();
    let mut last_height = Height(0);
    for round in 0..ROUNDS {
        let round_start = sent.lock().expect("sent lock").len();
        let client = node.client();
        let load_task = tokio::spawn(load(
            client.clone(),
            citizens.clone(),
            chain.clone(),
            round,
            seed,
            sent.clone(),
        ));

        // Let the load run until a good part of this round is finalized.
        let target = round_start + FINALIZED_BEFORE_KILL;
        let deadline = Instant::now() + WAIT_MAX;
        let target_hash = loop {
            if let Some(tx) = sent.lock().expect("sent lock").get(target) {
                break tx.hash();
            }
            assert!(
                !load_task.is_finished(),
                "the load ended before sending {target} transactions"
            );
            assert!(Instant::now() < deadline, "the load is too slow");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        wait_until_finalized(&client, &target_hash).await;

        // Record what the API reports finalized, then kill at once.
        let snapshot: Vec<SignedTx> = sent.lock().expect("sent lock").clone();
        let mut finalized_now = 0;
        for tx in &snapshot {
            let status = client
                .tx_status(&tx.hash())
                .await
                .expect("GET /v1/txs/{hash}");
            if let Some(seen) = seen_of(&status) {
                finalized_now += 1;
                if let Some(before) = seen_txs.insert(tx.hash(), seen.clone()) {
                    assert_eq!(before, seen, "{} moved between rounds", tx.hash());
                }
            }
        }
        let tip = status(&client).await.height;
        for (height, block) in blocks_up_to(&client, tip).await {
            if let Some(before) = seen_blocks.insert(height, block.clone()) {
                assert_eq!(before, block, "block {height} changed between rounds");
            }
        }
        last_height = last_height.max(tip);
        let under_load = !load_task.is_finished();
        node.kill();
        let answered = tokio::time::timeout(WAIT_MAX, load_task)
            .await
            .expect("the load stops once the node is gone")
            .expect("the load task");
        eprintln!(
            "round {round}: killed at height >= {tip} after {answered} load requests, \
             {} sent in all, {finalized_now} reported finalized; load still running: {under_load}",
            snapshot.len(),
        );

        // Restart on the same home and check everything reported before.
        node = restart(&home, port).await;
        let client = node.client();
        let restarted = status(&client).await;
        assert!(
            restarted.height >= last_height,
            "restarted at height {} below {last_height}, seen before the kill",
            restarted.height
        );
        for (hash, seen) in &seen_txs {
            let status = client.tx_status(hash).await.expect("GET /v1/txs/{hash}");
            assert_eq!(
                seen_of(&status).as_ref(),
                Some(seen),
                "{hash} was reported finalized before the kill; now {status:?}"
            );
        }
        let tip = status(&client).await.height;
        let now = blocks_up_to(&client, tip).await;
        for (height, block) in &seen_blocks {
            assert_eq!(
                now.get(height),
                Some(block),
                "block {height} differs after the restart"
            );
        }
        wait_mempool_empty(&client).await;
        let all_sent = sent.lock().expect("sent lock").clone();
        let lost = check_books(&client, &addresses, funding_issued, &all_sent).await;
        eprintln!(
            "round {round}: restarted at height {}; {} reported-finalized transactions and {} \
             blocks unchanged; {lost} of {} sent lost with the mempool",
            restarted.height,
            seen_txs.len(),
            seen_blocks.len(),
            all_sent.len()
        );
    }

    // The chain goes on: a new transfer is finalized; a transaction
    // finalized before a kill is still a duplicate; one lost with the
    // mempool can be sent again.
    let client = node.client();
    let extra = transfer(
        &citizens[0],
        &chain,
        addresses[0],
        addresses[1],
        1,
        "after-the-crashes",
    );
    let status = submit_and_finalize(&client, &extra).await;
    assert_eq!(outcome_code(&status), None, "{status:?}");
    assert!(seen_of(&status).expect("finalized").height > last_height);
    let all_sent = sent.lock().expect("sent lock").clone();
    let (old_hash, old_seen) = seen_txs.iter().next().expect("something was finalized");
    let old = all_sent
        .iter()
        .find(|tx| tx.hash() == *old_hash)
        .expect("a sent transaction");
    let (code, problem) = expect_problem(client.submit(old).await, "replay after restart");
    assert_eq!((code, problem.code.as_str()), (409, "duplicate_tx_id"));
    let first = problem.first_result.as_ref().and_then(seen_of);
    assert_eq!(first.as_ref(), Some(old_seen), "{problem}");
    let mut lost_one = None;
    for tx in all_sent.iter().rev() {
        if client
            .tx_status(&tx.hash())
            .await
            .expect("GET /v1/txs/{hash}")
            == (TxStatusView::Unknown { hash: tx.hash() })
        {
            lost_one = Some(tx.clone());
            break;
        }
    }
    if let Some(tx) = lost_one {
        let status = submit_and_finalize(&client, &tx).await;
        assert_eq!(outcome_code(&status), None, "resent {status:?}");
    }
    let mut all_sent = all_sent;
    all_sent.push(extra);
    check_books(&client, &addresses, funding_issued, &all_sent).await;
}
