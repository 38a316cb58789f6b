use super::*;
use std::collections::HashMap;

fn key(seed: u8) -> PublicKey {
    cityledger_types::SecretKey::from_seed([seed; 32]).public_key()
}

fn key_hex(seed: u8) -> String {
    toml::Value::try_from(key(seed))
        .expect("encode")
        .as_str()
        .expect("a key is written as a string")
        .to_owned()
}

/// A valid file with the options in the order `init` writes them.
fn file() -> String {
    let config = NodeConfig {
        name: "treasury".into(),
        api_listen: "127.0.0.1:8080".parse().expect("address"),
        p2p_listen: "127.0.0.1:8081".parse().expect("address"),
        leader_timeout_ms: LEADER_TIMEOUT_MS_DEFAULT,
        api: ApiConfig {
            rate_limit_per_s: 1_000,
            ..ApiConfig::default()
        },
        mempool: MempoolLimits::default(),
        validators: vec![
            ValidatorAddress {
                name: "treasury".into(),
                key: key(1),
                p2p: "127.0.0.1:8081".parse().expect("address"),
            },
            ValidatorAddress {
                name: "transport".into(),
                key: key(2),
                p2p: "127.0.0.1:8083".parse().expect("address"),
            },
        ],
    };
    toml::to_string_pretty(&config).expect("encode")
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<NodeConfig, ConfigIssue> {
    NodeConfig::parse(text, &no_env)
}

fn parse_with(text: &str, vars: &[(&str, &str)]) -> Result<NodeConfig, ConfigIssue> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    NodeConfig::parse(text, &move |name| vars.get(name).cloned())
}

/// The line (from 1) of the first line of `text` that contains `needle`.
fn line_with(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .map(|index| index + 1)
        .expect("needle in text")
}

fn refused_at_line(text: &str, line: usize) -> String {
    let issue = parse(text).expect_err("refused");
    assert_eq!(issue.origin, Origin::File { line: Some(line) }, "{issue}");
    issue.reason
}

#[test]
fn what_init_writes_parses_back_to_itself() {
    let text = file();
    let config = parse(&text).expect("valid");
    assert_eq!(toml::to_string_pretty(&config).expect("encode"), text);
    assert_eq!(config.api.rate_limit_per_s, 1_000);
}

#[test]
fn options_left_out_take_their_defaults() {
    let text = file()
        .lines()
        .filter(|line| !line.starts_with("leader_timeout_ms") && !line.starts_with("rate_limit"))
        .collect::<Vec<_>>()
        .join("\n");
    let config = parse(&text).expect("valid");
    assert_eq!(config.leader_timeout_ms, LEADER_TIMEOUT_MS_DEFAULT);
    assert_eq!(config.api.rate_limit_per_s, RATE_LIMIT_PER_S_DEFAULT);
}

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    let text = file().replace("[api]\n", "[api]\nrate_limit = 5\n");
    let reason = refused_at_line(&text, line_with(&text, "rate_limit = 5"));
    assert!(reason.contains("unknown field `rate_limit`"), "{reason}");
    assert!(
        reason.contains("rate_limit_per_s"),
        "it lists what is known: {reason}"
    );
}

#[test]
fn a_bad_address_is_refused_with_its_line() {
    let text = file().replace("8083", "80833");
    let reason = refused_at_line(&text, line_with(&text, "80833"));
    assert!(reason.contains("socket address"), "{reason}");
}

#[test]
fn broken_syntax_is_refused_with_its_line() {
    let text = file().replace("leader_timeout_ms = 1000", "leader_timeout_ms = = 1000");
    refused_at_line(&text, line_with(&text, "= = 1000"));
}

#[test]
fn impossible_limits_are_refused_with_their_line_and_bounds() {
    let text = file().replace("leader_timeout_ms = 1000", "leader_timeout_ms = 10");
    let reason = refused_at_line(&text, line_with(&text, "leader_timeout_ms"));
    assert_eq!(reason, "`leader_timeout_ms` = 10 is outside 50..=60000");

    let text = file().replace("rate_limit_burst = 2000", "rate_limit_burst = 10");
    let reason = refused_at_line(&text, line_with(&text, "rate_limit_burst"));
    assert_eq!(
        reason,
        "`api.rate_limit_burst` = 10 is below `api.rate_limit_per_s` = 1000"
    );

    let text = file().replace("rate_limit_per_s = 1000", "rate_limit_per_s = 2000000");
    let reason = refused_at_line(&text, line_with(&text, "rate_limit_per_s"));
    assert!(reason.contains("outside 1..=1000000"), "{reason}");

    // Turning the limit off is not a limit out of range.
    let text = file().replace("rate_limit_per_s = 1000", "rate_limit_per_s = 0");
    assert_eq!(parse(&text).expect("valid").api.rate_limit_per_s, 0);
}

