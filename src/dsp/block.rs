//! One processing block chosen by name: the settings enum a project stores (`[dsp]` in
//! `tinylab.toml`, tagged by `block = "…"`), and the dispatch from settings and input to
//! features and to the per-step intermediates the Features panel plots.

use super::image::{ImageInput, ImageSettings, ImageSteps};
use super::mfcc::{MfccSettings, MfccSteps};
use super::mfe::{MfeSettings, MfeSteps};
use super::raw::RawSettings;
use super::spectral::{SpectralSettings, SpectralSteps};
use super::spectrogram::{SpectrogramSettings, SpectrogramSteps};
use super::{DspError, Features, Signal, set_param};
use super::{image, mfcc, mfe, raw, spectral, spectrogram};
use serde::{Deserialize, Serialize};

/// The block names the command line accepts (`tinylab dsp BLOCK …`).
pub const BLOCK_NAMES: [&str; 6] = ["spectral", "mfcc", "mfe", "spectrogram", "image", "raw"];

/// A processing block with its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "block")]
pub enum DspSettings {
    /// Spectral analysis (motion).
    #[serde(rename = "spectral-analysis")]
    Spectral(SpectralSettings),
    /// MFCC (speech).
    #[serde(rename = "mfcc")]
    Mfcc(MfccSettings),
    /// Log mel-filterbank energies (non-voice audio).
    #[serde(rename = "mfe")]
    Mfe(MfeSettings),
    /// Spectrogram.
    #[serde(rename = "spectrogram")]
    Spectrogram(SpectrogramSettings),
    /// Image resize and colour conversion.
    #[serde(rename = "image")]
    Image(ImageSettings),
    /// Raw values, scaled.
    #[serde(rename = "raw")]
    Raw(RawSettings),
}

/// What a block reads.
#[derive(Clone, Copy, Debug)]
pub enum BlockInput<'a> {
    /// A window of a time series with its axis names.
    Signal {
        /// The window.
        signal: Signal<'a>,
        /// One name per axis, for feature names.
        axis_names: &'a [String],
    },
    /// An RGB image.
    Image(ImageInput<'a>),
}

/// The intermediates of one block on one input, for plots.
#[derive(Clone, Debug)]
pub enum BlockSteps {
    /// Filtered signals and spectra per axis.
    Spectral(SpectralSteps),
    /// Each step of the MFCC pipeline.
    Mfcc(MfccSteps),
    /// Power spectra and mel energies.
    Mfe(MfeSteps),
    /// The spectrogram.
    Spectrogram(SpectrogramSteps),
    /// The resized image.
    Image(ImageSteps),
    /// Raw features only.
    Raw(Features),
}

impl DspSettings {
    /// Default settings of the block `name` (one of [`BLOCK_NAMES`], or its full name).
    pub fn default_for(name: &str) -> Result<Self, DspError> {
        Ok(match name {
            "spectral" | "spectral-analysis" => Self::Spectral(SpectralSettings::default()),
            "mfcc" => Self::Mfcc(MfccSettings::default()),
            "mfe" => Self::Mfe(MfeSettings::default()),
            "spectrogram" => Self::Spectrogram(SpectrogramSettings::default()),
            "image" => Self::Image(ImageSettings::default()),
            "raw" => Self::Raw(RawSettings::default()),
            other => {
                return Err(DspError::WrongInput {
                    block: other.to_owned(),
                    expected: format!("to be one of: {}", BLOCK_NAMES.join(", ")),
                });
            }
        })
    }

