//! Edge Impulse's Spectral Analysis block (`spectral-analysis`, the motion labs' features),
//! implementation versions 1 to 4, FFT and Wavelet analysis, reproduced from the maths of the
//! open-source block so TinyLab's features equal Studio's.
//!
//! Input: a window of `R` readings × `A` axes (interleaved). Output: a flat vector, each axis's
//! features in turn (then, with `extra_low_freq`, each axis's low-frequency features), named
//! `{axis} {label}`. Per axis `x` (length `R`):
//!
//! 1. `x ← f32(x · scale_axes)`; version 4 may decimate by `input_decimation_ratio` (stages of
//!    3 and 10, see [`filter::decimate`]), dividing the rate `fs` accordingly.
//! 2. Optional Butterworth low/high-pass of even order 2–8 at `filter_cutoff` Hz
//!    (`butter(order, 2·fc/fs, output='sos')`, coefficients rounded to `f32`, zero initial state);
//!    order 0 skips filtering but still masks bins (step 5).
//! 3. `x ← x - mean(x)`.
//! 4. FFT analysis, versions 2–4: `RMS = √(mean x²)`, skewness `m3 / m2^1.5` and kurtosis
//!    `m4 / m2² - 3` (biased, as `scipy.stats`). The spectrum is Welch-like with a **max** hold:
//!    frames of `N = fft_length` samples every `N` (or `N/2` with `do_fft_overlap`) from 0 to
//!    `R` inclusive, each zero-padded, `P[k] = max over frames |rfft(frame)[k]|² / N`,
//!    `k = 0..=N/2`, at `f[k] = k·fs/N`. Version 4 adds the skewness and kurtosis of `P`
//!    (linear, DC included). With `do_log`, `P ← log10(P)` (0 becomes 1e-10 → -10).
//! 5. Bins `1..=N/2` are appended (DC skipped); a low-pass keeps bins up to
//!    `⌊fc·N/fs + 0.5⌋`, a high-pass from `⌊fc·N/fs - 0.5⌋ + 1`. Labels read
//!    `Spectral Power {f-Δ/2} - {f+Δ/2} Hz`, ends rounded to 2 decimals the numpy way.
//! 6. Version 4 with `extra_low_freq`: the step-3 signal is decimated by 10 (needs at least
//!    `N/2` samples left), mean-removed and analysed again at `fs/10` (spectral statistics
//!    always on); labels gain ` LF` except the power bins, whose frequencies differ.
//!
//! Per-axis feature count, FFT analysis: `3 + 2·[v4] + bins`, so 50 Hz, FFT 32, no filter ⇒
//! `3 + 2 + 16 = 21` per axis, 63 for the three accelerometer axes of the motion labs.
//!
//! Versions differ as follows. **v1**: RMS, the `spectral_peaks_count` highest local maxima of
//! `2/N·|FFT|` above `spectral_peaks_threshold` (frequency from `linspace(0, fs/2, N/2)` and
//! height; `(0, 0)` when missing), then the mean one-sided periodogram density of each
//! `spectral_power_edges` band `[e_k, e_{k+1})` divided by 10. **v2**: steps 1–5 without
//! spectral skewness/kurtosis. **v3**: as v2, plus Wavelet analysis. **v4**: spectral
//! skewness/kurtosis, input decimation and `extra_low_freq`. Wavelet analysis (v3, v4): the
//! step-3 signal goes to [`wavelet::features`] (14 statistics × (`wavelet_level` + 1)); it needs
//! `32·2^level` samples.
//!
//! Degenerate input follows the block's pinned SciPy (1.7.3): a constant signal has skewness 0
//! and kurtosis -3, an all-zero spectrum gives log-power -10.
//!
//! Precision: where the block's signal is `float32` (no decimation), steps 1–3 and the wavelet
//! transform and histogram run in `f32` exactly as numpy, SciPy and PyWavelets do. Otherwise the
//! single-precision mean's rounding, a constant offset, leaks into the zero-padded last FFT frame
//! and moves log powers near 0 by more than 1e-4, and a coefficient next to a histogram edge
//! changes the entropy. Everything else (FFTs, moments, statistics) is `f64`; the fixtures
//! agree to 6e-5 relative.

use super::fft::{rfft, rfft_power};
use super::filter::{self, PassBand, Sos};
use super::wavelet;
use super::{DspError, Features, Signal};
use serde::{Deserialize, Serialize};

/// The block's id, as in Edge Impulse's impulse files.
pub const BLOCK: &str = "spectral-analysis";

/// The newest implementation version, what new projects get.
pub const LATEST_IMPLEMENTATION_VERSION: u32 = 4;

/// The input decimation ratios the block offers (version 4).
pub const DECIMATION_RATIOS: [u32; 6] = [1, 3, 10, 30, 100, 1000];

/// The largest FFT accepted, to bound memory; Edge Impulse's Studio offers up to 4096.
pub const MAX_FFT_LENGTH: u32 = 65536;

