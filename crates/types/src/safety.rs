//! Public safety: alerts from devices, incidents shared across agencies,
//! evidence with its chain of custody, and case bundles (ADR 0008).
//!
//! An evidence item is a record of [`crate::record`]: its media are sealed
//! off-chain and read through logged accesses. What this module adds is the
//! custody record beside it: who holds the item, the open hand-over offer
//! and the whole custody history in one state entry, so one state proof
//! shows the chain of custody. A case bundle is an ordered list of evidence
//! items, each version committed by the RFC 6962 root ([`crate::merkle`])
//! over the items' leaf hashes.

use crate::block::Height;
use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::encoding::read_bounded_vec;
use crate::limits::{
    ALERT_NOTIFY_MAX, CASE_ITEMS_MAX, CASE_ITEMS_PER_ADD_MAX, CUSTODY_EVENTS_MAX,
    INCIDENT_SHARES_MAX, INCIDENT_UPDATES_MAX, NOTE_BYTES_MAX, UNITS_PER_UPDATE_MAX,
};
use crate::merkle;
use crate::names::{AreaCode, EventKind, OrgName, UnitName};
use crate::record::Anchor;
use crate::tx::bounded_text;
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain tag of alert ids.
const ALERT_DOMAIN: &[u8] = b"cityledger/alert/v1";
/// Domain tag of incident ids.
const INCIDENT_DOMAIN: &[u8] = b"cityledger/incident/v1";
/// Domain tag of case ids.
const CASE_DOMAIN: &[u8] = b"cityledger/case/v1";

/// The id of the alert raised by the transaction `tx_hash`.
pub fn alert_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[ALERT_DOMAIN, &tx_hash.0])
}

/// The id of the incident opened by the transaction `tx_hash`.
pub fn incident_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[INCIDENT_DOMAIN, &tx_hash.0])
}

/// The id of the case created by the transaction `tx_hash`.
pub fn case_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[CASE_DOMAIN, &tx_hash.0])
}

/// The leaf of an evidence item in its case bundle's tree.
pub fn case_item_leaf(item: &Digest) -> Digest {
    merkle::leaf_hash(&item.0)
}

/// The root of a bundle of `items`, in order.
pub fn case_root(items: &[Digest]) -> Digest {
    let leaves: Vec<Digest> = items.iter().map(case_item_leaf).collect();
    merkle::root(&leaves)
}

bounded_text!(
    /// An operational note (an update, an outcome, a case title): words of
    /// the responders, never a person's name or identifier.
    Note, "note", NOTE_BYTES_MAX, true
);

/// A list of at most `$limit` items, bounded when decoded.
macro_rules! bounded_list {
    ($(#[$doc:meta])* $name:ident, $item:ty, $limit:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
        pub struct $name(pub Vec<$item>);

        impl BorshDeserialize for $name {
            fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
                read_bounded_vec(reader, $limit).map($name)
            }
        }

        impl $name {
            /// Whether one more item fits.
            pub fn has_room(&self) -> bool {
                self.0.len() < $limit
            }
        }
    };
}

bounded_list!(
    /// The agencies an alert notifies.
    OrgList, OrgName, ALERT_NOTIFY_MAX
);
bounded_list!(
    /// Units named in one incident update.
    Units, UnitName, UNITS_PER_UPDATE_MAX
);
bounded_list!(
    /// An incident's updates, oldest first.
    IncidentUpdates, IncidentUpdate, INCIDENT_UPDATES_MAX
);
bounded_list!(
    /// The agencies an incident is shared with, in order of sharing.
    Shares, Share, INCIDENT_SHARES_MAX
);
bounded_list!(
    /// An evidence item's custody history, oldest first.
    CustodyHistory, CustodyEvent, CUSTODY_EVENTS_MAX
);
bounded_list!(
    /// The items of a case bundle, in order.
    CaseItems, Digest, CASE_ITEMS_MAX
);
bounded_list!(
    /// The items one `AddToCase` appends, in order.
    CaseAddition, Digest, CASE_ITEMS_PER_ADD_MAX
);

