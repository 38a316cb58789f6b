//! Our block, as the engine sees it: encoded once, hashed once.

use super::{ConsensusDigest, to_engine_digest};
use cityledger_types::Block;
use cityledger_types::limits::BLOCK_BYTES_MAX;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, Write};
use commonware_consensus::types::Height as EngineHeight;
use commonware_consensus::{Block as EngineBlock, BoundedBlock, Heightable};
use commonware_cryptography::Digestible;
use std::sync::Arc;

/// Bytes of the length prefix in front of a block's canonical encoding.
const LENGTH_PREFIX_BYTES: usize = 4;

/// A block with its canonical bytes and id, computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineBlockBox {
    block: Arc<Block>,
    bytes: Arc<Vec<u8>>,
    id: ConsensusDigest,
}

impl EngineBlockBox {
    /// Wraps a block.
    pub fn new(block: Arc<Block>) -> Self {
        let bytes = Arc::new(block.to_bytes());
        assert!(
            bytes.len() <= BLOCK_BYTES_MAX,
            "built a block above the size limit"
        );
        let id = to_engine_digest(&block.id());
        EngineBlockBox { block, bytes, id }
    }

    /// The block.
    pub fn block(&self) -> &Arc<Block> {
        &self.block
    }
}

impl Write for EngineBlockBox {
    fn write(&self, buf: &mut impl bytes::BufMut) {
        buf.put_u32(self.bytes.len() as u32);
        buf.put_slice(&self.bytes);
    }
}

impl EncodeSize for EngineBlockBox {
    fn encode_size(&self) -> usize {
        LENGTH_PREFIX_BYTES + self.bytes.len()
    }
}

impl Read for EngineBlockBox {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        if buf.remaining() < LENGTH_PREFIX_BYTES {
            return Err(CodecError::EndOfBuffer);
        }
        let length = buf.get_u32() as usize;
        if length > BLOCK_BYTES_MAX {
            return Err(CodecError::InvalidLength(length));
        }
        if buf.remaining() < length {
            return Err(CodecError::EndOfBuffer);
        }
        let mut bytes = vec![0u8; length];
        buf.copy_to_slice(&mut bytes);
        let block = Block::from_bytes(&bytes)
            .map_err(|error| CodecError::Wrapped("cityledger block", Box::new(error)))?;
        Ok(EngineBlockBox {
            id: to_engine_digest(&block.id()),
            block: Arc::new(block),
            bytes: Arc::new(bytes),
        })
    }
}

impl Digestible for EngineBlockBox {
    type Digest = ConsensusDigest;

    fn digest(&self) -> ConsensusDigest {
        self.id
    }
}

impl Heightable for EngineBlockBox {
    fn height(&self) -> EngineHeight {
        EngineHeight::new(self.block.header.height.0)
    }
}

impl EngineBlock for EngineBlockBox {
    fn parent(&self) -> ConsensusDigest {
        to_engine_digest(&self.block.header.parent)
    }
}

impl BoundedBlock for EngineBlockBox {
    fn max_encode_size(_: &()) -> usize {
        LENGTH_PREFIX_BYTES + BLOCK_BYTES_MAX
    }
}
