//! The checkpoint file of a run directory: a JSON header (when, which
//! request, the lengths of the record files) and the runtime's state,
//! written atomically so that a run killed while writing one keeps the
//! previous one.

use super::writer::{At, WriteError};
use serde_json::Value;
use std::path::Path;

const MAGIC: &[u8; 8] = b"HEBBCKP1";

/// The file name of a run directory's checkpoint.
pub const CHECKPOINT: &str = "checkpoint.hebb";

/// Writes `dir/checkpoint.hebb`: magic, the header's length, the header,
/// the state.
pub fn write_checkpoint(dir: &Path, header: &Value, state: &[u8]) -> Result<(), WriteError> {
    let path = dir.join(CHECKPOINT);
    let text = serde_json::to_vec(header).map_err(std::io::Error::other).at(&path)?;
    let mut bytes = Vec::with_capacity(16 + text.len() + state.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&text);
    bytes.extend_from_slice(state);
    let tmp = dir.join(format!(".{CHECKPOINT}.tmp"));
    std::fs::write(&tmp, bytes).at(&tmp)?;
    std::fs::rename(&tmp, &path).at(&path)
}

/// Reads a checkpoint file: its header and the runtime's state.
pub fn read_checkpoint(path: &Path) -> std::io::Result<(Value, Vec<u8>)> {
    let bytes = std::fs::read(path)?;
    let bad = |why: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not a hebb checkpoint: {why}", path.display()),
        )
    };
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(bad("no header"));
    }
    let len = u64::from_le_bytes(bytes[8..16].try_into().map_err(|_| bad("no header"))?) as usize;
    let text = bytes.get(16..16usize.saturating_add(len)).ok_or_else(|| bad("truncated"))?;
    let header: Value = serde_json::from_slice(text).map_err(|e| bad(&e.to_string()))?;
    Ok((header, bytes[16 + len..].to_vec()))
}
