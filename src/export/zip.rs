//! A minimal zip writer: deflated entries (raw DEFLATE through flate2, already in the build for
//! PNG), CRC-32 from flate2's `Crc`, UTF-8 names, a fixed timestamp (1980-01-01 00:00, so the same
//! library zips to the same bytes), Unix mode 0644, no zip64 (the Arduino library of a TinyML
//! model is far below 4 GiB and 65,535 entries; larger inputs are refused, not truncated).
//!
//! Layout (APPNOTE 6.3.x §4.3): for each file a local header + data, then the central directory
//! (one header per file) and the end-of-central-directory record.

use flate2::Compression;
use flate2::write::DeflateEncoder;
use std::io::Write;

/// Why a set of files cannot be zipped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZipError {
    /// More entries than a zip without zip64 holds.
    #[error("{count} files is more than a zip without zip64 holds (65,535)")]
    TooManyEntries {
        /// Entries asked for.
        count: usize,
    },
    /// A file, a name or the whole archive over a 32-bit (or 16-bit) field.
    #[error("{name}: too large for a zip without zip64 (sizes and offsets must be below 4 GiB)")]
    TooLarge {
        /// The entry.
        name: String,
    },
    /// A name that would unpack outside the archive's folder or is empty.
    #[error("{name:?} is not a relative path inside the archive")]
    BadName {
        /// The name.
        name: String,
    },
    /// The compressor failed (it writes to memory, so this means a bug).
    #[error("deflate failed on {name}: {message}")]
    Deflate {
        /// The entry.
        name: String,
        /// flate2's message.
        message: String,
    },
}

/// Deflate (method 8); "version needed to extract" 2.0.
const METHOD_DEFLATE: u16 = 8;
const VERSION_NEEDED: u16 = 20;
/// Made by Unix (3), spec 2.0: external attributes carry the Unix mode.
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
/// General purpose flag bit 11: names are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// MS-DOS date 1980-01-01 (year 0, month 1, day 1) and time 00:00:00.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
/// Regular file, rw-r--r--, in the high half of the external attributes.
const UNIX_FILE_MODE: u32 = 0o100_644;

/// One file of the archive: a relative path with `/` separators and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry<'a> {
    /// Path inside the archive, e.g. `mylib/src/mylib.h`.
    pub name: &'a str,
    /// The file's contents.
    pub data: &'a [u8],
}

fn u32_field(value: usize, name: &str) -> Result<u32, ZipError> {
    u32::try_from(value).map_err(|_| ZipError::TooLarge {
        name: name.to_owned(),
    })
}

fn check_name(name: &str) -> Result<(), ZipError> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.split('/').any(|part| part.is_empty() || part == "..");
    if bad {
        return Err(ZipError::BadName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// The zip archive holding `entries`, in order.
pub fn zip_bytes(entries: &[ZipEntry]) -> Result<Vec<u8>, ZipError> {
    let count = u16::try_from(entries.len()).map_err(|_| ZipError::TooManyEntries {
        count: entries.len(),
    })?;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        check_name(entry.name)?;
        let name_len = u16::try_from(entry.name.len()).map_err(|_| ZipError::TooLarge {
            name: entry.name.to_owned(),
        })?;
        let mut crc = flate2::Crc::new();
        crc.update(entry.data);
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
        let compressed = encoder
            .write_all(entry.data)
            .and_then(|()| encoder.finish())
            .map_err(|e| ZipError::Deflate {
                name: entry.name.to_owned(),
                message: e.to_string(),
            })?;
        let offset = u32_field(out.len(), entry.name)?;
        let compressed_len = u32_field(compressed.len(), entry.name)?;
        let data_len = u32_field(entry.data.len(), entry.name)?;
        // Local file header.
        put32(&mut out, 0x0403_4b50);
        put16(&mut out, VERSION_NEEDED);
        put16(&mut out, FLAG_UTF8);
        put16(&mut out, METHOD_DEFLATE);
        put16(&mut out, DOS_TIME);
        put16(&mut out, DOS_DATE);
        put32(&mut out, crc.sum());
        put32(&mut out, compressed_len);
        put32(&mut out, data_len);
        put16(&mut out, name_len);
        put16(&mut out, 0);
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(&compressed);
        // Its central directory header.
        put32(&mut central, 0x0201_4b50);
        put16(&mut central, VERSION_MADE_BY);
        put16(&mut central, VERSION_NEEDED);
        put16(&mut central, FLAG_UTF8);
        put16(&mut central, METHOD_DEFLATE);
        put16(&mut central, DOS_TIME);
        put16(&mut central, DOS_DATE);
        put32(&mut central, crc.sum());
        put32(&mut central, compressed_len);
        put32(&mut central, data_len);
        put16(&mut central, name_len);
        put16(&mut central, 0); // extra field length
        put16(&mut central, 0); // comment length
        put16(&mut central, 0); // disk number start
        put16(&mut central, 0); // internal attributes
        put32(&mut central, UNIX_FILE_MODE << 16);
        put32(&mut central, offset);
        central.extend_from_slice(entry.name.as_bytes());
    }
    let central_offset = u32_field(out.len(), "the central directory")?;
    let central_len = u32_field(central.len(), "the central directory")?;
    out.extend_from_slice(&central);
    u32_field(out.len(), "the archive")?;
    // End of central directory.
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, central_len);
    put32(&mut out, central_offset);
    put16(&mut out, 0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn crc_is_the_standard_crc32() {
        // The check value of CRC-32/ISO-HDLC (zip's CRC) for "123456789".
        let mut crc = flate2::Crc::new();
        crc.update(b"123456789");
        assert_eq!(crc.sum(), 0xCBF4_3926);
    }

    #[test]
    fn names_outside_the_archive_are_refused() {
        for name in ["", "/etc/passwd", "a/../../b", "a//b", "a\\b"] {
            let entry = ZipEntry { name, data: b"x" };
            assert!(
                matches!(zip_bytes(&[entry]), Err(ZipError::BadName { .. })),
                "{name}"
            );
        }
    }

    #[test]
    fn an_empty_archive_is_only_the_end_record() {
        let bytes = zip_bytes(&[]).unwrap();
        assert_eq!(bytes.len(), 22);
        assert_eq!(&bytes[..4], &[0x50, 0x4b, 0x05, 0x06]);
    }
}
