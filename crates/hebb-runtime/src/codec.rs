//! A small binary encoding for checkpoints: little-endian numbers,
//! length-prefixed sequences. Decoding checks every length against what is
//! left, so a truncated or foreign file is an error, never a panic.

/// Appends values to a byte buffer.
#[derive(Default)]
pub(crate) struct Encoder {
    pub bytes: Vec<u8>,
}

impl Encoder {
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }

    pub fn bool(&mut self, v: bool) {
        self.bytes.push(u8::from(v));
    }

    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }

    pub fn f64s(&mut self, v: &[f64]) {
        self.usize(v.len());
        v.iter().for_each(|x| self.f64(*x));
    }

    pub fn u32s(&mut self, v: &[u32]) {
        self.usize(v.len());
        v.iter().for_each(|x| self.u32(*x));
    }

    pub fn u64s(&mut self, v: &[u64]) {
        self.usize(v.len());
        v.iter().for_each(|x| self.u64(*x));
    }

    pub fn str(&mut self, s: &str) {
        self.usize(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }

    /// A list of lists of u32 (delay rings, calendars).
    pub fn u32_lists(&mut self, v: &[Vec<u32>]) {
        self.usize(v.len());
        v.iter().for_each(|l| self.u32s(l));
    }
}

/// Why a checkpoint cannot be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RestoreError {
    #[error("the checkpoint ends early (it is truncated or not a checkpoint)")]
    Truncated,
    #[error("this is not a hebb checkpoint")]
    NotACheckpoint,
    #[error("the checkpoint was written by another version of hebb's checkpoint format ({0})")]
    Version(u32),
    #[error("the checkpoint belongs to another network: {0}")]
    Mismatch(String),
}

/// Reads values back in the order they were encoded.
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
}

impl<'a> Decoder<'a> {
    pub fn new(bytes: &'a [u8]) -> Decoder<'a> {
        Decoder { bytes }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RestoreError> {
        if self.bytes.len() < n {
            return Err(RestoreError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub fn u64(&mut self) -> Result<u64, RestoreError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| RestoreError::Truncated)?))
    }

    pub fn u32(&mut self) -> Result<u32, RestoreError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| RestoreError::Truncated)?))
    }

    pub fn f64(&mut self) -> Result<f64, RestoreError> {
        Ok(f64::from_bits(self.u64()?))
    }

    pub fn bool(&mut self) -> Result<bool, RestoreError> {
        Ok(self.take(1)?[0] != 0)
    }

    /// A length, checked against the bytes left at `unit` bytes each.
    fn len(&mut self, unit: usize) -> Result<usize, RestoreError> {
        let n = self.u64()?;
        if n.saturating_mul(unit as u64) > self.bytes.len() as u64 {
            return Err(RestoreError::Truncated);
        }
        Ok(n as usize)
    }

    pub fn usize(&mut self) -> Result<usize, RestoreError> {
        Ok(self.u64()? as usize)
    }

    pub fn f64s(&mut self) -> Result<Vec<f64>, RestoreError> {
        let n = self.len(8)?;
        (0..n).map(|_| self.f64()).collect()
    }

    pub fn u32s(&mut self) -> Result<Vec<u32>, RestoreError> {
        let n = self.len(4)?;
        (0..n).map(|_| self.u32()).collect()
    }

    pub fn u64s(&mut self) -> Result<Vec<u64>, RestoreError> {
        let n = self.len(8)?;
        (0..n).map(|_| self.u64()).collect()
    }

    pub fn string(&mut self) -> Result<String, RestoreError> {
        let n = self.len(1)?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| RestoreError::NotACheckpoint)
    }

    pub fn u32_lists(&mut self) -> Result<Vec<Vec<u32>>, RestoreError> {
        let n = self.len(8)?;
        (0..n).map(|_| self.u32s()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}
