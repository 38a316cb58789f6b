//! Many signed transfers through the REST API of a real dev node, checked
//! against a local model of the ledger; and the README's CLI walkthrough.

mod common;

use cityledger_api::{SubmitResult, TxStatusView};
use cityledger_types::{Address, Digest, Height};
use common::*;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};

/// Citizens funded by the treasury.
const CITIZENS: usize = 20;
/// Transfers among them.
const TRANSFERS: usize = 2_000;
/// Transactions per batch request.
const BATCH: usize = 500;
/// What each citizen receives first, in minor units (plus 100 × its index,
/// so that no two start alike).
const FUNDING_MINOR: u128 = 1_000_000;
/// Largest ordinary transfer, in minor units.
const TRANSFER_MINOR_MAX: u128 = 500;
/// An amount no citizen can ever hold: more than all the money issued.
const OVERDRAFT_MINOR: u128 = 1_000_000_000_000;

/// What a planned transfer should come to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Applied,
    Rejected(&'static str),
}

struct Planned {
    tx: cityledger_types::SignedTx,
    from: Address,
    to: Address,
    amount: u128,
    expect: Expect,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_transfers_through_rest_match_a_local_model() {
    let seed = test_seed();
    eprintln!("seed {seed} (replay with CITYLEDGER_TEST_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let client = node.client();
    let chain = chain_id(&client).await;
    let treasury = treasury_key(&node.home);
    let issuance = org_account("treasury:issuance");

    // Fund the citizens from the issuance account.
    let citizens: Vec<_> = (0..CITIZENS).map(|_| random_key(&mut rng)).collect();
    let addresses: Vec<Address> = citizens.iter().map(address_of).collect();
    let funding: Vec<u128> = (0..CITIZENS)
        .map(|i| FUNDING_MINOR + 100 * i as u128)
        .collect();
    let funding_txs: Vec<_> = addresses
        .iter()
        .zip(&funding)
        .enumerate()
        .map(|(i, (to, amount))| {
            transfer(
                &treasury,
                &chain,
                issuance,
                *to,
                *amount,
                &format!("fund-{i}"),
            )
        })
        .collect();
    let accepted = submit_batches(&client, &funding_txs, BATCH).await;
    assert_all_accepted(&accepted, &funding_txs);
    let hashes: Vec<Digest> = funding_txs.iter().map(|tx| tx.hash()).collect();
    for (i, status) in wait_all_finalized(&client, &hashes)
        .await
        .iter()
        .enumerate()
    {
        assert_eq!(
            outcome_code(status),
            None,
            "funding of citizen {i}: {status:?}"
        );
    }
    let issued: u128 = funding.iter().sum();

    // Plan the transfers. Every outcome is independent of the order in
    // which the node executes them: ordinary transfers never exceed what
    // the sender was funded with, and each deliberate failure fails
    // whatever the balances are.
    let unknown_org_account = org_account("treasury:nope");
    let mut planned = Vec::with_capacity(TRANSFERS);
    for i in 0..TRANSFERS {
        let from_index = rng.gen_range(0..CITIZENS);
        let to_index = (from_index + rng.gen_range(1..CITIZENS)) % CITIZENS;
        let key = &citizens[from_index];
        let from = addresses[from_index];
        let mut to = addresses[to_index];
        let mut amount = rng.gen_range(1..=TRANSFER_MINOR_MAX);
        let expect = match i % 50 {
            7 => {
                amount = 0;
                Expect::Rejected("zero_amount")
            }
            17 => {
                to = from;
                Expect::Rejected("same_account")
            }
            27 => {
                amount = OVERDRAFT_MINOR;
                Expect::Rejected("insufficient_funds")
            }
            37 => {
                to = unknown_org_account;
                Expect::Rejected("unknown_account")
            }
            _ => Expect::Applied,
        };
        let tx = transfer(key, &chain, from, to, amount, &format!("transfer-{i}"));
        planned.push(Planned {
            tx,
            from,
            to,
            amount,
            expect,
        });
    }
    let mut sent_by: BTreeMap<Address, u128> = BTreeMap::new();
    for p in planned.iter().filter(|p| p.expect == Expect::Applied) {
        *sent_by.entry(p.from).or_default() += p.amount;
    }
    for (address, sent) in &sent_by {
        assert!(
            *sent <= FUNDING_MINOR,
            "plan error: {address} would send {sent}, more than its funding"
        );
    }

    let txs: Vec<_> = planned.iter().map(|p| p.tx.clone()).collect();
    let results = submit_batches(&client, &txs, BATCH).await;
    assert_all_accepted(&results, &txs);
    let hashes: Vec<Digest> = txs.iter().map(|tx| tx.hash()).collect();
    let statuses = wait_all_finalized(&client, &hashes).await;

    // Every outcome is the expected one, and the finalized blocks say the
    // same as the status route.
    let mut by_height: BTreeMap<Height, Vec<(Digest, u32, Option<String>)>> = BTreeMap::new();
    for (i, (p, status)) in planned.iter().zip(&statuses).enumerate() {
        let code = outcome_code(status);
        let expected = match p.expect {
            Expect::Applied => None,
            Expect::Rejected(code) => Some(code.to_owned()),
        };
        assert_eq!(code, expected, "transfer {i}: {status:?}");
        let TxStatusView::Finalized {
            height, position, ..
        } = status
        else {
            unreachable!("outcome_code checked it is finalized");
        };
        by_height
            .entry(*height)
            .or_default()
            .push((p.tx.hash(), *position, code));
    }
    for (height, txs) in &by_height {
        let block = client
            .block(*height)
            .await
            .unwrap_or_else(|e| panic!("GET /v1/blocks/{height}: {e}"));
        assert_eq!(block.height, *height);
        assert_eq!(block.tx_count as usize, block.txs.len());
        for (hash, position, code) in txs {
            let tx = &block.txs[*position as usize];
            assert_eq!(tx.hash, *hash, "block {height} position {position}");
            let in_block = match &tx.outcome {
                cityledger_api::OutcomeView::Applied => None,
                cityledger_api::OutcomeView::Rejected { code, .. } => Some(code.clone()),
            };
            assert_eq!(&in_block, code, "outcome of {hash} in block {height}");
        }
    }
    eprintln!(
        "{TRANSFERS} transfers finalized in {} blocks",
        by_height.len()
    );

    // The local model.
    let mut model: BTreeMap<Address, i128> = BTreeMap::new();
    *model.entry(issuance).or_default() -= issued as i128;
    for (address, amount) in addresses.iter().zip(&funding) {
        *model.entry(*address).or_default() += *amount as i128;
    }
    for p in planned.iter().filter(|p| p.expect == Expect::Applied) {
        *model.entry(p.from).or_default() -= p.amount as i128;
        *model.entry(p.to).or_default() += p.amount as i128;
    }
    for address in &addresses {
        assert_eq!(
            balance(&client, address).await,
            model[address],
            "balance of citizen {address}"
        );
    }
    assert_eq!(
        balance(&client, &issuance).await,
        -(issued as i128),
        "the issuance account is minus everything issued"
    );
    let mut every_account: Vec<Address> = dev_org_accounts();
    every_account.extend(&addresses);
    let every_balance = balances(&client, &every_account).await;
    assert_eq!(
        every_balance.iter().sum::<i128>(),
        0,
        "money is conserved: {every_account:?} hold {every_balance:?}"
    );
    for (address, balance) in every_account.iter().zip(&every_balance) {
        if address != &issuance && !addresses.contains(address) {
            assert_eq!(*balance, 0, "untouched organisation account {address}");
        }
    }
    assert_eq!(status(&client).await.mempool_size, 0, "mempool drained");

    // One citizen's history lists every transfer that moved its money.
    let watched = addresses[0];
    let mut expected: BTreeSet<Digest> = planned
        .iter()
        .filter(|p| p.expect == Expect::Applied && (p.from == watched || p.to == watched))
        .map(|p| p.tx.hash())
        .collect();
    expected.insert(funding_txs[0].hash());
    let history = account_history(&client, &watched).await;
    let missing: Vec<_> = expected.difference(&history).collect();
    assert!(
        missing.is_empty(),
        "history of {watched} lacks {} applied transfers, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}

fn assert_all_accepted(results: &[SubmitResult], txs: &[cityledger_types::SignedTx]) {
    assert_eq!(results.len(), txs.len());
    for (i, (result, tx)) in results.iter().zip(txs).enumerate() {
        match result {
            SubmitResult::Accepted(response) => {
                assert_eq!(response.hash, tx.hash(), "hash of item {i}");
                assert_eq!(
                    response.status,
                    TxStatusView::Pending { hash: tx.hash() },
                    "status of item {i}"
                );
            }
            SubmitResult::Problem(problem) => panic!("item {i} refused: {problem}"),
        }
    }
}

/// Every transaction hash in an account's history, following cursors.
async fn account_history(
    client: &cityledger_client::Client,
    address: &Address,
) -> BTreeSet<Digest> {
    const PAGES_MAX: usize = 100;
    let text = address.to_string();
    let mut hashes = BTreeSet::new();
    let mut cursor: Option<String> = None;
    for _ in 0..PAGES_MAX {
        let page = client
            .account_txs(&text, cursor.as_deref(), Some(200))
            .await
            .unwrap_or_else(|e| panic!("GET /v1/accounts/{text}/txs: {e}"));
        hashes.extend(page.items.iter().map(|item| item.hash));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return hashes,
        }
    }
    panic!("history of {address} has more than {PAGES_MAX} pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_walkthrough_with_the_cli() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let home = node.home.to_str().expect("UTF-8 temporary path").to_owned();
    let url = node.url.clone();
    let cli = run_cli_logged;

    // 1. Citizen keys: the plain form prints the address, the JSON form
    // names it too.
    let alice = cli(&["keys", "new", "alice", "--home", &home]);
    assert!(alice.success(), "{alice:?}");
    let alice = alice.stdout.trim().to_owned();
    assert_eq!(
        Address::parse(&alice).expect("keys new prints an address"),
        address_of(&load_key(&node.home, "alice"))
    );
    let bob = cli(&["keys", "new", "bob", "--home", &home]);
    assert!(bob.success(), "{bob:?}");
    let bob = bob.stdout.trim().to_owned();
    assert_eq!(
        Address::parse(&bob).expect("keys new prints an address"),
        address_of(&load_key(&node.home, "bob"))
    );
    let carol = cli(&["keys", "new", "carol", "--home", &home, "--json"]);
    assert!(carol.success(), "{carol:?}");
    let carol: serde_json::Value =
        serde_json::from_str(carol.stdout.trim()).expect("keys new --json prints JSON");
    assert_eq!(carol["name"], "carol");
    assert_eq!(
        carol["address"],
        address_of(&load_key(&node.home, "carol")).to_string()
    );
    let again = cli(&["keys", "new", "carol", "--home", &home]);
    assert!(!again.success(), "a key is never overwritten: {again:?}");

    // 2. The treasury issues 100.00 to Alice.
    let issue = cli(&[
        "tx",
        "transfer",
        "--home",
        &home,
        "--node",
        &url,
        "--signer",
        "treasury",
        "--from",
        "treasury:issuance",
        "--to",
        &alice,
        "--amount",
        "100",
    ]);
    assert!(issue.success(), "{issue:?}");
    assert!(
        issue.stdout.starts_with("finalized at height "),
        "{:?}",
        issue.stdout
    );

    // 3. Alice pays Bob 12.50 (JSON output: the finalized status).
    let pay = cli(&[
        "tx", "transfer", "--home", &home, "--node", &url, "--signer", "alice", "--to", &bob,
        "--amount", "12.50", "--json",
    ]);
    assert!(pay.success(), "{pay:?}");
    let status: serde_json::Value =
        serde_json::from_str(pay.stdout.trim()).expect("tx transfer --json prints JSON");
    assert_eq!(status["state"], "finalized", "{status}");
    assert_eq!(status["outcome"], "applied", "{status}");
    assert!(status["height"].as_u64().is_some_and(|h| h > 0), "{status}");

    // 4. Balances, in major units and as JSON.
    let query = |address: &str, json: bool| {
        let mut args = vec!["query", "balance", address, "--node", url.as_str()];
        if json {
            args.push("--json");
        }
        let output = cli(&args);
        assert!(output.success(), "{output:?}");
        output.stdout.trim().to_owned()
    };
    assert_eq!(query(&alice, false), "87.50");
    assert_eq!(query(&bob, false), "12.50");
    assert_eq!(query("treasury:issuance", false), "-100.00");
    let bob_json: serde_json::Value =
        serde_json::from_str(&query(&bob, true)).expect("query balance --json prints JSON");
    assert_eq!(bob_json["balance_minor"], "1250", "{bob_json}");
    assert_eq!(bob_json["balance"], "12.50", "{bob_json}");
    assert_eq!(bob_json["currency"], "CITY", "{bob_json}");
    assert_eq!(bob_json["address"], bob, "{bob_json}");

    // 5. A transfer that cannot work fails with its reason and a non-zero
    // exit code, and moves nothing.
    let overdraft = cli(&[
        "tx", "transfer", "--home", &home, "--node", &url, "--signer", "bob", "--to", &alice,
        "--amount", "1000",
    ]);
    assert!(!overdraft.success(), "{overdraft:?}");
    assert!(
        overdraft.stderr.contains("insufficient_funds"),
        "{:?}",
        overdraft.stderr
    );
    assert_eq!(query(&alice, false), "87.50");
    assert_eq!(query(&bob, false), "12.50");

    let status = cli(&["query", "status", "--node", &url, "--json"]);
    assert!(status.success(), "{status:?}");
    let status: serde_json::Value = serde_json::from_str(status.stdout.trim()).expect("JSON");
    assert_eq!(status["chain_id"], "cityledger-dev");
}
