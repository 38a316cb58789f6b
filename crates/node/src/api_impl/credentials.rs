//! Application and credential queries: records from the finalized state,
//! listings and histories from the derived indexes, status answers with
//! the proof of the record, and status lists built from the issuer's
//! positions.

use super::internal;
use super::obligations::{Snapshot, decode_cursor, history_page};
use crate::credential_indexes::{
    self, ApplicationGroup, ApplicationListing, CredentialListing, status_position_key,
    status_position_prefix,
};
use crate::rest::{
    ApiError, ApplicationQuery, ApplicationStatusFilter, CredentialQuery, StatusMoment,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityledger_api::limits::LISTING_SCAN_MAX;
use cityledger_api::problem::code;
use cityledger_api::{
    ApplicationView, ApplicationsPage, CredentialStatusProof, CredentialView, CredentialsPage,
    ObligationHistoryPage, StatusListView,
};
use cityledger_storage::{INDEX_PAGE_MAX, ScanOrder, Store};
use cityledger_types::application::ApplicationRecord;
use cityledger_types::credential::{AsOf, CredentialRecord, IssuerKeys};
use cityledger_types::records::{OrgRecord, StateKey};
use cityledger_types::{Digest, Height, OrgName, PublicKey};
use cityledger_vc::limits::STATUS_LIST_BITS;
use cityledger_vc::{Bitstring, StatusPurpose, status_list_document};

/// The application `id`.
pub(super) fn application(
    snapshot: &Snapshot<'_>,
    id: Digest,
) -> Result<Option<ApplicationView>, ApiError> {
    Ok(snapshot
        .load::<ApplicationRecord>(&StateKey::Application(id))?
        .map(|record| ApplicationView::new(id, &record)))
}

fn as_of(snapshot: &Snapshot<'_>) -> AsOf {
    AsOf {
        height: snapshot.height,
        time_ms: snapshot.as_of_ms,
    }
}

fn issuer_key(snapshot: &Snapshot<'_>, org: &OrgName) -> Result<Option<PublicKey>, ApiError> {
    Ok(snapshot
        .load::<IssuerKeys>(&StateKey::IssuerKeys(org.clone()))?
        .and_then(|keys| keys.current().copied()))
}

/// The credential `id`, with its status at the tip.
pub(super) fn credential(
    snapshot: &Snapshot<'_>,
    id: Digest,
) -> Result<Option<CredentialView>, ApiError> {
    let Some(record) = snapshot.load::<CredentialRecord>(&StateKey::Credential(id))? else {
        return Ok(None);
    };
    let key = issuer_key(snapshot, &record.issuer)?;
    Ok(Some(CredentialView::new(id, &record, as_of(snapshot), key)))
}

/// A page of the index under `prefix`, newest first, turning each listed
/// id into an item with `item` (which may skip it). Reads at most
/// `LISTING_SCAN_MAX` entries per page, so a filter that keeps little
/// cannot make one request scan a whole agency's records.
pub(super) fn listing_page<T>(
    store: &dyn Store,
    prefix: &[u8],
    cursor: Option<&str>,
    limit: usize,
    mut item: impl FnMut(Digest) -> Result<Option<T>, ApiError>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let mut after = cursor
        .map(|cursor| decode_cursor(cursor, prefix))
        .transpose()?;
    let mut items = Vec::with_capacity(limit);
    let mut scanned = 0usize;
    loop {
        let batch_size = (limit - items.len()).min(LISTING_SCAN_MAX - scanned);
        let entries = store
            .index_scan(prefix, after.as_deref(), batch_size, ScanOrder::Descending)
            .map_err(internal)?;
        scanned += entries.len();
        for (key, _) in &entries {
            let id =
                crate::indexes::listed_id(key).ok_or_else(|| internal("malformed index key"))?;
            if let Some(found) = item(id)? {
                items.push(found);
            }
        }
        let exhausted = entries.len() < batch_size;
        after = entries.last().map(|(key, _)| key.clone()).or(after);
        if exhausted {
            return Ok((items, None));
        }
        if items.len() >= limit || scanned >= LISTING_SCAN_MAX {
            return Ok((items, after.map(|key| URL_SAFE_NO_PAD.encode(key))));
        }
    }
}

/// A page of applications: an applicant's (filtered by organisation and
/// status), or an organisation's in one group (`open` by default).
pub(super) fn applications(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    query: &ApplicationQuery,
) -> Result<ApplicationsPage, ApiError> {
    let group = query.status.map(|status| match status {
        ApplicationStatusFilter::Open => ApplicationGroup::Open,
        ApplicationStatusFilter::Decided => ApplicationGroup::Decided,
    });
    let listing = match (&query.applicant, &query.org) {
        (Some(applicant), _) => ApplicationListing::Applicant(*applicant),
        (None, Some(org)) => {
            ApplicationListing::Org(org.clone(), group.unwrap_or(ApplicationGroup::Open))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                code::MISSING_PARAMETER,
                "applicant",
                "give applicant, org or both",
            ));
        }
    };
    let prefix = credential_indexes::application_prefix(&listing);
    let (items, next_cursor) =
        listing_page(store, &prefix, query.cursor.as_deref(), query.limit, |id| {
            let Some(record) = snapshot.load::<ApplicationRecord>(&StateKey::Application(id))?
            else {
                return Ok(None);
            };
            let org_matches = query.org.as_ref().is_none_or(|org| *org == record.org);
            let group_matches = group.is_none_or(|g| g == ApplicationGroup::of(record.status));
            Ok((org_matches && group_matches).then(|| ApplicationView::new(id, &record)))
        })?;
    Ok(ApplicationsPage { items, next_cursor })
}

