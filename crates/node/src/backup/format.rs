//! The backup file format: versioned, framed, every frame checksummed, the
//! whole file digested at its end (ADR 0010).
//!
//! ```text
//! file     = preamble ‖ header ‖ block(1) … block(tip) ‖ blob* ‖ end
//! preamble = "CLBACKUP" ‖ version (u32 BE)
//! frame    = kind (u8) ‖ length (u32 BE) ‖ payload ‖ checksum (32 bytes)
//! checksum = SHA-256("cityledger/backup/frame/v1" ‖ index (u64 BE) ‖ kind ‖ length ‖ payload)
//! end      = { blocks, blobs, file_digest }, file_digest = SHA-256 of every byte before it
//! ```
//!
//! Payloads are borsh. A frame's index is in its checksum, so a frame moved,
//! repeated or dropped fails where it now sits; a file cut at a frame
//! boundary lacks its end frame. Every length is bounded by its kind before
//! anything is allocated.
//!
//! This module owns bytes only: it never opens a file, a store or a chain.
//! Its errors name the frame, its byte offset and what was expected.

use crate::limits::{
    BACKUP_ABORT_REASON_BYTES_MAX, BACKUP_BLOB_FRAME_BYTES_MAX, BACKUP_BLOCK_FRAME_BYTES_MAX,
    BACKUP_HEADER_BYTES_MAX,
};
use borsh::{BorshDeserialize, BorshSerialize};
use cityledger_types::Digest;
use sha2::{Digest as _, Sha256};
use std::io::{self, Read, Write};

/// The first bytes of every backup.
pub const MAGIC: &[u8; 8] = b"CLBACKUP";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Domain of the frame checksums.
const FRAME_DOMAIN: &[u8] = b"cityledger/backup/frame/v1";
const CHECKSUM_BYTES: usize = 32;

/// What a frame holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// The chain and the tip the backup is of.
    Header,
    /// One finalized block with its certificate.
    Block,
    /// One record's sealed blob and wrapped keys.
    Blob,
    /// The counts and the whole-file digest.
    End,
    /// The writer gave up; the payload says why. Never in a complete file.
    Aborted,
}

impl FrameKind {
    const ALL: [FrameKind; 5] = [
        FrameKind::Header,
        FrameKind::Block,
        FrameKind::Blob,
        FrameKind::End,
        FrameKind::Aborted,
    ];

    fn byte(self) -> u8 {
        match self {
            FrameKind::Header => 1,
            FrameKind::Block => 2,
            FrameKind::Blob => 3,
            FrameKind::End => 4,
            FrameKind::Aborted => 0x7f,
        }
    }

    fn from_byte(byte: u8) -> Option<FrameKind> {
        FrameKind::ALL.into_iter().find(|kind| kind.byte() == byte)
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            FrameKind::Header => "header",
            FrameKind::Block => "block",
            FrameKind::Blob => "blob",
            FrameKind::End => "end",
            FrameKind::Aborted => "abort",
        }
    }

    fn payload_bytes_max(self) -> usize {
        match self {
            FrameKind::Header | FrameKind::End => BACKUP_HEADER_BYTES_MAX,
            FrameKind::Block => BACKUP_BLOCK_FRAME_BYTES_MAX,
            FrameKind::Blob => BACKUP_BLOB_FRAME_BYTES_MAX,
            FrameKind::Aborted => BACKUP_ABORT_REASON_BYTES_MAX,
        }
    }
}

/// The chain and tip a backup is of: the first frame.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BackupHeader {
    /// The chain id.
    pub chain_id: String,
    /// The id of the chain's genesis block.
    pub genesis_id: Digest,
    /// The hash of the validator set that certifies its blocks.
    pub validator_set_hash: Digest,
    /// The height of the newest block in the backup.
    pub tip_height: u64,
    /// Its id.
    pub tip_id: Digest,
    /// The state root after it.
    pub tip_state_root: Digest,
}

/// One finalized block, as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockFrame {
    /// Its height.
    pub height: u64,
    /// The canonical encoded block.
    pub block: Vec<u8>,
    /// Its finality certificate, as the engine encoded it.
    pub certificate: Vec<u8>,
}

