//! NumPy `.npy` files (format 1.0, little-endian): whole arrays, arrays
//! that grow while a run goes (a header rewritten in place after every
//! append, so the file is a valid array at every moment), and reading
//! them back with a check that the data matches the header.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The header of a growing array has this fixed size, room for any shape.
const STREAM_HEADER: usize = 128;

/// The element types hebb writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F64,
    U32,
}

impl Dtype {
    fn descr(self) -> &'static str {
        match self {
            Dtype::F64 => "<f8",
            Dtype::U32 => "<u4",
        }
    }

    pub fn size(self) -> usize {
        match self {
            Dtype::F64 => 8,
            Dtype::U32 => 4,
        }
    }

    /// The name a manifest gives it.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "float64",
            Dtype::U32 => "uint32",
        }
    }
}

fn shape_text(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        dims => format!("({})", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// A header of exactly `len` bytes (a multiple of 64), or of the least
/// multiple of 64 when `len` is 0.
fn header(dtype: Dtype, shape: &[usize], len: usize) -> Vec<u8> {
    let mut dict =
        format!("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", dtype.descr(), shape_text(shape));
    let unpadded = 10 + dict.len() + 1;
    let total = if len == 0 { unpadded.div_ceil(64) * 64 } else { len };
    dict.push_str(&" ".repeat(total - unpadded));
    dict.push('\n');
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

fn f64_bytes(data: &[f64]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn u32_bytes(data: &[u32]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes a whole array.
fn write(path: &Path, dtype: Dtype, shape: &[usize], bytes: &[u8]) -> std::io::Result<()> {
    let mut out = header(dtype, shape, 0);
    out.extend_from_slice(bytes);
    std::fs::write(path, out)
}

pub fn write_f64(path: &Path, shape: &[usize], data: &[f64]) -> std::io::Result<()> {
    write(path, Dtype::F64, shape, &f64_bytes(data))
}

pub fn write_u32(path: &Path, shape: &[usize], data: &[u32]) -> std::io::Result<()> {
    write(path, Dtype::U32, shape, &u32_bytes(data))
}

/// An array that grows by rows while a run goes. Its header always says
/// how many rows are complete on disk: data is appended first, then the
/// header is rewritten in place, so a reader (or a crash) in between sees
/// the previous, still valid, array.
pub struct NpyStream {
    file: File,
    path: PathBuf,
    dtype: Dtype,
    /// Values per row; `None` for a 1-D array.
    row: Option<usize>,
    /// Values written.
    len: u64,
}

impl NpyStream {
    /// Creates an empty array (shape `(0,)` or `(0, row)`).
    pub fn create(path: &Path, dtype: Dtype, row: Option<usize>) -> std::io::Result<NpyStream> {
        let file = File::create(path)?;
        let stream = NpyStream { file, path: path.to_path_buf(), dtype, row, len: 0 };
        stream.file.write_all_at(&header(dtype, &stream.shape(), STREAM_HEADER), 0)?;
        Ok(stream)
    }

    /// Opens an array this type wrote, keeping its first `len` values and
    /// dropping the rest (to continue a run from a checkpoint).
    pub fn reopen(path: &Path, dtype: Dtype, row: Option<usize>, len: u64) -> std::io::Result<NpyStream> {
        let file = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
        let bytes = STREAM_HEADER as u64 + len * dtype.size() as u64;
        if file.metadata()?.len() < bytes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} holds fewer values than the checkpoint recorded", path.display()),
            ));
        }
        file.set_len(bytes)?;
        let stream = NpyStream { file, path: path.to_path_buf(), dtype, row, len };
        stream.write_header()?;
        Ok(stream)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Values written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn shape(&self) -> Vec<usize> {
        match self.row {
            None => vec![self.len as usize],
            Some(0) => vec![0, 0],
            Some(r) => vec![self.len as usize / r, r],
        }
    }

    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn append_bytes(&mut self, bytes: &[u8], values: usize) -> std::io::Result<()> {
        if values == 0 {
            return Ok(());
        }
        let at = STREAM_HEADER as u64 + self.len * self.dtype.size() as u64;
        self.file.write_all_at(bytes, at)?;
        self.len += values as u64;
        self.write_header()
    }

    fn write_header(&self) -> std::io::Result<()> {
        self.file.write_all_at(&header(self.dtype, &self.shape(), STREAM_HEADER), 0)
    }

    pub fn append_f64(&mut self, data: &[f64]) -> std::io::Result<()> {
        debug_assert_eq!(self.dtype, Dtype::F64);
        self.append_bytes(&f64_bytes(data), data.len())
    }

    pub fn append_u32(&mut self, data: &[u32]) -> std::io::Result<()> {
        debug_assert_eq!(self.dtype, Dtype::U32);
        self.append_bytes(&u32_bytes(data), data.len())
    }

    /// Makes the data durable (at the end of a run).
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

/// A `.npy` file's header: its dtype, shape and where the data starts.
fn read_header(bytes: &[u8], path: &Path, want: Dtype) -> std::io::Result<(Vec<usize>, usize)> {
    let bad = |why: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not a valid .npy file: {why}", path.display()),
        )
    };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("no .npy header"));
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let text = std::str::from_utf8(bytes.get(10..10 + hlen).ok_or_else(|| bad("truncated header"))?)
        .map_err(|_| bad("header is not text"))?;
    if !text.contains(&format!("'{}'", want.descr())) {
        return Err(bad(&format!("not {}", want.name())));
    }
    let shape_text =
        text.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).ok_or_else(|| bad("no shape"))?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().map_err(|_| bad("bad shape")))
        .collect::<Result<_, _>>()?;
    let values: usize = shape.iter().product();
    let have = (bytes.len() - 10 - hlen) / want.size();
    if have < values {
        return Err(bad(&format!("truncated: the header says {values} values, the file holds {have}")));
    }
    Ok((shape, 10 + hlen))
}

