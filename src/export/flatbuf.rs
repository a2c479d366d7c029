//! A small, safe, bounds-checked reader of flatbuffers (the binary format of `.tflite` files).
//!
//! A flatbuffer is a little-endian byte blob: at offset 0 a `uoffset` (u32) to the root table;
//! a table starts with an `soffset` (i32) back to its vtable; a vtable is `[vtable bytes: u16,
//! table bytes: u16, field offsets: u16 …]`, where a field's offset is relative to the table
//! start and 0 means "absent, use the default"; strings, vectors and sub-tables are reached
//! through a `uoffset` relative to where it is stored; a vector is a u32 length followed by its
//! elements. Every read here checks its range first, so a truncated or garbled file gives an
//! error naming the position, never a panic or an out-of-memory allocation.
//!
//! Only what the `.tflite` reader needs is here: scalars, strings, tables and vectors of
//! scalars or tables. Fields are named by their vtable slot (`4 + 2 · id`, see
//! `tflite_schema`).

use crate::quant::QuantError;

/// The error for a read outside the file or an impossible structure.
fn damaged(what: impl std::fmt::Display) -> QuantError {
    QuantError::Invalid(format!("the .tflite file is truncated or damaged: {what}"))
}

/// `N` bytes at `position`, or an error.
fn bytes_at<const N: usize>(buf: &[u8], position: usize) -> Result<[u8; N], QuantError> {
    position
        .checked_add(N)
        .and_then(|end| buf.get(position..end))
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .ok_or_else(|| {
            damaged(format!(
                "a {N}-byte read at offset {position} runs past the end ({} bytes)",
                buf.len()
            ))
        })
}

fn u16_at(buf: &[u8], position: usize) -> Result<u16, QuantError> {
    bytes_at(buf, position).map(u16::from_le_bytes)
}

fn u32_at(buf: &[u8], position: usize) -> Result<u32, QuantError> {
    bytes_at(buf, position).map(u32::from_le_bytes)
}

/// Follows the `uoffset` stored at `position` to the absolute position it points to.
fn follow(buf: &[u8], position: usize) -> Result<usize, QuantError> {
    let offset = u32_at(buf, position)? as usize;
    let target = position
        .checked_add(offset)
        .filter(|&t| t < buf.len())
        .ok_or_else(|| {
            damaged(format!(
                "the offset {offset} stored at {position} points past the end ({} bytes)",
                buf.len()
            ))
        })?;
    Ok(target)
}

/// The flatbuffer's file identifier (bytes 4..8), if the file is long enough.
pub fn file_identifier(buf: &[u8]) -> Option<&[u8]> {
    buf.get(4..8)
}

/// The root table.
pub fn root(buf: &[u8]) -> Result<Table<'_>, QuantError> {
    let position = follow(buf, 0)?;
    Table::at(buf, position)
}

/// A scalar that can be read from a table field or a vector element.
pub trait Scalar: Sized + Copy {
    /// Bytes per value.
    const SIZE: usize;
    /// Reads one little-endian value at `position`.
    fn read(buf: &[u8], position: usize) -> Result<Self, QuantError>;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn read(buf: &[u8], position: usize) -> Result<Self, QuantError> {
                bytes_at(buf, position).map(<$t>::from_le_bytes)
            }
        }
    )*};
}
scalar!(u8, i8, u16, i32, u32, i64, u64, f32);

/// One table: a position in the buffer and its vtable.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    buf: &'a [u8],
    position: usize,
    vtable: usize,
    vtable_bytes: usize,
}

impl<'a> Table<'a> {
    /// The table starting at `position`.
    fn at(buf: &'a [u8], position: usize) -> Result<Self, QuantError> {
        let back = i64::from(bytes_at(buf, position).map(i32::from_le_bytes)?);
        let vtable = usize::try_from(position as i64 - back)
            .ok()
            .filter(|&v| v < buf.len())
            .ok_or_else(|| {
                damaged(format!(
                    "the table at {position} has its vtable at {}, outside the file",
                    position as i64 - back
                ))
            })?;
        let vtable_bytes = usize::from(u16_at(buf, vtable)?);
        if vtable_bytes < 4 || vtable_bytes % 2 != 0 {
            return Err(damaged(format!(
                "the vtable at {vtable} is {vtable_bytes} bytes long"
            )));
        }
        // The whole vtable must be inside the file, so later field lookups cannot fail.
        bytes_at::<2>(buf, vtable + vtable_bytes - 2)?;
        Ok(Self {
            buf,
            position,
            vtable,
            vtable_bytes,
        })
    }

    /// The absolute position of the field in `slot`, or `None` when it is absent.
    fn field(&self, slot: u16) -> Result<Option<usize>, QuantError> {
        let slot = usize::from(slot);
        if slot + 2 > self.vtable_bytes {
            return Ok(None);
        }
        let offset = usize::from(u16_at(self.buf, self.vtable + slot)?);
        Ok((offset != 0).then_some(self.position + offset))
    }

    /// The scalar in `slot`, or `default` when absent.
    pub fn scalar<T: Scalar>(&self, slot: u16, default: T) -> Result<T, QuantError> {
        match self.field(slot)? {
            Some(position) => T::read(self.buf, position),
            None => Ok(default),
        }
    }

    /// The boolean in `slot`, or `default` when absent.
    pub fn boolean(&self, slot: u16, default: bool) -> Result<bool, QuantError> {
        Ok(self.scalar::<u8>(slot, u8::from(default))? != 0)
    }

