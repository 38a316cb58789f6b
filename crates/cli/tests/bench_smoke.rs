//! `cityledger bench` runs end to end against the dev node it starts itself
//! and reports its figures as JSON. No figure is compared with a target:
//! only their presence and shape are checked.

mod common;

use common::*;
use std::time::Duration;

/// Runs `bench` with `extra` arguments and checks the shape of its JSON
/// summary; returns it.
fn bench_summary(extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "bench",
        "--transactions",
        "300",
        "--senders",
        "8",
        "--timeout-s",
        "50",
        "--json",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let summary = bench_json(&args);
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
    assert_eq!(summary["senders"], 8, "{summary}");
    assert!(
        summary["blocks"].as_u64().is_some_and(|b| b >= 1),
        "{summary}"
    );
    summary
}

/// Runs `bench` with `args`, which must succeed, and returns its JSON.
fn bench_json(args: &[&str]) -> serde_json::Value {
    let output = run_cli_within(
        args,
        // Its own waits: up to 60 s for the node, 60 s for funding, 50 s
        // for the transfers.
        Duration::from_secs(200),
    );
    assert!(output.success(), "{output:?}");
    let summary: serde_json::Value = serde_json::from_str(output.stdout.trim())
        .unwrap_or_else(|e| panic!("bench --json output is not JSON ({e}): {output:?}"));
    eprintln!("{summary}");
    summary
}

#[test]
fn bench_reports_json_figures() {
    let summary = bench_summary(&[]);
    assert_eq!(summary["validators"], 1, "{summary}");
}

#[test]
fn bench_drives_the_hot_account_fines_workload_without_rejections() {
    let summary = bench_summary(&["--workload", "fines"]);
    assert_eq!(summary["workload"], "fines", "{summary}");
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(
        summary["rejection_codes"],
        serde_json::json!({}),
        "{summary}"
    );
}

#[test]
fn bench_runs_a_four_validator_network_and_reports_cpu_per_node() {
    let summary = bench_summary(&["--validators", "4"]);
    assert_eq!(summary["validators"], 4, "{summary}");
    assert_eq!(
        summary["nodes"].as_array().map(Vec::len),
        Some(4),
        "{summary}"
    );
    let cpu = summary["cpu_percent_per_node"]
        .as_array()
        .unwrap_or_else(|| panic!("cpu_percent_per_node is not a list: {summary}"));
    assert_eq!(cpu.len(), 4, "{summary}");
    assert!(
        cpu.iter().all(|c| c.as_f64().is_some_and(|c| c >= 0.0)),
        "{summary}"
    );
}

#[test]
fn a_short_soak_samples_throughput_memory_and_disk() {
    let summary = bench_json(&[
        "bench",
        "--duration",
        "12s",
        "--sample-s",
        "3",
        "--rate",
        "100",
        "--senders",
        "8",
        "--timeout-s",
        "50",
        "--json",
        "--quiet",
    ]);
    assert_eq!(summary["workload"], "soak", "{summary}");
    assert_eq!(
        summary["transactions"], 1_200,
        "every transfer is final: {summary}"
    );
    assert_eq!(summary["rejected"], 0, "{summary}");
    let samples = summary["samples"]
        .as_array()
        .unwrap_or_else(|| panic!("samples is not a list: {summary}"));
    // The start, then one every 3 s of the 12.
    assert_eq!(samples.len(), 5, "{summary}");
    let finalized: u64 = samples
        .iter()
        .map(|s| s["finalized"].as_u64().expect("a count"))
        .sum();
    assert!(finalized <= 1_200, "{summary}");
    for sample in &samples[1..] {
        assert!(sample["tx_per_s"].is_number(), "{sample}");
        let rss = sample["rss_mib"].as_array().expect("one per node");
        assert_eq!(rss.len(), 1, "{sample}");
        assert!(rss[0].as_f64().is_some_and(|mib| mib > 0.0), "{sample}");
        assert!(
            sample["disk_mib"].as_f64().is_some_and(|mib| mib > 0.0),
            "{sample}"
        );
    }
    assert!(summary["throughput_held"].is_boolean(), "{summary}");
    assert!(summary["last_to_first"].is_number(), "{summary}");

    let refused = run_cli(&["bench", "--duration", "30m", "--json"]);
    assert!(!refused.success(), "a soak without a rate");
    assert!(refused.stdout.contains("give it --rate"), "{refused:?}");
    let refused = run_cli(&["bench", "--duration", "5 minutes"]);
    assert!(
        refused
            .stderr
            .contains("is not a duration such as 90s, 30m or 2h"),
        "{refused:?}"
    );
}