/// How severe an alert or incident is; ordered, so a stream can ask for
/// "at least major".
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum Severity {
    /// For the record.
    Info = 1,
    /// Needs attention.
    Minor = 2,
    /// Needs a response.
    Major = 3,
    /// Lives at risk.
    Critical = 4,
}

impl Severity {
    /// Every severity, least first.
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Minor,
        Severity::Major,
        Severity::Critical,
    ];

    /// The severity as it appears in JSON and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }

    /// Parses [`Severity::as_str`].
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A point, in millionths of a degree (about 0.1 m).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct GeoPoint {
    /// Latitude, −90,000,000 to 90,000,000.
    pub lat_microdeg: i32,
    /// Longitude, −180,000,000 to 180,000,000.
    pub lon_microdeg: i32,
}

/// Why a location was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// Not `lat,lon`.
    #[error("a point is `latitude,longitude` in degrees, e.g. 51.5072,-0.1276")]
    Format,
    /// Outside the globe.
    #[error("latitude must be within ±90 and longitude within ±180 degrees")]
    OutOfRange,
}

impl GeoPoint {
    /// Checks the ranges.
    pub fn check(&self) -> Result<(), LocationError> {
        if self.lat_microdeg.abs() > 90_000_000 || self.lon_microdeg.abs() > 180_000_000 {
            return Err(LocationError::OutOfRange);
        }
        Ok(())
    }

    /// Parses `lat,lon` in decimal degrees, at most six decimals, without
    /// floats.
    pub fn parse(text: &str) -> Result<GeoPoint, LocationError> {
        let (lat, lon) = text.split_once(',').ok_or(LocationError::Format)?;
        let point = GeoPoint {
            lat_microdeg: micro_degrees(lat.trim())?,
            lon_microdeg: micro_degrees(lon.trim())?,
        };
        point.check()?;
        Ok(point)
    }
}

fn micro_degrees(text: &str) -> Result<i32, LocationError> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || fraction.len() > 6 || !all_digits(whole) {
        return Err(LocationError::Format);
    }
    if !all_digits(fraction) {
        return Err(LocationError::Format);
    }
    let whole: i32 = whole.parse().map_err(|_| LocationError::Format)?;
    let mut fraction_micro = 0i32;
    for (position, byte) in fraction.bytes().enumerate() {
        fraction_micro += i32::from(byte - b'0') * 10i32.pow(5 - position as u32);
    }
    let value = whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(fraction_micro))
        .ok_or(LocationError::OutOfRange)?;
    Ok(if negative { -value } else { value })
}

/// Where something happened: the area command centres filter by, and an
/// optional point.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Location {
    /// The area code.
    pub area: AreaCode,
    /// The point, if known.
    pub point: Option<GeoPoint>,
}

impl Location {
    /// Checks the point's ranges.
    pub fn check(&self) -> Result<(), LocationError> {
        self.point.as_ref().map_or(Ok(()), GeoPoint::check)
    }
}

/// Where an incident stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum IncidentStatus {
    /// Opened, nobody sent yet.
    Reported = 1,
    /// Units are on their way.
    Dispatched = 2,
    /// Units are there.
    OnScene = 3,
    /// Under control.
    Contained = 4,
    /// Closed with an outcome; nothing changes it any more.
    Closed = 5,
}

impl IncidentStatus {
    /// The statuses an update may set (closing takes an outcome).
    pub const SETTABLE: [IncidentStatus; 4] = [
        IncidentStatus::Reported,
        IncidentStatus::Dispatched,
        IncidentStatus::OnScene,
        IncidentStatus::Contained,
    ];

