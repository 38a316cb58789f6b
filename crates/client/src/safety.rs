//! The public safety and education routes: alerts, incidents (reads signed
//! with the reader's key), evidence with its custody, case bundles, exam
//! results, and the custody and bundle-item receipts.

use crate::client::{Client, page_query};
use crate::error::ClientError;
use cityledger_api::{
    AlertsPage, CaseView, EvidenceView, ExamResultsPage, IncidentView, IncidentsPage, ReceiptView,
};
use cityledger_types::{Digest, SecretKey};

impl Client {
    /// A page of the alerts `org` received, newest first.
    pub async fn alerts(
        &self,
        org: &str,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<AlertsPage, ClientError> {
        let mut url = self.url(&["v1", "alerts"])?;
        url.query_pairs_mut().append_pair("org", org);
        page_query(&mut url, cursor, limit);
        self.get_json(url).await
    }

    /// The incident `id`, read as `reader` (a member of an agency it is
    /// shared with; a 403 `incident_not_shared` otherwise).
    pub async fn incident(
        &self,
        id: &Digest,
        reader: &SecretKey,
    ) -> Result<IncidentView, ClientError> {
        let url = self.url(&["v1", "incidents", &id.to_hex()])?;
        self.signed_get_json(url, reader).await
    }

    /// A page of the incidents `org` sees, read as `reader`, one of its
    /// members.
    pub async fn incidents(
        &self,
        org: &str,
        reader: &SecretKey,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<IncidentsPage, ClientError> {
        let mut url = self.url(&["v1", "incidents"])?;
        url.query_pairs_mut().append_pair("org", org);
        page_query(&mut url, cursor, limit);
        self.signed_get_json(url, reader).await
    }

    /// The evidence item `id` with its custody.
    pub async fn evidence(&self, id: &Digest) -> Result<EvidenceView, ClientError> {
        self.get_json(self.url(&["v1", "evidence", &id.to_hex()])?)
            .await
    }

    /// The case `id` with every version.
    pub async fn case(&self, id: &Digest) -> Result<CaseView, ClientError> {
        self.get_json(self.url(&["v1", "cases", &id.to_hex()])?)
            .await
    }

    /// Exam `id` and a page of its entries.
    pub async fn exam_results(
        &self,
        id: &Digest,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ExamResultsPage, ClientError> {
        let mut url = self.url(&["v1", "exams", &id.to_hex(), "results"])?;
        page_query(&mut url, cursor, limit);
        self.get_json(url).await
    }

    /// The receipt of evidence `id`'s custody; verify it offline before
    /// trusting it.
    pub async fn custody_receipt(&self, id: &Digest) -> Result<ReceiptView, ClientError> {
        self.get_json(self.url(&["v1", "receipts", "custody", &id.to_hex()])?)
            .await
    }

    /// The receipt that `item` is at its position in `version` (the newest
    /// if `None`) of `case`; verify it offline before trusting it.
    pub async fn case_item_receipt(
        &self,
        case: &Digest,
        item: &Digest,
        version: Option<u32>,
    ) -> Result<ReceiptView, ClientError> {
        let mut url = self.url(&["v1", "receipts", "case", &case.to_hex(), &item.to_hex()])?;
        if let Some(version) = version {
            url.query_pairs_mut()
                .append_pair("version", &version.to_string());
        }
        self.get_json(url).await
    }
}