    /// The sub-table in `slot`, if present.
    pub fn table(&self, slot: u16) -> Result<Option<Table<'a>>, QuantError> {
        match self.field(slot)? {
            Some(position) => Ok(Some(Table::at(self.buf, follow(self.buf, position)?)?)),
            None => Ok(None),
        }
    }

    /// The vector in `slot`, if present.
    pub fn vector(&self, slot: u16) -> Result<Option<Vector<'a>>, QuantError> {
        match self.field(slot)? {
            Some(position) => Ok(Some(Vector::at(self.buf, follow(self.buf, position)?)?)),
            None => Ok(None),
        }
    }

    /// The vector of scalars in `slot`, empty when absent.
    pub fn scalars<T: Scalar>(&self, slot: u16) -> Result<Vec<T>, QuantError> {
        match self.vector(slot)? {
            Some(vector) => vector.scalars(),
            None => Ok(Vec::new()),
        }
    }

    /// The vector of tables in `slot`, empty when absent.
    pub fn tables(&self, slot: u16) -> Result<Vec<Table<'a>>, QuantError> {
        match self.vector(slot)? {
            Some(vector) => vector.tables(),
            None => Ok(Vec::new()),
        }
    }

    /// The bytes of the `[ubyte]` vector in `slot`, empty when absent.
    pub fn bytes(&self, slot: u16) -> Result<&'a [u8], QuantError> {
        match self.vector(slot)? {
            Some(vector) => vector.bytes(),
            None => Ok(&[]),
        }
    }

    /// The string in `slot`, empty when absent; invalid UTF-8 is an error.
    pub fn string(&self, slot: u16) -> Result<String, QuantError> {
        let bytes = self.bytes(slot)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|e| damaged(format!("a string is not UTF-8 ({e})")))
    }
}

/// A vector: its element count and where its elements start.
#[derive(Clone, Copy, Debug)]
pub struct Vector<'a> {
    buf: &'a [u8],
    start: usize,
    len: usize,
}

impl<'a> Vector<'a> {
    fn at(buf: &'a [u8], position: usize) -> Result<Self, QuantError> {
        let len = u32_at(buf, position)? as usize;
        Ok(Self {
            buf,
            start: position + 4,
            len,
        })
    }

    /// Checks that `len` elements of `element_bytes` each fit in the file.
    fn check_fits(&self, element_bytes: usize) -> Result<(), QuantError> {
        let fits = self
            .len
            .checked_mul(element_bytes)
            .and_then(|n| n.checked_add(self.start))
            .is_some_and(|end| end <= self.buf.len());
        if fits {
            Ok(())
        } else {
            Err(damaged(format!(
                "a vector of {} elements of {element_bytes} bytes at {} runs past the end ({} \
                 bytes)",
                self.len,
                self.start,
                self.buf.len()
            )))
        }
    }

    /// The elements as scalars.
    pub fn scalars<T: Scalar>(&self) -> Result<Vec<T>, QuantError> {
        self.check_fits(T::SIZE)?;
        (0..self.len)
            .map(|i| T::read(self.buf, self.start + i * T::SIZE))
            .collect()
    }

    /// The elements as tables.
    pub fn tables(&self) -> Result<Vec<Table<'a>>, QuantError> {
        self.check_fits(4)?;
        (0..self.len)
            .map(|i| Table::at(self.buf, follow(self.buf, self.start + 4 * i)?))
            .collect()
    }

    /// The elements as bytes.
    pub fn bytes(&self) -> Result<&'a [u8], QuantError> {
        self.check_fits(1)?;
        self.buf
            .get(self.start..self.start + self.len)
            .ok_or_else(|| damaged("a byte vector runs past the end"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// A hand-assembled buffer: root → table with one i32 field (7) and a vector of two u8.
    fn tiny() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(12u32.to_le_bytes()); // 0: root offset → table at 12
        // 4: vtable: 8 bytes, table 12 bytes, field 0 at +4, field 1 at +8
        b.extend(8u16.to_le_bytes());
        b.extend(12u16.to_le_bytes());
        b.extend(4u16.to_le_bytes());
        b.extend(8u16.to_le_bytes());
        // 12: table: soffset back to the vtable (12 − 4 = 8)
        b.extend(8i32.to_le_bytes());
        b.extend(7i32.to_le_bytes()); // 16: field 0
        b.extend(4u32.to_le_bytes()); // 20: field 1 → vector at 24
        b.extend(2u32.to_le_bytes()); // 24: length 2
        b.extend([5u8, 6u8]);
        b
    }

    #[test]
    fn reads_a_hand_built_buffer() {
        let buf = tiny();
        let table = root(&buf).unwrap();
        assert_eq!(table.scalar::<i32>(4, 0).unwrap(), 7);
        assert_eq!(table.bytes(6).unwrap(), &[5, 6]);
        // Slots past the vtable are absent: defaults.
        assert_eq!(table.scalar::<i32>(8, -3).unwrap(), -3);
        assert!(table.vector(8).unwrap().is_none());
    }

    #[test]
    fn every_truncation_and_every_single_byte_change_is_an_error_or_a_value_never_a_panic() {
        let buf = tiny();
        for len in 0..buf.len() {
            let cut = &buf[..len];
            let result = root(cut).and_then(|t| {
                t.scalar::<i32>(4, 0)?;
                t.bytes(6).map(<[u8]>::to_vec)
            });
            assert!(result.is_err(), "truncated to {len} bytes");
        }
        for i in 0..buf.len() {
            for value in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut garbled = buf.clone();
                garbled[i] = value;
                let _ = root(&garbled).and_then(|t| {
                    t.scalar::<i32>(4, 0)?;
                    t.bytes(6).map(<[u8]>::to_vec)
                });
            }
        }
    }
}
