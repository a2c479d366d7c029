//! Processing blocks equal to Edge Impulse's: spectral analysis (motion), MFCC, MFE and
//! spectrogram (audio), image and raw. Pure computation: no IO, no threads, no egui.
//!
//! Each block has a serde settings struct named with Edge Impulse's parameter names (so
//! `--set fft_length=64` and Edge Impulse's `parameters.json` read the same), an
//! `implementation_version` where Edge Impulse has one, a `features(settings, input)` function
//! returning [`Features`], and a `steps(..)` function returning the intermediates the Features
//! panel plots. Arithmetic is `f64` inside (as numpy's) and `f32` in the feature vector.

pub mod audio;
pub mod block;
pub mod fft;
pub mod filter;
pub mod image;
pub mod mfcc;
pub mod mfe;
pub mod pca;
pub mod raw;
pub mod resample;
pub mod spectral;
pub mod spectrogram;
pub mod speech;
pub mod split;
pub mod wavelet;
pub mod windowing;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A block's output for one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Features {
    /// One name per value (`accX RMS`, `accX Spectral Power 0.78 - 2.34 Hz`), or empty when the
    /// values are a grid better described by `shape` (MFCC frames × coefficients, image pixels).
    pub names: Vec<String>,
    /// Shape of the values, e.g. `[63]`, `[49, 13]`, `[96, 96, 3]`.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<f32>,
}

/// A window of a time series as Edge Impulse passes it to a block: readings interleaved
/// (`x0 y0 z0 x1 y1 z1 …`), `axes` values per reading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Signal<'a> {
    /// Values per reading.
    pub axes: usize,
    /// Readings per second.
    pub rate_hz: f64,
    /// Interleaved readings.
    pub values: &'a [f32],
}

impl Signal<'_> {
    /// Number of readings.
    pub fn readings(&self) -> usize {
        self.values.len().checked_div(self.axes).unwrap_or(0)
    }

    /// One axis as `f64`, the precision the blocks compute in.
    pub fn axis(&self, axis: usize) -> Vec<f64> {
        if self.axes == 1 && axis == 0 {
            // Audio: one axis, a plain conversion (step_by costs a third of it).
            return self.values.iter().map(|&v| f64::from(v)).collect();
        }
        self.values
            .iter()
            .skip(axis)
            .step_by(self.axes.max(1))
            .map(|&v| f64::from(v))
            .collect()
    }

    /// Refuses what no block can process: no axes, a ragged or empty window, a rate of 0, NaN.
    pub fn check(&self) -> Result<(), DspError> {
        if self.axes == 0 || self.values.is_empty() {
            return Err(DspError::EmptyWindow);
        }
        if !self.values.len().is_multiple_of(self.axes) {
            return Err(DspError::Ragged {
                values: self.values.len(),
                axes: self.axes,
            });
        }
        if !(self.rate_hz.is_finite() && self.rate_hz > 0.0) {
            return Err(DspError::BadRate(self.rate_hz));
        }
        if let Some(index) = self.values.iter().position(|v| !v.is_finite()) {
            return Err(DspError::NotFinite { index });
        }
        Ok(())
    }
}

