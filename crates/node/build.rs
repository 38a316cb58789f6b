//! Builds the WebAssembly receipt verifier (`cityledger-verifier-wasm`) for
//! the explorer, which the node embeds and serves at `/ui/verifier.wasm`.
//!
//! A nested `cargo build --target wasm32-unknown-unknown --release` runs in
//! its own target directory, `<target>/verifier-wasm`: the outer build
//! holds the lock of `<target>`, so sharing it would deadlock, while one
//! fixed directory (rather than one under `OUT_DIR`) lets debug, release
//! and clippy builds of the node, and `.ci/run`'s tests of the module,
//! share one build of it. The nested build inherits cargo's jobserver, so
//! it takes no more cores than the outer one was given.
//!
//! `CITYLEDGER_VERIFIER_WASM=/path/to/file.wasm` skips the nested build
//! and embeds that file (for builds without the wasm32 target that bring
//! the module from elsewhere).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const WASM_FILE: &str = "cityledger_verifier_wasm.wasm";
const PREBUILT_ENV: &str = "CITYLEDGER_VERIFIER_WASM";

fn main() {
    if let Err(message) = run() {
        // A build script reports through its exit code and stderr; the
        // message is what the person at the terminal needs to do.
        eprintln!("\nerror: {message}\n");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env_var("OUT_DIR")?);
    let workspace = manifest_dir
        .parent()
        .and_then(Path::parent)
        .ok_or("the node crate is not at crates/node of a workspace")?
        .to_owned();
    println!("cargo::rerun-if-env-changed={PREBUILT_ENV}");

    let wasm = match env::var_os(PREBUILT_ENV) {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => build_wasm(&workspace, &out_dir)?,
    };
    let embedded = out_dir.join(WASM_FILE);
    std::fs::copy(&wasm, &embedded).map_err(|error| {
        format!(
            "cannot copy the verifier module {} to {}: {error}",
            wasm.display(),
            embedded.display()
        )
    })?;
    Ok(())
}

fn build_wasm(workspace: &Path, out_dir: &Path) -> Result<PathBuf, String> {
    for crate_dir in ["types", "verifier", "verifier-wasm"] {
        let dir = workspace.join("crates").join(crate_dir);
        println!("cargo::rerun-if-changed={}", dir.join("src").display());
        println!(
            "cargo::rerun-if-changed={}",
            dir.join("Cargo.toml").display()
        );
    }
    println!(
        "cargo::rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );

    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    check_target_installed(&rustc)?;

    let target_dir = target_dir(out_dir, workspace).join("verifier-wasm");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace)
        .args(["build", "--release", "--quiet", "--locked"])
        .args(["-p", "cityledger-verifier-wasm", "--lib"])
        .args(["--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings are for the host target and, under
    // clippy, for clippy's driver: none of them belongs to this build.
    // The release profile keeps line tables for native backtraces; in the
    // module they would be 90 % of its 5 MB, downloaded by every browser.
    command
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true");
    for variable in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MANIFEST_PATH",
    ] {
        command.env_remove(variable);
    }
    let status = command.status().map_err(|error| {
        format!("cannot run {cargo} to build the WebAssembly verifier: {error}")
    })?;
    if !status.success() {
        return Err(format!(
            "building the WebAssembly verifier for the explorer failed ({status}); \
             run `cargo build --release -p cityledger-verifier-wasm --target {WASM_TARGET}` \
             to see why"
        ));
    }
    let wasm = target_dir.join(WASM_TARGET).join("release").join(WASM_FILE);
    if !wasm.is_file() {
        return Err(format!("the nested build wrote no {}", wasm.display()));
    }
    Ok(wasm)
}

/// Fails with the command to run when rustc has no standard library for
/// wasm32.
fn check_target_installed(rustc: &str) -> Result<(), String> {
    let output = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .map_err(|error| format!("cannot run {rustc}: {error}"))?;
    let libdir = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let installed = output.status.success()
        && std::fs::read_dir(&libdir)
            .map(|entries| {
                entries
                    .flatten()
                    .any(|entry| entry.file_name().to_string_lossy().starts_with("libcore-"))
            })
            .unwrap_or(false);
    if installed {
        Ok(())
    } else {
        Err(format!(
            "the explorer embeds the receipt verifier built for WebAssembly, and this \
             Rust toolchain has no {WASM_TARGET} target.\n       Install it with:\n\n           \
             rustup target add {WASM_TARGET}\n\n       or set {PREBUILT_ENV} to a prebuilt \
             {WASM_FILE}."
        ))
    }
}

/// The outer build's target directory: the ancestor of `OUT_DIR` that
/// cargo marked with `CACHEDIR.TAG`, else `<workspace>/target`.
fn target_dir(out_dir: &Path, workspace: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_owned)
        .unwrap_or_else(|| workspace.join("target"))
}

fn env_var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("cargo did not set {name}"))
}
