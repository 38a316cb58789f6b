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

/// Most bytes read from an event stream before giving up.
const STREAM_BYTES_MAX: usize = 4 * 1024 * 1024;

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
    let events = read_events(&format!("{url}/v1/stream?from_height=1"), None, 2).await;
    let heights: Vec<u64> = events.iter().map(|e| e.height).collect();
    assert_eq!(heights, [1, 2], "{events:#?}");
    for event in &events {
        assert_eq!(event.id.as_deref(), Some(event.height.to_string().as_str()));
        assert_eq!(event.name.as_deref(), Some("block"));
        assert!(event.data["block_id"].is_string(), "{:?}", event.data);
        assert!(event.data["tx_count"].is_u64(), "{:?}", event.data);
    }
    // Resuming after height 1 with Last-Event-ID starts at 2.
    let resumed = read_events(&format!("{url}/v1/stream"), Some("1"), 1).await;
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

/// One server-sent event.
#[derive(Debug)]
struct Event {
    id: Option<String>,
    name: Option<String>,
    height: u64,
    data: serde_json::Value,
}

/// Reads the first `count` events of the stream at `url`, within
/// `WAIT_MAX` and `STREAM_BYTES_MAX`.
async fn read_events(url: &str, last_event_id: Option<&str>, count: usize) -> Vec<Event> {
    // The stream never ends by itself, so the request must not carry an
    // overall timeout; each chunk read has its own deadline.
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client");
    let mut request = http.get(url);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let deadline = Instant::now() + WAIT_MAX;
    let mut response = tokio::time::timeout(WAIT_MAX, request.send())
        .await
        .expect("stream response within the deadline")
        .expect("GET /v1/stream");
    assert_eq!(response.status(), 200, "{url}");
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let mut buffer = String::new();
    let mut events = Vec::new();
    let mut read = 0usize;
    while events.len() < count {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(remaining, response.chunk())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "only {} of {count} events within {WAIT_MAX:?}",
                    events.len()
                )
            })
            .expect("read the stream")
            .unwrap_or_else(|| panic!("the stream ended after {} events", events.len()));
        read += chunk.len();
        assert!(
            read <= STREAM_BYTES_MAX,
            "{read} bytes without {count} events"
        );
        buffer.push_str(std::str::from_utf8(&chunk).expect("the stream is UTF-8"));
        // Events are separated by a blank line.
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(event) = parse_event(&block) {
                events.push(event);
            }
        }
    }
    events.truncate(count);
    events
}

/// An event from its lines; `None` for a comment-only block (keep-alive).
fn parse_event(block: &str) -> Option<Event> {
    let mut id = None;
    let mut name = None;
    let mut data = String::new();
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_owned()),
            "event" => name = Some(value.to_owned()),
            "data" => {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
            _ => {}
        }
    }
    if data.is_empty() {
        return None;
    }
    let data: serde_json::Value = serde_json::from_str(&data)
        .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {data}"));
    let height = data["height"]
        .as_u64()
        .unwrap_or_else(|| panic!("event without a height: {data}"));
    Some(Event {
        id,
        name,
        height,
        data,
    })
}
