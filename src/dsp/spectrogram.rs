//! The spectrogram block (Edge Impulse's "Spectrogram", implementation versions 1 to 4): the
//! power spectrum of successive frames, for non-voice audio and sensor data with continuous
//! frequencies.
//!
//! For one window of `N` samples at `f_s` Hz (one axis): frames of `L = frame_length·f_s`
//! samples every `S = frame_stride·f_s` (both at least 4 samples) → power spectra
//! `P = |rfft(frame, fft_length)|² / fft_length`. Output shape `[frames, fft_length/2 + 1]`
//! (time-major), e.g. `[99, 65]` for 1 s at 16 kHz with the defaults. Then, by version:
//!
//! - **1 and 2**: no logarithm; min–max scaling of the whole matrix to `0..=1` (a constant
//!   matrix gives zeros). Version 1 frames as in [`super::speech`] (one frame fewer).
//! - **3**: if any sample lies outside `[-1, 1]`, the samples are first scaled by `1 / 2¹⁵` (in
//!   `f32`); then `(10·log10(max(P, 1e-30)) − noise_floor_db) / (12 − noise_floor_db)` clipped
//!   to `0..=1`.
//! - **4**: the same decibel scaling without the input scaling, clipped below at 0 only (loud
//!   16-bit audio gives values above 1).

use super::speech;
use super::{DspError, Features, Signal};
use serde::{Deserialize, Serialize};

/// The block's name in impulses and on the command line.
pub const BLOCK: &str = "spectrogram";

/// The shortest frame length and stride Edge Impulse accepts, in samples.
pub const MIN_FRAME_SAMPLES: f64 = 4.0;

/// The spectrogram block's parameters, named as in Edge Impulse's `parameters.json`. The
/// default is the latest version with Edge Impulse's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpectrogramSettings {
    /// Which of Edge Impulse's implementations to reproduce, 1 to 4.
    pub implementation_version: u32,
    /// Frame length in seconds (at least 4 samples).
    pub frame_length: f64,
    /// Step between frame starts in seconds (at least 4 samples).
    pub frame_stride: f64,
    /// FFT length, a power of two; `fft_length/2 + 1` bins per frame.
    pub fft_length: u32,
    /// Bins below this many dB become 0 (versions 3 and 4).
    pub noise_floor_db: f64,
    /// Draw frequency and time axes on Edge Impulse's graph; kept for compatibility, it changes
    /// no feature.
    pub show_axes: bool,
}

impl Default for SpectrogramSettings {
    fn default() -> Self {
        Self {
            implementation_version: speech::LATEST_VERSION,
            frame_length: 0.02,
            frame_stride: 0.01,
            fft_length: 128,
            noise_floor_db: -52.0,
            show_axes: true,
        }
    }
}

/// Every intermediate of the spectrogram computation, for the Features panel's plots.
#[derive(Clone, Debug, PartialEq)]
pub struct SpectrogramSteps {
    /// The samples the frames are cut from (scaled by `1 / 2¹⁵` in version 3 when needed).
    pub signal: Vec<f64>,
    /// Number of frames.
    pub frame_count: usize,
    /// Power spectra before scaling, `frames × (fft_length/2 + 1)`.
    pub power: Vec<Vec<f64>>,
    /// The block's output, shape `[frames, fft_length/2 + 1]`.
    pub features: Features,
}

/// The spectrogram features of one window: shape `[frames, fft_length/2 + 1]`, no names.
pub fn features(settings: &SpectrogramSettings, signal: &Signal) -> Result<Features, DspError> {
    steps(settings, signal).map(|steps| steps.features)
}