/// Why a block cannot compute features. Each says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DspError {
    /// Nothing to process.
    #[error("the window is empty: check the window size and that the sample has readings")]
    EmptyWindow,
    /// The values do not divide into readings.
    #[error("{values} values do not split into readings of {axes} axes")]
    Ragged {
        /// Values given.
        values: usize,
        /// Axes per reading.
        axes: usize,
    },
    /// A sampling rate that is not a positive number.
    #[error("the sampling rate {0} Hz is not a positive number")]
    BadRate(f64),
    /// NaN or infinity in the input.
    #[error("value {index} of the window is not a finite number (NaN or infinity in the input?)")]
    NotFinite {
        /// Position in the interleaved window.
        index: usize,
    },
    /// The window is shorter than one frame of the block.
    #[error(
        "the window has {got} readings but one frame needs {needed}: lengthen the window or shorten the frame"
    )]
    TooShort {
        /// Readings needed.
        needed: usize,
        /// Readings given.
        got: usize,
    },
    /// A setting out of range or of the wrong type.
    #[error("setting {name} = {value}: {why}")]
    BadSetting {
        /// Parameter name.
        name: String,
        /// Its value as given.
        value: String,
        /// What is allowed.
        why: String,
    },
    /// A key the block does not have.
    #[error("the {block} block has no setting {name:?}; it has: {known}")]
    UnknownSetting {
        /// Block name.
        block: String,
        /// The key given.
        name: String,
        /// Comma-separated keys it has.
        known: String,
    },
    /// An `implementation_version` this build does not reproduce.
    #[error(
        "the {block} block has implementation versions {supported}; {version} is not one of them"
    )]
    UnsupportedVersion {
        /// Block name.
        block: String,
        /// Version asked for.
        version: u32,
        /// Versions supported, e.g. `1 to 4`.
        supported: String,
    },
    /// Input of the wrong kind (an image given to MFCC, 3 axes given to an audio block...).
    #[error("the {block} block needs {expected}")]
    WrongInput {
        /// Block name.
        block: String,
        /// What it needs.
        expected: String,
    },
}

/// Returns `settings` with `key` set to `value`, for `--set key=value`: the value is read as JSON
/// when it parses (`32`, `true`, `0.98`, `"low"`), else as a string (`low`). Unknown keys and
/// values of the wrong type are errors that name the key.
pub fn set_param<T: Serialize + DeserializeOwned>(
    block: &str,
    settings: &T,
    key: &str,
    value: &str,
) -> Result<T, DspError> {
    let bad = |why: String| DspError::BadSetting {
        name: key.to_owned(),
        value: value.to_owned(),
        why,
    };
    let mut object = serde_json::to_value(settings).map_err(|e| bad(e.to_string()))?;
    let Some(map) = object.as_object_mut() else {
        return Err(bad("this block has no settings".into()));
    };
    if !map.contains_key(key) {
        let known = map.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(DspError::UnknownSetting {
            block: block.to_owned(),
            name: key.to_owned(),
            known,
        });
    }
    let parsed =
        serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
    map.insert(key.to_owned(), parsed);
    serde_json::from_value(object).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Demo {
        fft_length: u32,
        do_log: bool,
        filter_type: String,
    }

    #[test]
    fn set_param_parses_json_or_string_and_names_bad_keys() {
        let demo = Demo {
            fft_length: 16,
            do_log: false,
            filter_type: "none".into(),
        };
        let demo = set_param("demo", &demo, "fft_length", "64").unwrap();
        let demo = set_param("demo", &demo, "do_log", "true").unwrap();
        let demo = set_param("demo", &demo, "filter_type", "low").unwrap();
        assert_eq!(
            demo,
            Demo {
                fft_length: 64,
                do_log: true,
                filter_type: "low".into()
            }
        );
        let err = set_param("demo", &demo, "fft_len", "8")
            .unwrap_err()
            .to_string();
        assert!(err.contains("fft_length"), "{err}");
        let err = set_param("demo", &demo, "fft_length", "lots")
            .unwrap_err()
            .to_string();
        assert!(err.contains("fft_length = lots"), "{err}");
    }

    #[test]
    fn signal_checks_catch_bad_windows() {
        let ok = [1.0, 2.0, 3.0, 4.0];
        assert!(
            Signal {
                axes: 2,
                rate_hz: 50.0,
                values: &ok
            }
            .check()
            .is_ok()
        );
        assert_eq!(
            Signal {
                axes: 3,
                rate_hz: 50.0,
                values: &ok
            }
            .check(),
            Err(DspError::Ragged { values: 4, axes: 3 })
        );
        assert_eq!(
            Signal {
                axes: 1,
                rate_hz: 50.0,
                values: &[]
            }
            .check(),
            Err(DspError::EmptyWindow)
        );
        assert_eq!(
            Signal {
                axes: 1,
                rate_hz: 50.0,
                values: &[1.0, f32::NAN]
            }
            .check(),
            Err(DspError::NotFinite { index: 1 })
        );
        assert_eq!(
            Signal {
                axes: 2,
                rate_hz: 50.0,
                values: &ok
            }
            .axis(1),
            [2.0, 4.0]
        );
    }
}
