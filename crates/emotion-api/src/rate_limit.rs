//! Per-client rate limit (tower-governor), defence in depth behind the gateway's own limit.
//!
//! The key is the client address. Behind the gateway every request comes from the gateway, so the
//! real client is in `X-Real-IP`, which Nginx overwrites with `$remote_addr`; that header is believed
//! only when the TCP peer is in `EMOTION_TRUSTED_PROXIES`. From anyone else it is ignored and the
//! peer address is the key, so a client cannot pick its own bucket by forging headers.
//! (`tower_governor::SmartIpKeyExtractor` would trust the leftmost `X-Forwarded-For` entry from
//! anyone, which a client can set freely.)

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use crate::configuration::RateLimit;
use crate::error::ApiError;
use crate::net::Cidr;

/// The header the trusted gateway sets to the client address.
pub const REAL_IP: &str = "x-real-ip";

/// Keys requests by client address as described in the module documentation.
#[derive(Debug, Clone)]
pub struct ClientIp {
    trusted: Arc<[Cidr]>,
}

impl ClientIp {
    /// An extractor believing `X-Real-IP` from peers in `trusted`.
    pub fn new(trusted: &[Cidr]) -> Self {
        ClientIp {
            trusted: trusted.into(),
        }
    }

    /// The client address of `req`. Without connection information (never the case when served
    /// through `Application`) every request shares one key, which fails closed.
    pub fn client_ip<B>(&self, req: &Request<B>) -> IpAddr {
        let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() else {
            return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        };
        let peer = peer.ip().to_canonical();
        if !self.trusted.iter().any(|c| c.contains(peer)) {
            return peer;
        }
        req.headers()
            .get(REAL_IP)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical())
            .unwrap_or(peer)
    }
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        Ok(self.client_ip(req))
    }
}

/// The governor configuration type used by the service.
pub type Config = GovernorConfig<ClientIp, NoOpMiddleware>;

/// Builds the limiter: `limit.per_second` sustained with bursts of `limit.burst`, per client.
pub fn config(limit: RateLimit, trusted: &[Cidr]) -> Arc<Config> {
    let period = Duration::from_nanos(1_000_000_000 / u64::from(limit.per_second.max(1)));
    let config = GovernorConfigBuilder::default()
        .key_extractor(ClientIp::new(trusted))
        .period(period.max(Duration::from_nanos(1)))
        .burst_size(limit.burst.max(1))
        .finish()
        .expect("period and burst are non-zero");
    Arc::new(config)
}

/// The tower layer answering 429 in our JSON error shape with `Retry-After`.
pub fn layer(config: Arc<Config>) -> GovernorLayer<ClientIp, NoOpMiddleware, Body> {
    GovernorLayer::new(config).error_handler(error_response)
}

fn error_response(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => ApiError::RateLimited {
            // Governor rounds down to whole seconds; "0" would invite an immediate retry.
            retry_after_secs: wait_time.max(1),
        }
        .into_response(),
        other => ApiError::Internal(format!("rate limiter: {other}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, real_ip: Option<&str>) -> Request<()> {
        let mut req = Request::builder().uri("/predict");
        if let Some(ip) = real_ip {
            req = req.header(REAL_IP, ip);
        }
        let mut req = req.body(()).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        req
    }

    fn key(trusted: &[&str], peer: &str, real_ip: Option<&str>) -> IpAddr {
        let trusted: Vec<Cidr> = trusted.iter().map(|c| c.parse().unwrap()).collect();
        ClientIp::new(&trusted).client_ip(&request(peer, real_ip))
    }

    #[test]
    fn untrusted_peers_are_keyed_by_their_own_address() {
        assert_eq!(
            key(&[], "198.51.100.1:5000", Some("10.9.9.9")),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn trusted_peers_pass_the_client_address() {
        let ip = key(&["172.16.0.0/12"], "172.18.0.2:5000", Some(" 203.0.113.9 "));
        assert_eq!(ip, "203.0.113.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_trusted_peer_without_a_usable_header_is_keyed_by_itself() {
        for header in [None, Some("not-an-ip"), Some("203.0.113.9, 10.0.0.1")] {
            let ip = key(&["172.16.0.0/12"], "172.18.0.2:5000", header);
            assert_eq!(ip, "172.18.0.2".parse::<IpAddr>().unwrap(), "{header:?}");
        }
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_blocks() {
        let ip = key(
            &["127.0.0.0/8"],
            "[::ffff:127.0.0.1]:5000",
            Some("192.0.2.1"),
        );
        assert_eq!(ip, "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn without_connection_info_everyone_shares_one_key() {
        let req = Request::builder().body(()).unwrap();
        assert_eq!(
            ClientIp::new(&[]).client_ip(&req),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }
}
