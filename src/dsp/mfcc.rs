//! The MFCC block (Edge Impulse's "Audio (MFCC)", implementation versions 1 to 4): mel
//! frequency cepstral coefficients, the features of the keyword-spotting labs.
//!
//! For one window of `N` samples at `f_s` Hz (one axis, raw 16-bit values):
//! pre-emphasis `y[n] = x[n] − pre_cof·x[(n − pre_shift) mod N]` (wrapping around) → frames of
//! `L = frame_length·f_s` samples every `S = frame_stride·f_s` → power spectra
//! `|rfft(frame, fft_length)|² / fft_length` → `num_filters` mel energies → natural log →
//! orthonormal DCT-II, keeping `num_cepstral` coefficients, the first replaced by the log of the
//! frame's total power → sliding-window CMVN over `win_size` frames (mean and variance; 0 turns
//! it off). Output shape `[frames, num_cepstral]`, time-major, e.g. `[49, 13]` = 637 values for
//! the labs' 1 s at 16 kHz with 25 ms frames every 20 ms.
//!
//! Versions (see [`super::speech`] for the maths): version 1 rounds the frame length half to
//! even and has one frame fewer (`⌊(N − L)/S⌋`); versions 2 and 3 are the same computation
//! (`⌊(N − L + S)/S⌋` frames); version 4 fixes the mel-to-bin mapping (the FFT length instead of
//! the number of bins). Every version pre-emphasises with the wrap-around.

use super::speech::{self, MelSettings};
use super::{DspError, Features, Signal};
use serde::{Deserialize, Serialize};

/// The block's name in impulses and on the command line.
pub const BLOCK: &str = "mfcc";

/// The MFCC block's parameters, named as in Edge Impulse's `parameters.json`. The default is the
/// latest version with Edge Impulse's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfccSettings {
    /// Which of Edge Impulse's implementations to reproduce, 1 to 4.
    pub implementation_version: u32,
    /// Number of cepstral coefficients kept per frame (at most `num_filters`).
    pub num_cepstral: u32,
    /// Frame length in seconds.
    pub frame_length: f64,
    /// Step between frame starts in seconds.
    pub frame_stride: f64,
    /// Number of triangular mel filters, at least 2.
    pub num_filters: u32,
    /// FFT length, a power of two; longer frames are cut to it, shorter ones zero-padded.
    pub fft_length: u32,
    /// Frames in the sliding normalisation window, odd; 0 turns normalisation off.
    pub win_size: u32,
    /// Lower edge of the first mel filter in Hz.
    pub low_frequency: f64,
    /// Upper edge of the last mel filter in Hz; 0 means half the sampling rate.
    pub high_frequency: f64,
    /// Pre-emphasis coefficient; 0 turns pre-emphasis off.
    pub pre_cof: f64,
    /// Pre-emphasis shift in samples, at least 1.
    pub pre_shift: u32,
}

impl Default for MfccSettings {
    fn default() -> Self {
        Self {
            implementation_version: speech::LATEST_VERSION,
            num_cepstral: 13,
            frame_length: 0.02,
            frame_stride: 0.02,
            num_filters: 32,
            fft_length: 256,
            win_size: 101,
            low_frequency: 0.0,
            high_frequency: 0.0,
            pre_cof: 0.98,
            pre_shift: 1,
        }
    }
}

impl MfccSettings {
    /// The keyword-spotting labs' settings (after Edge Impulse's "Autotune"): 13 coefficients,
    /// 25 ms frames every 20 ms, 32 filters, FFT 512, normalisation over 151 frames, 80 Hz up to
    /// half the rate, pre-emphasis 0.98 — 49 × 13 = 637 features per second at 16 kHz.
    pub fn kws_lab() -> Self {
        Self {
            frame_length: 0.025,
            fft_length: 512,
            win_size: 151,
            low_frequency: 80.0,
            ..Self::default()
        }
    }
}

/// Every intermediate of the MFCC computation, for the Features panel's plots.
#[derive(Clone, Debug, PartialEq)]
pub struct MfccSteps {
    /// The window after pre-emphasis, `N` samples.
    pub emphasized: Vec<f64>,
    /// Number of frames.
    pub frame_count: usize,
    /// Power spectra, `frames × (fft_length/2 + 1)`.
    pub power: Vec<Vec<f64>>,
    /// The mel filterbank, `num_filters × (fft_length/2 + 1)`.
    pub filterbank: speech::MelFilterbank,
    /// Total power per frame, whose log replaces the first coefficient.
    pub frame_energies: Vec<f64>,
    /// Mel filterbank energies, `frames × num_filters`.
    pub mel_energies: Vec<Vec<f64>>,
    /// Their natural logarithm, `frames × num_filters`.
    pub log_mel: Vec<Vec<f64>>,
    /// Cepstral coefficients before normalisation, `frames × num_cepstral`.
    pub cepstra: Vec<Vec<f64>>,
    /// The block's output (after CMVN when `win_size > 0`), shape `[frames, num_cepstral]`.
    pub features: Features,
}

/// The MFCC features of one audio window: shape `[frames, num_cepstral]`, no names.
pub fn features(settings: &MfccSettings, signal: &Signal) -> Result<Features, DspError> {
    steps(settings, signal).map(|steps| steps.features)
}

