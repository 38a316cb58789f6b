//! Replication of records' sealed blobs to the nodes of the organisations
//! that may read them (ADR 0007), and nowhere else.
//!
//! An organisation's node may hold a record when the record is controlled
//! by that organisation, or when its owner, author or one of its
//! recipients is a member or a device of it, or when a live grant of the
//! owner names a reader who is. Both sides judge this against their own
//! finalized state: the node that wants a record asks only for what its
//! organisation may hold, and a holder answers only a peer whose
//! organisation may hold it. Blobs travel in parts that the receiver
//! checks in order and, once whole, against the digest the record names
//! on chain, so a peer can withhold a blob but never plant one.
//!
//! Wrapped keys travel two ways: with a blob's parts (added only for
//! readers the receiver holds no key of, since nothing on chain
//! authenticates them), and as the owner's or author's signed key upload,
//! which the receiver verifies exactly as the REST API does.
//!
//! This module holds the rule, the messages and the bookkeeping; the p2p
//! loop that carries them is in `consensus::replication`.

use crate::chain::ExecutedBlock;
use crate::core::NodeCore;
use borsh::{BorshDeserialize, BorshSerialize};
use cityledger_state::records::judge;
use cityledger_types::device::DeviceRecord;
use cityledger_types::limits::BLOB_BYTES_MAX;
use cityledger_types::record::{AccessDecision, GrantRecord, GrantScope, Record};
use cityledger_types::records::StateKey;
use cityledger_types::sealed::{KeyUpload, WrappedKeys};
use cityledger_types::{Digest, OrgName, PublicKey};
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing::{debug, info, warn};

/// Bytes of blob in one part: a 64 MiB blob crosses in 16 messages, each
/// well inside the network's message limit.
pub const PART_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Largest replication message: a part, its keys and framing.
pub const MESSAGE_BYTES_MAX: usize = PART_BYTES_MAX + 256 * 1024;
/// Most parts of one blob.
const PARTS_MAX: u32 = (BLOB_BYTES_MAX as usize).div_ceil(PART_BYTES_MAX) as u32;
/// Records this node waits for at once; more are dropped with a warning
/// (their readers can still fetch from the author's node).
const WANTED_MAX: usize = 4_096;
/// Blobs being received at once, each at most `BLOB_BYTES_MAX` in memory.
const ASSEMBLIES_MAX: usize = 2;
/// Asks for a record this many times before giving up on it.
const WANT_TRIES_MAX: u32 = 10;
/// First wait between asks; it doubles up to `WANT_RETRY_MS_MAX`.
const WANT_RETRY_MS_MIN: u64 = 1_000;
const WANT_RETRY_MS_MAX: u64 = 60_000;

const _: () = assert!(PARTS_MAX >= 1 && PARTS_MAX <= 64);

/// What nodes say to each other about blobs.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Message {
    /// The sender's organisation may hold `record` (through `grant`, if
    /// named): send it.
    Want {
        /// The record.
        record: Digest,
        /// The grant that lets the sender's organisation read it, if it is
        /// not a party's.
        grant: Option<Digest>,
    },
    /// Part `index` of `count` of the blob of `record`.
    Part {
        /// The record.
        record: Digest,
        /// As in the `Want` this answers.
        grant: Option<Digest>,
        /// Which part, from 0.
        index: u32,
        /// How many parts the blob has.
        count: u32,
        /// The keys the sender holds (in part 0 only; empty in the others).
        keys: WrappedKeys,
        /// The part's bytes.
        bytes: Vec<u8>,
    },
    /// A key upload the sender accepted from the record's owner or author.
    Keys(KeyUpload),
}

/// Something the node did that may call for replication.
#[derive(Clone, Debug)]
pub enum Notice {
    /// A finalized block anchored `record`.
    Anchored(Digest),
    /// A finalized block created grant `grant`.
    Granted(Digest),
    /// The REST API accepted a key upload.
    KeysAccepted(KeyUpload),
}

/// A message for some peers.
#[derive(Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Whom to send to.
    pub to: Vec<PublicKey>,
    /// What.
    pub message: Message,
}

struct Wanted {
    grant: Option<Digest>,
    tries: u32,
    due_ms: u64,
}

/// A blob being received from one peer, part by part.
struct Assembly {
    grant: Option<Digest>,
    count: u32,
    keys: WrappedKeys,
    bytes: Vec<u8>,
}