/// What a node holds of one record off the ledger.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlobFrame {
    /// The record.
    pub record: Digest,
    /// Its sealed content, if held.
    pub blob: Option<Vec<u8>>,
    /// Its wrapped keys (borsh `WrappedKeys`), if held.
    pub keys: Option<Vec<u8>>,
}

/// The last frame.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
struct EndFrame {
    blocks: u64,
    blobs: u64,
    file_digest: Digest,
}

/// Why bytes are not a whole, intact backup.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The magic is missing.
    #[error("not a CityLedger backup: it does not begin with \"CLBACKUP\"")]
    NotABackup,
    /// Another format version.
    #[error("backup format version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// In the file.
        found: u32,
        /// This build's.
        supported: u32,
    },
    /// The file ends inside a frame.
    #[error(
        "the backup is truncated: frame {frame} at byte {offset} needs {expected} more bytes for its {part}, the file has {found}"
    )]
    Truncated {
        /// The frame's index.
        frame: u64,
        /// Where its missing part begins.
        offset: u64,
        /// `kind and length`, `payload` or `checksum`.
        part: &'static str,
        /// Bytes the part needs.
        expected: usize,
        /// Bytes the file still had.
        found: usize,
    },
    /// The file ends between frames, before the end frame.
    #[error(
        "the backup is truncated: it ends at byte {offset}, after frame {last}, without its end frame"
    )]
    MissingEnd {
        /// Index of the last whole frame.
        last: u64,
        /// The file's length.
        offset: u64,
    },
    /// A kind byte no version of the format uses.
    #[error("frame {frame} at byte {offset} has unknown kind {kind}: the backup is corrupt")]
    UnknownKind {
        /// The frame's index.
        frame: u64,
        /// Where it begins.
        offset: u64,
        /// The byte.
        kind: u8,
    },
    /// A length above its kind's bound.
    #[error(
        "frame {frame} ({kind}) at byte {offset} claims {length} bytes, above its limit of {limit}: the backup is corrupt"
    )]
    TooLarge {
        /// The frame's index.
        frame: u64,
        /// Its kind.
        kind: &'static str,
        /// Where it begins.
        offset: u64,
        /// The length it claims.
        length: usize,
        /// Its kind's bound.
        limit: usize,
    },
    /// A frame's bytes changed.
    #[error(
        "frame {frame} ({kind}) at byte {offset} fails its checksum: it records {expected}, its bytes hash to {computed}: the backup is corrupt"
    )]
    Checksum {
        /// The frame's index.
        frame: u64,
        /// Its kind.
        kind: &'static str,
        /// Where it begins.
        offset: u64,
        /// The checksum the frame carries.
        expected: Digest,
        /// The checksum of its bytes.
        computed: Digest,
    },
    /// A payload that does not decode.
    #[error("frame {frame} ({kind}) does not decode: {reason}")]
    Malformed {
        /// The frame's index.
        frame: u64,
        /// Its kind.
        kind: &'static str,
        /// Why.
        reason: String,
    },
    /// Frames in an order the format forbids.
    #[error("frame {frame} ({kind}) is out of place: {reason}")]
    OutOfOrder {
        /// The frame's index.
        frame: u64,
        /// Its kind.
        kind: &'static str,
        /// What was expected there.
        reason: String,
    },
    /// The whole-file digest does not match.
    #[error(
        "the whole-file digest does not match: the end frame records {expected}, the bytes before it hash to {computed}"
    )]
    FileDigest {
        /// In the end frame.
        expected: Digest,
        /// Of the file.
        computed: Digest,
    },
    /// Bytes after the end frame.
    #[error("bytes follow the end frame at byte {offset}: the backup is corrupt")]
    TrailingBytes {
        /// Where they begin.
        offset: u64,
    },
    /// The writer gave up and said why.
    #[error("the backup was aborted by its writer at frame {frame}: {reason}")]
    Aborted {
        /// The frame's index.
        frame: u64,
        /// The writer's reason.
        reason: String,
    },
    /// Reading failed.
    #[error("cannot read the backup: {0}")]
    Io(#[from] io::Error),
}

