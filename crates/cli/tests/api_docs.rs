//! The node describes itself: the OpenAPI document lists every route,
//! `/metrics` carries the node's gauges, and `/v1/stream` sends finalized
//! blocks as server-sent events.

mod common;

use common::*;
use rand::SeedableRng;
use std::time::{Duration, Instant};

/// Every route of the REST API, as (method, path).
const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/txs"),
    ("post", "/v1/txs/batch"),
    ("get", "/v1/txs/{hash}"),
    ("get", "/v1/blocks/latest"),
    ("get", "/v1/blocks/{height_or_id}"),
    ("get", "/v1/accounts/{address}"),
    ("get", "/v1/accounts/{address}/txs"),
    ("get", "/v1/status"),
    ("get", "/v1/stream"),
    ("get", "/health"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/v1/blocks"),
    ("get", "/v1/txs"),
    ("get", "/v1/genesis"),
];

/// Finalizes two transfers, one after the other, so that the chain has at
/// least two blocks whatever its idle cadence.
async fn two_blocks(node: &Node) {
    let client = node.client();
    let chain = chain_id(&client).await;
    let treasury = treasury_key(&node.home);
    let mut rng = rand::rngs::StdRng::seed_from_u64(test_seed());
    let to = address_of(&random_key(&mut rng));
    for i in 0..2 {
        let tx = transfer(
            &treasury,
            &chain,
            org_account("treasury:issuance"),
            to,
            100,
            &format!("docs-{i}"),
        );
        let status = submit_and_finalize(&client, &tx).await;
        assert_eq!(outcome_code(&status), None, "{status:?}");
    }
    assert!(status(&client).await.height.0 >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_metrics_and_stream_are_served() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let http = raw_http();
    let url = node.url.clone();
    two_blocks(&node).await;

    // The OpenAPI document lists every route with its method.
    let answer = get(&http, &format!("{url}/openapi.json")).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        answer.content_type
    );
    let document = answer.json();
    let version = document["openapi"].as_str().expect("`openapi` is a string");
    assert!(version.starts_with("3."), "openapi {version}");
    assert!(document["info"]["title"].is_string(), "info.title");
    let paths = document["paths"].as_object().expect("`paths` is an object");
    for (method, path) in ROUTES {
        let operation = paths
            .get(*path)
            .and_then(|item| item.get(*method))
            .unwrap_or_else(|| {
                panic!(
                    "{method} {path} is missing from /openapi.json; paths: {:?}",
                    paths.keys().collect::<Vec<_>>()
                )
            });
        assert!(
            operation["responses"].is_object(),
            "{method} {path} has no responses"
        );
    }
    assert!(
        document["components"]["schemas"]["Problem"].is_object(),
        "the problem schema is in the document"
    );

    // Health.
    let health = get(&http, &format!("{url}/health")).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");

    // Metrics: Prometheus text with the node's gauges; the finalized height
    // catches up with the two blocks.
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        let answer = get(&http, &format!("{url}/metrics")).await;
        assert_eq!(answer.status, 200);
        assert!(
            answer
                .content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("text/plain")),
            "{:?}",
            answer.content_type
        );
        let text = String::from_utf8(answer.body).expect("metrics are UTF-8");
        assert!(
            text.contains("finalized_height"),
            "no finalized_height in:\n{text}"
        );
        assert!(text.contains("mempool_size"), "no mempool_size in:\n{text}");
        let height = metric_value(&text, "finalized_height")
            .unwrap_or_else(|| panic!("no finalized_height sample in:\n{text}"));
        if height >= 2.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "finalized_height stayed at {height}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The stream replays from height 1: block events with consecutive
    // heights, each with its height as the event id.
    let events = read_sse_events(&format!("{url}/v1/stream?from_height=1"), None, 2).await;
    let heights: Vec<u64> = events.iter().map(|e| e.height).collect();
    assert_eq!(heights, [1, 2], "{events:#?}");
    for event in &events {
        assert_eq!(event.id.as_deref(), Some(event.height.to_string().as_str()));
        assert_eq!(event.name.as_deref(), Some("block"));
        assert!(event.data["block_id"].is_string(), "{:?}", event.data);
        assert!(event.data["tx_count"].is_u64(), "{:?}", event.data);
    }
    // Resuming after height 1 with Last-Event-ID starts at 2.
    let resumed = read_sse_events(&format!("{url}/v1/stream"), Some("1"), 1).await;
    assert_eq!(resumed[0].height, 2, "{resumed:#?}");
    assert_eq!(resumed[0].data, events[1].data);
}

/// The value of the first sample whose metric name contains `name`.
/// The explorer's listings on a real chain: the blocks page down to
/// genesis without a gap, and the transactions page back through every
/// block, one transaction a page, newest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_and_transaction_listings_page_to_genesis() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let node = Node::start_fresh(dir.path()).await;
    let http = raw_http();
    let url = node.url.clone();
    two_blocks(&node).await;
    let tip = status(&node.client()).await.height.0;

    let mut heights = Vec::new();
    let mut before: Option<u64> = None;
    for _ in 0..=tip {
        let query = before.map_or(String::new(), |height| format!("&before={height}"));
        let page = get(&http, &format!("{url}/v1/blocks?limit=3{query}")).await;
        assert_eq!(page.status, 200);
        let page = page.json();
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 3);
        heights.extend(
            items
                .iter()
                .map(|item| item["height"].as_u64().expect("height")),
        );
        match page["next_before"].as_u64() {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    // The tip may have moved on while paging; below the first page's top,
    // every height down to genesis appears once, in order.
    let top = heights[0];
    assert!(top >= tip, "{heights:?}");
    assert_eq!(heights, (0..=top).rev().collect::<Vec<_>>());

    let mut transfers = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..=top + 2 {
        let query = cursor
            .as_deref()
            .map_or(String::new(), |c| format!("&cursor={c}"));
        let page = get(&http, &format!("{url}/v1/txs?limit=1{query}")).await;
        assert_eq!(page.status, 200);
        let page = page.json();
        for item in page["items"].as_array().expect("items") {
            assert_eq!(item["kind"], "transfer");
            assert_eq!(item["outcome"], "applied");
            transfers.push((
                item["height"].as_u64().expect("height"),
                item["hash"].clone(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(transfers.len(), 2, "{transfers:?}");
    assert!(
        transfers[0].0 > transfers[1].0,
        "newest first: {transfers:?}"
    );
    assert_ne!(transfers[0].1, transfers[1].1);

    let bad = get(&http, &format!("{url}/v1/txs?cursor=nonsense")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["code"], "bad_cursor");
    let genesis = get(&http, &format!("{url}/v1/genesis")).await.json();
    let on_disk: serde_json::Value = serde_json::from_slice(
        &std::fs::read(node.home.join("genesis.json")).expect("genesis.json"),
    )
    .expect("genesis JSON");
    for field in ["chain_id", "genesis_time_ms", "currencies", "validators"] {
        assert_eq!(
            genesis[field], on_disk[field],
            "the node serves its genesis: {field}"
        );
    }
}

fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|metric| metric.contains(name))
        })
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse().ok())
}