/// The block's settings, named as Edge Impulse's `parameters.json` / `generate_features`
/// arguments (with `_` for `-`). `Default` is version 4 with `parameters.json`'s defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpectralSettings {
    /// Which behaviour to reproduce, 1 to 4 (see the module docs).
    pub implementation_version: u32,
    /// Every reading is multiplied by this (in `f32`, as the block does).
    pub scale_axes: f64,
    /// Version 4: keep one sample in this many after an anti-alias filter; one of
    /// [`DECIMATION_RATIOS`]. Read from a number or, as `parameters.json` writes it, a string.
    #[serde(deserialize_with = "number_or_string")]
    pub input_decimation_ratio: u32,
    /// `"none"`, `"low"` (low-pass) or `"high"` (high-pass).
    pub filter_type: String,
    /// Filter cut-off in Hz; also decides which spectral bins are kept (versions 2–4).
    pub filter_cutoff: f64,
    /// Butterworth order: 0 (mask bins only), 2, 4, 6 or 8.
    pub filter_order: u32,
    /// `"FFT"` or (versions 3–4) `"Wavelet"`.
    pub analysis_type: String,
    /// FFT length `N`, a power of two; gives `N/2` spectral-power features per axis.
    pub fft_length: u32,
    /// Version 1: number of spectral peaks per axis.
    pub spectral_peaks_count: u32,
    /// Version 1: smallest peak height `2/N·|FFT|` kept.
    pub spectral_peaks_threshold: f64,
    /// Version 1: comma-separated band edges in Hz, e.g. `"0.1, 0.5, 1.0, 2.0, 5.0"`.
    pub spectral_power_edges: String,
    /// Versions 2–4: take `log10` of the spectral powers.
    pub do_log: bool,
    /// Versions 2–4: FFT frames advance by half a frame instead of a whole one.
    pub do_fft_overlap: bool,
    /// Wavelet: decomposition level (0 = statistics of the signal itself).
    pub wavelet_level: u32,
    /// Wavelet: name, one of [`wavelet::WAVELETS`].
    pub wavelet: String,
    /// Version 4, FFT: add features of the signal decimated by 10 ("improve low frequency
    /// resolution").
    pub extra_low_freq: bool,
}

/// A `u32` given as `3` or `"3"`.
fn number_or_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(u32),
        Text(String),
    }
    match NumberOrString::deserialize(deserializer)? {
        NumberOrString::Number(n) => Ok(n),
        NumberOrString::Text(text) => text.trim().parse().map_err(serde::de::Error::custom),
    }
}

impl Default for SpectralSettings {
    fn default() -> Self {
        Self {
            implementation_version: LATEST_IMPLEMENTATION_VERSION,
            scale_axes: 1.0,
            input_decimation_ratio: 1,
            filter_type: "none".into(),
            filter_cutoff: 3.0,
            filter_order: 6,
            analysis_type: "FFT".into(),
            fft_length: 16,
            spectral_peaks_count: 3,
            spectral_peaks_threshold: 0.1,
            spectral_power_edges: "0.1, 0.5, 1.0, 2.0, 5.0".into(),
            do_log: true,
            do_fft_overlap: true,
            wavelet_level: 1,
            wavelet: "db4".into(),
            extra_low_freq: false,
        }
    }
}

impl SpectralSettings {
    /// The motion labs' settings: no filter, FFT 32, log on, overlap off (Nicla Vision lab) or
    /// on (XIAO ESP32S3 lab), which give 21 features per axis.
    pub fn motion_lab(do_fft_overlap: bool) -> Self {
        Self {
            fft_length: 32,
            do_fft_overlap,
            ..Self::default()
        }
    }
}

/// What one axis went through, for the Features panel's plots.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisSteps {
    /// The axis name.
    pub name: String,
    /// The signal after scaling, decimation, filtering and mean removal.
    pub filtered: Vec<f64>,
    /// Frequency of each `spectrum` bin, Hz (`k · rate / N`).
    pub frequencies_hz: Vec<f64>,
    /// FFT analysis: the linear max-hold power per bin, DC included (version 1: the one-sided
    /// periodogram density its power bands average). Empty for Wavelet analysis.
    pub spectrum: Vec<f64>,
}

/// Every axis's intermediates and the block's output.
#[derive(Clone, Debug, PartialEq)]
pub struct SpectralSteps {
    /// One entry per axis, in input order.
    pub axes: Vec<AxisSteps>,
    /// The features, as [`features`] returns them.
    pub features: Features,
}

/// The block's features for one window: shape `[n]`, one name per value.
pub fn features(
    settings: &SpectralSettings,
    signal: &Signal,
    axis_names: &[String],
) -> Result<Features, DspError> {
    steps(settings, signal, axis_names).map(|s| s.features)
}