fn frame_checksum(index: u64, kind: u8, length: u32, payload: &[u8]) -> Digest {
    let mut hash = Sha256::new();
    hash.update(FRAME_DOMAIN);
    hash.update(index.to_be_bytes());
    hash.update([kind]);
    hash.update(length.to_be_bytes());
    hash.update(payload);
    Digest(hash.finalize().into())
}

/// Writes a backup frame by frame, hashing every byte for the end frame.
pub struct FrameWriter<W: Write> {
    out: W,
    index: u64,
    file_hash: Sha256,
    bytes_written: u64,
    blocks: u64,
    blobs: u64,
}

impl<W: Write> FrameWriter<W> {
    /// Writes the preamble and the header.
    pub fn new(out: W, header: &BackupHeader) -> io::Result<FrameWriter<W>> {
        let mut writer = FrameWriter {
            out,
            index: 0,
            file_hash: Sha256::new(),
            bytes_written: 0,
            blocks: 0,
            blobs: 0,
        };
        writer.write_bytes(MAGIC)?;
        writer.write_bytes(&FORMAT_VERSION.to_be_bytes())?;
        writer.write_frame(FrameKind::Header, &borsh::to_vec(header)?)?;
        Ok(writer)
    }

    /// Writes one block.
    pub fn block(&mut self, block: &BlockFrame) -> io::Result<()> {
        self.write_frame(FrameKind::Block, &borsh::to_vec(block)?)?;
        self.blocks += 1;
        Ok(())
    }

    /// Writes one record's blob and keys.
    pub fn blob(&mut self, blob: &BlobFrame) -> io::Result<()> {
        self.write_frame(FrameKind::Blob, &borsh::to_vec(blob)?)?;
        self.blobs += 1;
        Ok(())
    }

    /// Writes the end frame and returns the output and the bytes written.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        let end = EndFrame {
            blocks: self.blocks,
            blobs: self.blobs,
            file_digest: Digest(self.file_hash.clone().finalize().into()),
        };
        self.write_frame(FrameKind::End, &borsh::to_vec(&end)?)?;
        self.out.flush()?;
        Ok((self.out, self.bytes_written))
    }

    /// Tells the reader why the backup stops here, as far as the output
    /// still takes bytes.
    pub fn abort(mut self, reason: &str) -> io::Result<()> {
        let mut end = reason.len().min(BACKUP_ABORT_REASON_BYTES_MAX);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        self.write_frame(FrameKind::Aborted, &reason.as_bytes()[..end])?;
        self.out.flush()
    }

    fn write_frame(&mut self, kind: FrameKind, payload: &[u8]) -> io::Result<()> {
        // The writers of every kind bound their payloads; a larger one is
        // a bug here, and the reader would refuse it.
        assert!(
            payload.len() <= kind.payload_bytes_max(),
            "a {} frame of {} bytes is above its limit",
            kind.name(),
            payload.len()
        );
        let length = payload.len() as u32;
        let checksum = frame_checksum(self.index, kind.byte(), length, payload);
        self.write_bytes(&[kind.byte()])?;
        self.write_bytes(&length.to_be_bytes())?;
        self.write_bytes(payload)?;
        self.write_bytes(&checksum.0)?;
        self.index += 1;
        Ok(())
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.file_hash.update(bytes);
        self.bytes_written += bytes.len() as u64;
        Ok(())
    }
}

/// One item of a backup after its header, in file order.
#[derive(Debug)]
pub enum Item {
    /// The next block.
    Block(BlockFrame),
    /// A record's blob and keys (after every block).
    Blob(BlobFrame),
}

/// Reads a backup, checking every frame, the order of frames and, at the
/// end, the counts and the whole-file digest.
pub struct BackupReader<R: Read> {
    input: R,
    header: BackupHeader,
    index: u64,
    offset: u64,
    file_hash: Sha256,
    blocks: u64,
    blobs: u64,
    last_record: Option<Digest>,
    finished: bool,
}