#[test]
fn a_duplicate_validator_is_refused_at_the_second_one() {
    let text = file().replace(&key_hex(2), &key_hex(1));
    let issue = parse(&text).expect_err("refused");
    assert!(issue.reason.contains("share a key"), "{issue}");
    let second = text
        .match_indices("[[validators]]")
        .nth(1)
        .expect("second")
        .0;
    assert_eq!(
        issue.origin,
        Origin::File {
            line: Some(line_at(&text, second))
        },
        "the second validator's header: {issue}"
    );
}

#[test]
fn names_and_ports_are_checked() {
    let text = file().replacen("name = \"treasury\"", "name = \"Treasury!\"", 1);
    let reason = refused_at_line(&text, 1);
    assert!(reason.contains("not an organisation name"), "{reason}");

    let text = file().replace("127.0.0.1:8080", "127.0.0.1:0");
    let reason = refused_at_line(&text, line_with(&text, "api_listen"));
    assert!(reason.contains("port 0"), "{reason}");

    let text = file().replace(
        "api_listen = \"127.0.0.1:8080\"",
        "api_listen = \"127.0.0.1:8081\"",
    );
    let reason = refused_at_line(&text, line_with(&text, "p2p_listen"));
    assert!(reason.contains("both 127.0.0.1:8081"), "{reason}");
}

