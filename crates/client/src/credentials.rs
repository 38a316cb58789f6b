//! The application and credential routes: records, listings, histories,
//! a credential's status with its proof, and issuers' status lists.

use crate::client::{Client, page_query};
use crate::error::ClientError;
use cityledger_api::{
    ApplicationView, ApplicationsPage, CredentialStatusProof, CredentialView, CredentialsPage,
    ObligationHistoryPage, StatusListView,
};
use cityledger_types::Digest;

/// Which applications a listing returns: an applicant's (optionally of one
/// deciding organisation), or an organisation's queue. At least one of
/// `applicant` and `org` is needed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplicationFilter {
    /// `cl1…` address of the applicant's key.
    pub applicant: Option<String>,
    /// Deciding organisation.
    pub org: Option<String>,
    /// `open` or `decided`.
    pub status: Option<String>,
}

/// The moment a status question asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// The newest finalized block.
    Now,
    /// After a finalized block, at its block time.
    Height(u64),
    /// A block time, ms since the Unix epoch.
    Time(u64),
}

impl Client {
    /// The application `id`.
    pub async fn application(&self, id: &Digest) -> Result<ApplicationView, ClientError> {
        self.get_json(self.url(&["v1", "applications", &id.to_hex()])?)
            .await
    }

    /// A page of applications, newest first.
    pub async fn applications(
        &self,
        filter: &ApplicationFilter,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ApplicationsPage, ClientError> {
        let mut url = self.url(&["v1", "applications"])?;
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in [
                ("applicant", &filter.applicant),
                ("org", &filter.org),
                ("status", &filter.status),
            ] {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
        }
        page_query(&mut url, cursor, limit);
        self.get_json(url).await
    }

    /// A page of an application's history, oldest first.
    pub async fn application_history(
        &self,
        id: &Digest,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ObligationHistoryPage, ClientError> {
        let mut url = self.url(&["v1", "applications", &id.to_hex(), "history"])?;
        page_query(&mut url, cursor, limit);
        self.get_json(url).await
    }

    /// The credential `id`, with its status at the newest finalized block.
    pub async fn credential(&self, id: &Digest) -> Result<CredentialView, ClientError> {
        self.get_json(self.url(&["v1", "credentials", &id.to_hex()])?)
            .await
    }

    /// A page of the credentials of a holder (`cl1…`) or of an issuer.
    pub async fn credentials(
        &self,
        holder: Option<&str>,
        issuer: Option<&str>,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<CredentialsPage, ClientError> {
        let mut url = self.url(&["v1", "credentials"])?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(holder) = holder {
                query.append_pair("holder", holder);
            }
            if let Some(issuer) = issuer {
                query.append_pair("issuer", issuer);
            }
        }
        page_query(&mut url, cursor, limit);
        self.get_json(url).await
    }

    /// A page of a credential's history, oldest first.
    pub async fn credential_history(
        &self,
        id: &Digest,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ObligationHistoryPage, ClientError> {
        let mut url = self.url(&["v1", "credentials", &id.to_hex(), "history"])?;
        page_query(&mut url, cursor, limit);
        self.get_json(url).await
    }

    /// The status of credential `id` at `moment`, with the proof of its
    /// record. Check it with [`CredentialStatusProof::check`] before
    /// trusting it.
    pub async fn credential_status(
        &self,
        id: &Digest,
        moment: Moment,
    ) -> Result<CredentialStatusProof, ClientError> {
        let mut url = self.url(&["v1", "credentials", &id.to_hex(), "status"])?;
        match moment {
            Moment::Now => {}
            Moment::Height(height) => {
                url.query_pairs_mut()
                    .append_pair("height", &height.to_string());
            }
            Moment::Time(ms) => {
                url.query_pairs_mut().append_pair("at", &ms.to_string());
            }
        }
        self.get_json(url).await
    }

    /// Status list `list` of `org` for `purpose` (`revocation` or
    /// `suspension`).
    pub async fn status_list(
        &self,
        org: &str,
        purpose: &str,
        list: u32,
    ) -> Result<StatusListView, ClientError> {
        self.get_json(self.url(&["v1", "status-lists", org, purpose, &list.to_string()])?)
            .await
    }
}