    /// The status as it appears in JSON and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            IncidentStatus::Reported => "reported",
            IncidentStatus::Dispatched => "dispatched",
            IncidentStatus::OnScene => "on_scene",
            IncidentStatus::Contained => "contained",
            IncidentStatus::Closed => "closed",
        }
    }

    /// Parses one of [`IncidentStatus::SETTABLE`].
    pub fn parse_settable(text: &str) -> Option<IncidentStatus> {
        IncidentStatus::SETTABLE
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What kind of media an evidence item holds.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum MediaKind {
    /// A video clip.
    Video = 1,
    /// A still image.
    StillImage = 2,
    /// An audio recording.
    Audio = 3,
    /// Readings of a sensor.
    SensorData = 4,
    /// A document or statement.
    Document = 5,
}

impl MediaKind {
    /// Every kind.
    pub const ALL: [MediaKind; 5] = [
        MediaKind::Video,
        MediaKind::StillImage,
        MediaKind::Audio,
        MediaKind::SensorData,
        MediaKind::Document,
    ];

    /// The kind as it appears in JSON and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            MediaKind::Video => "video",
            MediaKind::StillImage => "still_image",
            MediaKind::Audio => "audio",
            MediaKind::SensorData => "sensor_data",
            MediaKind::Document => "document",
        }
    }

    /// Parses [`MediaKind::as_str`].
    pub fn parse(text: &str) -> Option<MediaKind> {
        MediaKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// What an evidence item belongs to.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(tag = "to", content = "id", rename_all = "snake_case")]
pub enum EvidenceLink {
    /// An incident.
    Incident(Digest),
    /// A case.
    Case(Digest),
}

/// What an `AddEvidence` states besides the record's anchor.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EvidenceAnchor {
    /// The record of the media: sealed content, commitment, owner, the
    /// custodian organisation (`org`, required).
    pub anchor: Anchor,
    /// The incident or case it belongs to.
    pub link: EvidenceLink,
    /// What the media are.
    pub media_kind: MediaKind,
    /// When they were captured, ms; not after block time.
    pub captured_at_ms: u64,
    /// Where.
    pub location: Location,
    /// The registered device that captured them, when an officer anchors
    /// them; the signer itself when a device does.
    pub source_device: Option<PublicKey>,
}

/// An operation of public safety.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum SafetyOp {
    /// Raise an alert; signed by an active registered device.
    RaiseAlert {
        /// What was detected.
        kind: EventKind,
        /// How severe.
        severity: Severity,
        /// Where.
        location: Location,
        /// SHA-256 of the clip or still that shows it; the media stay with
        /// the device's organisation.
        media: Digest,
        /// When it was captured, ms; not after block time.
        captured_at_ms: u64,
        /// Agencies to notify besides the device's own.
        notify: OrgList,
    },
    /// Open an incident; signed by a responder of `org`.
    OpenIncident {
        /// The agency that opens and leads it.
        org: OrgName,
        /// What happened.
        kind: EventKind,
        /// How severe.
        severity: Severity,
        /// Where.
        location: Location,
        /// The first report.
        note: Note,
    },
    /// Record an update; signed by a responder of the opening agency or of
    /// one it is shared with (`org`).
    UpdateIncident {
        /// The incident.
        incident: Digest,
        /// The agency the signer acts for.
        org: OrgName,
        /// The new status, if it changes (not `closed`).
        status: Option<IncidentStatus>,
        /// The new severity, if it changes.
        severity: Option<Severity>,
        /// The new location, if it moved.
        location: Option<Location>,
        /// Units dispatched with this update.
        units: Units,
        /// What happened.
        note: Note,
    },
    /// Share the incident with another agency; signed by a responder of
    /// the opening agency.
    ShareIncident {
        /// The incident.
        incident: Digest,
        /// The agency.
        with: OrgName,
    },
    /// Close the incident with an outcome; signed by a responder of the
    /// opening agency.
    CloseIncident {
        /// The incident.
        incident: Digest,
        /// How it ended.
        outcome: Note,
    },
    /// Anchor an evidence item (a record) and open its custody with the
    /// record's organisation; signed by a device or a member of it.
    AddEvidence(Box<EvidenceAnchor>),
    /// Offer the item to another agency's member; signed by a custodian
    /// of the organisation holding it, naming what it hands over.
    OfferHandover {
        /// The evidence item (its record id).
        evidence: Digest,
        /// The receiving agency.
        to: OrgName,
        /// Its member who is to accept.
        receiver: PublicKey,
        /// The record's commitment.
        commitment: Digest,
    },
    /// Accept the offered item; signed by the named receiver, naming the
    /// commitment of what it received.
    AcceptHandover {
        /// The evidence item.
        evidence: Digest,
        /// The commitment of the media received.
        commitment: Digest,
    },
    /// Create a case; signed by a member of `org`.
    CreateCase {
        /// The agency that builds it.
        org: OrgName,
        /// The incident it is about, if any.
        incident: Option<Digest>,
        /// A short title, no personal data.
        title: Note,
    },
    /// Append evidence items to a case, making its next version; signed
    /// by a member of the case's organisation.
    AddToCase {
        /// The case.
        case: Digest,
        /// The items, in order; each an evidence item not yet in the case.
        items: CaseAddition,
    },
}

