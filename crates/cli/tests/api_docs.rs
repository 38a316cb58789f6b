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
