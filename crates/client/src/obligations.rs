//! The obligation routes: one obligation, listings, history and reports.

use crate::client::{Client, page_query};
use crate::error::ClientError;
use cityledger_api::{
    ObligationHistoryPage, ObligationReport, ObligationStatusFilter, ObligationView,
    ObligationsPage,
};
use cityledger_types::Digest;

/// Which obligations a listing returns: by payer, by issuer, or both, and
/// optionally one status. At least one of `payer` and `issuer` is needed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObligationFilter {
    /// `cl1…` address of the payer.
    pub payer: Option<String>,
    /// Issuing organisation.
    pub issuer: Option<String>,
    /// One status (or `overdue`, `payable`).
    pub status: Option<ObligationStatusFilter>,
}

impl Client {
    /// The obligation `id`, with what it owes at the newest finalized block.
    pub async fn obligation(&self, id: &Digest) -> Result<ObligationView, ClientError> {
        self.get_json(self.url(&["v1", "obligations", &id.to_hex()])?)
            .await
    }

    /// A page of obligations, newest issued first. Pass the previous page's
    /// `next_cursor` to continue.
    pub async fn obligations(
        &self,
        filter: &ObligationFilter,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ObligationsPage, ClientError> {
        let mut url = self.url(&["v1", "obligations"])?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(payer) = &filter.payer {
                query.append_pair("payer", payer);
            }
            if let Some(issuer) = &filter.issuer {
                query.append_pair("issuer", issuer);
            }
            if let Some(status) = filter.status {
                query.append_pair("status", status_name(status));
            }
        }
        page_query(&mut url, cursor, limit);
        self.get_json(url).await
    }

    /// A page of an obligation's history, oldest first.
    pub async fn obligation_history(
        &self,
        id: &Digest,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ObligationHistoryPage, ClientError> {
        let mut url = self.url(&["v1", "obligations", &id.to_hex(), "history"])?;
        page_query(&mut url, cursor, limit);
        self.get_json(url).await
    }

    /// An agency's report over the UTC days `from` to `to` (`YYYY-MM-DD`,
    /// inclusive).
    pub async fn obligation_report(
        &self,
        issuer: &str,
        currency: &str,
        from: &str,
        to: &str,
    ) -> Result<ObligationReport, ClientError> {
        let mut url = self.url(&["v1", "reports", "obligations"])?;
        url.query_pairs_mut()
            .append_pair("issuer", issuer)
            .append_pair("currency", currency)
            .append_pair("from", from)
            .append_pair("to", to);
        self.get_json(url).await
    }
}

fn status_name(status: ObligationStatusFilter) -> &'static str {
    ObligationStatusFilter::ALL
        .iter()
        .find(|(_, filter)| *filter == status)
        .map_or("open", |(name, _)| name)
}
