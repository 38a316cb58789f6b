//! The explorer's static files, compiled into the binary and served at `/`
//! and under `/ui/`.
//!
//! The UI is plain ES modules and CSS (`crates/node/ui/`, ADR 0009) and
//! the WebAssembly verifier, built by this crate's `build.rs`. Nothing
//! here reads a file at run time or knows the node: the pages call the
//! public REST routes and the event stream, as any client does.
//!
//! Caching: the files change only with the binary, but their names carry
//! no content hash (there is no bundler to add one), so each answer is
//! `no-cache` with a strong `ETag` (a hash of the content): a browser
//! revalidates and gets a 304 without the body. The HTML page carries a
//! Content Security Policy that lets the page talk to its own origin only.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cityledger_api::problem::code;
use cityledger_types::Digest;
use std::sync::OnceLock;

use super::ApiError;

/// Same origin only; WebAssembly may be compiled (`wasm-unsafe-eval`, not
/// `unsafe-eval`); uploaded QR images are read from `blob:` URLs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    /// Path under `/ui/`; empty for the page at `/`.
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! ui_file {
    ($path:literal, $content_type:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the UI. `build.rs` does not list them: `include_bytes!`
/// makes cargo rebuild when one changes.
static ASSETS: &[Asset] = &[
    Asset {
        path: "",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/index.html")),
    },
    ui_file!("style.css", "text/css; charset=utf-8"),
    ui_file!("js/app.js", JS),
    ui_file!("js/api.js", JS),
    ui_file!("js/dom.js", JS),
    ui_file!("js/format.js", JS),
    ui_file!("js/live.js", JS),
    ui_file!("js/pages.js", JS),
    ui_file!("js/verify.js", JS),
    ui_file!("js/qr.js", JS),
    ui_file!("vendor/jsQR.js", JS),
    ui_file!("vendor/jsQR.LICENSE", "text/plain; charset=utf-8"),
    Asset {
        path: "verifier.wasm",
        content_type: "application/wasm",
        bytes: include_bytes!(concat!(env!("OUT_DIR"), "/cityledger_verifier_wasm.wasm")),
    },
];

/// The routes of the UI, for any router state.
pub(super) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", axum::routing::get(page))
        .route("/ui/{*path}", axum::routing::get(file))
}

async fn page(headers: HeaderMap) -> Response {
    serve("", &headers)
}

async fn file(path: Path<String>, headers: HeaderMap) -> Response {
    serve(&path.0, &headers)
}

/// The file at `path` (exact match: no directory walking, no `..`), or a
/// 404 problem.
fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some((index, asset)) = ASSETS.iter().enumerate().find(|(_, a)| a.path == path) else {
        return ApiError::not_found(
            code::ROUTE_NOT_FOUND,
            format!("the explorer has no file {path:?}"),
        )
        .into_response();
    };
    let etag = &etags()[index];
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if asset.path.is_empty() {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| etag_matches(value, etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    (StatusCode::OK, headers, asset.bytes).into_response()
}

/// Whether an `If-None-Match` value names `etag` (or is `*`).
fn etag_matches(value: &HeaderValue, etag: &HeaderValue) -> bool {
    let (Ok(value), Ok(etag)) = (value.to_str(), etag.to_str()) else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

/// The ETag of each asset, by index, hashed once.
fn etags() -> &'static [HeaderValue] {
    static ETAGS: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let hex = Digest::of(asset.bytes).to_hex();
                HeaderValue::from_str(&format!("\"{}\"", &hex[..32]))
                    .expect("hex in quotes is a valid header value")
            })
            .collect()
    })
}

#[cfg(test)]
pub(super) fn asset_paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|asset| asset.path)
}