/// The block's features with every axis's intermediate signals.
pub fn steps(
    settings: &SpectralSettings,
    signal: &Signal,
    axis_names: &[String],
) -> Result<SpectralSteps, DspError> {
    let plan = Plan::new(settings, signal, axis_names)?;
    let mut axes = Vec::with_capacity(axis_names.len());
    let (mut values, mut names) = (Vec::new(), Vec::new());
    let (mut low_values, mut low_names) = (Vec::new(), Vec::new());
    for (index, axis) in axis_names.iter().enumerate() {
        let filtered = plan.prepare(signal, index)?;
        let (frequencies_hz, spectrum) = match &plan.analysis {
            Analysis::Wavelet { name, level } => {
                let (v, labels) =
                    wavelet::features(&filtered, name, *level, plan.wavelet_precision())?;
                values.extend(v);
                names.extend(labels.iter().map(|l| format!("{axis} {l}")));
                (Vec::new(), Vec::new())
            }
            Analysis::Peaks {
                count,
                threshold,
                edges,
            } => {
                let axis_features = peaks_features(&plan, &filtered, *count, *threshold, edges);
                values.extend(axis_features.values);
                names.extend(axis_features.labels.iter().map(|l| format!("{axis} {l}")));
                (axis_features.frequencies_hz, axis_features.spectrum)
            }
            Analysis::Spectrum => {
                let main =
                    spectrum_features(&plan, &filtered, plan.rate_hz, plan.version >= 4, "")?;
                values.extend(main.values);
                names.extend(main.labels.iter().map(|l| format!("{axis} {l}")));
                if plan.version >= 4 && plan.settings.extra_low_freq {
                    let low = low_frequency_features(&plan, &filtered, signal.readings())?;
                    low_values.extend(low.values);
                    low_names.extend(low.labels.iter().map(|l| format!("{axis} {l}")));
                }
                (main.frequencies_hz, main.spectrum)
            }
        };
        axes.push(AxisSteps {
            name: axis.clone(),
            filtered,
            frequencies_hz,
            spectrum,
        });
    }
    values.extend(low_values);
    names.extend(low_names);
    Ok(SpectralSteps {
        axes,
        features: Features {
            shape: vec![values.len()],
            values: values.iter().map(|&v| v as f32).collect(),
            names,
        },
    })
}

/// `scipy.stats.skew(x)` as the block's SciPy (1.7.3) computes it: `m3 / m2^1.5` with central
/// moments `m_k = mean((x - mean)^k)`, and 0 for (numerically) constant input.
pub fn skewness(x: &[f64]) -> f64 {
    let [mean, m2, m3, _] = central_moments(x);
    if nearly_constant(mean, m2) {
        0.0
    } else {
        m3 / m2.powf(1.5)
    }
}

/// `scipy.stats.kurtosis(x)` (Fisher, biased) as SciPy 1.7.3: `m4 / m2² - 3`, and -3 for
/// (numerically) constant input.
pub fn kurtosis(x: &[f64]) -> f64 {
    let [mean, m2, _, m4] = central_moments(x);
    if nearly_constant(mean, m2) {
        -3.0
    } else {
        m4 / m2.powf(2.0) - 3.0
    }
}

/// `[mean, m2, m3, m4]` of `x` (all 0 when empty).
fn central_moments(x: &[f64]) -> [f64; 4] {
    if x.is_empty() {
        return [0.0; 4];
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let mut m = [0.0; 3];
    for v in x {
        let d = v - mean;
        let d2 = d * d;
        m[0] += d2;
        m[1] += d2 * d;
        m[2] += d2 * d2;
    }
    [mean, m[0] / n, m[1] / n, m[2] / n]
}

/// SciPy's test for "all values equal": `m2 <= (resolution · mean)²` with `f64` resolution 1e-15.
fn nearly_constant(mean: f64, m2: f64) -> bool {
    m2 <= (1e-15 * mean).powi(2)
}

/// How the features are computed, decided once per window.
enum Analysis {
    /// Version 1: RMS, spectral peaks and band powers.
    Peaks {
        /// Peaks per axis.
        count: usize,
        /// Smallest peak height kept.
        threshold: f64,
        /// Band edges, Hz.
        edges: Vec<f64>,
    },
    /// Versions 2–4, FFT: moments and max-hold spectrum bins.
    Spectrum,
    /// Versions 3–4, Wavelet.
    Wavelet {
        /// Wavelet name.
        name: String,
        /// Decomposition level.
        level: u32,
    },
}

/// The filter type, which also masks bins.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FilterType {
    None,
    Low,
    High,
}

/// Validated settings: everything `steps` needs besides the samples.
struct Plan<'a> {
    settings: &'a SpectralSettings,
    version: u32,
    scale: f32,
    /// Decimation stages (3 and 10), applied in order.
    stages: Vec<usize>,
    /// Sampling rate after decimation, Hz.
    rate_hz: f64,
    filter_type: FilterType,
    /// The Butterworth filter with `f32` coefficients, if one runs.
    filter: Option<Sos>,
    analysis: Analysis,
    /// FFT length `N`.
    fft_length: usize,
}

fn bad(name: &str, value: impl ToString, why: impl Into<String>) -> DspError {
    DspError::BadSetting {
        name: name.into(),
        value: value.to_string(),
        why: why.into(),
    }
}