/// An alert in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AlertRecord {
    /// The device that raised it.
    pub device: PublicKey,
    /// Its organisation.
    pub org: OrgName,
    /// What was detected.
    pub kind: EventKind,
    /// How severe.
    pub severity: Severity,
    /// Where.
    pub location: Location,
    /// Commitment to the media.
    pub media: Digest,
    /// When captured, ms.
    pub captured_at_ms: u64,
    /// Agencies notified.
    pub notify: OrgList,
    /// Height of the raising block.
    pub height: Height,
    /// Its block time, ms.
    pub at_ms: u64,
}

/// One update of an incident.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct IncidentUpdate {
    /// Height of its block.
    pub height: Height,
    /// Block time, ms.
    pub at_ms: u64,
    /// Who recorded it.
    pub by: PublicKey,
    /// For which agency.
    pub org: OrgName,
    /// The status after it.
    pub status: IncidentStatus,
    /// The severity after it.
    pub severity: Severity,
    /// The new location, if it moved.
    pub location: Option<Location>,
    /// Units dispatched.
    pub units: Units,
    /// What happened.
    pub note: Note,
}

/// A grant of an incident to an agency.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Share {
    /// The agency.
    pub org: OrgName,
    /// Who shared it.
    pub by: PublicKey,
    /// Height of the sharing block.
    pub height: Height,
    /// Its block time, ms.
    pub at_ms: u64,
}

/// How an incident was closed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Closure {
    /// Who closed it.
    pub by: PublicKey,
    /// Height of the closing block.
    pub height: Height,
    /// Its block time, ms.
    pub at_ms: u64,
    /// How it ended.
    pub outcome: Note,
}

/// An incident in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct IncidentRecord {
    /// The agency that opened and leads it.
    pub org: OrgName,
    /// What happened.
    pub kind: EventKind,
    /// How severe, now.
    pub severity: Severity,
    /// Where, now.
    pub location: Location,
    /// Where it stands.
    pub status: IncidentStatus,
    /// Who opened it.
    pub opened_by: PublicKey,
    /// Height of the opening block.
    pub opened_height: Height,
    /// Its block time, ms.
    pub opened_at_ms: u64,
    /// The first report.
    pub note: Note,
    /// Updates, oldest first.
    pub updates: IncidentUpdates,
    /// The agencies it is shared with.
    pub shares: Shares,
    /// Set once closed.
    pub closure: Option<Closure>,
}

impl IncidentRecord {
    /// Whether `org` is the opening agency or one it is shared with.
    pub fn is_visible_to(&self, org: &OrgName) -> bool {
        self.org == *org || self.shares.0.iter().any(|share| share.org == *org)
    }

    /// The opening agency, then every agency it is shared with.
    pub fn agencies(&self) -> Vec<OrgName> {
        let mut orgs = vec![self.org.clone()];
        orgs.extend(self.shares.0.iter().map(|share| share.org.clone()));
        orgs
    }
}

/// What happened to an evidence item's custody.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum CustodyEventKind {
    /// Anchored; custody opened with the record's organisation.
    Collected,
    /// Offered to another agency's member.
    Offered {
        /// The receiving agency.
        to: OrgName,
        /// Its member who is to accept.
        receiver: PublicKey,
    },
    /// Accepted: custody moved.
    Accepted {
        /// The agency that held it.
        from: OrgName,
    },
}

