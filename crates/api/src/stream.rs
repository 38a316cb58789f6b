//! The event stream on the wire: one message per finalized block.
//!
//! Each message is a server-sent event whose `id` is the block height, so a
//! client resumes after a disconnect by sending `Last-Event-ID` (or
//! `from_height`) and misses nothing.

use cityledger_types::{Digest, Height};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One effect of a finalized block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamEventItem {
    /// The transaction that caused it, hex; absent for effects of the block
    /// itself (such as pending transfers timing out).
    #[schema(value_type = Option<String>)]
    pub tx: Option<Digest>,
    /// The state machine's event (`cityledger_state::Event`) as JSON: an
    /// object tagged by `type`, e.g. `{"type": "transferred", "from": …}`.
    /// Kept as a JSON value so that older clients can read newer event types.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// A finalized block and what it did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamEvent {
    /// Block height; also the SSE event id.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block id, hex.
    #[schema(value_type = String)]
    pub block_id: Digest,
    /// Block time, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Number of transactions in the block.
    pub tx_count: u32,
    /// Effects, in execution order.
    pub events: Vec<StreamEventItem>,
}

/// What a subscriber keeps of each block: the events that concern one
/// agency, one area and at least one severity (ADR 0008). An event
/// concerns an agency when its `org`, its `issuer` or one of its `orgs` is
/// that agency; it is in an area when its `area` is it; it is at least a
/// severity when its `severity` is that or worse. Events without the field
/// a filter asks about do not match it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamFilter {
    /// Only events that concern this agency.
    pub org: Option<cityledger_types::OrgName>,
    /// Only events in this area.
    pub area: Option<cityledger_types::AreaCode>,
    /// Only events at least this severe.
    pub severity: Option<cityledger_types::safety::Severity>,
}

impl StreamFilter {
    /// Whether it keeps every event.
    pub fn is_empty(&self) -> bool {
        self.org.is_none() && self.area.is_none() && self.severity.is_none()
    }

    /// Whether `event` (a state machine event as JSON) passes.
    pub fn matches(&self, event: &serde_json::Value) -> bool {
        let text = |field: &str| event.get(field).and_then(serde_json::Value::as_str);
        if let Some(org) = &self.org {
            let name = org.as_str();
            let listed = event
                .get("orgs")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|orgs| orgs.iter().any(|o| o.as_str() == Some(name)));
            if !(listed || text("org") == Some(name) || text("issuer") == Some(name)) {
                return false;
            }
        }
        if let Some(area) = &self.area
            && text("area") != Some(area.as_str())
        {
            return false;
        }
        if let Some(least) = self.severity {
            let severe = text("severity")
                .and_then(cityledger_types::safety::Severity::parse)
                .is_some_and(|severity| severity >= least);
            if !severe {
                return false;
            }
        }
        true
    }

    /// The block with only the events that pass, or `None` if none does
    /// (an empty filter keeps every block whole).
    pub fn apply(&self, mut block: StreamEvent) -> Option<StreamEvent> {
        if self.is_empty() {
            return Some(block);
        }
        block.events.retain(|item| self.matches(&item.event));
        (!block.events.is_empty()).then_some(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_filter_keeps_what_concerns_the_agency_in_the_area_and_severe_enough() {
        let filter = StreamFilter {
            org: Some(cityledger_types::OrgName::new("fire").unwrap()),
            area: Some(cityledger_types::AreaCode::new("district-7").unwrap()),
            severity: Some(cityledger_types::safety::Severity::Major),
        };
        let event = |orgs: &[&str], area: &str, severity: &str| json!({"type": "incident_updated", "org": "police", "orgs": orgs, "area": area, "severity": severity});
        let cases = [
            (event(&["police", "fire"], "district-7", "major"), true),
            (event(&["police", "fire"], "district-7", "critical"), true),
            (event(&["police"], "district-7", "critical"), false),
            (event(&["police", "fire"], "district-8", "critical"), false),
            (event(&["police", "fire"], "district-7", "minor"), false),
            (
                json!({"type": "obligation_issued", "issuer": "fire"}),
                false,
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(filter.matches(&event), expected, "{event}");
        }
        let by_org = StreamFilter {
            org: Some(cityledger_types::OrgName::new("treasury").unwrap()),
            ..StreamFilter::default()
        };
        assert!(by_org.matches(&json!({"type": "obligation_issued", "issuer": "treasury"})));
        assert!(!by_org.matches(&json!({"type": "transferred"})));
    }
}