impl<'a> Plan<'a> {
    /// Checks the settings against the window in the order the block does, so the first
    /// complaint is the same.
    fn new(
        settings: &'a SpectralSettings,
        signal: &Signal,
        axis_names: &[String],
    ) -> Result<Self, DspError> {
        let SpectralSettings {
            implementation_version: version,
            scale_axes,
            input_decimation_ratio: ratio,
            filter_type,
            filter_cutoff: cutoff,
            filter_order: order,
            analysis_type,
            fft_length,
            spectral_peaks_count,
            spectral_peaks_threshold,
            spectral_power_edges,
            do_log: _,
            do_fft_overlap: _,
            wavelet_level,
            wavelet: wavelet_name,
            extra_low_freq: _,
        } = settings;
        let version = *version;
        if !(1..=LATEST_IMPLEMENTATION_VERSION).contains(&version) {
            return Err(DspError::UnsupportedVersion {
                block: BLOCK.into(),
                version,
                supported: format!("1 to {LATEST_IMPLEMENTATION_VERSION}"),
            });
        }
        if !fft_length.is_power_of_two() || !(2..=MAX_FFT_LENGTH).contains(fft_length) {
            return Err(bad(
                "fft_length",
                fft_length,
                format!("the FFT length must be a power of two from 2 to {MAX_FFT_LENGTH}"),
            ));
        }
        signal.check()?;
        if axis_names.len() != signal.axes {
            return Err(DspError::WrongInput {
                block: BLOCK.into(),
                expected: format!(
                    "one name per axis: the window has {} axes but {} names were given",
                    signal.axes,
                    axis_names.len()
                ),
            });
        }
        let filter_type = match filter_type.as_str() {
            "none" => FilterType::None,
            "low" => FilterType::Low,
            "high" => FilterType::High,
            other => return Err(bad("filter_type", other, "use none, low or high")),
        };
        let wavelet_analysis = match analysis_type.as_str() {
            "FFT" => false,
            "Wavelet" => true,
            other => return Err(bad("analysis_type", other, "use FFT or Wavelet")),
        };
        if filter_type != FilterType::None && !(cutoff.is_finite() && *cutoff > 0.0) {
            return Err(bad(
                "filter_cutoff",
                cutoff,
                "the cut-off must be a positive frequency in Hz",
            ));
        }
        if !(scale_axes.is_finite() && (*scale_axes as f32).is_finite()) {
            return Err(bad(
                "scale_axes",
                scale_axes,
                "the scale must be a finite number",
            ));
        }
        let analysis = if wavelet_analysis && version >= 3 {
            if wavelet::filter_bank(wavelet_name).is_none() {
                return Err(bad(
                    "wavelet",
                    wavelet_name,
                    format!("choose one of {}", wavelet::WAVELETS.join(", ")),
                ));
            }
            Analysis::Wavelet {
                name: wavelet_name.clone(),
                level: *wavelet_level,
            }
        } else if version == 1 {
            let edges = spectral_power_edges
                .split(',')
                .map(|item| item.trim().parse::<f64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    bad(
                        "spectral_power_edges",
                        spectral_power_edges,
                        "give band edges in Hz separated by commas, e.g. 0.1, 0.5, 1.0",
                    )
                })?;
            if *spectral_peaks_count > MAX_FFT_LENGTH {
                return Err(bad(
                    "spectral_peaks_count",
                    spectral_peaks_count,
                    format!("use at most {MAX_FFT_LENGTH} peaks"),
                ));
            }
            Analysis::Peaks {
                count: *spectral_peaks_count as usize,
                threshold: *spectral_peaks_threshold,
                edges,
            }
        } else {
            Analysis::Spectrum
        };

        let rate = signal.rate_hz;
        let stages: Vec<usize> = match ratio {
            1 => Vec::new(),
            3 => vec![3],
            10 => vec![10],
            30 => vec![3, 10],
            100 => vec![10, 10],
            1000 => vec![10, 10, 10],
            other => {
                return Err(bad(
                    "input_decimation_ratio",
                    other,
                    "use 1, 3, 10, 30, 100 or 1000",
                ));
            }
        };
        if *ratio > 1 {
            if version < 4 {
                return Err(bad(
                    "input_decimation_ratio",
                    ratio,
                    "input decimation needs implementation version 4",
                ));
            }
            let nyquist = rate / 2.0 / f64::from(*ratio);
            if filter_type != FilterType::None && *cutoff > nyquist * 0.9 {
                return Err(bad(
                    "input_decimation_ratio",
                    ratio,
                    format!(
                        "the filter cut-off {cutoff} Hz is above 90% of the decimated \
                         Nyquist frequency {nyquist} Hz: lower the ratio"
                    ),
                ));
            }
        }
        let filter_rate = rate / f64::from(*ratio);
        let filter = match filter_type {
            FilterType::None => None,
            _ if *order == 0 => None,
            band => Some(design_filter(band, *cutoff, *order, filter_rate)?),
        };
        let rate_hz = stages.iter().fold(rate, |r, &s| r / s as f64);
        Ok(Plan {
            settings,
            version,
            scale: *scale_axes as f32,
            stages,
            rate_hz,
            filter_type,
            filter,
            analysis,
            fft_length: *fft_length as usize,
        })
    }

    /// Steps 1–3 for one axis: scale, decimate, filter, remove the mean. Checks the wavelet
    /// window length.
    fn prepare(&self, signal: &Signal, axis: usize) -> Result<Vec<f64>, DspError> {
        let scale = self.scale;
        let scaled: Vec<f32> = signal
            .values
            .iter()
            .skip(axis)
            .step_by(signal.axes.max(1))
            .map(|&v| v * scale)
            .collect();
        if let Some(index) = scaled.iter().position(|v| !v.is_finite()) {
            return Err(bad(
                "scale_axes",
                self.settings.scale_axes,
                format!("reading {index} overflows once scaled"),
            ));
        }
        let x = if self.stages.is_empty() {
            // Without decimation the block's signal is `float32` up to here: filter and mean
            // removal run in single precision. Reproduced because the mean's rounding (a
            // constant offset) leaks into the zero-padded last FFT frame.
            let filtered = match &self.filter {
                Some(sos) => sos.filter_f32(&scaled),
                None => scaled,
            };
            let mean = wavelet::numpy_mean(&filtered);
            filtered.iter().map(|&v| f64::from(v - mean)).collect()
        } else {
            let mut x: Vec<f64> = scaled.iter().map(|&v| f64::from(v)).collect();
            for &stage in &self.stages {
                x = filter::decimate(&x, stage);
            }
            if let Some(sos) = &self.filter {
                x = sos.filter(&x);
            }
            let mean = x.iter().sum::<f64>() / x.len().max(1) as f64;
            x.iter().map(|v| v - mean).collect::<Vec<f64>>()
        };
        if let Analysis::Wavelet { level, .. } = &self.analysis {
            let needed = wavelet::min_length(*level).unwrap_or(usize::MAX);
            if x.len() < needed {
                return Err(DspError::TooShort {
                    needed: readings_before(needed, self.total_ratio()),
                    got: signal.readings(),
                });
            }
        }
        Ok(x)
    }

    /// The precision of the block's signal after step 3: `float32` unless decimated.
    fn wavelet_precision(&self) -> wavelet::Precision {
        if self.stages.is_empty() {
            wavelet::Precision::Single
        } else {
            wavelet::Precision::Double
        }
    }

    /// The product of the decimation stages.
    fn total_ratio(&self) -> usize {
        self.stages.iter().product()
    }
}

