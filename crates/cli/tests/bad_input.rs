//! Every bad input to a real node gets a specific error and changes nothing:
//! malformed requests are refused at the edge with a problem document that
//! names the code (and the field), refused transactions never reach the
//! mempool, and transactions that fail in execution are finalized as
//! rejected without moving money. Also the CLI's errors.

mod common;

use cityledger_api::limits::{BATCH_BODY_BYTES_MAX, SUBMIT_BODY_BYTES_MAX};
use cityledger_api::tx_text;
use cityledger_api::{SubmitResult, TxStatusView};
use cityledger_client::Client;
use cityledger_types::{Address, SignedTx};
use common::*;
use rand::SeedableRng;

/// Sends one transaction to `POST /v1/txs` as JSON.
async fn post_tx(http: &reqwest::Client, url: &str, tx: &SignedTx) -> RawAnswer {
    let body = serde_json::json!({ "tx": tx_text::encode_tx(tx) }).to_string();
    post_json_text(http, &format!("{url}/v1/txs"), &body).await
}

/// Asserts the transaction is unknown to the node: neither pending nor
/// finalized.
async fn assert_unknown(client: &Client, tx: &SignedTx, what: &str) {
    let status = client
        .tx_status(&tx.hash())
        .await
        .expect("GET /v1/txs/{hash}");
    assert_eq!(
        status,
        TxStatusView::Unknown { hash: tx.hash() },
        "{what} must not reach the mempool"
    );
}

/// Submits `tx`, expects 202, waits for finality and returns the status.
async fn accepted_and_finalized(
    http: &reqwest::Client,
    client: &Client,
    url: &str,
    tx: &SignedTx,
) -> TxStatusView {
    let answer = post_tx(http, url, tx).await;
    let body = answer.json();
    assert_eq!(answer.status, 202, "{body}");
    assert_eq!(body["hash"], tx.hash().to_hex(), "{body}");
    assert_eq!(body["status"]["state"], "pending", "{body}");
    wait_finalized(client, &tx.hash()).await
}

