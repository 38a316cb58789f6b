//! `cityledger bench` runs end to end against the dev node it starts itself
//! and reports its figures as JSON. No figure is compared with a target:
//! only their presence and shape are checked.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn bench_reports_json_figures() {
    let output = run_cli_within(
        &[
            "bench",
            "--transactions",
            "300",
            "--senders",
            "8",
            "--timeout-s",
            "50",
            "--json",
            "--quiet",
        ],
        // Its own waits: up to 60 s for the node, 60 s for funding, 50 s
        // for the transfers.
        Duration::from_secs(200),
    );
    assert!(output.success(), "{output:?}");
    let summary: serde_json::Value = serde_json::from_str(output.stdout.trim())
        .unwrap_or_else(|e| panic!("bench --json output is not JSON ({e}): {output:?}"));
    eprintln!("{summary}");
    let throughput = summary["finalized_tx_per_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("finalized_tx_per_s is not a number: {summary}"));
    assert!(throughput > 0.0, "{summary}");
    for field in ["latency_ms_p50", "latency_ms_p99", "duration_s", "blocks"] {
        assert!(
            summary[field].is_number(),
            "{field} is not a number: {summary}"
        );
    }
    let p50 = summary["latency_ms_p50"].as_f64().expect("a number");
    let p99 = summary["latency_ms_p99"].as_f64().expect("a number");
    assert!(p50 <= p99, "p50 {p50} above p99 {p99}: {summary}");
    assert_eq!(summary["transactions"], 300, "{summary}");
    assert_eq!(summary["validators"], 1, "{summary}");
    assert_eq!(summary["senders"], 8, "{summary}");
    assert!(
        summary["blocks"].as_u64().is_some_and(|b| b >= 1),
        "{summary}"
    );
}