/// What the C library export (`export::c_dsp`) bakes in: the block's validated plan for one
/// window shape, in the terms the generated C needs.
pub(crate) struct ExportPlan {
    /// The implementation version.
    pub(crate) version: u32,
    /// `scale_axes` as the block applies it, in `f32`.
    pub(crate) scale: f32,
    /// Decimation stages (3 and 10), in order.
    pub(crate) stages: Vec<usize>,
    /// The Butterworth filter (coefficients rounded to `f32`), if one runs.
    pub(crate) filter: Option<Sos>,
    /// FFT length `N`.
    pub(crate) fft_length: usize,
    /// Wavelet analysis (else FFT).
    pub(crate) wavelet: bool,
    /// Version 1 peaks and band powers (else the max-hold spectrum).
    pub(crate) peaks: bool,
    /// The spectral bins kept at the (decimated) rate.
    pub(crate) bins: std::ops::Range<usize>,
    /// The bins kept by the `extra_low_freq` features, at a tenth of that rate.
    pub(crate) low_bins: std::ops::Range<usize>,
}

/// The block's plan for windows like `signal`, checked as [`features`] checks it.
pub(crate) fn export_plan(
    settings: &SpectralSettings,
    signal: &Signal,
    axis_names: &[String],
) -> Result<ExportPlan, DspError> {
    let plan = Plan::new(settings, signal, axis_names)?;
    Ok(ExportPlan {
        version: plan.version,
        scale: plan.scale,
        bins: kept_bins(&plan, plan.fft_length, plan.rate_hz),
        low_bins: kept_bins(&plan, plan.fft_length, plan.rate_hz / 10.0),
        wavelet: matches!(plan.analysis, Analysis::Wavelet { .. }),
        peaks: matches!(plan.analysis, Analysis::Peaks { .. }),
        stages: plan.stages,
        filter: plan.filter,
        fft_length: plan.fft_length,
    })
}

/// Readings needed in the window for `samples` to remain after decimating by `ratio`
/// (`⌈n / ratio⌉ ≥ samples`).
fn readings_before(samples: usize, ratio: usize) -> usize {
    samples
        .saturating_sub(1)
        .saturating_mul(ratio)
        .saturating_add(1)
}

/// The Butterworth filter the block runs: designed for `rate_hz`, coefficients rounded to `f32`,
/// and refused when the block's own stability check would refuse it.
fn design_filter(
    band: FilterType,
    cutoff_hz: f64,
    order: u32,
    rate_hz: f64,
) -> Result<Sos, DspError> {
    if !order.is_multiple_of(2) || order > 8 {
        return Err(bad(
            "filter_order",
            order,
            "the filter order must be 0 (no filtering), 2, 4, 6 or 8",
        ));
    }
    let wn = cutoff_hz * 2.0 / rate_hz;
    if wn >= 1.0 {
        return Err(bad(
            "filter_cutoff",
            cutoff_hz,
            format!(
                "the cut-off is at or above Nyquist ({} Hz, half the sampling rate): choose a \
                 lower cut-off",
                rate_hz / 2.0
            ),
        ));
    }
    let pass = if band == FilterType::High {
        PassBand::High
    } else {
        PassBand::Low
    };
    let sos = filter::butterworth(order, wn, pass)?.rounded_to_f32();
    if !stable_in_f32(order, cutoff_hz, rate_hz) {
        return Err(bad(
            "filter_cutoff",
            cutoff_hz,
            "the filter is not stable in single precision: move the cut-off away from 0 and \
             from Nyquist",
        ));
    }
    Ok(sos)
}

/// The block's design check, which mirrors its embedded (C++) filter: each order-2 stage of a
/// low-pass with `a = tan(π·fc/fs)` has denominator `1 - d1·z⁻¹ - d2·z⁻²`, coefficients in
/// `f32`; stable when both poles lie inside the unit circle.
fn stable_in_f32(order: u32, cutoff_hz: f64, rate_hz: f64) -> bool {
    let pi = std::f64::consts::PI;
    let a = (pi * cutoff_hz / rate_hz).tan() as f32;
    let a2 = a * a;
    let (a, a2) = (f64::from(a), f64::from(a2));
    (0..order / 2).all(|step| {
        let r = (pi * (2.0 * f64::from(step) + 1.0) / (2.0 * f64::from(order))).sin();
        let s = a2 + 2.0 * a * r + 1.0;
        let d1 = f64::from((2.0 * f64::from(1.0 - a2 as f32) / s) as f32);
        let d2 = f64::from((-(a2 - 2.0 * a * r + 1.0) / s) as f32);
        // Roots of z² - d1·z - d2.
        let discriminant = d1 * d1 + 4.0 * d2;
        let radius = if discriminant < 0.0 {
            (-d2).sqrt()
        } else {
            let root = discriminant.sqrt();
            ((d1 + root) / 2.0).abs().max(((d1 - root) / 2.0).abs())
        };
        radius < 1.0
    })
}

