//! The MFE block (Edge Impulse's "Audio (MFE)", implementation versions 1 to 4): a mel
//! spectrogram, for non-voice audio.
//!
//! For one window of `N` samples at `f_s` Hz (one axis, raw 16-bit values), output shape
//! `[frames, num_filters]` (time-major), e.g. `[99, 40]` for 1 s at 16 kHz with the defaults:
//!
//! - **Versions 1 and 2**: frames → power spectra `|rfft(frame, fft_length)|² / fft_length` →
//!   mel energies `E` → sliding-window mean subtraction over `win_size` frames (no variance
//!   normalisation, on the linear energies) → min–max scaling of the whole matrix to `0..=1`
//!   (skipped when its minimum or maximum is 0), in `f32`. Version 1 frames as in
//!   [`super::speech`] (one frame fewer).
//! - **Versions 3 and 4**: the samples are first scaled to `[-1, 1)` (`x / 2¹⁵`, in `f32`) and
//!   pre-emphasised with 0.98 (wrapping around, in `f32`); then mel energies →
//!   `(10·log10(max(E, 1e-30)) − noise_floor_db) / (12 − noise_floor_db)` clipped to `0..=1` →
//!   quantised to 8 bits, `round(v·256) / 256`. Edge Impulse casts the rounded value to
//!   `uint8`, so a bin at the very top of the scale (256) wraps to 0; this reproduces that.
//!   Version 4 fixes the mel-to-bin mapping (the FFT length instead of the number of bins).

use super::speech::{self, MelSettings};
use super::{DspError, Features, Signal};
use serde::{Deserialize, Serialize};

/// The block's name in impulses and on the command line.
pub const BLOCK: &str = "mfe";

/// The pre-emphasis coefficient versions 3 and 4 apply (fixed, not a setting).
pub const PRE_COF: f64 = 0.98;

/// Full scale of 16-bit audio: versions 3 and 4 divide the samples by it.
pub const FULL_SCALE: f64 = 32768.0;

/// The MFE block's parameters, named as in Edge Impulse's `parameters.json`. The default is the
/// latest version with Edge Impulse's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfeSettings {
    /// Which of Edge Impulse's implementations to reproduce, 1 to 4.
    pub implementation_version: u32,
    /// Frame length in seconds.
    pub frame_length: f64,
    /// Step between frame starts in seconds.
    pub frame_stride: f64,
    /// Number of triangular mel filters, at least 2.
    pub num_filters: u32,
    /// FFT length, a power of two; longer frames are cut to it, shorter ones zero-padded.
    pub fft_length: u32,
    /// Lower edge of the first mel filter in Hz.
    pub low_frequency: f64,
    /// Upper edge of the last mel filter in Hz; 0 means half the sampling rate.
    pub high_frequency: f64,
    /// Frames in the sliding normalisation window, odd (versions 1 and 2 only).
    pub win_size: u32,
    /// Energies below this many dB become 0 (versions 3 and 4 only).
    pub noise_floor_db: f64,
}

impl Default for MfeSettings {
    fn default() -> Self {
        Self {
            implementation_version: speech::LATEST_VERSION,
            frame_length: 0.02,
            frame_stride: 0.01,
            num_filters: 40,
            fft_length: 256,
            low_frequency: 0.0,
            high_frequency: 0.0,
            win_size: 101,
            noise_floor_db: -52.0,
        }
    }
}

/// Every intermediate of the MFE computation, for the Features panel's plots.
#[derive(Clone, Debug, PartialEq)]
pub struct MfeSteps {
    /// The samples the frames are cut from: raw in versions 1 and 2, scaled to `[-1, 1)` and
    /// pre-emphasised in versions 3 and 4.
    pub signal: Vec<f64>,
    /// Number of frames.
    pub frame_count: usize,
    /// Power spectra, `frames × (fft_length/2 + 1)`.
    pub power: Vec<Vec<f64>>,
    /// The mel filterbank ("FFT bin weighting"), `num_filters × (fft_length/2 + 1)`.
    pub filterbank: speech::MelFilterbank,
    /// Mel filterbank energies, `frames × num_filters`.
    pub mel_energies: Vec<Vec<f64>>,
    /// The block's output, shape `[frames, num_filters]`.
    pub features: Features,
}

/// The MFE features of one audio window: shape `[frames, num_filters]`, no names.
pub fn features(settings: &MfeSettings, signal: &Signal) -> Result<Features, DspError> {
    steps(settings, signal).map(|steps| steps.features)
}

