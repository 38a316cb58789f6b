//! How the long-running commands (`node`, `dev`, `testnet`) log: one
//! tracing subscriber on stdout, as text for people or as JSON lines for a
//! log collector, filtered by `RUST_LOG` in tracing's env-filter syntax.
//!
//! What each level means for an operator is in docs/operating.md. The
//! format is a command-line option (and `CITYLEDGER_LOG_FORMAT`), never a
//! key of config.toml: it is how this process writes, not how the node
//! behaves.

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

/// The filter when `RUST_LOG` is unset: our lifecycle lines, and only
/// warnings and errors from the consensus engine, which is chatty at info.
pub const FILTER_DEFAULT: &str = "info,commonware=warn";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, coloured on a terminal.
    #[default]
    Text,
    /// One JSON object per line, with `timestamp`, `level`, `target`,
    /// `message` and the event's fields at the top level.
    Json,
}

impl LogFormat {
    /// The option's value that selects this format, as a child process
    /// takes it.
    pub fn as_arg(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// The logging option of a long-running command.
#[derive(Args, Clone, Copy, Debug)]
pub struct LogArgs {
    /// Format of the log lines on stdout: `text` for people, `json` for one
    /// object per line (timestamp, level, target, message, fields). Which
    /// lines are written follows RUST_LOG (default: info,commonware=warn).
    #[arg(
        long,
        env = "CITYLEDGER_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
}

/// Installs the process's subscriber. In JSON, a panic is logged as an
/// error line too, so that a collector parsing every line as JSON still
/// sees the one line that matters most (a broken invariant).
pub fn init(format: LogFormat) {
    let filter = filter();
    match format {
        LogFormat::Text => {
            // Colour codes only on a terminal: node logs usually go to files.
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_target(false)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .try_init();
        }
        LogFormat::Json => {
            if json_subscriber(filter, std::io::stdout).try_init().is_ok() {
                std::panic::set_hook(Box::new(|info| {
                    log_panic(
                        info.payload_as_str()
                            .unwrap_or("(a panic without a message)"),
                        info.location(),
                        &std::backtrace::Backtrace::capture(),
                    );
                }));
            }
        }
    }
}

/// `RUST_LOG`, or [`FILTER_DEFAULT`] when it is unset or unreadable.
fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(FILTER_DEFAULT))
}

/// The JSON-lines subscriber, writing to `writer`. The event's fields are
/// flattened next to `level` and `target`, so that `message` is a top-level
/// key as collectors expect.
fn json_subscriber<W>(
    filter: EnvFilter,
    writer: W,
) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(writer)
        .finish()
}

/// A panic as one error line. The backtrace is there when RUST_BACKTRACE
/// asks for one, as with the default hook.
fn log_panic(
    message: &str,
    location: Option<&std::panic::Location<'_>>,
    backtrace: &std::backtrace::Backtrace,
) {
    let location = location.map(ToString::to_string).unwrap_or_default();
    if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
        tracing::error!(target: "panic", %location, %backtrace, "panicked: {message}");
    } else {
        tracing::error!(target: "panic", %location, "panicked: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines_logged(body: impl FnOnce()) -> Vec<serde_json::Value> {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = json_subscriber(EnvFilter::new("info"), move || writer.clone());
        tracing::subscriber::with_default(subscriber, body);
        let bytes = buffer.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8(bytes)
            .expect("log lines are UTF-8")
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is one JSON object"))
            .collect()
    }

    #[test]
    fn an_event_is_one_flat_json_object() {
        let lines = lines_logged(|| {
            tracing::info!(height = 7, "finalized");
            tracing::debug!("below the filter");
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "finalized");
        assert_eq!(line["height"], 7);
        assert_eq!(line["target"], "cityledger::logging::tests");
        assert!(line["timestamp"].is_string(), "{line}");
    }

    #[test]
    fn a_panic_is_an_error_line_with_its_location() {
        let location = std::panic::Location::caller();
        let lines = lines_logged(|| {
            log_panic(
                "money created",
                Some(location),
                &std::backtrace::Backtrace::disabled(),
            );
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["level"], "ERROR");
        assert_eq!(lines[0]["target"], "panic");
        assert_eq!(lines[0]["message"], "panicked: money created");
        assert_eq!(lines[0]["location"], location.to_string());
        assert!(lines[0].get("backtrace").is_none(), "{}", lines[0]);
    }
}
