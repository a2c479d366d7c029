//! The Python reference runtimes (LiteRT and TensorFlow Lite Micro) as test oracles: runs
//! `tests/reference/run_tflite.py` in the venv `scripts/install-deps.sh` makes at
//! `target/ref-venv`, and writes the `.npy` inputs it reads.
//!
//! A missing venv fails the test (it does not skip it): a reference that silently does not run
//! would make the tests prove nothing.

use std::path::{Path, PathBuf};

/// One output tensor as the reference runtime computed it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct RefOutput {
    /// Shape, batch dimension included.
    pub shape: Vec<usize>,
    /// numpy's dtype name (`float32`, `int8`, ...).
    pub dtype: String,
    /// The values, flattened in row-major order.
    pub values: Vec<f64>,
}

#[derive(serde::Deserialize)]
struct RefRun {
    outputs: Vec<RefOutput>,
}

/// The venv's Python interpreter; fails the test with what to do when the venv is missing.
pub fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ref-venv/bin/python");
    assert!(
        python.exists(),
        "the Python reference runtimes are missing ({} does not exist): run \
         scripts/install-deps.sh, which makes the venv with numpy, ai-edge-litert and tflite-micro",
        python.display()
    );
    python
}

/// Runs `model_path` on `input_npy` with `runtime` (`litert`, `litert-ref` or `tflm`) and returns
/// its outputs; any failure of the runtime fails the test with its stderr.
pub fn run_reference(model_path: &Path, input_npy: &Path, runtime: &str) -> Vec<RefOutput> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/run_tflite.py");
    let out = std::process::Command::new(python())
        .arg(&script)
        .arg(model_path)
        .arg(input_npy)
        .args(["--runtime", runtime])
        .output()
        .unwrap_or_else(|e| panic!("cannot start the reference runtime: {e}"));
    assert!(
        out.status.success(),
        "{runtime} failed on {}: {}",
        model_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let run: RefRun = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{runtime} printed something else than JSON ({e}): {stdout}"));
    run.outputs
}

/// Writes a little-endian float32 `.npy` (format 1.0) of `shape`.
pub fn write_npy_f32(path: &Path, shape: &[usize], values: &[f32]) {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(path, "<f4", shape, values.len(), &data);
}

/// Writes an int8 `.npy` (format 1.0) of `shape`.
pub fn write_npy_i8(path: &Path, shape: &[usize], values: &[i8]) {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(path, "|i1", shape, values.len(), &data);
}

/// The `.npy` format 1.0: magic, version, a u16 header length, a Python dict literal padded
/// with spaces and a newline so the data start on a 64-byte boundary, then the raw data.
fn write_npy(path: &Path, descr: &str, shape: &[usize], count: usize, data: &[u8]) {
    assert_eq!(
        shape.iter().product::<usize>(),
        count,
        "shape {shape:?} does not hold {count} values"
    );
    let shape_text = match shape {
        [one] => format!("({one},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    const PREAMBLE_BYTES: usize = 10;
    while !(PREAMBLE_BYTES + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend(u16::try_from(header.len()).unwrap().to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}