/// One entry of a custody history.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CustodyEvent {
    /// What happened.
    pub kind: CustodyEventKind,
    /// The agency that acted.
    pub org: OrgName,
    /// Who signed.
    pub by: PublicKey,
    /// Height of its block.
    pub height: Height,
    /// Block time, ms.
    pub at_ms: u64,
}

/// An open hand-over offer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CustodyOffer {
    /// The receiving agency.
    pub to: OrgName,
    /// Its member who is to accept.
    pub receiver: PublicKey,
    /// Who offered.
    pub by: PublicKey,
    /// Height of the offering block.
    pub height: Height,
}

/// An evidence item's custody, beside its record.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CustodyRecord {
    /// What it belongs to.
    pub link: EvidenceLink,
    /// What the media are.
    pub media_kind: MediaKind,
    /// When captured, ms.
    pub captured_at_ms: u64,
    /// Where.
    pub location: Location,
    /// The device that captured them, if known.
    pub source_device: Option<PublicKey>,
    /// The record's content commitment, which every hand-over names.
    pub commitment: Digest,
    /// The agency holding it now.
    pub custodian: OrgName,
    /// The open offer, if any.
    pub offer: Option<CustodyOffer>,
    /// Every custody event, oldest first.
    pub history: CustodyHistory,
}

/// A case in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CaseRecord {
    /// The agency that builds it.
    pub org: OrgName,
    /// The incident it is about, if any.
    pub incident: Option<Digest>,
    /// Its title.
    pub title: Note,
    /// Its evidence items, in order; only ever appended to.
    pub items: CaseItems,
    /// How many versions it has had (version numbers start at 1).
    pub versions: u32,
    /// Height of the creating block.
    pub created_height: Height,
    /// Its block time, ms.
    pub created_at_ms: u64,
}

/// One version of a case bundle: the first `item_count` items of the case.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CaseVersionRecord {
    /// How many items (the first ones of the case).
    pub item_count: u32,
    /// [`case_root`] of those items.
    pub root: Digest,
    /// Height of the block that made it.
    pub height: Height,
    /// Its block time, ms.
    pub at_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_without_floats() {
        let cases = [
            ("51.5072,-0.1276", Ok((51_507_200, -127_600))),
            ("-90,180", Ok((-90_000_000, 180_000_000))),
            ("0.000001, 0", Ok((1, 0))),
            ("90.000001,0", Err(LocationError::OutOfRange)),
            ("51.5072", Err(LocationError::Format)),
            ("51.1234567,0", Err(LocationError::Format)),
            ("a,b", Err(LocationError::Format)),
            ("1e3,0", Err(LocationError::Format)),
        ];
        for (text, expected) in cases {
            let parsed = GeoPoint::parse(text).map(|p| (p.lat_microdeg, p.lon_microdeg));
            assert_eq!(parsed, expected, "{text}");
        }
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Info < Severity::Critical);
        for severity in Severity::ALL {
            assert_eq!(Severity::parse(severity.as_str()), Some(severity));
        }
        assert_eq!(Severity::parse("urgent"), None);
        assert_eq!(IncidentStatus::parse_settable("closed"), None);
        assert_eq!(
            IncidentStatus::parse_settable("on_scene"),
            Some(IncidentStatus::OnScene)
        );
    }

    #[test]
    fn a_bundle_proves_each_item_at_its_position_only() {
        let items: Vec<Digest> = (0..5u8).map(|i| Digest([i; 32])).collect();
        let root = case_root(&items);
        let leaves: Vec<Digest> = items.iter().map(case_item_leaf).collect();
        for index in 0..items.len() {
            let proof = merkle::prove(&leaves, index);
            assert_eq!(proof.verify(&case_item_leaf(&items[index]), &root), Ok(()));
            let other = (index + 1) % items.len();
            assert!(proof.verify(&case_item_leaf(&items[other]), &root).is_err());
        }
        assert_ne!(case_root(&items[..4]), root);
        let too_many = vec![Digest::ZERO; CASE_ITEMS_PER_ADD_MAX + 1];
        assert!(borsh::from_slice::<CaseAddition>(&borsh::to_vec(&too_many).unwrap()).is_err());
    }
}