impl<R: Read> BackupReader<R> {
    /// Reads the preamble and the header.
    pub fn open(input: R) -> Result<BackupReader<R>, FormatError> {
        let mut reader = BackupReader {
            input,
            header: BackupHeader {
                chain_id: String::new(),
                genesis_id: Digest::ZERO,
                validator_set_hash: Digest::ZERO,
                tip_height: 0,
                tip_id: Digest::ZERO,
                tip_state_root: Digest::ZERO,
            },
            index: 0,
            offset: 0,
            file_hash: Sha256::new(),
            blocks: 0,
            blobs: 0,
            last_record: None,
            finished: false,
        };
        reader.read_preamble()?;
        let (kind, payload) = reader.read_frame()?;
        if kind != FrameKind::Header {
            return Err(reader.out_of_order(kind, "a backup begins with its header"));
        }
        reader.header = reader.decode(kind, &payload)?;
        reader.index += 1;
        Ok(reader)
    }

    /// The header.
    pub fn header(&self) -> &BackupHeader {
        &self.header
    }

    /// The next block or blob; `None` once the end frame is read and
    /// checked, with nothing after it.
    pub fn next_item(&mut self) -> Result<Option<Item>, FormatError> {
        if self.finished {
            return Ok(None);
        }
        let digest_before = Digest(self.file_hash.clone().finalize().into());
        let (kind, payload) = self.read_frame()?;
        let item = match kind {
            FrameKind::Block => Some(Item::Block(self.block(&payload)?)),
            FrameKind::Blob => Some(Item::Blob(self.blob(&payload)?)),
            FrameKind::End => {
                self.end(&payload, digest_before)?;
                None
            }
            FrameKind::Header => return Err(self.out_of_order(kind, "a backup has one header")),
            FrameKind::Aborted => {
                return Err(FormatError::Aborted {
                    frame: self.index,
                    reason: String::from_utf8_lossy(&payload).into_owned(),
                });
            }
        };
        self.index += 1;
        Ok(item)
    }

    fn block(&mut self, payload: &[u8]) -> Result<BlockFrame, FormatError> {
        let block: BlockFrame = self.decode(FrameKind::Block, payload)?;
        if self.blobs > 0 {
            return Err(self.out_of_order(FrameKind::Block, "blocks come before blobs"));
        }
        let expected = self.blocks + 1;
        if block.height != expected || block.height > self.header.tip_height {
            let reason = format!(
                "it holds height {}, expected {expected} (the tip is {})",
                block.height, self.header.tip_height
            );
            return Err(self.out_of_order(FrameKind::Block, &reason));
        }
        self.blocks += 1;
        Ok(block)
    }

    fn blob(&mut self, payload: &[u8]) -> Result<BlobFrame, FormatError> {
        let blob: BlobFrame = self.decode(FrameKind::Blob, payload)?;
        if self.blocks != self.header.tip_height {
            let reason = format!(
                "blobs follow every block, but only {} of {} came before it",
                self.blocks, self.header.tip_height
            );
            return Err(self.out_of_order(FrameKind::Blob, &reason));
        }
        if self.last_record.is_some_and(|last| last >= blob.record) {
            return Err(self.out_of_order(FrameKind::Blob, "records come once each, in id order"));
        }
        self.last_record = Some(blob.record);
        self.blobs += 1;
        Ok(blob)
    }

    fn end(&mut self, payload: &[u8], digest_before: Digest) -> Result<(), FormatError> {
        let end: EndFrame = self.decode(FrameKind::End, payload)?;
        if (end.blocks, end.blobs) != (self.blocks, self.blobs)
            || self.blocks != self.header.tip_height
        {
            let reason = format!(
                "it counts {} blocks and {} blobs; the file holds {} blocks (tip {}) and {} blobs",
                end.blocks, end.blobs, self.blocks, self.header.tip_height, self.blobs
            );
            return Err(self.out_of_order(FrameKind::End, &reason));
        }
        if end.file_digest != digest_before {
            return Err(FormatError::FileDigest {
                expected: end.file_digest,
                computed: digest_before,
            });
        }
        let mut extra = [0u8; 1];
        if self.fill(&mut extra)? > 0 {
            return Err(FormatError::TrailingBytes {
                offset: self.offset - 1,
            });
        }
        self.finished = true;
        Ok(())
    }

