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

impl Client {
    /// `GET url` signed by `reader`, its JSON answer.
    pub(crate) async fn signed_get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: reqwest::Url,
        reader: &SecretKey,
    ) -> Result<T, ClientError> {
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let signature = reader.sign(&read_payload(&target, time_ms));
        let request = self
            .http
            .get(url)
            .header(READ_KEY_HEADER, reader.public_key().to_hex())
            .header(READ_TIME_HEADER, time_ms.to_string())
            .header(READ_SIGNATURE_HEADER, signature.to_hex());
        self.send_json(request).await
    }
}