    /// The block's short name, as in [`BLOCK_NAMES`].
    pub fn name(&self) -> &'static str {
        match self {
            Self::Spectral(_) => "spectral",
            Self::Mfcc(_) => "mfcc",
            Self::Mfe(_) => "mfe",
            Self::Spectrogram(_) => "spectrogram",
            Self::Image(_) => "image",
            Self::Raw(_) => "raw",
        }
    }

    /// A title for the UI.
    pub fn title(&self) -> &'static str {
        match self {
            Self::Spectral(_) => "Spectral analysis",
            Self::Mfcc(_) => "MFCC",
            Self::Mfe(_) => "MFE",
            Self::Spectrogram(_) => "Spectrogram",
            Self::Image(_) => "Image",
            Self::Raw(_) => "Raw data",
        }
    }

    /// Whether the block reads images (else time series).
    pub fn reads_images(&self) -> bool {
        matches!(self, Self::Image(_))
    }

    /// Sets one parameter by its Edge Impulse name (`fft_length`, `num_cepstral`, …).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), DspError> {
        let block = self.name();
        match self {
            Self::Spectral(s) => *s = set_param(block, s, key, value)?,
            Self::Mfcc(s) => *s = set_param(block, s, key, value)?,
            Self::Mfe(s) => *s = set_param(block, s, key, value)?,
            Self::Spectrogram(s) => *s = set_param(block, s, key, value)?,
            Self::Image(s) => *s = set_param(block, s, key, value)?,
            Self::Raw(s) => *s = set_param(block, s, key, value)?,
        }
        Ok(())
    }

    /// The parameters that take effect with the others as they are, name → value, for editors
    /// and listings. Spectral analysis keeps settings its current choice ignores (version-1 peak
    /// settings, wavelet settings under FFT, a filter's cutoff with no filter…); showing those
    /// would invite edits that change nothing. `--set` still accepts every key.
    pub fn parameters(&self) -> serde_json::Map<String, serde_json::Value> {
        let value = match self {
            Self::Spectral(s) => serde_json::to_value(s),
            Self::Mfcc(s) => serde_json::to_value(s),
            Self::Mfe(s) => serde_json::to_value(s),
            Self::Spectrogram(s) => serde_json::to_value(s),
            Self::Image(s) => serde_json::to_value(s),
            Self::Raw(s) => serde_json::to_value(s),
        };
        let mut map = match value {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        if let Self::Spectral(s) = self {
            let wavelet = s.analysis_type.eq_ignore_ascii_case("wavelet");
            map.retain(|key, _| match key.as_str() {
                "spectral_peaks_count" | "spectral_peaks_threshold" | "spectral_power_edges" => {
                    s.implementation_version == 1
                }
                "wavelet" | "wavelet_level" => wavelet,
                "fft_length" | "do_log" | "do_fft_overlap" => !wavelet,
                "extra_low_freq" | "input_decimation_ratio" => s.implementation_version >= 4,
                "filter_cutoff" | "filter_order" => s.filter_type != "none",
                _ => true,
            });
        }
        map
    }

    /// The block's features for one input.
    pub fn features(&self, input: &BlockInput) -> Result<Features, DspError> {
        match (self, input) {
            (Self::Spectral(s), BlockInput::Signal { signal, axis_names }) => {
                spectral::features(s, signal, axis_names)
            }
            (Self::Mfcc(s), BlockInput::Signal { signal, .. }) => mfcc::features(s, signal),
            (Self::Mfe(s), BlockInput::Signal { signal, .. }) => mfe::features(s, signal),
            (Self::Spectrogram(s), BlockInput::Signal { signal, .. }) => {
                spectrogram::features(s, signal)
            }
            (Self::Raw(s), BlockInput::Signal { signal, axis_names }) => {
                raw::features(s, signal, axis_names)
            }
            (Self::Image(s), BlockInput::Image(image)) => image::features(s, image),
            _ => Err(self.wrong_input()),
        }
    }

    /// The block's intermediates for one input.
    pub fn steps(&self, input: &BlockInput) -> Result<BlockSteps, DspError> {
        match (self, input) {
            (Self::Spectral(s), BlockInput::Signal { signal, axis_names }) => {
                spectral::steps(s, signal, axis_names).map(BlockSteps::Spectral)
            }
            (Self::Mfcc(s), BlockInput::Signal { signal, .. }) => {
                mfcc::steps(s, signal).map(BlockSteps::Mfcc)
            }
            (Self::Mfe(s), BlockInput::Signal { signal, .. }) => {
                mfe::steps(s, signal).map(BlockSteps::Mfe)
            }
            (Self::Spectrogram(s), BlockInput::Signal { signal, .. }) => {
                spectrogram::steps(s, signal).map(BlockSteps::Spectrogram)
            }
            (Self::Raw(s), BlockInput::Signal { signal, axis_names }) => {
                raw::features(s, signal, axis_names).map(BlockSteps::Raw)
            }
            (Self::Image(s), BlockInput::Image(image)) => {
                image::steps(s, image).map(BlockSteps::Image)
            }
            _ => Err(self.wrong_input()),
        }
    }

    fn wrong_input(&self) -> DspError {
        let expected = if self.reads_images() {
            "an image"
        } else {
            "a time series (sensor or audio samples)"
        };
        DspError::WrongInput {
            block: self.name().to_owned(),
            expected: expected.to_owned(),
        }
    }
}

impl BlockSteps {
    /// The features at the end of the pipeline.
    pub fn features(&self) -> &Features {
        match self {
            Self::Spectral(s) => &s.features,
            Self::Mfcc(s) => &s.features,
            Self::Mfe(s) => &s.features,
            Self::Spectrogram(s) => &s.features,
            Self::Image(s) => &s.features,
            Self::Raw(f) => f,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_list_only_what_takes_effect_but_set_accepts_all() {
        let mut dsp = crate::labs::lab("motion").unwrap().dsp;
        let keys = |d: &DspSettings| d.parameters().keys().cloned().collect::<Vec<_>>();
        assert!(keys(&dsp).contains(&"fft_length".to_owned()));
        assert!(
            !keys(&dsp)
                .iter()
                .any(|k| k == "wavelet" || k == "spectral_peaks_count" || k == "filter_cutoff")
        );
        dsp.set("analysis_type", "Wavelet").unwrap();
        dsp.set("filter_type", "low").unwrap();
        assert!(
            keys(&dsp).contains(&"wavelet".to_owned())
                && keys(&dsp).contains(&"filter_cutoff".to_owned())
        );
        assert!(!keys(&dsp).contains(&"fft_length".to_owned()));
        dsp.set("spectral_peaks_count", "4").unwrap();
        assert_eq!(
            DspSettings::default_for("mfcc").unwrap().parameters().len(),
            11
        );
    }
}