/// Where an assembly stands after a part.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Incomplete,
    Complete,
    /// Out of order, of the wrong size, or not of this blob: start again.
    Broken,
}

impl Assembly {
    /// Appends part `index`, which must be the next one, of this blob
    /// (same count and grant), and full-sized unless it is the last.
    fn take(&mut self, index: u32, count: u32, grant: Option<Digest>, bytes: &[u8]) -> Step {
        let in_order = index as usize * PART_BYTES_MAX == self.bytes.len()
            && index < count
            && count == self.count
            && grant == self.grant
            && bytes.len() <= PART_BYTES_MAX
            && (bytes.len() == PART_BYTES_MAX || index + 1 == count);
        if !in_order {
            return Step::Broken;
        }
        self.bytes.extend_from_slice(bytes);
        if index + 1 == count {
            Step::Complete
        } else {
            Step::Incomplete
        }
    }
}

/// One node's side of replication: what it wants, what it is receiving.
pub struct Replicator {
    core: Arc<NodeCore>,
    me: PublicKey,
    /// Each validator's organisation, from genesis.
    orgs: BTreeMap<PublicKey, OrgName>,
    wanted: BTreeMap<Digest, Wanted>,
    assemblies: BTreeMap<(PublicKey, Digest), Assembly>,
}

impl Replicator {
    /// The replicator of the node whose consensus key is `me`.
    pub fn new(core: Arc<NodeCore>, me: PublicKey) -> Replicator {
        let orgs = core
            .chain
            .genesis()
            .validators
            .iter()
            .map(|v| (v.key, v.org.clone()))
            .collect();
        Replicator {
            core,
            me,
            orgs,
            wanted: BTreeMap::new(),
            assemblies: BTreeMap::new(),
        }
    }

    fn my_org(&self) -> Option<&OrgName> {
        self.orgs.get(&self.me)
    }

    fn peers(&self) -> impl Iterator<Item = (&PublicKey, &OrgName)> {
        self.orgs.iter().filter(|(key, _)| **key != self.me)
    }

    /// Records a notice; returns what to send now.
    pub fn on_notice(&mut self, notice: Notice, now_ms: u64) -> Vec<Outgoing> {
        match notice {
            Notice::Anchored(record) => {
                self.want_if_allowed(record, None, now_ms);
                Vec::new()
            }
            Notice::Granted(grant) => {
                if let Some(record) = self.granted_record(&grant) {
                    self.want_if_allowed(record, Some(grant), now_ms);
                }
                Vec::new()
            }
            Notice::KeysAccepted(upload) => self.keys_to_holders(upload),
        }
    }

    /// The record a grant names, when the reader is of this node's
    /// organisation; category grants name no one record.
    fn granted_record(&self, grant: &Digest) -> Option<Digest> {
        let state = Tip::of(&self.core);
        let grant: GrantRecord = state.load(&StateKey::Grant(*grant))?;
        let org = self.my_org()?;
        match grant.scope {
            GrantScope::Record(record) if state.of_org(org, &grant.reader) => Some(record),
            _ => None,
        }
    }

    fn want_if_allowed(&mut self, record: Digest, grant: Option<Digest>, now_ms: u64) {
        let Some(org) = self.my_org().cloned() else {
            return;
        };
        if self.holds_blob(&record) || self.wanted.contains_key(&record) {
            return;
        }
        if !Tip::of(&self.core).may_hold(&org, &record, grant.as_ref()) {
            return;
        }
        if self.wanted.len() >= WANTED_MAX {
            warn!(%record, "too many records awaited from peers; not replicating this one");
            return;
        }
        self.wanted.insert(
            record,
            Wanted {
                grant,
                tries: 0,
                due_ms: now_ms,
            },
        );
    }

    fn holds_blob(&self, record: &Digest) -> bool {
        self.core.blobs.holds_blob(record).unwrap_or(false)
    }

    /// The asks due at `now_ms`, to every peer: the holder is not known,
    /// and only holders whose organisation may share the record answer.
    pub fn due(&mut self, now_ms: u64) -> Vec<Outgoing> {
        let peers: Vec<PublicKey> = self.peers().map(|(key, _)| *key).collect();
        let mut outgoing = Vec::new();
        let mut given_up = Vec::new();
        for (record, wanted) in &mut self.wanted {
            if wanted.due_ms > now_ms {
                continue;
            }
            if wanted.tries >= WANT_TRIES_MAX {
                given_up.push(*record);
                continue;
            }
            wanted.tries += 1;
            let wait_ms = (WANT_RETRY_MS_MIN << wanted.tries.min(16)).min(WANT_RETRY_MS_MAX);
            wanted.due_ms = now_ms + wait_ms;
            outgoing.push(Outgoing {
                to: peers.clone(),
                message: Message::Want {
                    record: *record,
                    grant: wanted.grant,
                },
            });
        }
        for record in given_up {
            warn!(%record, "no peer sent this record's blob; its readers fetch it from the author's node");
            self.wanted.remove(&record);
        }
        outgoing
    }

