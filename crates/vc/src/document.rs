//! The W3C Verifiable Credential 2.0 documents of a CityLedger credential
//! and of an issuer's status lists, before they are signed.
//!
//! The documents use only the VC 2.0 base context: claim names the
//! context does not define fall under its `@vocab`, which is what the
//! specification provides for issuer-specific terms.

use crate::limits::STATUS_LIST_BITS;
use crate::multibase::did_key;
use crate::status_list::Bitstring;
use cityledger_types::civil;
use cityledger_types::credential::{CredentialRecord, FieldValue};
use cityledger_types::limits::DAY_MS;
use cityledger_types::{Digest, OrgName, PublicKey};
use serde_json::{Map, Value, json};

/// The base context of Verifiable Credentials 2.0.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// How a salted commitment claim names its scheme.
pub const COMMITMENT_SCHEME: &str = "cityledger/commitment/v1";
/// Largest integer claim written as a JSON number; larger ones are strings,
/// since a JSON number beyond 2^53 loses digits in most readers.
const INTEGER_CLAIM_MAX: i64 = (1 << 53) - 1;

/// What a status list entry says when its bit is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusPurpose {
    /// Revoked, for good.
    Revocation,
    /// Suspended, until reinstated.
    Suspension,
}

impl StatusPurpose {
    /// Both purposes, in the order a credential lists its entries.
    pub const ALL: [StatusPurpose; 2] = [StatusPurpose::Revocation, StatusPurpose::Suspension];

    /// The `statusPurpose` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
        }
    }

    /// The purpose named `text`.
    pub fn parse(text: &str) -> Option<StatusPurpose> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Whether the bit of `record` is set in a list of this purpose.
    pub fn bit_of(&self, record: &CredentialRecord) -> bool {
        match self {
            StatusPurpose::Revocation => record.is_revoked(),
            StatusPurpose::Suspension => record.is_suspended() && !record.is_revoked(),
        }
    }
}

/// Which list holds status position `status_index`, and where in it.
pub fn list_position(status_index: u32) -> (u32, usize) {
    // STATUS_LIST_BITS fits a u32 with room.
    let bits = STATUS_LIST_BITS as u32;
    (status_index / bits, (status_index % bits) as usize)
}

/// The URL of an issuer's status list credential, under `base_url` (where
/// the issuer publishes its signed lists; a node serves them unsigned at
/// the same path).
pub fn status_list_url(base_url: &str, org: &OrgName, purpose: StatusPurpose, list: u32) -> String {
    format!(
        "{}/v1/status-lists/{org}/{}/{list}",
        base_url.trim_end_matches('/'),
        purpose.as_str()
    )
}

/// An XML Schema dateTime (UTC) of a block time in ms; milliseconds are
/// written only when there are some.
pub fn date_time(ms: u64) -> String {
    let day = u32::try_from(ms / DAY_MS).unwrap_or(u32::MAX);
    let in_day = ms % DAY_MS;
    let (hours, minutes) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (seconds, millis) = (in_day / 1000 % 60, in_day % 1000);
    let date = civil::date_of_day(day);
    if millis == 0 {
        format!("{date}T{hours:02}:{minutes:02}:{seconds:02}Z")
    } else {
        format!("{date}T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z")
    }
}

/// The id of a credential's VC: a URN naming the credential on chain.
pub fn credential_urn(id: &Digest) -> String {
    format!("urn:cityledger:credential:{id}")
}

/// `snake_case` to `UpperCamelCase`, for a credential type's VC type.
fn camel(name: &str) -> String {
    name.split(['_', '-'])
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn claim_value(value: &FieldValue) -> Value {
    match value {
        FieldValue::Text(text) => text.as_str().into(),
        FieldValue::Integer(n) if n.unsigned_abs() <= INTEGER_CLAIM_MAX as u64 => (*n).into(),
        FieldValue::Integer(n) => n.to_string().into(),
        FieldValue::Date(day) => civil::date_of_day(*day).into(),
        FieldValue::Flag(flag) => (*flag).into(),
        FieldValue::Commitment(digest) => json!({
            "type": "SaltedCommitment",
            "scheme": COMMITMENT_SCHEME,
            "digest": digest.to_hex(),
        }),
    }
}

/// The unsigned VC of credential `id`, issued by the holder of
/// `issuer_key`, with status entries pointing under `status_base_url`.
pub fn credential_document(
    id: &Digest,
    record: &CredentialRecord,
    issuer_key: &PublicKey,
    status_base_url: &str,
) -> Value {
    let mut subject = Map::new();
    subject.insert("id".into(), did_key(&record.holder).into());
    for claim in record.claims.fields() {
        subject.insert(claim.name.to_string(), claim_value(&claim.value));
    }
    let (list, position) = list_position(record.status_index);
    let status: Vec<Value> = StatusPurpose::ALL
        .iter()
        .map(|purpose| {
            let url = status_list_url(status_base_url, &record.issuer, *purpose, list);
            json!({
                "id": format!("{url}#{position}"),
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose.as_str(),
                "statusListIndex": position.to_string(),
                "statusListCredential": url,
            })
        })
        .collect();
    json!({
        "@context": [VC_CONTEXT],
        "id": credential_urn(id),
        "type": ["VerifiableCredential", format!("{}Credential", camel(record.credential_type.as_str()))],
        "issuer": { "id": did_key(issuer_key), "name": record.issuer.as_str() },
        "validFrom": date_time(record.valid_from_ms()),
        "validUntil": date_time(record.valid_until_ms()),
        "credentialSubject": Value::Object(subject),
        "credentialStatus": status,
    })
}

/// The unsigned status list credential of list `list` of `org` for
/// `purpose`, as of block time `as_of_ms`.
pub fn status_list_document(
    org: &OrgName,
    issuer_key: &PublicKey,
    purpose: StatusPurpose,
    list: u32,
    bits: &Bitstring,
    base_url: &str,
    as_of_ms: u64,
) -> Value {
    let url = status_list_url(base_url, org, purpose, list);
    json!({
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": { "id": did_key(issuer_key), "name": org.as_str() },
        "validFrom": date_time(as_of_ms),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.as_str(),
            "encodedList": bits.encode(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_are_utc_with_milliseconds_only_when_present() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (1_672_531_200_000, "2023-01-01T00:00:00Z"),
            (1_677_281_798_000, "2023-02-24T23:36:38Z"),
            (1_677_281_798_123, "2023-02-24T23:36:38.123Z"),
        ];
        for (ms, expected) in cases {
            assert_eq!(date_time(ms), expected);
        }
    }

    #[test]
    fn types_and_positions() {
        assert_eq!(camel("driver_licence"), "DriverLicence");
        assert_eq!(list_position(5), (0, 5));
        assert_eq!(list_position(STATUS_LIST_BITS as u32 + 2), (1, 2));
        assert_eq!(
            StatusPurpose::parse("suspension"),
            Some(StatusPurpose::Suspension)
        );
        assert_eq!(StatusPurpose::parse("expiry"), None);
    }
}