/// The spectrogram of one window with every intermediate.
pub fn steps(
    settings: &SpectrogramSettings,
    signal: &Signal,
) -> Result<SpectrogramSteps, DspError> {
    let SpectrogramSettings {
        implementation_version,
        frame_length,
        frame_stride,
        fft_length,
        noise_floor_db,
        show_axes: _,
    } = *settings;
    speech::check_version(BLOCK, implementation_version)?;
    let fft_length = speech::check_fft_length(fft_length)?;
    if implementation_version >= 3 {
        speech::check_noise_floor(noise_floor_db)?;
    }
    let samples = speech::audio_samples(BLOCK, signal)?;
    let shortest_s = MIN_FRAME_SAMPLES / signal.rate_hz;
    for (name, seconds) in [
        ("frame_length", frame_length),
        ("frame_stride", frame_stride),
    ] {
        speech::check_seconds(name, seconds)?;
        if seconds < shortest_s {
            return Err(speech::bad_setting(
                name,
                seconds,
                format!(
                    "must be at least 4 samples, {shortest_s} s at {} Hz",
                    signal.rate_hz
                ),
            ));
        }
    }
    let samples = if implementation_version == 3 && samples.iter().any(|x| x.abs() > 1.0) {
        samples
            .iter()
            .map(|x| f64::from((x / 32768.0) as f32))
            .collect()
    } else {
        samples
    };
    let framing = speech::framing(
        samples.len(),
        signal.rate_hz,
        frame_length,
        frame_stride,
        implementation_version,
    )?;
    let power = speech::power_spectrum(&speech::stack_frames(&samples, &framing), fft_length);
    let values: Vec<f32> = match implementation_version {
        1 | 2 => min_max_scale(&power),
        3 => scale_decibels(&power, noise_floor_db, |v| v.clamp(0.0, 1.0)),
        _ => scale_decibels(&power, noise_floor_db, |v| v.max(0.0)),
    };
    let features = Features {
        names: Vec::new(),
        shape: vec![framing.frame_count, fft_length / 2 + 1],
        values,
    };
    Ok(SpectrogramSteps {
        signal: samples,
        frame_count: framing.frame_count,
        power,
        features,
    })
}

/// Versions 1 and 2: `(P − min) / (max − min)` over the whole matrix, NaN (constant) as 0.
fn min_max_scale(power: &[Vec<f64>]) -> Vec<f32> {
    let values = power.iter().flatten();
    let min = values.clone().copied().fold(f64::INFINITY, f64::min);
    let max = values.clone().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .map(|&p| {
            let scaled = (p - min) / (max - min);
            if scaled.is_nan() { 0.0 } else { scaled as f32 }
        })
        .collect()
}

/// Versions 3 and 4: the noise-floor decibel scale, then `clip`.
fn scale_decibels(power: &[Vec<f64>], noise_floor_db: f64, clip: impl Fn(f64) -> f64) -> Vec<f32> {
    power
        .iter()
        .flatten()
        .map(|&p| clip(speech::noise_floor_scale(p, noise_floor_db)) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_ranges_by_version() {
        let audio: Vec<f32> = (0..16000)
            .map(|i| (12000.0 * (i as f64 * 0.2).sin()) as f32)
            .collect();
        let signal = Signal {
            axes: 1,
            rate_hz: 16000.0,
            values: &audio,
        };
        for version in 1..=4 {
            let settings = SpectrogramSettings {
                implementation_version: version,
                ..SpectrogramSettings::default()
            };
            let steps = steps(&settings, &signal).unwrap();
            let frames = if version == 1 { 98 } else { 99 };
            assert_eq!(steps.features.shape, [frames, 65]);
            let max = steps.features.values.iter().copied().fold(0.0, f32::max);
            let min = steps.features.values.iter().copied().fold(1.0, f32::min);
            assert!(min >= 0.0);
            if version == 4 {
                // Unscaled 16-bit audio is far above 12 dB.
                assert!(max > 1.0);
            } else {
                assert!(max <= 1.0);
            }
        }
    }

    #[test]
    fn frames_under_four_samples_are_refused() {
        let audio = vec![0.5_f32; 400];
        let signal = Signal {
            axes: 1,
            rate_hz: 100.0,
            values: &audio,
        };
        let settings = SpectrogramSettings {
            frame_length: 0.03,
            ..SpectrogramSettings::default()
        };
        let err = features(&settings, &signal).unwrap_err();
        assert!(matches!(err, DspError::BadSetting { ref name, .. } if name == "frame_length"));
    }
}