    fn read_preamble(&mut self) -> Result<(), FormatError> {
        let mut preamble = [0u8; 12];
        let read = self.fill(&mut preamble)?;
        if read < MAGIC.len() || preamble[..MAGIC.len()] != MAGIC[..] {
            return Err(FormatError::NotABackup);
        }
        if read < preamble.len() {
            return Err(FormatError::Truncated {
                frame: 0,
                offset: MAGIC.len() as u64,
                part: "format version",
                expected: 4,
                found: read - MAGIC.len(),
            });
        }
        let mut version = [0u8; 4];
        version.copy_from_slice(&preamble[MAGIC.len()..]);
        let found = u32::from_be_bytes(version);
        if found != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion {
                found,
                supported: FORMAT_VERSION,
            });
        }
        self.file_hash.update(preamble);
        Ok(())
    }

    /// Reads and checks one frame; returns its kind and payload.
    fn read_frame(&mut self) -> Result<(FrameKind, Vec<u8>), FormatError> {
        let start = self.offset;
        let mut head = [0u8; 5];
        match self.fill(&mut head)? {
            0 if self.index > 0 => {
                return Err(FormatError::MissingEnd {
                    last: self.index - 1,
                    offset: start,
                });
            }
            read if read < head.len() => {
                return Err(self.truncated(start, "kind and length", head.len(), read));
            }
            _ => {}
        }
        let kind = FrameKind::from_byte(head[0]).ok_or(FormatError::UnknownKind {
            frame: self.index,
            offset: start,
            kind: head[0],
        })?;
        let length = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
        if length as usize > kind.payload_bytes_max() {
            return Err(FormatError::TooLarge {
                frame: self.index,
                kind: kind.name(),
                offset: start,
                length: length as usize,
                limit: kind.payload_bytes_max(),
            });
        }
        let mut payload = vec![0u8; length as usize];
        let read = self.fill(&mut payload)?;
        if read < payload.len() {
            return Err(self.truncated(start + 5, "payload", payload.len(), read));
        }
        let mut recorded = [0u8; CHECKSUM_BYTES];
        let read = self.fill(&mut recorded)?;
        if read < recorded.len() {
            return Err(self.truncated(
                self.offset - read as u64,
                "checksum",
                CHECKSUM_BYTES,
                read,
            ));
        }
        let computed = frame_checksum(self.index, head[0], length, &payload);
        if computed.0 != recorded {
            return Err(FormatError::Checksum {
                frame: self.index,
                kind: kind.name(),
                offset: start,
                expected: Digest(recorded),
                computed,
            });
        }
        self.file_hash.update(head);
        self.file_hash.update(&payload);
        self.file_hash.update(recorded);
        Ok((kind, payload))
    }

    /// Reads until `buffer` is full or the input ends; returns the bytes read.
    fn fill(&mut self, buffer: &mut [u8]) -> Result<usize, FormatError> {
        let mut read = 0;
        while read < buffer.len() {
            match self.input.read(&mut buffer[read..]) {
                Ok(0) => break,
                Ok(count) => read += count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(FormatError::Io(error)),
            }
        }
        self.offset += read as u64;
        Ok(read)
    }

    fn decode<T: BorshDeserialize>(
        &self,
        kind: FrameKind,
        payload: &[u8],
    ) -> Result<T, FormatError> {
        borsh::from_slice(payload).map_err(|error| FormatError::Malformed {
            frame: self.index,
            kind: kind.name(),
            reason: error.to_string(),
        })
    }

    fn truncated(
        &self,
        offset: u64,
        part: &'static str,
        expected: usize,
        found: usize,
    ) -> FormatError {
        FormatError::Truncated {
            frame: self.index,
            offset,
            part,
            expected,
            found,
        }
    }

    fn out_of_order(&self, kind: FrameKind, reason: &str) -> FormatError {
        FormatError::OutOfOrder {
            frame: self.index,
            kind: kind.name(),
            reason: reason.to_owned(),
        }
    }
}