/// One axis's features with their labels (without the axis name) and the plotted spectrum.
struct AxisFeatures {
    values: Vec<f64>,
    labels: Vec<String>,
    frequencies_hz: Vec<f64>,
    spectrum: Vec<f64>,
}

/// Versions 2–4, FFT analysis of one (mean-removed) signal at `rate_hz`: steps 4–5.
fn spectrum_features(
    plan: &Plan,
    x: &[f64],
    rate_hz: f64,
    spectral_statistics: bool,
    suffix: &str,
) -> Result<AxisFeatures, DspError> {
    let n = plan.fft_length;
    let mut values = vec![rms(x), skewness(x), kurtosis(x)];
    let mut labels = vec![
        format!("RMS{suffix}"),
        format!("Skewness{suffix}"),
        format!("Kurtosis{suffix}"),
    ];
    let spectrum = max_hold_spectrum(x, n, plan.settings.do_fft_overlap);
    let frequencies_hz = bin_frequencies(n, rate_hz);
    if spectral_statistics {
        values.push(skewness(&spectrum));
        values.push(kurtosis(&spectrum));
        labels.push(format!("Spectral Skewness{suffix}"));
        labels.push(format!("Spectral Kurtosis{suffix}"));
    }
    let spacing = frequencies_hz.get(1).copied().unwrap_or(0.0);
    let bins = kept_bins(plan, n, rate_hz);
    if bins.is_empty() {
        return Err(bad(
            "filter_cutoff",
            plan.settings.filter_cutoff,
            "the cut-off masks every FFT bin: raise it or lengthen the FFT",
        ));
    }
    for k in bins {
        let (Some(&power), Some(&f)) = (spectrum.get(k), frequencies_hz.get(k)) else {
            continue;
        };
        values.push(if plan.settings.do_log {
            log_power(power)
        } else {
            power
        });
        labels.push(format!(
            "Spectral Power {} - {} Hz",
            python_float(round_2(f - spacing / 2.0)),
            python_float(round_2(f + spacing / 2.0))
        ));
    }
    Ok(AxisFeatures {
        values,
        labels,
        frequencies_hz,
        spectrum,
    })
}

/// Step 6: the low-frequency features of a step-3 signal.
fn low_frequency_features(
    plan: &Plan,
    filtered: &[f64],
    readings: usize,
) -> Result<AxisFeatures, DspError> {
    let mut x = filter::decimate(filtered, 10);
    let needed = plan.fft_length / 2;
    if x.len() < needed {
        return Err(DspError::TooShort {
            needed: readings_before(needed, 10 * plan.total_ratio()),
            got: readings,
        });
    }
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    x.iter_mut().for_each(|v| *v -= mean);
    spectrum_features(plan, &x, plan.rate_hz / 10.0, true, " LF")
}

/// The spectrum bins appended as features: DC skipped, and bins beyond a low-pass or below a
/// high-pass cut-off masked (by half a bin).
fn kept_bins(plan: &Plan, n: usize, rate_hz: f64) -> std::ops::Range<usize> {
    let cutoff = plan.settings.filter_cutoff.min(rate_hz / 2.0);
    let bin = cutoff * n as f64 / rate_hz;
    let last = n / 2 + 1;
    let (start, stop) = match plan.filter_type {
        FilterType::None => (1, last),
        FilterType::High => (((bin - 0.5).trunc() as usize + 1).max(1), last),
        FilterType::Low => (1, ((bin + 0.5).trunc() as usize + 1).min(last)),
    };
    start..stop.max(start)
}

/// `sqrt(mean(x²))`.
fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// `log10` with the block's zero handling (0 becomes 1e-10).
fn log_power(power: f64) -> f64 {
    if power == 0.0 { 1e-10_f64 } else { power }.log10()
}

/// The block's `welch_max_hold`: the bin-wise maximum of `|rfft(frame, n)|² / n` over frames
/// starting at `0, step, 2·step, …` while the start is `<= len` (the last ones zero-padded),
/// `step = n` or `n/2` with overlap. `n/2 + 1` bins.
pub fn max_hold_spectrum(x: &[f64], n: usize, overlap: bool) -> Vec<f64> {
    let mut spectrum = vec![0.0_f64; n / 2 + 1];
    let step = if overlap { n - n / 2 } else { n }.max(1);
    let mut start = 0;
    while start <= x.len() {
        let frame = x.get(start..x.len().min(start + n)).unwrap_or(&[]);
        for (held, power) in spectrum.iter_mut().zip(rfft_power(frame, n)) {
            *held = held.max(power / n as f64);
        }
        start += step;
    }
    spectrum
}

