//! Signed reads: private data (incidents, records of a party, access logs,
//! sealed content) is served only to a `GET` whose path and query the
//! reader signed with a recent clock, so a replayed or altered request is
//! refused.

use crate::client::Client;
use crate::error::ClientError;
use cityledger_api::safety::{
    READ_KEY_HEADER, READ_SIGNATURE_HEADER, READ_TIME_HEADER, read_payload,
};
use cityledger_types::SecretKey;
use std::time::{SystemTime, UNIX_EPOCH};

/// The three headers of a signed read of `url` by `reader` now: its key,
/// its clock and its signature over `cityledger/read/v1 ‖ path and query ‖
/// time`. For callers that send the request themselves.
pub fn signed_read_headers(url: &reqwest::Url, reader: &SecretKey) -> [(&'static str, String); 3] {
    let time_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let signature = reader.sign(&read_payload(&target, time_ms));
    [
        (READ_KEY_HEADER, reader.public_key().to_hex()),
        (READ_TIME_HEADER, time_ms.to_string()),
        (READ_SIGNATURE_HEADER, signature.to_hex()),
    ]
}

impl Client {
    /// `GET url` signed by `reader`, its JSON answer.
    pub(crate) async fn signed_get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: reqwest::Url,
        reader: &SecretKey,
    ) -> Result<T, ClientError> {
        let headers = signed_read_headers(&url, reader);
        let mut request = self.http.get(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        self.send_json(request).await
    }
}