    /// Handles a message from `peer`; returns what to send back.
    pub fn on_message(&mut self, peer: PublicKey, message: Message) -> Vec<Outgoing> {
        let Some(peer_org) = self.orgs.get(&peer).cloned() else {
            debug!(%peer, "replication message from a key outside the validator set");
            return Vec::new();
        };
        match message {
            Message::Want { record, grant } => self.serve(peer, &peer_org, record, grant),
            Message::Part {
                record,
                grant,
                index,
                count,
                keys,
                bytes,
            } => {
                self.receive_part(peer, record, grant, index, count, keys, bytes);
                Vec::new()
            }
            Message::Keys(upload) => {
                self.receive_keys(&upload);
                Vec::new()
            }
        }
    }

    /// The parts of `record` for `peer`, if its organisation may hold it
    /// and this node holds it.
    fn serve(
        &self,
        peer: PublicKey,
        peer_org: &OrgName,
        record: Digest,
        grant: Option<Digest>,
    ) -> Vec<Outgoing> {
        let state = Tip::of(&self.core);
        let Some(found) = state.load::<Record>(&StateKey::Record(record)) else {
            return Vec::new();
        };
        if !state.may_hold(peer_org, &record, grant.as_ref()) {
            debug!(%record, %peer_org, "a peer asked for a record its organisation may not hold");
            return Vec::new();
        }
        let blobs = self.core.blobs.as_ref();
        let (blob, keys) = match (blobs.blob(&record, &found.blob_digest), blobs.keys(&record)) {
            (Ok(Some(blob)), Ok(keys)) => (blob, keys.unwrap_or_default()),
            (Ok(None), _) => return Vec::new(),
            (Err(error), _) | (_, Err(error)) => {
                warn!(%record, %error, "cannot read a record's blob to replicate it");
                return Vec::new();
            }
        };
        parts(record, grant, &blob, keys)
            .into_iter()
            .map(|message| Outgoing {
                to: vec![peer],
                message,
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn receive_part(
        &mut self,
        peer: PublicKey,
        record: Digest,
        grant: Option<Digest>,
        index: u32,
        count: u32,
        keys: WrappedKeys,
        bytes: Vec<u8>,
    ) {
        let slot = (peer, record);
        if index == 0 {
            self.assemblies.remove(&slot);
            if !self.wanted.contains_key(&record) {
                debug!(%record, "an unasked-for blob part");
                return;
            }
            if self.assemblies.len() >= ASSEMBLIES_MAX {
                debug!(%record, "busy receiving other blobs; will ask again");
                return;
            }
            if count == 0 || count > PARTS_MAX {
                debug!(%record, count, "a blob announced with an impossible part count");
                return;
            }
            self.assemblies.insert(
                slot,
                Assembly {
                    grant,
                    count,
                    keys,
                    bytes: Vec::new(),
                },
            );
        }
        let Some(assembly) = self.assemblies.get_mut(&slot) else {
            return;
        };
        match assembly.take(index, count, grant, &bytes) {
            Step::Incomplete => {}
            Step::Broken => {
                debug!(%record, index, "a blob part out of order or of the wrong size");
                self.assemblies.remove(&slot);
            }
            Step::Complete => {
                if let Some(assembly) = self.assemblies.remove(&slot) {
                    self.store(peer, record, assembly);
                }
            }
        }
    }

    /// Stores a whole blob once the record and this organisation's right
    /// to hold it check out against the finalized state.
    fn store(&mut self, peer: PublicKey, record: Digest, assembly: Assembly) {
        let state = Tip::of(&self.core);
        let Some(found) = state.load::<Record>(&StateKey::Record(record)) else {
            return;
        };
        let Some(org) = self.my_org() else {
            return;
        };
        if found.erasure.is_some() || !state.may_hold(org, &record, assembly.grant.as_ref()) {
            self.wanted.remove(&record);
            return;
        }
        let blobs = self.core.blobs.as_ref();
        // Keys a party uploaded here, signed, outrank what a peer relays.
        let local = blobs.keys(&record).ok().flatten();
        let stored = blobs
            .put(
                &record,
                &assembly.bytes,
                &found.blob_digest,
                found.blob_bytes,
                &assembly.keys,
            )
            .and_then(|()| match local {
                Some(local) => blobs.add_keys(&record, &local).map(|_| ()),
                None => Ok(()),
            });
        match stored {
            Ok(()) => {
                info!(%record, %peer, bytes = assembly.bytes.len(), "replicated a record's blob");
                self.core.metrics.blobs_replicated.inc();
                self.wanted.remove(&record);
            }
            Err(error) => warn!(%record, %peer, %error, "a replicated blob was refused"),
        }
    }

    fn receive_keys(&self, upload: &KeyUpload) {
        if !self.holds_blob(&upload.record) {
            return;
        }
        let state = Tip::of(&self.core);
        let Some(record) = state.load::<Record>(&StateKey::Record(upload.record)) else {
            return;
        };
        let from_party = upload.signer == record.owner || upload.signer == record.author;
        if record.erasure.is_some() || !from_party || upload.verify().is_err() {
            debug!(record = %upload.record, "a relayed key upload that does not check out");
            return;
        }
        if let Err(error) = self.core.blobs.add_keys(&upload.record, &upload.keys) {
            warn!(record = %upload.record, %error, "cannot add relayed keys");
        }
    }

    /// A key upload, for the peers whose organisation may hold the record
    /// or has a reader among the upload's keys: those that hold its blob
    /// merge it, the others drop it.
    fn keys_to_holders(&self, upload: KeyUpload) -> Vec<Outgoing> {
        let state = Tip::of(&self.core);
        let readers: Vec<PublicKey> = upload.keys.keys().iter().map(|key| key.reader).collect();
        let to: Vec<PublicKey> = self
            .peers()
            .filter(|(_, org)| {
                state.may_hold(org, &upload.record, None)
                    || readers.iter().any(|reader| state.of_org(org, reader))
            })
            .map(|(key, _)| *key)
            .collect();
        if to.is_empty() {
            return Vec::new();
        }
        vec![Outgoing {
            to,
            message: Message::Keys(upload),
        }]
    }
}

/// The blob of `record` cut into parts, keys in the first.
fn parts(record: Digest, grant: Option<Digest>, blob: &[u8], keys: WrappedKeys) -> Vec<Message> {
    let chunks: Vec<&[u8]> = if blob.is_empty() {
        vec![&[][..]]
    } else {
        blob.chunks(PART_BYTES_MAX).collect()
    };
    let count = chunks.len() as u32;
    let mut keys = Some(keys);
    chunks
        .into_iter()
        .enumerate()
        .map(|(index, bytes)| Message::Part {
            record,
            grant,
            index: index as u32,
            count,
            keys: keys.take().unwrap_or_default(),
            bytes: bytes.to_vec(),
        })
        .collect()
}

/// The finalized block and state the rule is judged against.
struct Tip(ExecutedBlock);

impl Tip {
    fn of(core: &NodeCore) -> Tip {
        Tip(core.chain.finalized())
    }

    fn load<T: BorshDeserialize>(&self, key: &StateKey) -> Option<T> {
        borsh::from_slice(self.0.state.get(&key.to_bytes())?).ok()
    }

    /// Whether `key` is a member or a device of `org`.
    fn of_org(&self, org: &OrgName, key: &PublicKey) -> bool {
        let member = StateKey::Member(org.clone(), *key).to_bytes();
        self.0.state.get(&member).is_some()
            || self
                .load::<DeviceRecord>(&StateKey::Device(*key))
                .is_some_and(|device| device.org == *org)
    }

    /// The rule of this module: whether `org`'s node may hold `id`, as a
    /// party's organisation or through `grant`.
    fn may_hold(&self, org: &OrgName, id: &Digest, grant: Option<&Digest>) -> bool {
        let Some(record) = self.load::<Record>(&StateKey::Record(*id)) else {
            return false;
        };
        if record.erasure.is_some() {
            return false;
        }
        if record.org.as_ref() == Some(org) {
            return true;
        }
        let mut parties = [record.owner, record.author]
            .into_iter()
            .chain(record.recipients.keys().iter().copied());
        if parties.any(|key| self.of_org(org, &key)) {
            return true;
        }
        let Some(grant) = grant.and_then(|g| self.load::<GrantRecord>(&StateKey::Grant(*g))) else {
            return false;
        };
        let at_ms = self.0.block.header.timestamp_ms;
        self.of_org(org, &grant.reader)
            && judge(id, &record, &grant.reader, Some(&grant), at_ms) == AccessDecision::Granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::encoding::{decode_exact, encode};

    fn assembled(messages: &[Message]) -> (Step, Vec<u8>, WrappedKeys) {
        let Some(Message::Part {
            grant, count, keys, ..
        }) = messages.first()
        else {
            panic!("no first part");
        };
        let mut assembly = Assembly {
            grant: *grant,
            count: *count,
            keys: keys.clone(),
            bytes: Vec::new(),
        };
        let mut step = Step::Incomplete;
        for message in messages {
            let Message::Part {
                index,
                count,
                grant,
                bytes,
                ..
            } = message
            else {
                panic!("not a part");
            };
            step = assembly.take(*index, *count, *grant, bytes);
            if step != Step::Incomplete {
                break;
            }
        }
        (step, assembly.bytes, assembly.keys)
    }

    fn blob(length: usize) -> Vec<u8> {
        (0..length).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn a_blob_crosses_in_full_parts_and_reassembles_exactly() {
        for length in [
            0,
            1,
            PART_BYTES_MAX,
            PART_BYTES_MAX + 1,
            3 * PART_BYTES_MAX - 7,
        ] {
            let original = blob(length);
            let messages = parts(Digest::of(b"r"), None, &original, WrappedKeys::default());
            assert_eq!(messages.len(), length.div_ceil(PART_BYTES_MAX).max(1));
            for message in &messages {
                let bytes = encode(message);
                assert!(bytes.len() <= MESSAGE_BYTES_MAX);
                let decoded: Message = decode_exact(&bytes, "part", MESSAGE_BYTES_MAX).unwrap();
                assert_eq!(&decoded, message);
            }
            let (step, bytes, _) = assembled(&messages);
            assert_eq!(step, Step::Complete, "length {length}");
            assert_eq!(bytes, original);
        }
    }

    #[test]
    fn parts_out_of_order_short_or_of_another_grant_break_the_assembly() {
        let original = blob(2 * PART_BYTES_MAX + 10);
        let messages = parts(Digest::of(b"r"), None, &original, WrappedKeys::default());
        let mut swapped = messages.clone();
        swapped.swap(1, 2);
        assert_eq!(assembled(&swapped).0, Step::Broken);

        let mut repeated = messages.clone();
        repeated[1] = repeated[0].clone();
        assert_eq!(assembled(&repeated).0, Step::Broken);

        let mut short = messages.clone();
        if let Message::Part { bytes, .. } = &mut short[1] {
            bytes.pop();
        }
        assert_eq!(assembled(&short).0, Step::Broken);

        let mut other_grant = messages.clone();
        if let Message::Part { grant, .. } = &mut other_grant[2] {
            *grant = Some(Digest::of(b"g"));
        }
        assert_eq!(assembled(&other_grant).0, Step::Broken);

        let mut recounted = messages;
        if let Message::Part { count, .. } = &mut recounted[1] {
            *count = 2;
        }
        assert_eq!(assembled(&recounted).0, Step::Broken);
    }

    #[test]
    fn a_full_part_with_every_key_a_record_may_hold_fits_one_message() {
        use cityledger_types::SecretKey;
        use cityledger_types::limits::WRAPPED_KEYS_PER_RECORD_MAX;
        use cityledger_types::sealed::wrap_key;
        let keys: Vec<_> = (0..WRAPPED_KEYS_PER_RECORD_MAX)
            .map(|i| {
                let reader = SecretKey::from_seed([i as u8; 32]).public_key();
                wrap_key(
                    &[7; 32],
                    &reader,
                    &Digest::of(b"blob"),
                    &[i as u8; 32],
                    &[1; 24],
                )
                .unwrap()
            })
            .collect();
        let keys = WrappedKeys::new(keys).unwrap();
        let messages = parts(
            Digest::of(b"r"),
            Some(Digest::of(b"g")),
            &blob(PART_BYTES_MAX),
            keys,
        );
        assert_eq!(messages.len(), 1);
        assert!(encode(&messages[0]).len() <= MESSAGE_BYTES_MAX);
    }
}