/// A page of credentials: a holder's (filtered by issuer) or an issuer's.
pub(super) fn credentials(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    query: &CredentialQuery,
) -> Result<CredentialsPage, ApiError> {
    let listing = match (&query.holder, &query.issuer) {
        (Some(holder), _) => CredentialListing::Holder(*holder),
        (None, Some(issuer)) => CredentialListing::Issuer(issuer.clone()),
        (None, None) => {
            return Err(ApiError::bad_request(
                code::MISSING_PARAMETER,
                "holder",
                "give holder, issuer or both",
            ));
        }
    };
    let prefix = credential_indexes::credential_prefix(&listing);
    let (items, next_cursor) =
        listing_page(store, &prefix, query.cursor.as_deref(), query.limit, |id| {
            let Some(record) = snapshot.load::<CredentialRecord>(&StateKey::Credential(id))? else {
                return Ok(None);
            };
            if query
                .issuer
                .as_ref()
                .is_some_and(|issuer| *issuer != record.issuer)
            {
                return Ok(None);
            }
            let key = issuer_key(snapshot, &record.issuer)?;
            Ok(Some(CredentialView::new(id, &record, as_of(snapshot), key)))
        })?;
    Ok(CredentialsPage { items, next_cursor })
}

/// A page of the history of application `id`.
pub(super) fn application_history(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    id: Digest,
    cursor: Option<String>,
    limit: usize,
) -> Result<ObligationHistoryPage, ApiError> {
    if snapshot
        .load::<ApplicationRecord>(&StateKey::Application(id))?
        .is_none()
    {
        return Err(ApiError::not_found(
            code::APPLICATION_NOT_FOUND,
            format!("no application {id}"),
        ));
    }
    let prefix = credential_indexes::application_history_prefix(&id);
    history_page(store, &prefix, cursor, limit)
}

/// A page of the history of credential `id`.
pub(super) fn credential_history(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    id: Digest,
    cursor: Option<String>,
    limit: usize,
) -> Result<ObligationHistoryPage, ApiError> {
    if snapshot
        .load::<CredentialRecord>(&StateKey::Credential(id))?
        .is_none()
    {
        return Err(credential_not_found(id));
    }
    let prefix = credential_indexes::credential_history_prefix(&id);
    history_page(store, &prefix, cursor, limit)
}

fn credential_not_found(id: Digest) -> ApiError {
    ApiError::not_found(code::CREDENTIAL_NOT_FOUND, format!("no credential {id}"))
}

