//! Sample file formats TinyLab reads and writes: Edge Impulse-style CSV, Edge Impulse's data
//! acquisition JSON, WAV audio and (in [`image`], apart from the time series) PNG/JPEG/BMP
//! images. Every parser is strict: a malformed file gives a [`FormatError`] naming the
//! file, the line and the problem, and nothing is imported from it.

pub mod boxes;
pub mod csv;
pub mod ei_json;
pub mod image;
pub mod wav;

use super::sample::Series;
use std::path::{Path, PathBuf};

/// Files larger than this are refused before reading (a sensor sample is kilobytes).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Lines longer than this are refused (a CSV row of readings is tens of bytes).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// What is wrong with a sample file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct FormatError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, with line and column where it applies.
    pub problem: String,
}

impl FormatError {
    /// An error about `path`.
    pub fn new(path: &Path, problem: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The file types `tinylab import` understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleFormat {
    /// CSV with an optional `timestamp` column in milliseconds.
    Csv,
    /// Edge Impulse data acquisition JSON.
    EiJson,
    /// WAV audio (any bit depth; kept in int16 units).
    Wav,
}

impl SampleFormat {
    /// The format of a file, by its extension.
    pub fn of(path: &Path) -> Result<Self, FormatError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(Self::Csv),
            Some("json") => Ok(Self::EiJson),
            Some("wav") => Ok(Self::Wav),
            _ => Err(FormatError::new(
                path,
                "unknown file type: TinyLab imports .csv and Edge Impulse .json sensor files, .wav audio and \
                 .png, .jpg or .bmp images",
            )),
        }
    }

    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::EiJson => "json",
            Self::Wav => "wav",
        }
    }
}

/// A sample read from a file, before it joins a project.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedSample {
    /// The readings.
    pub series: Series,
    /// The label from the file name (`idle.01.csv` → `idle`), if it has one.
    pub label_from_name: Option<String>,
}

/// Reads one sample file. `fallback_rate_hz` is used when the file has no timing information.
pub fn read_sample(path: &Path, fallback_rate_hz: f64) -> Result<ImportedSample, FormatError> {
    let series = match SampleFormat::of(path)? {
        SampleFormat::Csv => csv::read_series(path, Some(fallback_rate_hz))?,
        SampleFormat::EiJson => ei_json::read_series(path)?,
        SampleFormat::Wav => wav::read_series(path)?,
    };
    Ok(ImportedSample {
        series,
        label_from_name: label_from_file_name(path),
    })
}

/// Writes a sample file in `format`.
pub fn write_sample(
    path: &Path,
    format: SampleFormat,
    series: &Series,
    units: &str,
) -> std::io::Result<()> {
    match format {
        SampleFormat::Csv => csv::write_series(path, series),
        SampleFormat::EiJson => ei_json::write_series(path, series, units),
        SampleFormat::Wav => wav::write_series(path, series),
    }
}

/// Reads a sample file stored in a project (CSV or WAV, by extension) at the rate its metadata
/// records.
pub fn read_stored(path: &Path, rate_hz: f64) -> Result<Series, FormatError> {
    let mut series = match SampleFormat::of(path)? {
        SampleFormat::Wav => wav::read_series(path)?,
        SampleFormat::Csv | SampleFormat::EiJson => csv::read_series(path, Some(rate_hz))?,
    };
    series.rate_hz = rate_hz;
    Ok(series)
}

/// Edge Impulse's naming convention: the label is the file name up to the first dot.
pub fn label_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let label = name.split('.').next()?.trim();
    (!label.is_empty()).then(|| label.to_owned())
}

/// Reads a whole file as text, refusing huge files and naming the file in every error.
pub(crate) fn read_text(path: &Path) -> Result<String, FormatError> {
    let size = std::fs::metadata(path)
        .map_err(|e| FormatError::new(path, e.to_string()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(FormatError::new(
            path,
            format!("file is {size} bytes; sample files over {MAX_FILE_BYTES} bytes are refused"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| FormatError::new(path, e.to_string()))?;
    if bytes.is_empty() {
        return Err(FormatError::new(path, "file is empty"));
    }
    String::from_utf8(bytes).map_err(|e| {
        FormatError::new(
            path,
            format!(
                "not a text file (invalid UTF-8 at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}