fn rejection(status: &TxStatusView) -> String {
    outcome_code(status).unwrap_or_else(|| panic!("expected a rejection, got {status:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_specific_errors_and_change_nothing() {
    let seed = test_seed();
    eprintln!("seed {seed} (replay with CITYLEDGER_TEST_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let client = node.client();
    let http = raw_http();
    let url = node.url.clone();
    let chain = chain_id(&client).await;
    let treasury = treasury_key(&node.home);
    let issuance = org_account("treasury:issuance");
    let treasury_main = org_account("treasury:main");
    let ann = random_key(&mut rng);
    let ben = random_key(&mut rng);
    let cat = random_key(&mut rng);
    let (ann_at, ben_at, cat_at) = (address_of(&ann), address_of(&ben), address_of(&cat));

    // Ann gets 50.00, Ben 5.00; Cat nothing.
    for (i, (to, amount)) in [(ann_at, 5_000), (ben_at, 500)].into_iter().enumerate() {
        let tx = transfer(
            &treasury,
            &chain,
            issuance,
            to,
            amount,
            &format!("fund-{i}"),
        );
        let status = submit_and_finalize(&client, &tx).await;
        assert_eq!(outcome_code(&status), None, "funding {i}: {status:?}");
    }
    let watched = [issuance, treasury_main, ann_at, ben_at, cat_at];
    let before = balances(&client, &watched).await;
    assert_eq!(before, [-5_500, 0, 5_000, 500, 0]);
    let height_before = status(&client).await.height;

    // --- Malformed bodies, refused at the edge. ---
    let submit_url = format!("{url}/v1/txs");
    let batch_url = format!("{url}/v1/txs/batch");
    let cases: &[(&str, &str, &str, &str)] = &[
        // (url, body, code, field)
        // Cut short inside the value of `tx`: the path names it.
        (&submit_url, "{\"tx\": ", "malformed_json", "tx"),
        (&submit_url, "{\"tx\"", "malformed_json", "body"),
        (&submit_url, "not json at all", "malformed_json", "body"),
        (&submit_url, "{}", "malformed_json", "tx"),
        (&submit_url, "{\"tx\": 5}", "malformed_json", "tx"),
        (
            &submit_url,
            "{\"tx\": \"AAAA\"} trailing",
            "malformed_json",
            "body",
        ),
        (&batch_url, "{\"txs\": \"AAAA\"}", "malformed_json", "txs"),
        (&batch_url, "{\"txs\": [1]}", "malformed_json", "txs[0]"),
        (&batch_url, "{\"txs\": []}", "empty_batch", "txs"),
        (
            &submit_url,
            "{\"tx\": \"!!!not base64!!!\"}",
            "bad_base64",
            "tx",
        ),
        (&submit_url, "{\"tx\": \"aGVsbG8\"}", "undecodable_tx", "tx"),
    ];
    for (target, body, code, field) in cases {
        let answer = post_json_text(&http, target, body).await;
        let problem = answer.problem(400, code);
        assert_eq!(problem["field"], *field, "{target} {body:?}: {problem}");
        if *code == "malformed_json" {
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(
                !detail.is_empty(),
                "serde's message is in the detail: {problem}"
            );
        }
    }

    // The same transaction bytes, cut short or with a byte too many.
    let sample = transfer(&ann, &chain, ann_at, ben_at, 1, "sample");
    let bytes = sample.to_bytes();
    for (what, broken) in [
        ("truncated", bytes[..bytes.len() - 1].to_vec()),
        ("trailing byte", [bytes.clone(), vec![0]].concat()),
    ] {
        let body = serde_json::json!({ "tx": tx_text::encode_bytes(&broken) }).to_string();
        let problem = post_json_text(&http, &submit_url, &body)
            .await
            .problem(400, "undecodable_tx");
        assert_eq!(problem["field"], "tx", "{what}: {problem}");
    }
    // A text longer than any transaction, inside the body limit.
    let text_max = cityledger_api::limits::TX_TEXT_BYTES_MAX;
    let body = serde_json::json!({ "tx": "A".repeat(text_max + 4) }).to_string();
    let problem = post_json_text(&http, &submit_url, &body)
        .await
        .problem(400, "tx_too_large");
    assert_eq!(problem["field"], "tx", "{problem}");
    // Too many transactions in one batch.
    let too_many = serde_json::json!({ "txs": vec!["AA"; 1025] }).to_string();
    let problem = post_json_text(&http, &batch_url, &too_many)
        .await
        .problem(400, "too_many_txs");
    assert_eq!(problem["field"], "txs", "{problem}");
    // Not JSON at all, by content type.
    let answer = raw_request(
        &http,
        reqwest::Method::POST,
        &submit_url,
        Some("text/plain"),
        Some(b"{}".to_vec()),
    )
    .await;
    let problem = answer.problem(415, "unsupported_media_type");
    assert_eq!(problem["field"], "content-type", "{problem}");
    // Raw bytes are accepted only by the single route, and must decode.
    let answer = raw_request(
        &http,
        reqwest::Method::POST,
        &submit_url,
        Some("application/octet-stream"),
        Some(b"garbage".to_vec()),
    )
    .await;
    let problem = answer.problem(400, "undecodable_tx");
    assert_eq!(problem["field"], "body", "{problem}");

    // Bodies above the route limits.
    for (target, size) in [
        (&submit_url, SUBMIT_BODY_BYTES_MAX + 1024),
        (&batch_url, BATCH_BODY_BYTES_MAX + 1024),
    ] {
        let body = format!("{{\"tx\": \"{}\"}}", "A".repeat(size));
        let problem = post_json_text(&http, target, &body)
            .await
            .problem(413, "payload_too_large");
        assert_eq!(problem["field"], "body", "{target}: {problem}");
    }

    // --- Transactions refused at admission: never in the mempool. ---
    // A bad signature (one byte flipped).
    let good = transfer(&ann, &chain, ann_at, cat_at, 700, "ann-to-cat");
    let mut forged = good.clone();
    forged.signature.0[10] ^= 0x01;
    let problem = post_tx(&http, &url, &forged)
        .await
        .problem(400, "bad_signature");
    assert_eq!(problem["field"], "tx.signature", "{problem}");
    assert_unknown(&client, &forged, "a transaction with a bad signature").await;
    // A signature by another key than the signer's.
    let mut impostor = good.clone();
    impostor.signature = cat.sign(&good.body.signing_payload());
    post_tx(&http, &url, &impostor)
        .await
        .problem(400, "bad_signature");
    // A transaction signed for another chain.
    let other_chain = cityledger_types::ChainId::new("another-chain").expect("valid id");
    let foreign = transfer(&ann, &other_chain, ann_at, ben_at, 100, "foreign");
    let problem = post_tx(&http, &url, &foreign)
        .await
        .problem(400, "wrong_chain_id");
    assert_eq!(problem["field"], "tx.body.chain_id", "{problem}");
    assert_unknown(&client, &foreign, "a transaction for another chain").await;
    // Expired a minute ago.
    let expired = transfer_expiring(
        &ann,
        &chain,
        ann_at,
        ben_at,
        100,
        "expired",
        now_ms() - 60_000,
    );
    let problem = post_tx(&http, &url, &expired).await.problem(400, "expired");
    assert_eq!(problem["field"], "tx.body.expires_at_ms", "{problem}");
    assert_unknown(&client, &expired, "an expired transaction").await;
    // Expiring too far ahead (more than a day).
    let far = transfer_expiring(
        &ann,
        &chain,
        ann_at,
        ben_at,
        100,
        "far",
        now_ms() + 2 * 24 * 60 * 60 * 1000,
    );
    let problem = post_tx(&http, &url, &far)
        .await
        .problem(400, "expiry_too_far");
    assert_eq!(problem["field"], "tx.body.expires_at_ms", "{problem}");
    // In a batch, each refused item names its index.
    let batch = serde_json::json!({ "txs": [
        tx_text::encode_tx(&forged),
        "!!",
        tx_text::encode_tx(&expired),
    ]})
    .to_string();
    let answer = post_json_text(&http, &batch_url, &batch).await;
    let body = answer.json();
    assert_eq!(answer.status, 200, "{body}");
    let results = body["results"].as_array().expect("results");
    let expected = [
        ("bad_signature", "txs[0].signature"),
        ("bad_base64", "txs[1]"),
        ("expired", "txs[2].body.expires_at_ms"),
    ];
    assert_eq!(results.len(), expected.len(), "{body}");
    for (result, (code, field)) in results.iter().zip(expected) {
        assert_eq!(result["result"], "problem", "{result}");
        assert_eq!(result["code"], code, "{result}");
        assert_eq!(result["field"], field, "{result}");
    }

    // The id the forged transaction claimed was not consumed: the genuine
    // one is admitted and applied (Ann pays Cat 7.00).
    let status = accepted_and_finalized(&http, &client, &url, &good).await;
    assert_eq!(outcome_code(&status), None, "{status:?}");

    // --- Replays. ---
    // Ann pays Ben 1.00; the same transaction again is a 409 carrying the
    // first result.
    let payment = transfer(&ann, &chain, ann_at, ben_at, 100, "ann-to-ben");
    let first = accepted_and_finalized(&http, &client, &url, &payment).await;
    assert_eq!(outcome_code(&first), None, "{first:?}");
    let problem = post_tx(&http, &url, &payment)
        .await
        .problem(409, "duplicate_tx_id");
    let first_result: TxStatusView =
        serde_json::from_value(problem["first_result"].clone()).expect("first_result");
    assert_eq!(first_result, first, "{problem}");
    // A different transaction reusing (signer, id): also 409, pointing at
    // the first transaction.
    let reuse = transfer(&ann, &chain, ann_at, ben_at, 200, "ann-to-ben");
    assert_ne!(reuse.hash(), payment.hash());
    let problem = post_tx(&http, &url, &reuse)
        .await
        .problem(409, "duplicate_tx_id");
    let first_result: TxStatusView =
        serde_json::from_value(problem["first_result"].clone()).expect("first_result");
    assert_eq!(first_result, first, "{problem}");
    assert_unknown(&client, &reuse, "a transaction reusing an id").await;
    // Through the batch route too, and through the SDK.
    let answer = client.submit_many(&[payment.clone(), reuse.clone()]).await;
    let results = answer.expect("POST /v1/txs/batch").results;
    for (index, result) in results.iter().enumerate() {
        let SubmitResult::Problem(problem) = result else {
            panic!("replay {index} in a batch was accepted: {result:?}");
        };
        assert_eq!(problem.status, 409, "{problem}");
        assert_eq!(problem.code, "duplicate_tx_id", "{problem}");
        assert_eq!(problem.first_result.as_ref(), Some(&first), "{problem}");
    }
    let (status_code, problem) = expect_problem(client.submit(&reuse).await, "SDK replay");
    assert_eq!(
        (status_code, problem.code.as_str()),
        (409, "duplicate_tx_id")
    );

    // --- Admitted, but rejected in execution: consumed, nothing moves. ---
    // Ben (5.00) tries to pay 1000.00.
    let overdraft = transfer(&ben, &chain, ben_at, ann_at, 100_000, "overdraft");
    let status = accepted_and_finalized(&http, &client, &url, &overdraft).await;
    assert_eq!(rejection(&status), "insufficient_funds", "{status:?}");
    // Ann pays an organisation account that does not exist.
    let nowhere = org_account("treasury:nope");
    let lost = transfer(&ann, &chain, ann_at, nowhere, 100, "to-nowhere");
    let status = accepted_and_finalized(&http, &client, &url, &lost).await;
    assert_eq!(rejection(&status), "unknown_account", "{status:?}");
    // Citizens moving the treasury's money, or each other's.
    for (i, (from, what)) in [
        (treasury_main, "treasury:main"),
        (issuance, "treasury:issuance"),
        (ben_at, "Ben's account"),
    ]
    .into_iter()
    .enumerate()
    {
        let theft = transfer(&ann, &chain, from, ann_at, 100, &format!("theft-{i}"));
        let status = accepted_and_finalized(&http, &client, &url, &theft).await;
        assert_eq!(
            rejection(&status),
            "missing_role",
            "from {what}: {status:?}"
        );
    }
    // A rejected transaction's id is consumed: resubmitting is a 409 whose
    // first result is the rejection.
    let problem = post_tx(&http, &url, &overdraft)
        .await
        .problem(409, "duplicate_tx_id");
    assert_eq!(problem["first_result"]["outcome"], "rejected", "{problem}");
    assert_eq!(
        problem["first_result"]["code"], "insufficient_funds",
        "{problem}"
    );

    // --- Bad reads. ---
    let typo = {
        let mut text = ann_at.to_string().into_bytes();
        let last = text.len() - 1;
        text[last] = if text[last] == b'0' { b'1' } else { b'0' };
        String::from_utf8(text).expect("ASCII")
    };
    let reads: &[(String, u16, &str, Option<&str>)] = &[
        (
            format!("{url}/v1/accounts/xyz"),
            400,
            "bad_address",
            Some("address"),
        ),
        (
            format!("{url}/v1/accounts/{typo}"),
            400,
            "address_checksum_mismatch",
            Some("address"),
        ),
        (
            format!("{url}/v1/accounts/Treasury:main"),
            400,
            "bad_address",
            Some("address"),
        ),
        (
            format!("{url}/v1/accounts/xyz/txs"),
            400,
            "bad_address",
            Some("address"),
        ),
        (
            format!("{url}/v1/accounts/{ann_at}/txs?limit=0"),
            400,
            "bad_limit",
            Some("limit"),
        ),
        (
            format!("{url}/v1/accounts/treasury:nope"),
            404,
            "account_not_found",
            None,
        ),
        (format!("{url}/v1/txs/abc"), 400, "bad_hash", Some("hash")),
        (
            format!("{url}/v1/blocks/abc"),
            400,
            "bad_block_ref",
            Some("height_or_id"),
        ),
        (
            format!("{url}/v1/blocks/999999999"),
            404,
            "block_not_found",
            None,
        ),
        (
            format!("{url}/v1/stream?from_height=x"),
            400,
            "bad_from_height",
            Some("from_height"),
        ),
        (format!("{url}/v1/nope"), 404, "route_not_found", None),
        // `/` is the explorer; any other path outside the API is unknown.
        (format!("{url}/nope"), 404, "route_not_found", None),
    ];
    for (target, status, code, field) in reads {
        let problem = get(&http, target).await.problem(*status, code);
        if let Some(field) = field {
            assert_eq!(problem["field"], *field, "{target}: {problem}");
        }
    }
    let answer = raw_request(
        &http,
        reqwest::Method::DELETE,
        &format!("{url}/v1/status"),
        None,
        None,
    )
    .await;
    answer.problem(405, "method_not_allowed");

    // --- Nothing changed but the two payments that were meant to apply:
    // Ann paid Cat 7.00 and Ben 1.00. ---
    let after_status = wait_mempool_empty(&client).await;
    assert!(after_status.height > height_before);
    let after = balances(&client, &watched).await;
    let expected_after = [
        before[0],
        before[1],
        before[2] - 700 - 100,
        before[3] + 100,
        before[4] + 700,
    ];
    assert_eq!(after, expected_after, "balances of {watched:?}");
    assert_eq!(after.iter().sum::<i128>(), 0, "money is conserved");
    // (The forged transaction shares its hash with the genuine one, since
    // the hash does not cover the signature, so it is not listed here.)
    for (tx, what) in [
        (&far, "far"),
        (&foreign, "foreign"),
        (&expired, "expired"),
        (&reuse, "reuse"),
    ] {
        assert_unknown(&client, tx, what).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_errors_name_the_argument_and_exit_non_zero() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let client = node.client();
    let home = node.home.to_str().expect("UTF-8 temporary path").to_owned();
    let url = node.url.clone();
    let cli = run_cli_logged;
    let dana = cli(&["keys", "new", "dana", "--home", &home]);
    assert!(dana.success(), "{dana:?}");
    let dana = dana.stdout.trim().to_owned();
    let dana_at = Address::parse(&dana).expect("an address");
    let fund = cli(&[
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
        &dana,
        "--amount",
        "3",
    ]);
    assert!(fund.success(), "{fund:?}");
    let watched = [
        org_account("treasury:issuance"),
        org_account("treasury:main"),
        dana_at,
    ];
    let before = balances(&client, &watched).await;
    assert_eq!(before, [-300, 0, 300]);

    let typo = {
        let mut text = dana.clone().into_bytes();
        let last = text.len() - 1;
        text[last] = if text[last] == b'0' { b'1' } else { b'0' };
        String::from_utf8(text).expect("ASCII")
    };
    for bad_to in ["not-an-address", "cl1xyz", typo.as_str(), "Treasury:main"] {
        let output = cli(&[
            "tx", "transfer", "--home", &home, "--node", &url, "--signer", "dana", "--to", bad_to,
            "--amount", "1",
        ]);
        assert!(!output.success(), "--to {bad_to}: {output:?}");
        assert!(
            output.stderr.contains("--to"),
            "--to {bad_to}: {:?}",
            output.stderr
        );
    }
    let output = cli(&[
        "tx",
        "transfer",
        "--home",
        &home,
        "--node",
        &url,
        "--signer",
        "dana",
        "--to",
        "treasury:main",
        "--amount",
        "1.234",
    ]);
    assert!(!output.success(), "{output:?}");
    assert!(output.stderr.contains("--amount"), "{:?}", output.stderr);

    let output = cli(&[
        "tx", "transfer", "--home", &home, "--node", &url, "--signer", "nobody", "--to", &dana,
        "--amount", "1",
    ]);
    assert!(!output.success(), "{output:?}");
    assert!(
        output.stderr.contains("no key named `nobody`"),
        "{:?}",
        output.stderr
    );

    // Rejected in execution: non-zero exit, and the code is printed.
    let output = cli(&[
        "tx",
        "transfer",
        "--home",
        &home,
        "--node",
        &url,
        "--signer",
        "dana",
        "--from",
        "treasury:main",
        "--to",
        &dana,
        "--amount",
        "1",
    ]);
    assert!(!output.success(), "{output:?}");
    assert!(
        output.stderr.contains("missing_role"),
        "{:?}",
        output.stderr
    );
    let output = cli(&[
        "tx",
        "transfer",
        "--home",
        &home,
        "--node",
        &url,
        "--signer",
        "dana",
        "--to",
        "treasury:main",
        "--amount",
        "4",
    ]);
    assert!(!output.success(), "{output:?}");
    assert!(
        output.stderr.contains("insufficient_funds"),
        "{:?}",
        output.stderr
    );
    // With --json, the error is a JSON document on stdout naming the code.
    let output = cli(&[
        "tx",
        "transfer",
        "--home",
        &home,
        "--node",
        &url,
        "--signer",
        "dana",
        "--to",
        "treasury:main",
        "--amount",
        "5",
        "--json",
    ]);
    assert!(!output.success(), "{output:?}");
    let error = output
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|value| value.get("error").is_some())
        .unwrap_or_else(|| panic!("no JSON error on stdout: {:?}", output.stdout));
    assert!(
        error["error"]
            .as_str()
            .unwrap_or_default()
            .contains("insufficient_funds"),
        "{error}"
    );
    // The same id twice: the second run reports the first result and does
    // not apply again.
    for attempt in 0..2 {
        let output = cli(&[
            "tx",
            "transfer",
            "--home",
            &home,
            "--node",
            &url,
            "--signer",
            "dana",
            "--to",
            "treasury:main",
            "--amount",
            "1",
            "--id",
            "pay-once",
        ]);
        assert!(output.success(), "attempt {attempt}: {output:?}");
    }
    // The node is unreachable.
    let output = cli(&["query", "balance", &dana, "--node", "http://127.0.0.1:9"]);
    assert!(!output.success(), "{output:?}");
    let output = cli(&["query", "balance", "nope", "--node", &url]);
    assert!(!output.success(), "{output:?}");
    assert!(output.stderr.contains("ADDRESS"), "{:?}", output.stderr);

    wait_mempool_empty(&client).await;
    let after = balances(&client, &watched).await;
    assert_eq!(
        after,
        [before[0], before[1] + 100, before[2] - 100],
        "only the one 1.00 payment applied"
    );
}

/// Runs `cityledger ARGS` with `env` added to its environment.
fn run_cli_env(args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    let output = std::process::Command::new(binary())
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run cityledger");
    CliOutput {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn a_bad_config_is_refused_with_its_file_line_and_reason() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let net = dir.path().join("net");
    let net_text = net.to_str().expect("UTF-8 temporary path");
    let made = run_cli_logged(&["init", "--home", net_text, "--validators", "1"]);
    assert!(made.success(), "{made:?}");
    let home = net.join("treasury");
    let home_text = home.to_str().expect("UTF-8 temporary path");
    let checked = run_cli_logged(&["config", "check", "--home", home_text]);
    assert!(checked.success(), "{checked:?}");
    assert!(checked.stdout.contains("valid"), "{checked:?}");

    let path = home.join("config.toml");
    let good = std::fs::read_to_string(&path).expect("config.toml");
    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|line| line.contains(needle))
            .map(|index| index + 1)
            .expect("needle")
    };
    for (bad, needle, reason) in [
        (
            good.replace("[api]\n", "[api]\nrate_limt_per_s = 5\n"),
            "rate_limt_per_s",
            "unknown field `rate_limt_per_s`",
        ),
        (
            good.replacen(
                "api_listen = \"127.0.0.1:",
                "api_listen = \"127.0.0.300:",
                1,
            ),
            "127.0.0.300",
            "socket address",
        ),
        (
            good.replace("leader_timeout_ms = 1000", "leader_timeout_ms = 0"),
            "leader_timeout_ms",
            "outside 50..=60000",
        ),
    ] {
        std::fs::write(&path, &bad).expect("write config.toml");
        let refused = run_cli_logged(&["config", "check", "--home", home_text]);
        assert_eq!(refused.code, Some(1), "{refused:?}");
        let expected = format!("{}:{}: ", path.display(), line_of(&bad, needle));
        assert!(
            refused.stderr.contains(&expected),
            "{expected} in {refused:?}"
        );
        assert!(refused.stderr.contains(reason), "{reason} in {refused:?}");
        // The node refuses the same file at start-up, before it opens anything.
        let node = run_cli_within(&["node", "--home", home_text], WAIT_MAX);
        assert_eq!(node.code, Some(1), "{node:?}");
        assert!(node.stderr.contains(&expected), "{node:?}");
    }
    assert!(!home.join("data").exists(), "no refused start wrote data");

    std::fs::write(&path, &good).expect("restore config.toml");
    let overridden = run_cli_env(
        &["config", "check", "--home", home_text],
        &[("CITYLEDGER_API_RATE_LIMIT_BURST", "many")],
    );
    assert_eq!(overridden.code, Some(1), "{overridden:?}");
    assert!(
        overridden
            .stderr
            .contains("environment variable CITYLEDGER_API_RATE_LIMIT_BURST"),
        "{overridden:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_limits_each_client_and_answers_only_allowed_origins() {
    const ALLOWED: &str = "https://payments.city.example";
    let dir = tempfile::tempdir().expect("temporary directory");
    let env = [
        ("CITYLEDGER_API_RATE_LIMIT_PER_S", "5"),
        ("CITYLEDGER_API_RATE_LIMIT_BURST", "5"),
        ("CITYLEDGER_API_CORS_ALLOWED_ORIGINS", ALLOWED),
    ];
    let mut node = Node::start_with_env(&dir.path().join("home"), free_port_pair(), &env)
        .await
        .expect("a dev node");
    // `systemctl reload` on a node without TLS: SIGHUP must not stop it.
    let pid = node
        .pid()
        .and_then(|pid| rustix::process::Pid::from_raw(pid as i32))
        .expect("the node runs");
    rustix::process::kill_process(pid, rustix::process::Signal::HUP).expect("send SIGHUP");
    // Let the bucket refill after the readiness polls spent it.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(
        node.is_running(),
        "SIGHUP stopped the node:\n{}",
        node.log_tail()
    );
    let http = raw_http();
    let status_url = format!("{}/v1/status", node.url);

    let allowed = http
        .get(&status_url)
        .header("origin", ALLOWED)
        .send()
        .await
        .expect("GET");
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(ALLOWED.as_bytes())
    );
    let other = http
        .get(&status_url)
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .expect("GET");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/txs", node.url))
        .header("origin", ALLOWED)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("OPTIONS");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let methods = preflight
        .headers()
        .get("access-control-allow-methods")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(methods.contains("POST"), "{methods}");

    // Forty at once from one address: the burst of five passes, the rest
    // are refused with a problem and the seconds to wait.
    let answers = futures::future::join_all((0..40).map(|_| http.get(&status_url).send())).await;
    let mut admitted = 0;
    let mut limited = 0;
    for answer in answers {
        let answer = answer.expect("an answer");
        match answer.status().as_u16() {
            200 => admitted += 1,
            429 => {
                limited += 1;
                let retry: u64 = answer
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .expect("Retry-After in seconds");
                assert!(retry >= 1);
                let problem: serde_json::Value = answer.json().await.expect("a problem");
                assert_eq!(problem["code"], "rate_limited", "{problem}");
                assert_eq!(problem["status"], 429, "{problem}");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        admitted >= 1 && limited >= 1,
        "{admitted} admitted, {limited} limited"
    );
}

/// A test certificate authority, and leaves for 127.0.0.1 it signs.
struct TestCa {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().expect("CA key");
        TestCa {
            issuer: rcgen::CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    /// Writes the CA's certificate to `path`, for SSL_CERT_FILE.
    fn write_ca(&self, path: &std::path::Path) {
        std::fs::write(path, self.issuer.pem()).expect("write the CA");
    }

    /// Writes a leaf valid until 2031-06-30 and its key to `cert` and `key`.
    fn write_leaf(&self, cert: &std::path::Path, key: &std::path::Path) {
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("leaf params");
        params.not_after = rcgen::date_time_ymd(2031, 6, 30);
        let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
        let leaf = params
            .signed_by(&leaf_key, &self.issuer)
            .expect("leaf certificate");
        std::fs::write(cert, leaf.pem()).expect("write the certificate");
        std::fs::write(key, leaf_key.serialize_pem()).expect("write the key");
    }
}

fn utf8(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_serves_tls_and_takes_a_renewed_certificate_on_sighup() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (first_ca_file, second_ca_file) = (dir.path().join("ca1.pem"), dir.path().join("ca2.pem"));
    let (first_ca, second_ca) = (TestCa::new("first CA"), TestCa::new("second CA"));
    first_ca.write_ca(&first_ca_file);
    second_ca.write_ca(&second_ca_file);
    first_ca.write_leaf(&cert, &key);
    // Checked once an hour: only the SIGHUP below can bring the renewal in.
    let env = [
        ("CITYLEDGER_API_TLS_CERT_FILE", utf8(&cert)),
        ("CITYLEDGER_API_TLS_KEY_FILE", utf8(&key)),
        ("CITYLEDGER_API_TLS_RELOAD_CHECK_S", "3600"),
    ];
    let home = dir.path().join("home");
    let first_pem = std::fs::read(&first_ca_file).expect("read the CA");
    let node = Node::start_tls(&home, free_port_pair(), &env, &first_pem)
        .await
        .expect("a dev node serving TLS");
    assert!(node.url.starts_with("https://"), "{}", node.url);

    // The CLI trusts what SSL_CERT_FILE names, and nothing else then.
    let status = |ca_file: &std::path::Path| {
        run_cli_with_env(
            &["status", "--node", &node.url, "--json"],
            &[("SSL_CERT_FILE", utf8(ca_file))],
            WAIT_MAX,
        )
    };
    let trusted = status(&first_ca_file);
    assert!(trusted.success(), "{trusted:?}");
    let status_json: serde_json::Value = serde_json::from_str(&trusted.stdout).expect("JSON");
    assert!(status_json["height"].is_u64(), "{status_json}");
    let refused = status(&second_ca_file);
    assert!(!refused.success(), "another CA's certificate is refused");
    assert!(
        refused
            .stdout
            .contains("invalid peer certificate: UnknownIssuer"),
        "the error says why: {refused:?}"
    );

    let check = run_cli_with_env(&["config", "check", "--home", utf8(&home)], &env, WAIT_MAX);
    assert!(check.success(), "{check:?}");
    assert!(check.stdout.contains("API at https://"), "{check:?}");
    assert!(
        check.stdout.contains("1 in its chain")
            && check.stdout.contains("expires 2031-06-30T00:00:00Z"),
        "{check:?}"
    );

    // Renewed by another CA, written in place, then SIGHUP.
    second_ca.write_leaf(&cert, &key);
    let pid = node
        .pid()
        .and_then(|pid| rustix::process::Pid::from_raw(pid as i32))
        .expect("the node runs");
    rustix::process::kill_process(pid, rustix::process::Signal::HUP).expect("send SIGHUP");
    let second_pem = std::fs::read(&second_ca_file).expect("read the CA");
    let renewed = Client::with_ca_pem(&node.url, &second_pem).expect("client");
    let deadline = std::time::Instant::now() + WAIT_MAX;
    while renewed.health().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the renewed certificate is not served:\n{}",
            node.log_tail()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        node.client().health().await.is_err(),
        "the old one is not served"
    );
    let http = cityledger_client::http_client_builder(&cityledger_client::TrustRoots::Pem(
        second_pem.clone(),
    ))
    .expect("client")
    .build()
    .expect("client");
    let metrics = http
        .get(format!("{}/metrics", node.url))
        .send()
        .await
        .expect("metrics over TLS")
        .text()
        .await
        .expect("metrics text");
    assert!(
        metrics
            .lines()
            .any(|line| line.ends_with("tls_reloads_total 1")),
        "{metrics}"
    );

    // A node is not started on a pair that does not load.
    std::fs::write(&key, "not a key").expect("break the key");
    let broken = run_cli_with_env(&["config", "check", "--home", utf8(&home)], &env, WAIT_MAX);
    assert_eq!(broken.code, Some(1), "{broken:?}");
    assert!(broken.stderr.contains("`api.tls.key_file`"), "{broken:?}");
    let other = dir.path().join("other");
    let error = match Node::start_tls(&other, free_port_pair(), &env, &second_pem).await {
        Ok(_) => panic!("a node started with a broken key"),
        Err(error) => error,
    };
    assert!(error.contains("`api.tls.key_file`"), "{error}");
}
