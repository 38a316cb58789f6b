//! The node describes itself: the OpenAPI document lists every route,
//! `/metrics` carries the node's gauges (and every metric the shipped
//! Grafana dashboard queries), `/v1/stream` sends finalized blocks as
//! server-sent events, and `--log-format json` writes only JSON lines.

mod common;

use common::*;
use rand::SeedableRng;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The Grafana dashboard shipped for operators (docs/operating.md).
const DASHBOARD: &str = include_str!("../../../deploy/grafana/cityledger.json");
/// Prefix of the node's own metrics; the rest of `/metrics` is the
/// consensus engine's and the runtime's.
const NODE_METRICS_PREFIX: &str = "cityledger_";

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
async fn openapi_metrics_dashboard_stream_and_json_logs() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // One node for all of it, to keep the suite short; its logs are JSON.
    let node = Node::start_fresh_with(dir.path(), &["--log-format", "json"]).await;
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
            assert_dashboard_matches(&text);
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

    // Everything the node wrote, on stdout and stderr, was JSON lines.
    let log = std::fs::read_to_string(&node.log).expect("read the node's log");
    let lines = json_log_lines(&log);
    assert!(
        lines
            .iter()
            .any(|line| line["target"] == "cityledger_node::service"
                && line["message"] == "node started"
                && line["level"] == "INFO"),
        "no `node started` line in:\n{log}"
    );
}

/// Each line of `log` as a JSON object with a level, a target and a
/// message; fails on the first line that is not one.
fn json_log_lines(log: &str) -> Vec<serde_json::Value> {
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}\nlog:\n{log}"));
            assert!(value.is_object(), "not a JSON object: {line}");
            let level = value["level"].as_str().unwrap_or_default();
            assert!(
                ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
                "no level in: {line}"
            );
            for field in ["target", "message", "timestamp"] {
                assert!(value[field].is_string(), "no {field} in: {line}");
            }
            value
        })
        .collect();
    assert!(!lines.is_empty(), "the log is empty");
    lines
}

/// The environment variable selects JSON too, and the reason a command
/// stops is then a JSON error line like the others.
#[test]
fn a_failed_start_is_a_json_error_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let missing = dir.path().join("no-such-home");
    let missing = missing.to_string_lossy();
    let output = run_cli_with_env(
        &["node", "--home", &missing],
        &[("CITYLEDGER_LOG_FORMAT", "json")],
        WAIT_MAX,
    );
    assert_eq!(output.code, Some(1), "{output:?}");
    let lines = json_log_lines(&format!("{}{}", output.stdout, output.stderr));
    let last = lines.last().expect("one line at least");
    assert_eq!(last["level"], "ERROR", "{output:?}");
    assert_eq!(last["target"], "cityledger", "{output:?}");
    let message = last["message"].as_str().unwrap_or_default();
    assert!(message.contains("holds no node"), "{output:?}");

    let refused = run_cli(&["node", "--home", &missing, "--log-format", "xml"]);
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(refused.stderr.contains("--log-format"), "{refused:?}");
}

/// Checks the shipped dashboard against a live node's `/metrics` page:
/// every metric its queries name is exported, and every metric of the node
/// itself is on the dashboard, so that neither can drift from the other.
fn assert_dashboard_matches(metrics_page: &str) {
    let dashboard: serde_json::Value =
        serde_json::from_str(DASHBOARD).expect("deploy/grafana/cityledger.json is JSON");
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .filter_map(|variable| variable["name"].as_str())
        .collect();
    assert_eq!(variables, ["datasource", "instance"], "template variables");
    let queries = dashboard_queries(&dashboard);
    assert!(queries.len() >= 10, "only {} queries", queries.len());
    for query in &queries {
        assert!(
            query.contains("$instance") || query.starts_with("label_values("),
            "a query that ignores the instance variable: {query}"
        );
    }
    let used: BTreeSet<String> = queries
        .iter()
        .flat_map(|query| promql_metric_names(query))
        .collect();
    let exported = exported_sample_names(metrics_page);
    let missing: Vec<&String> = used.difference(&exported).collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics the node does not export: {missing:?}\n\
         the node exports: {exported:?}"
    );
    let families: BTreeSet<String> = exported
        .iter()
        .filter(|name| name.starts_with(NODE_METRICS_PREFIX))
        .map(|name| metric_family(name).to_owned())
        .collect();
    let shown: BTreeSet<String> = used.iter().map(|n| metric_family(n).to_owned()).collect();
    let unshown: Vec<&String> = families.difference(&shown).collect();
    assert!(
        unshown.is_empty(),
        "node metrics with no panel in deploy/grafana/cityledger.json: {unshown:?}"
    );
}