#[test]
fn cors_origins_must_be_origins() {
    for (origins, fault) in [
        (r#"["https://city.example/explorer"]"#, "has a path"),
        (r#"["city.example"]"#, "must start with https://"),
        (r#"["*", "https://city.example"]"#, "must be the only entry"),
        (r#"["https://"]"#, "has no host"),
        (r#"["https://ci ty"]"#, "characters"),
    ] {
        let text = file().replace(
            "cors_allowed_origins = []",
            &format!("cors_allowed_origins = {origins}"),
        );
        let reason = refused_at_line(&text, line_with(&text, "cors_allowed_origins"));
        assert!(reason.contains(fault), "{origins}: {reason}");
    }
    let text = file().replace(
        "cors_allowed_origins = []",
        r#"cors_allowed_origins = ["https://city.example", "http://127.0.0.1:3000"]"#,
    );
    assert_eq!(
        parse(&text).expect("valid").api.cors_allowed_origins.len(),
        2
    );
}

#[test]
fn the_environment_overrides_the_file_and_is_named_when_wrong() {
    let config = parse_with(
        &file(),
        &[
            ("CITYLEDGER_API_LISTEN", "0.0.0.0:9000"),
            ("CITYLEDGER_API_RATE_LIMIT_PER_S", "50"),
            ("CITYLEDGER_API_RATE_LIMIT_BURST", "60"),
            (
                "CITYLEDGER_API_CORS_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            ),
        ],
    )
    .expect("valid");
    assert_eq!(config.api_listen, "0.0.0.0:9000".parse().expect("address"));
    assert_eq!(
        (config.api.rate_limit_per_s, config.api.rate_limit_burst),
        (50, 60)
    );
    assert_eq!(
        config.api.cors_allowed_origins,
        ["https://a.example", "https://b.example"]
    );

    let issue = parse_with(&file(), &[("CITYLEDGER_P2P_LISTEN", "nowhere")]).expect_err("bad");
    assert_eq!(
        issue.origin,
        Origin::Env {
            var: "CITYLEDGER_P2P_LISTEN".into()
        }
    );
    assert!(
        issue
            .to_string()
            .starts_with("environment variable CITYLEDGER_P2P_LISTEN: \"nowhere\"")
    );

    // A value that parses but cannot work names the variable, not the file.
    let issue = parse_with(&file(), &[("CITYLEDGER_LEADER_TIMEOUT_MS", "1")]).expect_err("refused");
    assert_eq!(
        issue.origin,
        Origin::Env {
            var: "CITYLEDGER_LEADER_TIMEOUT_MS".into()
        }
    );
}

#[test]
fn every_environment_variable_is_named_after_its_key() {
    assert_eq!(
        env_vars(),
        [
            "CITYLEDGER_NAME",
            "CITYLEDGER_API_LISTEN",
            "CITYLEDGER_P2P_LISTEN",
            "CITYLEDGER_LEADER_TIMEOUT_MS",
            "CITYLEDGER_API_RATE_LIMIT_PER_S",
            "CITYLEDGER_API_RATE_LIMIT_BURST",
            "CITYLEDGER_MEMPOOL_TX_MAX",
            "CITYLEDGER_MEMPOOL_BYTES_MAX",
            "CITYLEDGER_API_TLS_CERT_FILE",
            "CITYLEDGER_API_TLS_KEY_FILE",
            "CITYLEDGER_API_TLS_RELOAD_CHECK_S",
            "CITYLEDGER_API_CORS_ALLOWED_ORIGINS",
        ]
    );
}

#[test]
fn mempool_limits_come_from_the_file_or_the_environment_within_bounds() {
    let text = file().replace("tx_max = 200000", "tx_max = 5000");
    let config = parse(&text).expect("valid");
    assert_eq!(config.mempool.tx_max, 5_000);
    assert_eq!(config.mempool.bytes_max, MempoolLimits::default().bytes_max);
    let config = parse_with(&text, &[("CITYLEDGER_MEMPOOL_BYTES_MAX", "1048576")]).expect("valid");
    assert_eq!(config.mempool.bytes_max, 1 << 20);
    let zero = text.replace("tx_max = 5000", "tx_max = 0");
    let reason = refused_at_line(&zero, line_with(&zero, "tx_max = 0"));
    assert!(reason.contains("mempool.tx_max"), "{reason}");
    let issue =
        parse_with(&text, &[("CITYLEDGER_MEMPOOL_BYTES_MAX", "10")]).expect_err("too small");
    assert!(issue.reason.contains("mempool.bytes_max"), "{issue}");
}

#[test]
fn tls_needs_both_files_and_a_sane_reload_check() {
    let config = parse(&file()).expect("valid");
    assert!(!config.api.tls.enabled(), "off by default");
    assert_eq!(config.api.tls.reload_check_s, TLS_RELOAD_CHECK_S_DEFAULT);

    let both = file().replace(
        "[api.tls]\n",
        "[api.tls]\ncert_file = \"tls/cert.pem\"\nkey_file = \"/etc/cityledger/key.pem\"\n",
    );
    let config = parse(&both).expect("valid");
    assert!(config.api.tls.enabled());
    assert_eq!(
        config.api.tls.key_file.as_deref(),
        Some(std::path::Path::new("/etc/cityledger/key.pem"))
    );
    assert_eq!(toml::to_string_pretty(&config).expect("encode"), both);

    let half = file().replace("[api.tls]\n", "[api.tls]\ncert_file = \"tls/cert.pem\"\n");
    let reason = refused_at_line(&half, line_with(&half, "cert_file"));
    assert_eq!(
        reason,
        "`api.tls.cert_file` is set but `api.tls.key_file` is not; TLS needs both"
    );
    let issue = parse_with(&file(), &[("CITYLEDGER_API_TLS_KEY_FILE", "key.pem")])
        .expect_err("half, from the environment");
    assert_eq!(
        issue.origin,
        Origin::Env {
            var: "CITYLEDGER_API_TLS_KEY_FILE".into()
        }
    );
    let config = parse_with(
        &file(),
        &[
            ("CITYLEDGER_API_TLS_KEY_FILE", "key.pem"),
            ("CITYLEDGER_API_TLS_CERT_FILE", "cert.pem"),
        ],
    )
    .expect("both, from the environment");
    assert!(config.api.tls.enabled());

    let empty = both.replace("\"tls/cert.pem\"", "\"\"");
    let reason = refused_at_line(&empty, line_with(&empty, "cert_file"));
    assert_eq!(reason, "`api.tls.cert_file` is empty");

    let never = file().replace("reload_check_s = 30", "reload_check_s = 0");
    let reason = refused_at_line(&never, line_with(&never, "reload_check_s"));
    assert_eq!(reason, "`api.tls.reload_check_s` = 0 is outside 1..=86400");
}
