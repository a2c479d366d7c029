//! Writing C text: exact literals for `double` and `float`, constant tables, static scratch
//! buffers, and numpy's pairwise `float32` sum unrolled into one expression for a fixed length
//! (so the C has no recursion where numpy recurses).
//!
//! Literals use Rust's shortest round-trip formatting (`{:?}`), which a C compiler reads back to
//! the same bits (C99 requires correctly rounded decimal constants in practice; GCC and Clang do
//! so), so a table computed in Rust is the table the C uses, bit for bit.

use super::CExportError;

/// A C `double` constant with the exact value of `value`.
pub fn double(value: f64) -> String {
    if value == 0.0 {
        // `-0.0` and `0.0` print differently; both multiply the same in every table here.
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_owned();
    }
    format!("{value:?}")
}

/// A C `float` constant with the exact value of `value`.
pub fn float(value: f32) -> String {
    format!("{}f", double(f64::from(value)))
}

/// Refuses a table value that is not finite (no C literal spells NaN or infinity portably).
pub fn finite(name: &str, value: f64) -> Result<f64, CExportError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(CExportError::NotFinite {
            table: name.to_owned(),
        })
    }
}

/// The checks every time-series `tinylab_dsp` starts with (its body declares `size_t i`): NULL
/// pointers, the length, and NaN or infinity, which the Rust blocks refuse too.
pub(super) const ENTRY_CHECKS_C: &str = r#"    if (raw == NULL || features == NULL) {
        return TINYLAB_ERR_NULL;
    }
    if (len != TINYLAB_RAW_LEN) {
        return TINYLAB_ERR_LEN;
    }
    for (i = 0; i < TINYLAB_RAW_LEN; i++) {
        if (!isfinite(raw[i])) {
            return TINYLAB_ERR_INPUT;
        }
    }
"#;

/// The generated source, assembled in parts: constant tables and buffers first, then functions.
/// It counts the bytes of what it declares, as a 32-bit target lays them out, so the export can
/// say exactly how much flash the tables and how much RAM the buffers take.
#[derive(Default)]
pub struct CSource {
    /// `static const` tables and `static` scratch buffers.
    pub data: String,
    /// Function definitions.
    pub code: String,
    /// Bytes of the `static const` tables (flash).
    pub table_bytes: usize,
    /// Bytes of the `static` scratch buffers (RAM).
    pub buffer_bytes: usize,
}

/// Bytes of one element of the C types the DSP declares, on a 32-bit target (Cortex-M, ESP32).
fn c_type_bytes(ty: &str) -> usize {
    match ty {
        "double" | "int64_t" | "uint64_t" => 8,
        "uint8_t" | "int8_t" | "char" => 1,
        "uint16_t" | "int16_t" => 2,
        // float, int32_t, uint32_t, size_t and int on a 32-bit target.
        _ => 4,
    }
}

impl CSource {
    /// Appends a `static const double name[]` table (C forbids empty arrays, so an empty table
    /// holds one unused 0).
    pub fn doubles(&mut self, name: &str, values: &[f64]) -> Result<(), CExportError> {
        let mut items = Vec::with_capacity(values.len().max(1));
        for &v in values {
            items.push(double(finite(name, v)?));
        }
        self.table("double", name, &items);
        Ok(())
    }

    /// Appends a `static const float name[]` table.
    pub fn floats(&mut self, name: &str, values: &[f32]) -> Result<(), CExportError> {
        let mut items = Vec::with_capacity(values.len().max(1));
        for &v in values {
            items.push(float(finite(name, f64::from(v))? as f32));
        }
        self.table("float", name, &items);
        Ok(())
    }

    /// Appends a `static const <ty> name[]` table of integers (`ty` is a C integer type that
    /// holds every value).
    pub fn integers(&mut self, ty: &str, name: &str, values: &[usize]) {
        let items: Vec<String> = values.iter().map(usize::to_string).collect();
        self.table(ty, name, &items);
    }

    fn table(&mut self, ty: &str, name: &str, items: &[String]) {
        let count = items.len().max(1);
        self.table_bytes += count * c_type_bytes(ty);
        self.data
            .push_str(&format!("static const {ty} {name}[{count}] = {{"));
        if items.is_empty() {
            self.data.push('0');
        }
        for (i, item) in items.iter().enumerate() {
            if i % 6 == 0 {
                self.data.push_str("\n    ");
            } else {
                self.data.push(' ');
            }
            self.data.push_str(item);
            self.data.push(',');
        }
        self.data.push_str("\n};\n");
    }

    /// Appends a zero-initialised `static <ty> name[count]` scratch buffer (at least 1 element).
    pub fn buffer(&mut self, ty: &str, name: &str, count: usize) {
        self.buffer_bytes += count.max(1) * c_type_bytes(ty);
        self.data
            .push_str(&format!("static {ty} {name}[{}];\n", count.max(1)));
    }

    /// Appends function text.
    pub fn code(&mut self, text: &str) {
        self.code.push_str(text);
        if !text.ends_with('\n') {
            self.code.push('\n');
        }
    }
}

/// The C helper [`pairwise_sum`]'s expressions call, `tl_pairwise_{ty}`: numpy's pairwise block
/// of at most 128 values of `ty` (`float` or `double`): fewer than 8 summed in order; else 8
/// lanes, each whole further block of 8 added lane by lane, combined
/// `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`, then the rest in order.
pub fn pairwise_block_c(ty: &str) -> String {
    format!(
        r#"
/* numpy's pairwise {ty} sum of one block of at most 128 values (dsp::wavelet::numpy_mean). */
static {ty} tl_pairwise_{ty}(const {ty} *a, size_t n)
{{
    size_t i;
    size_t whole;
    {ty} r[8];
    {ty} head;
    if (n < 8) {{
        {ty} s = 0;
        for (i = 0; i < n; i++) {{
            s += a[i];
        }}
        return s;
    }}
    whole = n - n % 8;
    for (i = 0; i < 8; i++) {{
        r[i] = a[i];
    }}
    for (i = 8; i < whole; i += 8) {{
        size_t lane;
        for (lane = 0; lane < 8; lane++) {{
            r[lane] += a[i + lane];
        }}
    }}
    head = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (i = whole; i < n; i++) {{
        head += a[i];
    }}
    return head;
}}
"#
    )
}

/// numpy's pairwise sum of the `len` values of type `ty` of the C array `array`, as one C
/// expression over [`pairwise_block_c`] calls: numpy splits a block longer than 128 values at a
/// multiple of 8 below its half and adds the two sums. The split tree depends only on `len`, so
/// it is unrolled here, at export time (depth `log2(len / 128)`), and the C has no recursion.
/// Mirrors `dsp::wavelet::numpy_mean`, which the Rust DSP uses.
pub fn pairwise_sum(ty: &str, array: &str, len: usize) -> String {
    let mut out = String::new();
    pairwise_into(&mut out, ty, array, 0, len);
    out
}

fn pairwise_into(out: &mut String, ty: &str, array: &str, start: usize, len: usize) {
    if len <= 128 {
        out.push_str(&format!("tl_pairwise_{ty}({array} + {start}, {len})"));
    } else {
        let half = len / 2;
        let left = half - half % 8;
        out.push('(');
        pairwise_into(out, ty, array, start, left);
        out.push_str(" + ");
        pairwise_into(out, ty, array, start + left, len - left);
        out.push(')');
    }
}
