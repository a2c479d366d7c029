//! The C99 library export (`tinylab export DIR --format c-library --out PATH`): the files of a
//! folder with `tinylab_model.h/.c` (the int8 model, `export::c_model`) and `tinylab_dsp.h/.c`
//! (the run's DSP block with its settings baked in, `export::c_dsp`), plus the RAM and flash
//! figures printed at export. Nothing beyond the C standard library and `math.h`.
//!
//! Pure like every export: the caller writes the folder (`project::atomic::write_dir_atomic`,
//! so a replaced folder is never half old, half new).

use crate::dsp::Signal;
use crate::dsp::block::{BlockInput, DspSettings};
use crate::export::c_dsp::{CExportError, DspCInput, dsp_sources};
use crate::export::c_model::{AnomalyC, CModelError, ModelInfo, model_sources};
use crate::labs::SensorPreset;
use crate::project::runs::StoredRun;
use crate::quant::Graph;
use crate::quant::report::CLibraryFigures;

/// Bytes of machine code per kernel kind and for the entry points, for the flash estimate:
/// rounded up from the motion demo's model (FULLY_CONNECTED, SOFTMAX, the entry points and the
/// K-means score), whose `.text` is 1,670 bytes with `gcc 12 -Os` on x86-64 (README, C library).
/// A Cortex-M build is of the same order; the figure is printed as an estimate.
const CODE_BYTES_PER_KERNEL: usize = 700;
const CODE_BYTES_RUNTIME: usize = 600;

/// Why a run cannot be exported as a C library.
#[derive(thiserror::Error, Debug)]
pub enum CLibraryError {
    /// The model half.
    #[error(transparent)]
    Model(#[from] CModelError),
    /// The DSP half.
    #[error(transparent)]
    Dsp(#[from] CExportError),
    /// The two halves disagree.
    #[error(
        "the DSP makes {dsp} features but the model takes {model}: the run's DSP settings \
         changed since training; train again"
    )]
    Mismatch {
        /// `TINYLAB_FEATURES_LEN`.
        dsp: usize,
        /// `TINYLAB_INPUT_LEN`.
        model: usize,
    },
}

/// The library's files and figures.
#[derive(Clone, Debug)]
pub struct CLibrary {
    /// `(file name, contents)`: the four files of the contract.
    pub files: Vec<(String, String)>,
    /// The model's static arena (`TINYLAB_ARENA_BYTES`).
    pub arena_bytes: usize,
    /// Other static RAM of the model file (the features buffer of `tinylab_classify`, the
    /// last anomaly score).
    pub other_ram_bytes: usize,
    /// Bytes of constant data of the model (weights, biases, multipliers, labels, K-means).
    pub constant_bytes: usize,
    /// Estimated bytes of the model's machine code.
    pub code_bytes_estimate: usize,
    /// Bytes of the DSP's constant tables (`tinylab_dsp.c`, 32-bit target).
    pub dsp_table_bytes: usize,
    /// Bytes of the DSP's static scratch buffers (`tinylab_dsp.c`, 32-bit target).
    pub dsp_buffer_bytes: usize,
    /// Floats in one window of raw input (`TINYLAB_RAW_LEN`).
    pub raw_len: usize,
}

impl CLibrary {
    /// The figures as the export prints them.
    pub fn summary(&self) -> String {
        format!(
            "RAM: {} bytes of arena + {} bytes of other model buffers + {} bytes of DSP \
             buffers; flash: {} bytes of weights and constants + {} bytes of DSP tables + about \
             {} bytes of model code (estimate)",
            self.arena_bytes,
            self.other_ram_bytes,
            self.dsp_buffer_bytes,
            self.constant_bytes,
            self.dsp_table_bytes,
            self.code_bytes_estimate
        )
    }

