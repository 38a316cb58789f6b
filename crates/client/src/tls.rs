//! Which servers the client trusts over `https`.
//!
//! reqwest is built with rustls and no crypto provider of its own (the
//! node's tree already has aws-lc-rs, through Commonware), so every HTTP
//! client in the workspace is built here with its TLS set up explicitly: a
//! `reqwest::Client::new()` would panic for want of a provider.

use crate::error::ClientError;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::Arc;

/// The certificate authorities a client accepts a node's certificate from.
#[derive(Clone, Debug)]
pub enum TrustRoots {
    /// The operating system's store, or the file or directory named by
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` when they are set.
    System,
    /// Only the CA certificates in this PEM bundle: an agency's private CA.
    Pem(Vec<u8>),
    /// None: for plain-http clients, which never use TLS.
    Nothing,
}

fn roots(trust: &TrustRoots) -> Result<RootCertStore, ClientError> {
    let mut store = RootCertStore::empty();
    let (added, source) = match trust {
        TrustRoots::Nothing => return Ok(store),
        TrustRoots::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = store.add_parsable_certificates(found.certs);
            (added, "the system's trust store (or SSL_CERT_FILE)")
        }
        TrustRoots::Pem(pem) => {
            let certs = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| ClientError::Tls {
                    reason: format!("the CA bundle is not PEM certificates: {error}"),
                })?;
            for cert in certs {
                store.add(cert).map_err(|error| ClientError::Tls {
                    reason: format!("the CA bundle holds a certificate rustls refuses: {error}"),
                })?;
            }
            (store.len(), "the CA bundle")
        }
    };
    if added == 0 {
        return Err(ClientError::Tls {
            reason: format!("{source} holds no CA certificate, so no node could be trusted"),
        });
    }
    Ok(store)
}

/// A reqwest builder whose `https` trusts `trust`, TLS 1.2 and 1.3 with
/// rustls's safe defaults.
pub fn http_client_builder(trust: &TrustRoots) -> Result<reqwest::ClientBuilder, ClientError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| ClientError::Tls {
            reason: error.to_string(),
        })?
        .with_root_certificates(roots(trust)?)
        .with_no_client_auth();
    Ok(reqwest::Client::builder().use_preconfigured_tls(config))
}
