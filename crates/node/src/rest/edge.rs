//! What the public API does before a request reaches a route: a rate limit
//! per client address, and CORS for the origins the operator allows.
//!
//! The limiter is a token bucket per address, kept in a bounded table so
//! that a flood of new addresses costs bounded memory: when the table is
//! full, idle clients (whose bucket is full again) are forgotten, and if
//! none is idle a new address is refused until some are.

use super::error::ApiError;
use crate::config::ApiConfig;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Most client addresses the limiter tracks at once.
pub const RATE_LIMIT_CLIENTS_MAX: usize = 65_536;
/// A token is this many thousandths, so that a rate below one request per
/// millisecond still refills between requests.
const MILLI: u64 = 1_000;
/// How long browsers may cache a CORS preflight answer.
const CORS_MAX_AGE: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens_milli: u64,
    updated_ms: u64,
}

/// Token buckets per client address; time comes in as milliseconds from
/// any fixed start, so tests drive it directly.
#[derive(Debug)]
pub struct RateLimiter {
    per_s: u64,
    burst_milli: u64,
    clients_max: usize,
    clients: HashMap<IpAddr, Bucket>,
}

impl RateLimiter {
    /// A limiter of `per_s` requests per second with bursts of `burst`.
    pub fn new(per_s: u32, burst: u32, clients_max: usize) -> RateLimiter {
        assert!(per_s > 0 && burst >= per_s, "validated by the config");
        RateLimiter {
            per_s: u64::from(per_s),
            burst_milli: u64::from(burst) * MILLI,
            clients_max,
            clients: HashMap::new(),
        }
    }

    /// Takes one request of `client` at `now_ms`; on refusal, the seconds
    /// until it would be admitted.
    pub fn admit(&mut self, client: IpAddr, now_ms: u64) -> Result<(), u64> {
        if !self.clients.contains_key(&client) && self.clients.len() >= self.clients_max {
            self.forget_idle(now_ms);
            if self.clients.len() >= self.clients_max {
                return Err(1);
            }
        }
        let (per_s, burst_milli) = (self.per_s, self.burst_milli);
        let bucket = self.clients.entry(client).or_insert(Bucket {
            tokens_milli: burst_milli,
            updated_ms: now_ms,
        });
        refill(bucket, per_s, burst_milli, now_ms);
        if bucket.tokens_milli >= MILLI {
            bucket.tokens_milli -= MILLI;
            return Ok(());
        }
        let missing_milli = MILLI - bucket.tokens_milli;
        // per_s thousandths of a token come back each millisecond.
        let wait_ms = missing_milli.div_ceil(per_s);
        Err(wait_ms.div_ceil(1_000).max(1))
    }

    fn forget_idle(&mut self, now_ms: u64) {
        let (per_s, burst_milli) = (self.per_s, self.burst_milli);
        self.clients.retain(|_, bucket| {
            refill(bucket, per_s, burst_milli, now_ms);
            bucket.tokens_milli < burst_milli
        });
    }

    /// Client addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.clients.len()
    }
}

fn refill(bucket: &mut Bucket, per_s: u64, burst_milli: u64, now_ms: u64) {
    let elapsed_ms = now_ms.saturating_sub(bucket.updated_ms);
    bucket.tokens_milli = bucket
        .tokens_milli
        .saturating_add(elapsed_ms.saturating_mul(per_s))
        .min(burst_milli);
    bucket.updated_ms = bucket.updated_ms.max(now_ms);
}

/// The limiter as the middleware holds it, with its monotonic clock: the
/// HTTP edge is tokio's already, and wall-clock jumps must not refill or
/// starve buckets.
#[derive(Clone)]
struct Limiter {
    buckets: Arc<Mutex<RateLimiter>>,
    start: Instant,
}

async fn limit_rate(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    // Requests built in-process (tests, `oneshot`) carry no address.
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    if let Some(client) = client {
        let now_ms = u64::try_from(limiter.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let admitted = match limiter.buckets.lock() {
            Ok(mut buckets) => buckets.admit(client, now_ms),
            // A panic elsewhere while holding the lock must not open the
            // gate: refuse until the node is restarted.
            Err(_) => Err(1),
        };
        if let Err(retry_after_s) = admitted {
            return ApiError::RateLimited { retry_after_s }.into_response();
        }
    }
    next.run(request).await
}

/// `router` with the protections `config` asks for. CORS goes outside the
/// rate limit, so that a refused request still carries the CORS headers a
/// browser needs to show the page its `Retry-After`, and a preflight is
/// answered without spending the client's budget.
pub fn protect(router: Router, config: &ApiConfig) -> Router {
    let router = if config.rate_limit_per_s == 0 {
        router
    } else {
        let limiter = Limiter {
            buckets: Arc::new(Mutex::new(RateLimiter::new(
                config.rate_limit_per_s,
                config.rate_limit_burst,
                RATE_LIMIT_CLIENTS_MAX,
            ))),
            start: Instant::now(),
        };
        router.layer(axum::middleware::from_fn_with_state(limiter, limit_rate))
    };
    match cors(&config.cors_allowed_origins) {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

/// The CORS layer for `origins`, validated by the config; none when no
/// origin is allowed, so the API sends no CORS headers at all.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
            .expose_headers([header::RETRY_AFTER])
            .max_age(CORS_MAX_AGE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    #[test]
    fn a_burst_is_admitted_then_the_rate_applies() {
        let mut limiter = RateLimiter::new(10, 20, 16);
        for _ in 0..20 {
            assert_eq!(limiter.admit(CLIENT, 0), Ok(()));
        }
        assert_eq!(limiter.admit(CLIENT, 0), Err(1));
        // 10 per second: one token per 100 ms.
        assert_eq!(limiter.admit(CLIENT, 99), Err(1));
        assert_eq!(limiter.admit(CLIENT, 100), Ok(()));
        assert_eq!(limiter.admit(CLIENT, 100), Err(1));
        // Another address has its own bucket.
        assert_eq!(limiter.admit(IpAddr::from([10, 0, 0, 2]), 100), Ok(()));
    }

    #[test]
    fn a_slow_rate_asks_for_the_seconds_it_needs() {
        let mut limiter = RateLimiter::new(1, 1, 16);
        assert_eq!(limiter.admit(CLIENT, 0), Ok(()));
        assert_eq!(limiter.admit(CLIENT, 0), Err(1));
        assert_eq!(limiter.admit(CLIENT, 999), Err(1));
        assert_eq!(limiter.admit(CLIENT, 1_000), Ok(()));
    }

    #[test]
    fn the_table_stays_bounded_and_forgets_idle_clients_first() {
        let mut limiter = RateLimiter::new(1, 1, 2);
        assert_eq!(limiter.admit(IpAddr::from([1, 0, 0, 1]), 0), Ok(()));
        assert_eq!(limiter.admit(IpAddr::from([1, 0, 0, 2]), 0), Ok(()));
        // Both are busy: a third waits instead of growing the table.
        assert_eq!(limiter.admit(IpAddr::from([1, 0, 0, 3]), 0), Err(1));
        assert_eq!(limiter.tracked(), 2);
        // Once they are idle again, they are forgotten to make room.
        assert_eq!(limiter.admit(IpAddr::from([1, 0, 0, 3]), 5_000), Ok(()));
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn time_going_backwards_neither_refills_nor_panics() {
        let mut limiter = RateLimiter::new(1, 1, 16);
        assert_eq!(limiter.admit(CLIENT, 10_000), Ok(()));
        assert_eq!(limiter.admit(CLIENT, 0), Err(1));
    }
}