/// The status of credential `id` at `moment`, proven at the tip.
/// `block_time` gives the block time of a finalized height.
pub(super) fn credential_status(
    snapshot: &Snapshot<'_>,
    block_id: Digest,
    id: Digest,
    moment: StatusMoment,
    block_time: impl Fn(Height) -> Result<Option<u64>, ApiError>,
) -> Result<CredentialStatusProof, ApiError> {
    let key = StateKey::Credential(id).to_bytes();
    let Some(bytes) = snapshot.state.get(&key) else {
        return Err(credential_not_found(id));
    };
    let record: CredentialRecord = borsh::from_slice(bytes).map_err(internal)?;
    let as_of = match moment {
        StatusMoment::Now => as_of(snapshot),
        StatusMoment::Time(time_ms) => AsOf {
            height: snapshot.height,
            time_ms,
        },
        StatusMoment::Height(height) => {
            let not_final = || {
                ApiError::not_found(
                    code::HEIGHT_NOT_FINALIZED,
                    format!(
                        "height {height} is not finalized; the newest finalized height is {}",
                        snapshot.height
                    ),
                )
            };
            if height > snapshot.height {
                return Err(not_final());
            }
            let time_ms = block_time(height)?.ok_or_else(not_final)?;
            AsOf { height, time_ms }
        }
    };
    Ok(CredentialStatusProof {
        credential: id,
        status: record.status_at(&as_of),
        as_of_height: as_of.height,
        as_of_ms: as_of.time_ms,
        record: URL_SAFE_NO_PAD.encode(bytes),
        proof: snapshot.state.prove(&key),
        state_root: snapshot.state.root(),
        proven_height: snapshot.height,
        block_id,
    })
}

/// Status list `list` of `org` for `purpose`: one bit per position of the
/// list, set when the credential at that position is revoked (or, for
/// suspension, suspended now). Reads the issuer's positions in order, at
/// most `STATUS_LIST_BITS` of them.
pub(super) fn status_list(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    org: &OrgName,
    purpose: StatusPurpose,
    list: u32,
    base_url: &str,
) -> Result<StatusListView, ApiError> {
    if snapshot
        .load::<OrgRecord>(&StateKey::Org(org.clone()))?
        .is_none()
    {
        return Err(ApiError::not_found(
            code::ORG_NOT_FOUND,
            format!("organisation {org} does not exist"),
        ));
    }
    // STATUS_LIST_BITS fits u32 with room; a list number past the last
    // position has no credentials, and reads nothing.
    let bits = STATUS_LIST_BITS as u32;
    let first = u64::from(list) * u64::from(bits);
    let mut list_bits = Bitstring::default();
    if let Ok(first) = u32::try_from(first) {
        let prefix = status_position_prefix(org);
        let mut after = first
            .checked_sub(1)
            .map(|before| status_position_key(org, before));
        let end = u64::from(first) + u64::from(bits);
        let mut read = 0usize;
        'scan: while read < STATUS_LIST_BITS {
            let batch = INDEX_PAGE_MAX.min(STATUS_LIST_BITS - read);
            let entries = store
                .index_scan(&prefix, after.as_deref(), batch, ScanOrder::Ascending)
                .map_err(internal)?;
            read += entries.len();
            for (key, value) in &entries {
                let position = key
                    .len()
                    .checked_sub(4)
                    .and_then(|at| key[at..].try_into().ok())
                    .map(u32::from_be_bytes)
                    .ok_or_else(|| internal("malformed status position key"))?;
                if u64::from(position) >= end {
                    break 'scan;
                }
                let id: [u8; 32] = value
                    .as_slice()
                    .try_into()
                    .map_err(|_| internal("malformed status position value"))?;
                let record =
                    snapshot.load::<CredentialRecord>(&StateKey::Credential(Digest(id)))?;
                if record.is_some_and(|record| purpose.bit_of(&record)) {
                    list_bits
                        .set((position - first) as usize)
                        .map_err(internal)?;
                }
            }
            if entries.len() < batch {
                break;
            }
            after = entries.last().map(|(key, _)| key.clone());
        }
    }
    let key = issuer_key(snapshot, org)?;
    let credential = key.map(|key| {
        status_list_document(
            org,
            &key,
            purpose,
            list,
            &list_bits,
            base_url,
            snapshot.as_of_ms,
        )
    });
    Ok(StatusListView {
        org: org.clone(),
        purpose: purpose.as_str().to_owned(),
        list,
        bits,
        // At most STATUS_LIST_BITS.
        set_count: list_bits.count() as u32,
        encoded_list: list_bits.encode(),
        issuer_key: key,
        as_of_height: snapshot.height,
        as_of_ms: snapshot.as_of_ms,
        credential,
    })
}