/// Reads a float64 array (its shape and values in row-major order).
pub fn read_f64(path: &Path) -> std::io::Result<(Vec<usize>, Vec<f64>)> {
    let bytes = std::fs::read(path)?;
    let (shape, start) = read_header(&bytes, path, Dtype::F64)?;
    let n: usize = shape.iter().product();
    let data = bytes[start..start + 8 * n]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    Ok((shape, data))
}

/// Reads a uint32 array.
pub fn read_u32(path: &Path) -> std::io::Result<(Vec<usize>, Vec<u32>)> {
    let bytes = std::fs::read(path)?;
    let (shape, start) = read_header(&bytes, path, Dtype::U32)?;
    let n: usize = shape.iter().product();
    let data = bytes[start..start + 4 * n]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    Ok((shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_growing_array_is_valid_after_every_append_and_can_be_cut_back() {
        let dir = std::env::temp_dir().join(format!("hebb-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.npy");
        let mut s = NpyStream::create(&path, Dtype::F64, Some(2)).unwrap();
        assert_eq!(read_f64(&path).unwrap(), (vec![0, 2], vec![]));
        s.append_f64(&[1.0, 2.0]).unwrap();
        assert_eq!(read_f64(&path).unwrap(), (vec![1, 2], vec![1.0, 2.0]));
        s.append_f64(&[3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(read_f64(&path).unwrap(), (vec![3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        drop(s);
        let mut s = NpyStream::reopen(&path, Dtype::F64, Some(2), 2).unwrap();
        assert_eq!(read_f64(&path).unwrap(), (vec![1, 2], vec![1.0, 2.0]));
        s.append_f64(&[7.0, 8.0]).unwrap();
        assert_eq!(read_f64(&path).unwrap().1, vec![1.0, 2.0, 7.0, 8.0]);
        // A file cut short is refused, not read as garbage.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let e = read_f64(&path).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        assert!(read_u32(&path).is_err(), "the dtype is checked");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