/// The MFCC features of one audio window with every intermediate.
pub fn steps(settings: &MfccSettings, signal: &Signal) -> Result<MfccSteps, DspError> {
    let MfccSettings {
        implementation_version,
        num_cepstral,
        frame_length,
        frame_stride,
        num_filters,
        fft_length,
        win_size,
        low_frequency,
        high_frequency,
        pre_cof,
        pre_shift,
    } = *settings;
    speech::check_version(BLOCK, implementation_version)?;
    let fft_length = speech::check_fft_length(fft_length)?;
    if num_filters < 2 {
        return Err(speech::bad_setting(
            "num_filters",
            num_filters,
            "must be at least 2",
        ));
    }
    if num_cepstral == 0 || num_cepstral > num_filters {
        return Err(speech::bad_setting(
            "num_cepstral",
            num_cepstral,
            format!("must be between 1 and the number of filters, {num_filters}"),
        ));
    }
    if win_size.is_multiple_of(2) && win_size != 0 {
        return Err(speech::bad_setting(
            "win_size",
            win_size,
            "must be odd (or 0 to turn normalisation off)",
        ));
    }
    if !pre_cof.is_finite() {
        return Err(speech::bad_setting("pre_cof", pre_cof, "must be a number"));
    }
    let samples = speech::audio_samples(BLOCK, signal)?;
    let emphasized = speech::preemphasis(&samples, pre_shift as usize, pre_cof)?;
    let mel = speech::mel_spectrum(
        &emphasized,
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
    let log_mel: Vec<Vec<f64>> = mel
        .mel_energies
        .iter()
        .map(|row| row.iter().map(|e| e.ln()).collect())
        .collect();
    let dct = speech::Dct::new(num_filters as usize, num_cepstral as usize);
    let cepstra: Vec<Vec<f64>> = log_mel
        .iter()
        .zip(&mel.frame_energies)
        .map(|(row, energy)| {
            let mut coefficients = dct.apply(row);
            // Edge Impulse replaces the DC coefficient by the log of the frame's energy.
            if let Some(first) = coefficients.first_mut() {
                *first = energy.ln();
            }
            coefficients
        })
        .collect();
    let values = if win_size > 0 {
        speech::flatten(&speech::cmvnw(&cepstra, win_size as usize, true)?)
    } else {
        speech::flatten(&cepstra)
    };
    let features = Features {
        names: Vec::new(),
        shape: vec![mel.framing.frame_count, num_cepstral as usize],
        values,
    };
    let speech::MelSpectrum {
        framing,
        power,
        frame_energies,
        filterbank,
        mel_energies,
    } = mel;
    Ok(MfccSteps {
        emphasized,
        frame_count: framing.frame_count,
        power,
        filterbank,
        frame_energies,
        mel_energies,
        log_mel,
        cepstra,
        features,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate_hz: f64, seconds: f64) -> Vec<f32> {
        (0..(rate_hz * seconds) as usize)
            .map(|i| (8000.0 * (i as f64 * 0.07).sin() + 300.0 * (i as f64 * 1.3).cos()) as f32)
            .collect()
    }

    #[test]
    fn lab_settings_give_637_features_per_second_at_16_khz() {
        let audio = tone(16000.0, 1.0);
        let signal = Signal {
            axes: 1,
            rate_hz: 16000.0,
            values: &audio,
        };
        let lab = features_of(&MfccSettings::kws_lab(), &signal);
        assert_eq!(lab.shape, [49, 13]);
        assert_eq!(lab.values.len(), 637);
        assert!(lab.values.iter().all(|v| v.is_finite()));
        // Version 4 defaults (20 ms every 20 ms) give 50 frames; version 1 drops one.
        let defaults = features_of(&MfccSettings::default(), &signal);
        assert_eq!(defaults.shape, [50, 13]);
        let v1 = MfccSettings {
            implementation_version: 1,
            ..MfccSettings::kws_lab()
        };
        assert_eq!(features_of(&v1, &signal).shape, [48, 13]);
        // The defaults' 32 filters leave the lowest old-mel filter (versions 1 to 3) empty, which
        // Edge Impulse refuses too.
        let v3 = MfccSettings {
            implementation_version: 3,
            ..MfccSettings::default()
        };
        let err = features(&v3, &signal).unwrap_err().to_string();
        assert!(err.contains("num_filters"), "{err}");
    }

    fn features_of(settings: &MfccSettings, signal: &Signal) -> Features {
        features(settings, signal).unwrap()
    }

    #[test]
    fn steps_agree_with_features_and_cepstra_start_with_log_energy() {
        let audio = tone(8000.0, 0.5);
        let signal = Signal {
            axes: 1,
            rate_hz: 8000.0,
            values: &audio,
        };
        let settings = MfccSettings {
            win_size: 0,
            ..MfccSettings::default()
        };
        let steps = steps(&settings, &signal).unwrap();
        assert_eq!(steps.features, features_of(&settings, &signal));
        assert_eq!(steps.power.len(), steps.frame_count);
        assert_eq!(steps.power[0].len(), 129);
        assert_eq!(steps.mel_energies[0].len(), 32);
        assert_eq!(steps.cepstra[0][0], steps.frame_energies[0].ln());
        assert_eq!(steps.features.values[0], steps.cepstra[0][0] as f32);
    }

    #[test]
    fn settings_use_edge_impulse_names() {
        let settings =
            crate::dsp::set_param(BLOCK, &MfccSettings::default(), "num_cepstral", "20").unwrap();
        assert_eq!(settings.num_cepstral, 20);
        let parsed: MfccSettings =
            serde_json::from_str(r#"{"frame_length": 0.025, "low_frequency": 80}"#).unwrap();
        assert_eq!(parsed.frame_length, 0.025);
        assert_eq!(parsed.low_frequency, 80.0);
        assert!(serde_json::from_str::<MfccSettings>(r#"{"frame_len": 1}"#).is_err());
    }
}