/// `np.fft.rfftfreq(n, 1 / rate_hz)`: `k · (1 / (n · (1 / rate)))` for `k = 0..=n/2`.
pub fn bin_frequencies(n: usize, rate_hz: f64) -> Vec<f64> {
    let spacing = 1.0 / (n as f64 * (1.0 / rate_hz));
    (0..=n / 2).map(|k| k as f64 * spacing).collect()
}

/// Version 1 for one axis: RMS, peaks, band powers.
fn peaks_features(
    plan: &Plan,
    x: &[f64],
    count: usize,
    threshold: f64,
    edges: &[f64],
) -> AxisFeatures {
    let n = plan.fft_length;
    let rate = plan.rate_hz;
    let mut values = vec![rms(x)];
    let mut labels = vec!["RMS".to_owned()];

    // Peaks of the single-sided amplitude 2/N·|X[k]|, k < N/2, at linspace(0, fs/2, N/2).
    let half = n / 2;
    let amplitude: Vec<f64> = rfft(x, n)
        .iter()
        .take(half)
        .map(|c| 2.0 / n as f64 * c.norm())
        .collect();
    let top = 1.0 / (2.0 * (1.0 / rate));
    let frequency = |k: usize| {
        if half > 1 && k + 1 == half {
            top
        } else if half > 1 {
            k as f64 * (top / (half - 1) as f64)
        } else {
            0.0
        }
    };
    let mut peaks: Vec<(f64, f64)> = peak_indexes(&amplitude)
        .into_iter()
        .filter_map(|k| {
            let height = amplitude.get(k).copied()?;
            (height >= threshold).then(|| (frequency(k), height))
        })
        .collect();
    peaks.sort_by(|a, b| b.1.total_cmp(&a.1));
    peaks.resize(count, (0.0, 0.0));
    for (i, (f, height)) in peaks.into_iter().enumerate() {
        values.push(f);
        values.push(height);
        labels.push(format!("Peak {} Freq", i + 1));
        labels.push(format!("Peak {} Height", i + 1));
    }

    // Mean periodogram density per band [e_k, e_k+1), divided by 10.
    let (frequencies_hz, density) = periodogram(x, n, rate);
    for band in edges.windows(2) {
        let &[from, to] = band else { continue };
        let (sum, total) = frequencies_hz
            .iter()
            .zip(&density)
            .filter(|&(&f, _)| f >= from && f < to)
            .fold((0.0, 0usize), |(s, c), (_, &p)| (s + p, c + 1));
        values.push(if total == 0 { 0.0 } else { sum / total as f64 } / 10.0);
        labels.push(format!(
            "Spectral Power {} - {} Hz",
            python_float(from),
            python_float(to)
        ));
    }
    AxisFeatures {
        values,
        labels,
        frequencies_hz,
        spectrum: density,
    }
}

/// `scipy.signal.periodogram(x, fs, nfft=n)`: the first `min(len, n)` samples less their
/// mean, zero-padded to `n`, `|X[k]|² / (fs · segment length)`, doubled except at DC and
/// Nyquist. Returns `(frequencies, density)`.
fn periodogram(x: &[f64], n: usize, rate_hz: f64) -> (Vec<f64>, Vec<f64>) {
    let segment = x.get(..x.len().min(n)).unwrap_or(x);
    let mean = segment.iter().sum::<f64>() / segment.len().max(1) as f64;
    let centred: Vec<f64> = segment.iter().map(|v| v - mean).collect();
    let scale = 1.0 / (rate_hz * segment.len().max(1) as f64);
    let last = n / 2;
    let density = rfft_power(&centred, n)
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let one_sided = if k == 0 || (n.is_multiple_of(2) && k == last) {
                1.0
            } else {
                2.0
            };
            p * scale * one_sided
        })
        .collect();
    (bin_frequencies(n, rate_hz), density)
}

/// `peakutils.indexes(y, thres=0)`: strict local maxima above the minimum, with flat tops
/// resolved as peakutils does (a plateau's left half takes the slope before it, its right half
/// the slope after it).
fn peak_indexes(y: &[f64]) -> Vec<usize> {
    let n = y.len();
    if n < 2 {
        return Vec::new();
    }
    let minimum = y.iter().copied().fold(f64::INFINITY, f64::min);
    let mut dy: Vec<f64> = y
        .windows(2)
        .map(|w| w.last().zip(w.first()).map_or(0.0, |(b, a)| b - a))
        .collect();
    let zeros: Vec<usize> = (0..dy.len()).filter(|&i| dy.get(i) == Some(&0.0)).collect();
    if zeros.len() == dy.len() {
        return Vec::new();
    }
    // Runs of consecutive zero slopes.
    let mut plateaus: Vec<(usize, usize)> = Vec::new();
    for &i in &zeros {
        match plateaus.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => plateaus.push((i, i)),
        }
    }
    let at = |dy: &[f64], i: Option<usize>| i.and_then(|i| dy.get(i)).copied().unwrap_or(0.0);
    if let Some(&(first, last)) = plateaus.first()
        && first == 0
    {
        let fill = at(&dy, last.checked_add(1));
        dy.iter_mut().take(last + 1).for_each(|d| *d = fill);
        plateaus.remove(0);
    }
    if let Some(&(first, last)) = plateaus.last()
        && last + 1 == dy.len()
    {
        let fill = at(&dy, first.checked_sub(1));
        dy.iter_mut().skip(first).for_each(|d| *d = fill);
        plateaus.pop();
    }
    for (first, last) in plateaus {
        let (left, right) = (at(&dy, first.checked_sub(1)), at(&dy, last.checked_add(1)));
        let median = (first + last) as f64 / 2.0;
        for (i, d) in dy.iter_mut().enumerate().take(last + 1).skip(first) {
            *d = if (i as f64) < median { left } else { right };
        }
    }
    (1..n - 1)
        .filter(|&i| {
            at(&dy, Some(i)) < 0.0
                && at(&dy, Some(i - 1)) > 0.0
                && y.get(i).is_some_and(|&v| v > minimum)
        })
        .collect()
}