    /// The exact static RAM and constant bytes, as the quantize report keeps them.
    pub fn figures(&self) -> CLibraryFigures {
        let Self {
            arena_bytes,
            other_ram_bytes,
            constant_bytes,
            code_bytes_estimate,
            dsp_table_bytes,
            dsp_buffer_bytes,
            files: _,
            raw_len,
        } = self;
        CLibraryFigures {
            arena_bytes: *arena_bytes as u64,
            model_buffer_bytes: *other_ram_bytes as u64,
            dsp_buffer_bytes: *dsp_buffer_bytes as u64,
            raw_window_bytes: (*raw_len * std::mem::size_of::<f32>()) as u64,
            model_constant_bytes: *constant_bytes as u64,
            dsp_table_bytes: *dsp_table_bytes as u64,
            model_code_bytes_estimate: *code_bytes_estimate as u64,
        }
    }
}

/// The feature names the run's DSP gives one window (for the anomaly detector's columns).
fn feature_names(dsp: &DspSettings, input: &DspCInput, sensor: &SensorPreset) -> Vec<String> {
    match input {
        DspCInput::Series {
            axes,
            readings,
            rate_hz,
        } => {
            let values = vec![0.0f32; axes * readings];
            let names: Vec<String> = if sensor.axes.len() == *axes {
                sensor.axes.clone()
            } else {
                (0..*axes).map(|a| format!("axis{a}")).collect()
            };
            let block = BlockInput::Signal {
                signal: Signal {
                    axes: *axes,
                    rate_hz: *rate_hz,
                    values: &values,
                },
                axis_names: &names,
            };
            dsp.features(&block).map(|f| f.names).unwrap_or_default()
        }
        DspCInput::Image { .. } => Vec::new(),
    }
}

/// The C library of `stored` (its int8 graph `int8`), for a project called `project` whose
/// sensor is `sensor`, generated on `generated` (a date for the header comments).
pub fn library_files(
    stored: &StoredRun,
    int8: &Graph,
    project: &str,
    sensor: &SensorPreset,
    generated: &str,
) -> Result<CLibrary, CLibraryError> {
    let record = &stored.record;
    let input = DspCInput::of_run(record, sensor)?;
    let dsp = dsp_sources(&record.dsp, &input)?;
    let columns = stored.anomaly.as_ref().map(|_| {
        record
            .model
            .anomaly
            .feature_indices(&feature_names(&record.dsp, &input, sensor))
    });
    let anomaly = stored
        .anomaly
        .as_ref()
        .zip(columns.as_deref())
        .map(|(kmeans, columns)| AnomalyC { kmeans, columns });
    let info = ModelInfo {
        project,
        run: &record.id,
        generated,
        labels: &record.labels,
        with_classify: true,
    };
    let model = model_sources(int8, &info, anomaly)?;
    if dsp.features_len != model.input_len {
        return Err(CLibraryError::Mismatch {
            dsp: dsp.features_len,
            model: model.input_len,
        });
    }
    Ok(CLibrary {
        arena_bytes: model.arena_bytes,
        other_ram_bytes: model.other_ram_bytes,
        constant_bytes: model.constant_bytes,
        code_bytes_estimate: CODE_BYTES_RUNTIME + CODE_BYTES_PER_KERNEL * model.kernels.len(),
        dsp_table_bytes: dsp.table_bytes,
        dsp_buffer_bytes: dsp.buffer_bytes,
        raw_len: dsp.raw_len,
        files: vec![
            ("tinylab_dsp.h".into(), dsp.header),
            ("tinylab_dsp.c".into(), dsp.source),
            ("tinylab_model.h".into(), model.header),
            ("tinylab_model.c".into(), model.source),
        ],
    })
}

/// `YYYY-MM-DD` (UTC) of a Unix time in seconds (Howard Hinnant's `civil_from_days`).
pub fn utc_date(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_the_calendar() {
        assert_eq!(utc_date(0), "1970-01-01");
        // 2000-02-29 00:00:00 UTC = 951782400 (a leap day of a century leap year).
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        // 2024-12-31 23:59:59 UTC = 1735689599.
        assert_eq!(utc_date(1_735_689_599), "2024-12-31");
    }
}