/// The MFE features of one audio window with every intermediate.
pub fn steps(settings: &MfeSettings, signal: &Signal) -> Result<MfeSteps, DspError> {
    let MfeSettings {
        implementation_version,
        frame_length,
        frame_stride,
        num_filters,
        fft_length,
        low_frequency,
        high_frequency,
        win_size,
        noise_floor_db,
    } = *settings;
    speech::check_version(BLOCK, implementation_version)?;
    let fft_length = speech::check_fft_length(fft_length)?;
    let decibels = implementation_version >= 3;
    if decibels {
        speech::check_noise_floor(noise_floor_db)?;
    } else if win_size.is_multiple_of(2) {
        return Err(speech::bad_setting(
            "win_size",
            win_size,
            "the normalisation window must be an odd number of frames",
        ));
    }
    let samples = speech::audio_samples(BLOCK, signal)?;
    let samples = if decibels {
        // Edge Impulse scales to f32 and pre-emphasises in f32 before going back to f64.
        let scaled: Vec<f32> = samples.iter().map(|x| (x / FULL_SCALE) as f32).collect();
        speech::preemphasis(&scaled, 1, PRE_COF as f32)?
            .into_iter()
            .map(f64::from)
            .collect()
    } else {
        samples
    };
    let mel = speech::mel_spectrum(
        &samples,
        signal.rate_hz,
        &MelSettings {
            implementation_version,
            frame_length_s: frame_length,
            frame_stride_s: frame_stride,
            num_filters: num_filters as usize,
            fft_length,
            low_frequency_hz: low_frequency,
            high_frequency_hz: high_frequency,
        },
    )?;
    let values = if decibels {
        mel.mel_energies
            .iter()
            .flatten()
            .map(|&energy| quantize(speech::noise_floor_scale(energy, noise_floor_db)))
            .collect()
    } else {
        min_max_scale(speech::cmvnw(&mel.mel_energies, win_size as usize, false)?)
    };
    let features = Features {
        names: Vec::new(),
        shape: vec![mel.framing.frame_count, num_filters as usize],
        values,
    };
    let speech::MelSpectrum {
        framing,
        power,
        filterbank,
        mel_energies,
        ..
    } = mel;
    Ok(MfeSteps {
        signal: samples,
        frame_count: framing.frame_count,
        power,
        filterbank,
        mel_energies,
        features,
    })
}

/// Clips to `0..=1` and quantises to `round(v·256) / 256` (half to even), with Edge Impulse's
/// `uint8` cast that wraps 256 to 0.
fn quantize(scaled: f64) -> f32 {
    let level = (scaled.clamp(0.0, 1.0) * 256.0).round_ties_even() as u32 % 256;
    (f64::from(level) / 256.0) as f32
}

/// Versions 1 and 2: `(v − min) / (max − min)` over the whole matrix in `f32`, unless the
/// minimum or the maximum is 0; NaN (a constant matrix) becomes 0. Flattened row-major.
fn min_max_scale(rows: Vec<Vec<f32>>) -> Vec<f32> {
    let values: Vec<f32> = rows.into_iter().flatten().collect();
    let min = values.iter().copied().fold(f32::INFINITY, f32::min);
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if min == 0.0 || max == 0.0 {
        return values;
    }
    values
        .into_iter()
        .map(|v| {
            let scaled = (v - min) / (max - min);
            if scaled.is_nan() { 0.0 } else { scaled }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_wraps_the_top_level_like_a_uint8_cast() {
        assert_eq!(quantize(-3.0), 0.0);
        assert_eq!(quantize(0.5), 0.5);
        assert_eq!(quantize(1.0 / 512.0), 0.0); // 0.5 rounds to even
        assert_eq!(quantize(255.0 / 256.0), 255.0 / 256.0);
        assert_eq!(quantize(1.0), 0.0);
        assert_eq!(quantize(7.0), 0.0);
    }

    #[test]
    fn min_max_scale_leaves_a_matrix_with_a_zero_end_alone() {
        assert_eq!(
            min_max_scale(vec![vec![-1.0, 1.0], vec![0.0, 3.0]]),
            [0.0, 0.5, 0.25, 1.0]
        );
        assert_eq!(min_max_scale(vec![vec![0.0, 2.0]]), [0.0, 2.0]);
        assert_eq!(min_max_scale(vec![vec![2.0, 2.0]]), [0.0, 0.0]);
    }

    #[test]
    fn defaults_give_99_frames_of_40_filters_per_second() {
        // Versions 1 to 3 (old mels) need a longer FFT for 40 filters, as in Edge Impulse.
        let audio: Vec<f32> = (0..16000)
            .map(|i| (9000.0 * (i as f64 * 0.11).sin()) as f32)
            .collect();
        let signal = Signal {
            axes: 1,
            rate_hz: 16000.0,
            values: &audio,
        };
        for version in 1..=4 {
            let settings = MfeSettings {
                implementation_version: version,
                fft_length: 512,
                ..MfeSettings::default()
            };
            let steps = steps(&settings, &signal).unwrap();
            let frames = if version == 1 { 98 } else { 99 };
            assert_eq!(steps.features.shape, [frames, 40], "version {version}");
            assert!(
                steps
                    .features
                    .values
                    .iter()
                    .all(|v| (0.0..=1.0).contains(v))
            );
            assert_eq!(steps.features, features(&settings, &signal).unwrap());
        }
    }
}