/// numpy's `round(x, 2)`: `rint(x · 100) / 100`, ties to even (not Python's exact rounding).
fn round_2(x: f64) -> f64 {
    (x * 100.0).round_ties_even() / 100.0
}

/// Python's `str(float)`: the shortest digits that read back to `x`, positional for
/// exponents -4 to 15 (always with a fractional part, `3.0`), else `1.5e-07` / `1e+16`.
pub fn python_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    let body = if (-4..16).contains(&exponent) {
        if exponent >= 0 {
            let whole = exponent as usize + 1;
            if digits.len() <= whole {
                format!("{digits}{}.0", "0".repeat(whole - digits.len()))
            } else {
                let (int, frac) = digits.split_at(whole);
                format!("{int}.{frac}")
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exponent - 1) as usize))
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let mantissa = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{exp_sign}{:02}", exponent.abs())
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        ["accX", "accY", "accZ"]
            .iter()
            .take(n)
            .map(|s| (*s).to_owned())
            .collect()
    }

    #[test]
    fn python_float_formats_like_python() {
        for (x, s) in [
            (0.78, "0.78"),
            (3.0, "3.0"),
            (24.22, "24.22"),
            (100.0, "100.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (123456789012345.6, "123456789012345.6"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
        ] {
            assert_eq!(python_float(x), s);
        }
        // numpy rounds x·100 to even: 0.015 → 0.02 (Python's round gives 0.01).
        assert_eq!(round_2(0.015), 0.02);
        assert_eq!(round_2(0.78125), 0.78);
    }

    #[test]
    fn moments_match_scipy() {
        // scipy.stats.skew / kurtosis of [1, 2, 3, 10], printed by scipy 1.17.
        let x = [1.0, 2.0, 3.0, 10.0];
        assert!((skewness(&x) - 1.0182337649086284).abs() < 1e-12);
        assert!((kurtosis(&x) - -0.7696000000000001).abs() < 1e-12);
        assert_eq!(skewness(&[2.0; 5]), 0.0);
        assert_eq!(kurtosis(&[2.0; 5]), -3.0);
    }

    #[test]
    fn peaks_resolve_plateaus_like_peakutils() {
        // Expected values printed by peakutils 1.3.5 `indexes(y, thres=0)`.
        assert_eq!(
            peak_indexes(&[0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0]),
            [1, 5]
        );
        assert_eq!(peak_indexes(&[0.0, 1.0, 0.0, 2.0, 0.5]), [1, 3]);
        // A flat top: the peak is placed at the plateau's middle-right.
        assert_eq!(peak_indexes(&[0.0, 1.0, 1.0, 1.0, 0.0]), [2]);
        assert_eq!(peak_indexes(&[1.0; 5]), Vec::<usize>::new());
        assert_eq!(
            peak_indexes(&[2.0, 2.0, 1.0, 3.0, 3.0]),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn max_hold_pads_short_frames() {
        let x = [1.0, -1.0, 1.0, -1.0];
        let spectrum = max_hold_spectrum(&x, 8, false);
        assert_eq!(spectrum.len(), 5);
        // |rfft([1,-1,1,-1,0,0,0,0])[4]|² / 8 = 16 / 8.
        assert!((spectrum[4] - 2.0).abs() < 1e-12);
        assert_eq!(bin_frequencies(32, 50.0)[1], 1.5625);
    }

    #[test]
    fn motion_lab_window_gives_63_named_features() {
        let values: Vec<f32> = (0..300).map(|i| ((i * 37 % 101) as f32) / 10.0).collect();
        let signal = Signal {
            axes: 3,
            rate_hz: 50.0,
            values: &values,
        };
        for overlap in [false, true] {
            let settings = SpectralSettings::motion_lab(overlap);
            let out = features(&settings, &signal, &names(3)).unwrap();
            assert_eq!(out.shape, [63]);
            assert_eq!(out.names.len(), 63);
            assert_eq!(out.names[5], "accX Spectral Power 0.78 - 2.34 Hz");
            assert_eq!(out.names[62], "accZ Spectral Power 24.22 - 25.78 Hz");
        }
    }

    #[test]
    fn steps_expose_each_axis() {
        let values: Vec<f32> = (0..200).map(|i| (i as f32 * 0.3).sin()).collect();
        let signal = Signal {
            axes: 2,
            rate_hz: 50.0,
            values: &values,
        };
        let out = steps(&SpectralSettings::default(), &signal, &names(2)).unwrap();
        assert_eq!(out.axes.len(), 2);
        assert_eq!(out.axes[0].filtered.len(), 100);
        assert_eq!(out.axes[0].spectrum.len(), 9);
        assert_eq!(out.axes[0].frequencies_hz.len(), 9);
        assert_eq!(out.features.values.len(), 2 * (5 + 8));
    }
}
