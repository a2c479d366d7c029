//! NumPy `.npy` arrays (format versions 1–3, C order, little-endian), the input format
//! `tinylab infer` shares with TFLM's and LiteRT's Python tooling.
//!
//! Layout: the magic `\x93NUMPY`, a major and minor version byte, the header length (u16 in
//! version 1, u32 in 2 and 3), a Python dict literal `{'descr': '<f4', 'fortran_order': False,
//! 'shape': (49, 40), }`, then the raw elements.

use crate::quant::QuantError;
use crate::quant::interpreter::TensorData;

/// A parsed array.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Its shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// Its elements, as the interpreter takes them.
    pub data: TensorData,
}

/// Parses `.npy` bytes; dtypes `<f4`, `|i1`, `|u1` and `<i4` are read.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, QuantError> {
    let bad = |why: &str| QuantError::Input(format!("not a .npy array this reader takes: {why}"));
    let rest = bytes
        .strip_prefix(b"\x93NUMPY")
        .ok_or_else(|| bad("no \\x93NUMPY magic"))?;
    let (major, rest) = rest.split_first().ok_or_else(|| bad("truncated"))?;
    let rest = rest.get(1..).ok_or_else(|| bad("truncated"))?;
    let (header_len, rest) = match major {
        1 => {
            let (len, rest) = rest.split_at_checked(2).ok_or_else(|| bad("truncated"))?;
            let len = <[u8; 2]>::try_from(len).map_err(|_| bad("truncated"))?;
            (u16::from_le_bytes(len) as usize, rest)
        }
        2 | 3 => {
            let (len, rest) = rest.split_at_checked(4).ok_or_else(|| bad("truncated"))?;
            let len = <[u8; 4]>::try_from(len).map_err(|_| bad("truncated"))?;
            (u32::from_le_bytes(len) as usize, rest)
        }
        v => return Err(bad(&format!("format version {v}"))),
    };
    let (header, body) = rest
        .split_at_checked(header_len)
        .ok_or_else(|| bad("header longer than the file"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
    let descr = field(header, "descr").ok_or_else(|| bad("no 'descr'"))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    if field(header, "fortran_order").is_some_and(|v| v.trim().starts_with("True")) {
        return Err(bad("Fortran order; save it with np.ascontiguousarray"));
    }
    let shape = parse_shape(header).ok_or_else(|| bad("no readable 'shape'"))?;
    let count: usize = shape.iter().product();
    let element = match descr {
        "<f4" | "<i4" => 4,
        "|i1" | "|u1" | "i1" | "u1" => 1,
        other => {
            return Err(bad(&format!(
                "dtype {other} (use float32, int8, uint8 or int32)"
            )));
        }
    };
    let body = body.get(..count * element).ok_or_else(|| {
        bad(&format!(
            "{count} elements of {element} bytes but the file is shorter"
        ))
    })?;
    let words = || {
        body.chunks_exact(4)
            .filter_map(|b| <[u8; 4]>::try_from(b).ok())
    };
    let data = match descr {
        "<f4" => TensorData::F32(words().map(f32::from_le_bytes).collect()),
        "<i4" => TensorData::I32(words().map(i32::from_le_bytes).collect()),
        "|u1" | "u1" => TensorData::U8(body.to_vec()),
        _ => TensorData::I8(body.iter().map(|&b| b as i8).collect()),
    };
    Ok(NpyArray { shape, data })
}

/// The text after `'key':` up to the next top-level comma.
fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header.get(start..)?.trim_start().strip_prefix(':')?;
    let end = rest.find(',').unwrap_or(rest.len());
    rest.get(..end)
}

fn parse_shape(header: &str) -> Option<Vec<usize>> {
    let start = header.find("'shape'")?;
    let rest = header.get(start..)?;
    let open = rest.find('(')?;
    let close = rest.find(')')?;
    rest.get(open + 1..close)?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn reads_int8_and_float32() {
        let a = parse(&npy("|i1", "(2, 2)", &[1, 255, 3, 128])).unwrap();
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(a.data, TensorData::I8(vec![1, -1, 3, -128]));
        let body: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse(&npy("<f4", "(2,)", &body)).unwrap();
        assert_eq!(a.shape, vec![2]);
        assert_eq!(a.data, TensorData::F32(vec![1.5, -2.0]));
    }

    #[test]
    fn bad_files_say_why() {
        assert!(parse(b"hello").is_err());
        let e = parse(&npy("<f8", "(1,)", &[0; 8])).unwrap_err();
        assert!(e.to_string().contains("dtype <f8"), "{e}");
        let e = parse(&npy("|i1", "(4,)", &[1, 2])).unwrap_err();
        assert!(e.to_string().contains("shorter"), "{e}");
    }
}
