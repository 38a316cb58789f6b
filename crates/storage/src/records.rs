//! Payload layouts of stored values, and their bounded decoders.
//!
//! Fixed-width, big-endian, hand-written: every length read from disk is
//! checked against the bytes present and against a named limit before
//! anything is allocated. This module owns payload bytes; envelopes and
//! checksums are [`crate::envelope`]'s.

use crate::envelope::Malformed;
use crate::limits::{BLOCK_BYTES_MAX, CERTIFICATE_BYTES_MAX, EVENTS_BYTES_MAX, OUTCOMES_BYTES_MAX};
use crate::store::{StoredBlock, Tip, TxLocation};
use cityledger_types::digest::DIGEST_LEN;
use cityledger_types::{Digest, Height};

/// First bytes of the format marker: this directory is a CityLedger store.
const FORMAT_MAGIC: &[u8; 16] = b"cityledger/store";
/// The storage format this build reads and writes. Any change to a key or
/// payload layout, or to what the stored state means, bumps it. Version 3:
/// every block's state holds the history accumulator (`StateKey::History`)
/// and the index holds its nodes, so a version 2 store's state roots are
/// not this build's and it could neither replay nor prove consistency.
/// Version 4: records, grants, accesses, devices and batches took the state
/// key tags after the credentials', moving the history's tag, so a version 3
/// store's state roots differ too.
pub(crate) const FORMAT_VERSION: u32 = 4;

/// Payload of the format marker.
pub(crate) fn encode_format(version: u32) -> Vec<u8> {
    let mut bytes = FORMAT_MAGIC.to_vec();
    bytes.extend_from_slice(&version.to_be_bytes());
    bytes
}

/// The version in a format marker.
pub(crate) fn decode_format(payload: &[u8]) -> Result<u32, Malformed> {
    let mut reader = Reader::new(payload);
    if reader.take(FORMAT_MAGIC.len(), "format magic")? != FORMAT_MAGIC {
        return Err(Malformed("not a CityLedger store format marker".into()));
    }
    let version = reader.u32("format version")?;
    reader.finish()?;
    Ok(version)
}

/// Payload of the tip.
pub(crate) fn encode_tip(tip: &Tip) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(8 + 2 * DIGEST_LEN);
    bytes.extend_from_slice(&tip.height.0.to_be_bytes());
    bytes.extend_from_slice(&tip.block_id.0);
    bytes.extend_from_slice(&tip.state_root.0);
    bytes
}

/// Decodes a tip payload.
pub(crate) fn decode_tip(payload: &[u8]) -> Result<Tip, Malformed> {
    let mut reader = Reader::new(payload);
    let tip = Tip {
        height: Height(reader.u64("tip height")?),
        block_id: reader.digest("tip block id")?,
        state_root: reader.digest("tip state root")?,
    };
    reader.finish()?;
    Ok(tip)
}

/// Payload of a height (the value of a block id).
pub(crate) fn encode_height(height: Height) -> [u8; 8] {
    height.0.to_be_bytes()
}

/// Decodes a height payload.
pub(crate) fn decode_height(payload: &[u8]) -> Result<Height, Malformed> {
    let mut reader = Reader::new(payload);
    let height = Height(reader.u64("height")?);
    reader.finish()?;
    Ok(height)
}

/// Payload of a transaction location.
pub(crate) fn encode_location(location: TxLocation) -> [u8; 12] {
    let mut bytes = [0u8; 12];
    let (height, position) = bytes.split_at_mut(8);
    height.copy_from_slice(&location.height.0.to_be_bytes());
    position.copy_from_slice(&location.position.to_be_bytes());
    bytes
}

/// Decodes a transaction location payload.
pub(crate) fn decode_location(payload: &[u8]) -> Result<TxLocation, Malformed> {
    let mut reader = Reader::new(payload);
    let location = TxLocation {
        height: Height(reader.u64("height")?),
        position: reader.u32("position")?,
    };
    reader.finish()?;
    Ok(location)
}

/// Section names and limits of a block record, in stored order. The
/// record is `block id (32) ‖ (length (4, BE) ‖ bytes)` for each section.
const SECTIONS: [(&str, usize); 4] = [
    ("block", BLOCK_BYTES_MAX),
    ("certificate", CERTIFICATE_BYTES_MAX),
    ("outcomes", OUTCOMES_BYTES_MAX),
    ("events", EVENTS_BYTES_MAX),
];

/// Length prefixes of a block record's sections (block, certificate,
/// outcomes, events), to interleave with them when sealing without a copy.
pub(crate) fn section_length_prefixes(sections: &[&[u8]; 4]) -> [[u8; 4]; 4] {
    sections.map(|section| {
        // The commit check bounds every section far below u32::MAX.
        let length = u32::try_from(section.len()).expect("section checked against its limit");
        length.to_be_bytes()
    })
}

