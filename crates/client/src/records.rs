//! The record, access, device and batch routes: anchoring a record with
//! its sealed blob, fetching the sealed content for a granted access,
//! handing wrapped keys to a node, access logs, devices and batch proofs.

use crate::client::{Client, page_query};
use crate::error::ClientError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityledger_api::tx_text;
use cityledger_api::{
    AccessesPage, AnchorRecordRequest, BatchProof, DeviceView, DevicesPage, GrantsPage,
    RecordContentView, RecordKeysRequest, RecordView, RecordsPage, SubmitTxResponse,
};
use cityledger_types::sealed::{KeyUpload, WrappedKeys};
use cityledger_types::{Digest, PublicKey, SecretKey, SignedTx, encoding};

/// Whose records a listing returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordFilter {
    /// The owner's, `cl1…` address.
    Owner(String),
    /// Those sent to a recipient, `cl1…` address.
    Recipient(String),
}

impl Client {
    /// Anchors a record: the node stores `blob` and `keys`, checked against
    /// the digest `tx` names, then admits `tx`.
    pub async fn anchor_record(
        &self,
        tx: &SignedTx,
        blob: &[u8],
        keys: &WrappedKeys,
    ) -> Result<SubmitTxResponse, ClientError> {
        let request = AnchorRecordRequest {
            tx: tx_text::encode_tx(tx),
            blob: URL_SAFE_NO_PAD.encode(blob),
            keys: keys.keys().to_vec(),
        };
        self.post_json(self.url(&["v1", "records"])?, &request)
            .await
    }

    /// Hands the node wrapped keys for new readers; returns how many keys
    /// the record now has there.
    pub async fn add_record_keys(&self, upload: &KeyUpload) -> Result<usize, ClientError> {
        let request = RecordKeysRequest {
            upload: URL_SAFE_NO_PAD.encode(encoding::encode(upload)),
        };
        let url = self.url(&["v1", "records", &upload.record.to_hex(), "keys"])?;
        self.post_json(url, &request).await
    }

    /// The record `id`.
    pub async fn record(&self, id: &Digest) -> Result<RecordView, ClientError> {
        self.get_json(self.url(&["v1", "records", &id.to_hex()])?)
            .await
    }

    /// A page of records, newest first: a read signed by `reader`, the
    /// owner or recipient `filter` names.
    pub async fn records(
        &self,
        filter: &RecordFilter,
        reader: &SecretKey,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<RecordsPage, ClientError> {
        let mut url = self.url(&["v1", "records"])?;
        let (name, value) = match filter {
            RecordFilter::Owner(owner) => ("owner", owner),
            RecordFilter::Recipient(recipient) => ("recipient", recipient),
        };
        url.query_pairs_mut().append_pair(name, value);
        page_query(&mut url, cursor, limit);
        self.signed_get_json(url, reader).await
    }

    /// The sealed content of record `id` for the finalized access `access`
    /// by `reader`, who signs the read: a 403 problem (with the refused
    /// access) or a 410 (with the tombstone) otherwise.
    pub async fn record_content(
        &self,
        id: &Digest,
        access: &Digest,
        reader: &SecretKey,
    ) -> Result<RecordContentView, ClientError> {
        let mut url = self.url(&["v1", "records", &id.to_hex(), "content"])?;
        url.query_pairs_mut()
            .append_pair("access", &access.to_hex());
        self.signed_get_json(url, reader).await
    }

    /// A page of `owner`'s access log, newest first, optionally of one
    /// record; the owner signs the read.
    pub async fn accesses(
        &self,
        owner: &SecretKey,
        record: Option<&Digest>,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<AccessesPage, ClientError> {
        let mut url = self.url(&["v1", "accesses"])?;
        let address = cityledger_types::Address::of_key(&owner.public_key());
        url.query_pairs_mut()
            .append_pair("owner", &address.to_string());
        if let Some(record) = record {
            url.query_pairs_mut()
                .append_pair("record", &record.to_hex());
        }
        page_query(&mut url, cursor, limit);
        self.signed_get_json(url, owner).await
    }

    /// A page of the grants `owner` gave, newest first, each with its state
    /// at the tip; the owner signs the read.
    pub async fn grants_given(
        &self,
        owner: &SecretKey,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<GrantsPage, ClientError> {
        self.grants("owner", owner, cursor, limit).await
    }

    /// A page of the grants `reader` holds, newest first; the reader signs
    /// the read.
    pub async fn grants_held(
        &self,
        reader: &SecretKey,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<GrantsPage, ClientError> {
        self.grants("reader", reader, cursor, limit).await
    }

    async fn grants(
        &self,
        side: &str,
        party: &SecretKey,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<GrantsPage, ClientError> {
        let mut url = self.url(&["v1", "grants"])?;
        let address = cityledger_types::Address::of_key(&party.public_key());
        url.query_pairs_mut()
            .append_pair(side, &address.to_string());
        page_query(&mut url, cursor, limit);
        self.signed_get_json(url, party).await
    }

    /// The device `key`.
    pub async fn device(&self, key: &PublicKey) -> Result<DeviceView, ClientError> {
        self.get_json(self.url(&["v1", "devices", &key.to_hex()])?)
            .await
    }

    /// A page of `org`'s devices.
    pub async fn devices(
        &self,
        org: &str,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<DevicesPage, ClientError> {
        let mut url = self.url(&["v1", "devices"])?;
        url.query_pairs_mut().append_pair("org", org);
        page_query(&mut url, cursor, limit);
        self.get_json(url).await
    }

    /// The batch `id` with the proof of its record.
    pub async fn batch(&self, id: &Digest) -> Result<BatchProof, ClientError> {
        self.get_json(self.url(&["v1", "batches", &id.to_hex()])?)
            .await
    }
}