/// Every panel target's `expr`, and the query of every query variable.
fn dashboard_queries(dashboard: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    match (key.as_str(), item) {
                        ("expr", serde_json::Value::String(expr)) => out.push(expr.clone()),
                        _ => walk(item, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            _ => {}
        }
    }
    let mut queries = Vec::new();
    walk(&dashboard["panels"], &mut queries);
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if variable["type"] == "query" {
            let query = &variable["query"];
            let text = query["query"].as_str().or(query.as_str());
            queries.push(text.expect("a query variable's query").to_owned());
        }
    }
    queries
}

/// The metric names a PromQL expression (or a `label_values(METRIC,
/// LABEL)` variable query) reads. Strings, label matchers, ranges,
/// grouping labels, `$variables`, numbers, functions and keywords are not
/// metric names.
fn promql_metric_names(query: &str) -> BTreeSet<String> {
    // Aggregations may take their grouping before the parenthesis
    // (`sum by (le) (…)`), so they are not always followed by one.
    const KEYWORDS: &[&str] = &[
        "and",
        "or",
        "unless",
        "offset",
        "bool",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    ];
    const GROUPINGS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let query = match query.strip_prefix("label_values(") {
        Some(rest) => rest.split(',').next().unwrap_or_default(),
        None => query,
    };
    let chars: Vec<char> = query.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    // Skips from an opening delimiter to its closing one.
    let skip_to = |i: usize, close: char| {
        let mut j = i + 1;
        while j < chars.len() && chars[j] != close {
            j += if chars[j] == '\\' { 2 } else { 1 };
        }
        j + 1
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i = skip_to(i, c);
        } else if c == '{' {
            i = skip_to(i, '}');
        } else if c == '[' {
            i = skip_to(i, ']');
        } else if c == '$' || c.is_ascii_digit() || c == '.' {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_.{}".contains(chars[i]))
            {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let called = chars.get(next) == Some(&'(');
            if GROUPINGS.contains(&word.as_str()) && called {
                i = skip_to(next, ')');
            } else if !called
                && !KEYWORDS.contains(&word.to_ascii_lowercase().as_str())
                && !GROUPINGS.contains(&word.as_str())
            {
                names.insert(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

#[test]
fn promql_metric_names_skip_what_is_not_a_metric() {
    let check = |query: &str, expected: &[&str]| {
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(promql_metric_names(query), expected, "{query}");
    };
    check(
        r#"max(cityledger_finalized_height{instance=~"$instance"})"#,
        &["cityledger_finalized_height"],
    );
    check(
        r#"histogram_quantile(0.99, sum by (le, instance) (rate(x_bucket{instance=~"$instance", le!="+Inf"}[$__rate_interval])))"#,
        &["x_bucket"],
    );
    check(
        "sum without (job) (rate(a_total[5m] offset 1h)) / on (instance) group_left b > bool 1e3",
        &["a_total", "b"],
    );
    check(
        "label_values(cityledger_finalized_height, instance)",
        &["cityledger_finalized_height"],
    );
}

/// The names of the samples on a Prometheus text page (`x_bucket`, not `x`).
fn exported_sample_names(page: &str) -> BTreeSet<String> {
    page.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// A sample's family: its name without the suffix a histogram or a
/// counter adds.
fn metric_family(name: &str) -> &str {
    ["_bucket", "_count", "_sum", "_total", "_created"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

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