/// Decodes a block record stored under `height`.
pub(crate) fn decode_block(height: Height, payload: &[u8]) -> Result<StoredBlock, Malformed> {
    let mut reader = Reader::new(payload);
    let block_id = reader.digest("block id")?;
    let mut sections = SECTIONS.map(|_| Vec::new());
    for ((name, limit), section) in SECTIONS.iter().zip(sections.iter_mut()) {
        *section = reader.bounded_bytes(name, *limit)?.to_vec();
    }
    reader.finish()?;
    let [block_bytes, certificate, outcomes_bytes, events_bytes] = sections;
    Ok(StoredBlock {
        height,
        block_id,
        block_bytes,
        certificate,
        outcomes_bytes,
        events_bytes,
    })
}

/// A cursor over a payload that refuses to read past its end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn take(&mut self, length: usize, what: &str) -> Result<&'a [u8], Malformed> {
        if length > self.bytes.len() {
            return Err(Malformed(format!(
                "{what} needs {length} bytes, only {} remain",
                self.bytes.len()
            )));
        }
        let (taken, rest) = self.bytes.split_at(length);
        self.bytes = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Malformed> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N, what)?);
        Ok(array)
    }

    fn u32(&mut self, what: &str) -> Result<u32, Malformed> {
        self.array(what).map(u32::from_be_bytes)
    }

    fn u64(&mut self, what: &str) -> Result<u64, Malformed> {
        self.array(what).map(u64::from_be_bytes)
    }

    fn digest(&mut self, what: &str) -> Result<Digest, Malformed> {
        self.array(what).map(Digest)
    }

    /// A u32 length prefix and that many bytes, refused above `limit`.
    fn bounded_bytes(&mut self, what: &str, limit: usize) -> Result<&'a [u8], Malformed> {
        let length = self.u32(what)? as usize;
        if length > limit {
            return Err(Malformed(format!(
                "{what} claims {length} bytes, above its limit of {limit}"
            )));
        }
        self.take(length, what)
    }

    fn finish(self) -> Result<(), Malformed> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(Malformed(format!("{} trailing bytes", self.bytes.len())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record_payload(id: Digest, sections: [&[u8]; 4]) -> Vec<u8> {
        let mut payload = id.0.to_vec();
        for (prefix, section) in section_length_prefixes(&sections).iter().zip(sections) {
            payload.extend_from_slice(prefix);
            payload.extend_from_slice(section);
        }
        payload
    }

    #[test]
    fn format_marker_round_trips_and_rejects_foreign_bytes() {
        assert_eq!(
            decode_format(&encode_format(FORMAT_VERSION)),
            Ok(FORMAT_VERSION)
        );
        assert!(decode_format(b"something else entirely").is_err());
        let mut long = encode_format(1);
        long.push(0);
        assert!(decode_format(&long).is_err());
    }

    #[test]
    fn a_section_length_above_its_limit_is_refused_before_allocating() {
        let mut payload = [9u8; DIGEST_LEN].to_vec();
        payload.extend_from_slice(&u32::MAX.to_be_bytes());
        let error = decode_block(Height(1), &payload).expect_err("length above limit");
        assert!(error.0.contains("above its limit"), "{}", error.0);
    }

    proptest! {
        #[test]
        fn block_record_round_trips(
            id in any::<[u8; 32]>(),
            block in proptest::collection::vec(any::<u8>(), 0..300),
            certificate in proptest::collection::vec(any::<u8>(), 0..100),
            outcomes in proptest::collection::vec(any::<u8>(), 0..100),
            events in proptest::collection::vec(any::<u8>(), 0..100),
            height in any::<u64>(),
        ) {
            let payload = record_payload(Digest(id), [&block, &certificate, &outcomes, &events]);
            let stored = decode_block(Height(height), &payload).expect("valid record");
            prop_assert_eq!(stored.block_id, Digest(id));
            prop_assert_eq!(&stored.block_bytes, &block);
            prop_assert_eq!(&stored.certificate, &certificate);
            prop_assert_eq!(&stored.outcomes_bytes, &outcomes);
            prop_assert_eq!(&stored.events_bytes, &events);
            // Every strict prefix is refused, never misread.
            for length in 0..payload.len() {
                prop_assert!(decode_block(Height(height), &payload[..length]).is_err());
            }
        }

        #[test]
        fn tip_and_location_round_trip(height in any::<u64>(), position in any::<u32>(), id in any::<[u8; 32]>()) {
            let tip = Tip { height: Height(height), block_id: Digest(id), state_root: Digest([1; 32]) };
            prop_assert_eq!(decode_tip(&encode_tip(&tip)), Ok(tip));
            let location = TxLocation { height: Height(height), position };
            prop_assert_eq!(decode_location(&encode_location(location)), Ok(location));
            prop_assert_eq!(decode_height(&encode_height(Height(height))), Ok(Height(height)));
        }
    }
}
