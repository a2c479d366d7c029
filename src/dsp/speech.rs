//! Speech maths shared by the MFCC, MFE and spectrogram blocks, as Edge Impulse's copy of
//! speechpy computes it (quirks included), so the three blocks give Edge Impulse's numbers.
//!
//! For one audio window `x[0..N)` at `f_s` Hz:
//!
//! 1. **Pre-emphasis** `y[n] = x[n] − α·x[(n − s) mod N]`. Edge Impulse uses `np.roll`, so the
//!    first `s` outputs subtract the *last* samples of the window (a wrap-around, not a zero).
//! 2. **Framing** (no zero padding: the tail that does not fill a frame is dropped). Frame length
//!    `L` and stride `S` in samples: version 1 rounds `f_s·t_frame` half to even; later versions
//!    take the ceiling unless the value is within 0.001 above an integer (then the floor). `S`
//!    uses that ceiling rule in every version. Frame `i` is `y[iS .. iS + L)`, and there are
//!    `⌊(N − L)/S⌋` frames in version 1 but `⌊(N − L + S)/S⌋` (one more) from version 2.
//! 3. **Power spectrum** `P[k] = |rfft(frame, n)[k]|² / n` for `k = 0..=n/2`: a frame longer
//!    than the FFT length `n` is cut to its first `n` samples, a shorter one zero-padded.
//! 4. **Mel filterbank** of `M` triangles: `mel(f) = 1127·ln(1 + f/700)`; `M + 2` points evenly
//!    spaced in mel from the low to the high frequency, mapped back to Hz, the last lowered by
//!    0.001 Hz; point `j` falls on FFT bin `⌊(b + 1)·f_j / f_s⌋`, where `b = n/2 + 1` up to
//!    version 3 ("old mels", a bug) and `b = n` from version 4. Filter `m` rises linearly from
//!    bin `p_m` to `p_{m+1}` and falls to `p_{m+2}`, on integer bins only.
//! 5. **Energies** `E = P·Hᵀ` (frames × filters) and the frame energy `e = Σ_k P[k]`, each zero
//!    replaced by 1e-10 so logarithms stay finite.
//! 6. **DCT-II, orthonormal** (`scipy.fftpack.dct(type=2, norm='ortho')`).
//! 7. **Sliding-window CMVN** (`cmvnw`): each row minus the mean of the `W` rows centred on it,
//!    optionally divided by their standard deviation + 1e-10; rows beyond the edges come from
//!    `np.pad(.., 'symmetric')`, which repeats the mirrored sequence when `W` exceeds the rows.
//!    speechpy stores the result in `f32`, so this does too, with `f32` sums where numpy has them.
//!
//! Shapes: frames are `frames × L`, spectra `frames × (n/2 + 1)`, filterbanks
//! `M × (n/2 + 1)`, energies `frames × M`. Everything is `f64` except where speechpy uses `f32`.

use super::fft::rfft_power_each;
use super::{DspError, Signal};
use std::fmt::Display;
use std::ops::{Mul, Sub};

/// Edge Impulse refuses windows that would give more frames than this.
pub const MAX_FRAMES: usize = 500;

/// What replaces a zero energy before a logarithm (speechpy's `zero_handling`).
pub const ENERGY_FLOOR: f64 = 1e-10;

/// Added to the standard deviation before dividing by it in CMVN.
pub const CMVN_EPSILON: f64 = 1e-10;

/// The smallest power the decibel scaling takes a logarithm of (`np.clip(.., 1e-30)`).
pub const POWER_FLOOR: f64 = 1e-30;

/// The top of the decibel scale of the noise-floor normalisation: `noise_floor_db ..= 12` dB
/// maps to `0 ..= 1`.
pub const DECIBEL_CEILING: f64 = 12.0;

/// The implementation versions of the audio blocks this build reproduces.
pub const FIRST_VERSION: u32 = 1;
/// The latest implementation version of the audio blocks (Edge Impulse's
/// `latestImplementationVersion`).
pub const LATEST_VERSION: u32 = 4;

/// A [`DspError::BadSetting`] naming the parameter, its value and what is allowed.
pub fn bad_setting(name: &str, value: impl Display, why: impl Into<String>) -> DspError {
    DspError::BadSetting {
        name: name.to_owned(),
        value: value.to_string(),
        why: why.into(),
    }
}

/// Refuses an `implementation_version` outside 1 to 4 (Edge Impulse fails on the others too).
pub fn check_version(block: &str, implementation_version: u32) -> Result<(), DspError> {
    if (FIRST_VERSION..=LATEST_VERSION).contains(&implementation_version) {
        Ok(())
    } else {
        Err(DspError::UnsupportedVersion {
            block: block.to_owned(),
            version: implementation_version,
            supported: format!("{FIRST_VERSION} to {LATEST_VERSION}"),
        })
    }
}

/// The FFT length as a `usize`, refused unless it is a power of two (1 included, as in
/// Edge Impulse's `log2(fft_length).is_integer()`).
pub fn check_fft_length(fft_length: u32) -> Result<usize, DspError> {
    if fft_length.is_power_of_two() {
        Ok(fft_length as usize)
    } else {
        Err(bad_setting(
            "fft_length",
            fft_length,
            "must be a power of two (64, 128, 256, 512...)",
        ))
    }
}

/// Refuses a duration in seconds that is not a positive number.
pub fn check_seconds(name: &str, seconds: f64) -> Result<(), DspError> {
    if seconds.is_finite() && seconds > 0.0 {
        Ok(())
    } else {
        Err(bad_setting(
            name,
            seconds,
            "must be a positive number of seconds",
        ))
    }
}

/// The samples of a one-axis audio window as `f64`, after [`Signal::check`]. Audio blocks take
/// one axis only, as Edge Impulse's (one block per axis).
pub fn audio_samples(block: &str, signal: &Signal) -> Result<Vec<f64>, DspError> {
    signal.check()?;
    if signal.axes != 1 {
        return Err(DspError::WrongInput {
            block: block.to_owned(),
            expected: format!(
                "one axis of audio, not {} axes: add one {block} block per axis",
                signal.axes
            ),
        });
    }
    Ok(signal.axis(0))
}

/// Pre-emphasis `y[n] = x[n] − cof·x[(n − shift) mod N]`, wrapping around like `np.roll`.
/// Generic so that MFE version 3+ can compute it in `f32` as Edge Impulse does.
pub fn preemphasis<T>(signal: &[T], shift: usize, cof: T) -> Result<Vec<T>, DspError>
where
    T: Copy + Mul<Output = T> + Sub<Output = T>,
{
    if shift == 0 {
        return Err(bad_setting(
            "pre_shift",
            shift,
            "must be at least 1 (set pre_cof to 0 to turn pre-emphasis off)",
        ));
    }
    let n = signal.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let kept = n - shift % n;
    // rolled[j] = x[(j − shift) mod n]: the last `shift` samples first, then the rest.
    let rolled = signal.iter().skip(kept).chain(signal.iter().take(kept));
    Ok(signal
        .iter()
        .zip(rolled)
        .map(|(&x, &previous)| x - cof * previous)
        .collect())
}

/// speechpy's `ceil_unless_very_close_to_floor`: `⌈v⌉`, except `⌊v⌋` when `v` is less than
/// 0.001 above it (0.018 s × 16 kHz is 288.00000000000006 samples, meaning 288).
pub fn ceil_unless_very_close_to_floor(value: f64) -> f64 {
    let floor = value.floor();
    if value > floor && value - floor < 0.001 {
        floor
    } else {
        value.ceil()
    }
}

/// How a window is cut into frames (speechpy's `calculate_number_of_frames` without padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing {
    /// Samples per frame, `L`.
    pub frame_length_samples: usize,
    /// Samples between frame starts, `S`.
    pub frame_stride_samples: usize,
    /// Number of whole frames.
    pub frame_count: usize,
}

/// Frame length, stride and count of a window of `readings` samples, per the version's rules
/// (see the module doc). Errors: a frame or stride under one sample, a window shorter than one
/// frame ([`DspError::TooShort`]), more than [`MAX_FRAMES`] frames.
pub fn framing(
    readings: usize,
    rate_hz: f64,
    frame_length_s: f64,
    frame_stride_s: f64,
    implementation_version: u32,
) -> Result<Framing, DspError> {
    check_seconds("frame_length", frame_length_s)?;
    check_seconds("frame_stride", frame_stride_s)?;
    let length = if implementation_version == 1 {
        (rate_hz * frame_length_s).round_ties_even()
    } else {
        ceil_unless_very_close_to_floor(rate_hz * frame_length_s)
    };
    let stride = ceil_unless_very_close_to_floor(rate_hz * frame_stride_s);
    if length < 1.0 {
        return Err(bad_setting(
            "frame_length",
            frame_length_s,
            format!("is less than one sample at {rate_hz} Hz"),
        ));
    }
    if stride < 1.0 {
        return Err(bad_setting(
            "frame_stride",
            frame_stride_s,
            format!("is less than one sample at {rate_hz} Hz"),
        ));
    }
    let count = if implementation_version == 1 {
        ((readings as f64 - length) / stride).floor()
    } else {
        ((readings as f64 - (length - stride)) / stride).floor()
    };
    // Both are whole numbers of at least 1 here; the casts only change the type.
    let frame_length_samples = length as usize;
    let frame_stride_samples = stride as usize;
    if count < 1.0 {
        let needed = if implementation_version == 1 {
            frame_length_samples + frame_stride_samples
        } else {
            frame_length_samples
        };
        return Err(DspError::TooShort {
            needed,
            got: readings,
        });
    }
    if count > MAX_FRAMES as f64 {
        return Err(bad_setting(
            "frame_stride",
            frame_stride_s,
            format!(
                "gives {count} frames, more than {MAX_FRAMES}: increase the frame stride or shorten the window"
            ),
        ));
    }
    Ok(Framing {
        frame_length_samples,
        frame_stride_samples,
        frame_count: count as usize,
    })
}

/// The frames of `signal` (speechpy's `stack_frames` with a rectangular window and no padding):
/// frame `i` is `signal[i·S .. i·S + L)`.
pub fn stack_frames<'a>(signal: &'a [f64], framing: &Framing) -> Vec<&'a [f64]> {
    (0..framing.frame_count)
        .filter_map(|i| {
            let start = i * framing.frame_stride_samples;
            signal.get(start..start + framing.frame_length_samples)
        })
        .collect()
}

/// Power spectrum of each frame, `|rfft(frame, n)|² / n`: `frames × (n/2 + 1)`.
pub fn power_spectrum(frames: &[&[f64]], fft_length: usize) -> Vec<Vec<f64>> {
    let scale = 1.0 / fft_length as f64;
    // |X|² as re² + im² (numpy squares a hypot; the two differ in the last bit only, and hypot
    // was a quarter of the MFCC's time).
    let mut power = rfft_power_each(frames, fft_length);
    power.iter_mut().flatten().for_each(|p| *p *= scale);
    power
}

/// Replaces exact zeros by [`ENERGY_FLOOR`] (speechpy's `zero_handling`).
pub fn zero_handling(value: f64) -> f64 {
    if value == 0.0 { ENERGY_FLOOR } else { value }
}

/// Total power of each frame, `Σ_k P[k]`, zeros floored: `frames`.
pub fn frame_energies(power: &[Vec<f64>]) -> Vec<f64> {
    power
        .iter()
        .map(|row| zero_handling(row.iter().sum()))
        .collect()
}

/// Hz to mel, `1127·ln(1 + f/700)`.
pub fn frequency_to_mel(frequency_hz: f64) -> f64 {
    1127.0 * (1.0 + frequency_hz / 700.0).ln()
}

/// Mel to Hz, `700·(e^(mel/1127) − 1)`.
pub fn mel_to_frequency(mel: f64) -> f64 {
    700.0 * ((mel / 1127.0).exp() - 1.0)
}

/// `np.linspace(start, stop, count)`, rounding as numpy does (`i·step + start`, the last point
/// set to `stop`).
pub fn linspace(start: f64, stop: f64, count: usize) -> Vec<f64> {
    let divisions = count.saturating_sub(1).max(1) as f64;
    let step = (stop - start) / divisions;
    (0..count)
        .map(|i| {
            if i + 1 == count && count > 1 {
                stop
            } else {
                i as f64 * step + start
            }
        })
        .collect()
}

/// A mel filterbank: `num_filters` triangles over `n/2 + 1` FFT bins.
#[derive(Clone, Debug, PartialEq)]
pub struct MelFilterbank {
    /// Weights, `num_filters × coefficients`; row `m` is filter `m`.
    pub weights: Vec<Vec<f64>>,
    /// Centre frequency of each filter in Hz (before rounding to a bin).
    pub centre_frequencies_hz: Vec<f64>,
    /// The `num_filters + 2` bin indices the triangles start, peak and end on.
    pub edge_bins: Vec<usize>,
}

/// The value at integer bin `x` of the triangle through `left`, `middle`, `right`, as speechpy's
/// `triangle` assigns it: the falling half wins where both apply, and when `middle == right` the
/// rising half reaches 1 at `right`.
fn triangle(x: usize, left: usize, middle: usize, right: usize) -> f64 {
    if middle <= x && x < right {
        (right - x) as f64 / (right - middle) as f64
    } else if left < x && x <= middle {
        (x - left) as f64 / (middle - left) as f64
    } else {
        0.0
    }
}

/// speechpy's `filterbanks`: `num_filters` triangles for spectra of `coefficients` bins
/// (`n/2 + 1`) at `rate_hz`, between `low_frequency_hz` and `high_frequency_hz` (0 = half the
/// rate). `use_old_mels` (versions ≤ 3) maps frequencies to bins with `coefficients` instead of
/// the FFT length. Errors: a frequency out of `0 ..= rate/2`, low not below high, a filter that
/// covers no bin.
pub fn filterbanks(
    num_filters: usize,
    coefficients: usize,
    rate_hz: f64,
    low_frequency_hz: f64,
    high_frequency_hz: f64,
    use_old_mels: bool,
) -> Result<MelFilterbank, DspError> {
    let nyquist_hz = rate_hz / 2.0;
    let high = if high_frequency_hz == 0.0 {
        nyquist_hz
    } else {
        high_frequency_hz
    };
    if !(high.is_finite() && high > 0.0 && high <= nyquist_hz) {
        return Err(bad_setting(
            "high_frequency",
            high_frequency_hz,
            format!(
                "must be above 0 and at most half the sampling rate, {nyquist_hz} Hz (0 means {nyquist_hz} Hz)"
            ),
        ));
    }
    if !(low_frequency_hz.is_finite() && low_frequency_hz >= 0.0) {
        return Err(bad_setting(
            "low_frequency",
            low_frequency_hz,
            "must be 0 Hz or more",
        ));
    }
    if low_frequency_hz >= high {
        return Err(bad_setting(
            "low_frequency",
            low_frequency_hz,
            format!("must be below the high frequency, {high} Hz"),
        ));
    }
    let (hertz, edge_bins, weights) = triangles(
        num_filters,
        coefficients,
        rate_hz,
        low_frequency_hz,
        high,
        use_old_mels,
    );
    if let Some(empty) = first_empty_filter(&weights) {
        // Edge Impulse suggests `coefficients / 4` filters, which may still leave one empty;
        // the largest count that works is a better hint. Fewer filters are wider, so a binary
        // search finds it (every count it reports was tried).
        let works = |count: usize| {
            let (_, _, weights) = triangles(
                count,
                coefficients,
                rate_hz,
                low_frequency_hz,
                high,
                use_old_mels,
            );
            first_empty_filter(&weights).is_none()
        };
        let (mut fewer, mut lowest, mut failing) = (None, 2, num_filters);
        while lowest < failing {
            let count = lowest + (failing - lowest) / 2;
            if works(count) {
                fewer = Some(count);
                lowest = count + 1;
            } else {
                failing = count;
            }
        }
        let hint = match fewer {
            Some(count) => {
                format!("use at most {count} filters, a longer FFT or a higher low frequency")
            }
            None => "use a longer FFT or a wider frequency range".to_owned(),
        };
        return Err(bad_setting(
            "num_filters",
            num_filters,
            format!("mel filter {empty} covers no FFT bin: {hint}"),
        ));
    }
    let centre_frequencies_hz = hertz
        .get(1..hertz.len().saturating_sub(1))
        .unwrap_or_default()
        .to_vec();
    Ok(MelFilterbank {
        weights,
        centre_frequencies_hz,
        edge_bins,
    })
}

/// The filterbank's points in Hz, their bins and the triangles, without checks (see
/// [`filterbanks`]).
fn triangles(
    num_filters: usize,
    coefficients: usize,
    rate_hz: f64,
    low_frequency_hz: f64,
    high_frequency_hz: f64,
    use_old_mels: bool,
) -> (Vec<f64>, Vec<usize>, Vec<Vec<f64>>) {
    let mut hertz: Vec<f64> = linspace(
        frequency_to_mel(low_frequency_hz),
        frequency_to_mel(high_frequency_hz),
        num_filters + 2,
    )
    .into_iter()
    .map(mel_to_frequency)
    .collect();
    // Edge Impulse lowers the top edge so that rounding cannot put it one bin higher on some
    // platforms than on others.
    if let Some(last) = hertz.last_mut() {
        *last -= 0.001;
    }
    let fft_points = if use_old_mels {
        coefficients
    } else {
        coefficients.saturating_sub(1) * 2
    };
    let edge_bins: Vec<usize> = hertz
        .iter()
        .map(|&f| ((fft_points + 1) as f64 * f / rate_hz).floor().max(0.0) as usize)
        .collect();
    let weights = edge_bins
        .windows(3)
        .map(|edges| {
            let mut row = vec![0.0; coefficients];
            if let &[left, middle, right] = edges {
                for x in left..=right {
                    if let Some(weight) = row.get_mut(x) {
                        *weight = triangle(x, left, middle, right);
                    }
                }
            }
            row
        })
        .collect();
    (hertz, edge_bins, weights)
}

/// The first filter whose weights are all zero.
fn first_empty_filter(weights: &[Vec<f64>]) -> Option<usize> {
    weights.iter().position(|row| row.iter().all(|&w| w == 0.0))
}

/// Filterbank energies `E = P·Hᵀ`, zeros floored: `frames × num_filters`.
pub fn mel_energies(power: &[Vec<f64>], filterbank: &MelFilterbank) -> Vec<Vec<f64>> {
    // Each triangle is zero outside a few bins; summing only its support skips exact zeros, so
    // the sums are the same as over the whole spectrum, at a tenth of the cost.
    let supports: Vec<(usize, usize)> = filterbank
        .weights
        .iter()
        .map(|w| {
            let first = w.iter().position(|&v| v != 0.0).unwrap_or(0);
            let last = w.iter().rposition(|&v| v != 0.0).map_or(first, |l| l + 1);
            (first, last)
        })
        .collect();
    power
        .iter()
        .map(|spectrum| {
            filterbank
                .weights
                .iter()
                .zip(&supports)
                .map(|(weights, &(first, last))| {
                    let p = spectrum
                        .get(first..last.min(spectrum.len()))
                        .unwrap_or_default();
                    let w = weights.get(first..last).unwrap_or_default();
                    zero_handling(p.iter().zip(w).map(|(p, w)| p * w).sum())
                })
                .collect()
        })
        .collect()
}

/// Settings of the mel spectrum the MFCC and MFE blocks share (speechpy's `feature.mfe`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MelSettings {
    /// Edge Impulse's `implementation_version`: framing rules and old or new mels.
    pub implementation_version: u32,
    /// Frame length in seconds.
    pub frame_length_s: f64,
    /// Frame stride in seconds.
    pub frame_stride_s: f64,
    /// Number of triangular filters, at least 2.
    pub num_filters: usize,
    /// FFT length, a power of two.
    pub fft_length: usize,
    /// Lower edge of the first filter in Hz.
    pub low_frequency_hz: f64,
    /// Upper edge of the last filter in Hz; 0 means half the sampling rate.
    pub high_frequency_hz: f64,
}

/// A mel spectrum and what it was computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct MelSpectrum {
    /// How the window was framed.
    pub framing: Framing,
    /// Power spectra, `frames × (fft_length/2 + 1)`.
    pub power: Vec<Vec<f64>>,
    /// Total power per frame (zeros floored), `frames`.
    pub frame_energies: Vec<f64>,
    /// The filterbank applied.
    pub filterbank: MelFilterbank,
    /// Filterbank energies (zeros floored), `frames × num_filters`.
    pub mel_energies: Vec<Vec<f64>>,
}

/// Frames, power spectra, frame energies and mel energies of `signal` (already pre-emphasised
/// where the block does so): speechpy's `feature.mfe`. Versions up to 3 use the old mels.
pub fn mel_spectrum(
    signal: &[f64],
    rate_hz: f64,
    settings: &MelSettings,
) -> Result<MelSpectrum, DspError> {
    let MelSettings {
        implementation_version,
        frame_length_s,
        frame_stride_s,
        num_filters,
        fft_length,
        low_frequency_hz,
        high_frequency_hz,
    } = *settings;
    if num_filters < 2 {
        return Err(bad_setting(
            "num_filters",
            num_filters,
            "must be at least 2",
        ));
    }
    let framing = framing(
        signal.len(),
        rate_hz,
        frame_length_s,
        frame_stride_s,
        implementation_version,
    )?;
    let filterbank = filterbanks(
        num_filters,
        fft_length / 2 + 1,
        rate_hz,
        low_frequency_hz,
        high_frequency_hz,
        implementation_version <= 3,
    )?;
    let power = power_spectrum(&stack_frames(signal, &framing), fft_length);
    let frame_energies = frame_energies(&power);
    let mel_energies = mel_energies(&power, &filterbank);
    Ok(MelSpectrum {
        framing,
        power,
        frame_energies,
        filterbank,
        mel_energies,
    })
}

/// DCT-II with orthonormal scaling, first `keep` coefficients:
/// `X[k] = s_k Σ_n x[n] cos(π k (2n + 1) / 2N)`, `s_0 = √(1/N)`, `s_k = √(2/N)`.
pub fn dct_ortho(x: &[f64], keep: usize) -> Vec<f64> {
    Dct::new(x.len(), keep).apply(x)
}

/// A DCT-II of fixed size with its cosines computed once: an MFCC applies the same transform
/// to every frame, and computing the cosines was most of its cost. The arithmetic is the
/// definition's, in the same order, so results are bit-identical to computing them each time.
#[derive(Clone, Debug)]
pub struct Dct {
    inputs: usize,
    /// `keep × inputs` cosines: row k holds `cos(π k (2n + 1) / 2N)`.
    cosines: Vec<f64>,
    /// `s_k` per row.
    scales: Vec<f64>,
}

impl Dct {
    /// The first `keep` coefficients of an `inputs`-point orthonormal DCT-II.
    pub fn new(inputs: usize, keep: usize) -> Self {
        let n = inputs as f64;
        let rows = keep.min(inputs);
        let mut cosines = Vec::with_capacity(rows * inputs);
        for k in 0..rows {
            cosines.extend(
                (0..inputs).map(|i| {
                    (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n)).cos()
                }),
            );
        }
        let scales = (0..rows)
            .map(|k| {
                if k == 0 {
                    (1.0 / n).sqrt()
                } else {
                    (2.0 / n).sqrt()
                }
            })
            .collect();
        Self {
            inputs,
            cosines,
            scales,
        }
    }

    /// The cosines (`keep × inputs`, row-major) and the scale of each row, for the C export.
    pub(crate) fn tables(&self) -> (&[f64], &[f64]) {
        (&self.cosines, &self.scales)
    }

    /// The coefficients of `x` (which must have `inputs` values).
    pub fn apply(&self, x: &[f64]) -> Vec<f64> {
        self.cosines
            .chunks(self.inputs.max(1))
            .zip(&self.scales)
            .map(|(row, scale)| scale * row.iter().zip(x).map(|(c, v)| v * c).sum::<f64>())
            .collect()
    }
}

/// The row of `np.pad(rows, pad, 'symmetric')` at position `index` relative to the first
/// original row: the mirrored sequence `x0 … x(n−1) x(n−1) … x0` repeated with period `2n`.
pub fn symmetric_index(index: isize, rows: usize) -> usize {
    let period = 2 * rows as isize;
    if period == 0 {
        return 0;
    }
    let m = index.rem_euclid(period) as usize;
    if m < rows { m } else { 2 * rows - 1 - m }
}

/// Global CMVN (speechpy's `cmvn`): each column minus its mean over all rows, divided by its
/// standard deviation + 1e-10 when `variance_normalization`.
pub fn cmvn(rows: &[Vec<f64>], variance_normalization: bool) -> Vec<Vec<f64>> {
    let count = rows.len() as f64;
    let column_means = |rows: &[Vec<f64>]| -> Vec<f64> {
        let columns = rows.first().map_or(0, Vec::len);
        let mut sums = vec![0.0; columns];
        for row in rows {
            for (sum, v) in sums.iter_mut().zip(row) {
                *sum += v;
            }
        }
        sums.into_iter().map(|s| s / count).collect()
    };
    let means = column_means(rows);
    let centred: Vec<Vec<f64>> = rows
        .iter()
        .map(|row| row.iter().zip(&means).map(|(v, m)| v - m).collect())
        .collect();
    if !variance_normalization {
        return centred;
    }
    // np.std takes the mean again (zero up to rounding) before squaring.
    let centred_means = column_means(&centred);
    let squares: Vec<Vec<f64>> = centred
        .iter()
        .map(|row| {
            row.iter()
                .zip(&centred_means)
                .map(|(v, m)| (v - m) * (v - m))
                .collect()
        })
        .collect();
    let deviations: Vec<f64> = column_means(&squares).into_iter().map(f64::sqrt).collect();
    centred
        .iter()
        .map(|row| {
            row.iter()
                .zip(&deviations)
                .map(|(v, d)| v / (d + CMVN_EPSILON))
                .collect()
        })
        .collect()
}

/// Sliding-window CMVN (speechpy's `cmvnw`) over `win_size` rows (odd) centred on each row,
/// edges padded symmetrically; the mean-subtracted values are stored in `f32` as speechpy does.
///
/// A window of a short clip holds each row several times (151 rows of a 49-frame clip), so both
/// passes sum `count_r · …` over the distinct rows, in `f64`: about a third of the work. The
/// mean is taken of the differences to the centre row (exactly zero for a constant input, as the
/// reference gives); numpy sums the variance pass in float32, ours is the more precise of the two,
/// and they agree to about 1e-7 relative.
pub fn cmvnw(
    rows: &[Vec<f64>],
    win_size: usize,
    variance_normalization: bool,
) -> Result<Vec<Vec<f32>>, DspError> {
    if win_size.is_multiple_of(2) {
        return Err(bad_setting(
            "win_size",
            win_size,
            "the normalisation window must be an odd number of frames",
        ));
    }
    let count = rows.len();
    let columns = rows.first().map_or(0, Vec::len);
    let half = (win_size / 2) as isize;
    let window_size = win_size as f64;
    let padded = |position: isize| symmetric_index(position, count);
    // Each window's rows with their multiplicity (a 151-row window over 49 frames holds each
    // frame about three times), so the sums run over distinct rows only. Counts are whole
    // numbers, so sliding the window (one row out, one in) keeps them exact.
    let mut multiplicities: Vec<Vec<f64>> = Vec::with_capacity(count);
    let mut current = vec![0.0_f64; count];
    for w in 0..win_size as isize {
        if let Some(m) = current.get_mut(padded(w - half)) {
            *m += 1.0;
        }
    }
    for i in 0..count as isize {
        if i > 0 {
            if let Some(m) = current.get_mut(padded(i - 1 - half)) {
                *m -= 1.0;
            }
            if let Some(m) = current.get_mut(padded(i + half)) {
                *m += 1.0;
            }
        }
        multiplicities.push(current.clone());
    }
    // The mean is taken of the differences to the row itself, so a constant input gives exactly
    // zero (MFE versions 1-2 scale the result by its range, which would magnify any residue).
    let mut mean_subtracted: Vec<Vec<f32>> = Vec::with_capacity(count);
    let mut sums = vec![0.0_f64; columns];
    for (row, multiplicity) in rows.iter().zip(&multiplicities) {
        sums.fill(0.0);
        for (m, source) in multiplicity.iter().zip(rows).filter(|(m, _)| **m > 0.0) {
            for ((sum, v), own) in sums.iter_mut().zip(source).zip(row) {
                *sum += m * (v - own);
            }
        }
        mean_subtracted.push(sums.iter().map(|sum| (-sum / window_size) as f32).collect());
    }
    if !variance_normalization {
        return Ok(mean_subtracted);
    }
    let epsilon = CMVN_EPSILON as f32;
    let mut normalised = Vec::with_capacity(count);
    let mut means = vec![0.0_f64; columns];
    let mut squares = vec![0.0_f64; columns];
    for (row, multiplicity) in mean_subtracted.iter().zip(&multiplicities) {
        means.fill(0.0);
        squares.fill(0.0);
        let present = || {
            multiplicity
                .iter()
                .zip(&mean_subtracted)
                .filter(|(m, _)| **m > 0.0)
        };
        for (m, source) in present() {
            for (mean, &v) in means.iter_mut().zip(source) {
                *mean += m * f64::from(v);
            }
        }
        means.iter_mut().for_each(|mean| *mean /= window_size);
        for (m, source) in present() {
            for ((square, &v), mean) in squares.iter_mut().zip(source).zip(&means) {
                let deviation = f64::from(v) - mean;
                *square += m * deviation * deviation;
            }
        }
        normalised.push(
            row.iter()
                .zip(&squares)
                .map(|(v, square)| v / ((square / window_size).sqrt() as f32 + epsilon))
                .collect(),
        );
    }
    Ok(normalised)
}

/// The noise-floor scaling of MFE and spectrogram version 3+:
/// `(10·log10(max(p, 1e-30)) − floor) / (12 − floor)`, before clipping.
pub fn noise_floor_scale(power: f64, noise_floor_db: f64) -> f64 {
    (10.0 * power.max(POWER_FLOOR).log10() - noise_floor_db) / (-noise_floor_db + DECIBEL_CEILING)
}

/// Refuses a noise floor that is not a number below the 12 dB top of the scale.
pub fn check_noise_floor(noise_floor_db: f64) -> Result<(), DspError> {
    if noise_floor_db.is_finite() && noise_floor_db < DECIBEL_CEILING {
        Ok(())
    } else {
        Err(bad_setting(
            "noise_floor_db",
            noise_floor_db,
            format!("must be a number of dB below {DECIBEL_CEILING} (e.g. -52)"),
        ))
    }
}

/// Rows flattened row-major into `f32`, the feature vector layout.
pub fn flatten<T: Copy + Into<f64>>(rows: &[Vec<T>]) -> Vec<f32> {
    rows.iter()
        .flatten()
        .map(|&v| {
            let v: f64 = v.into();
            v as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preemphasis_wraps_around_like_np_roll() {
        let x = [1.0, 2.0, 4.0, 8.0];
        let y = preemphasis(&x, 1, 0.5).unwrap();
        assert_eq!(y, [1.0 - 0.5 * 8.0, 2.0 - 0.5, 4.0 - 1.0, 8.0 - 2.0]);
        let y = preemphasis(&x, 2, 1.0).unwrap();
        assert_eq!(y, [1.0 - 4.0, 2.0 - 8.0, 4.0 - 1.0, 8.0 - 2.0]);
        // A shift of a whole window (or more) wraps as np.roll does.
        assert_eq!(
            preemphasis(&x, 5, 1.0).unwrap(),
            preemphasis(&x, 1, 1.0).unwrap()
        );
        assert!(preemphasis(&x, 0, 1.0).is_err());
        assert!(preemphasis::<f64>(&[], 1, 1.0).unwrap().is_empty());
    }

    #[test]
    fn framing_counts_differ_between_version_1_and_later() {
        // 1 s at 16 kHz, 20 ms frames every 20 ms: 49 frames in version 1, 50 later.
        let v1 = framing(16000, 16000.0, 0.02, 0.02, 1).unwrap();
        let v2 = framing(16000, 16000.0, 0.02, 0.02, 2).unwrap();
        assert_eq!((v1.frame_length_samples, v1.frame_count), (320, 49));
        assert_eq!((v2.frame_length_samples, v2.frame_count), (320, 50));
        // The labs' 25 ms frames every 20 ms: 49 frames (637 = 49 × 13 features).
        let lab = framing(16000, 16000.0, 0.025, 0.02, 4).unwrap();
        assert_eq!((lab.frame_length_samples, lab.frame_count), (400, 49));
        // 18 ms is 288.00000000000006 samples: the floor, not 289.
        assert_eq!(
            framing(16000, 16000.0, 0.018, 0.01, 2)
                .unwrap()
                .frame_length_samples,
            288
        );
        // Version 1 rounds half to even: 2.5 samples -> 2.
        assert_eq!(
            framing(100, 100.0, 0.025, 0.01, 1)
                .unwrap()
                .frame_length_samples,
            2
        );
        assert_eq!(
            framing(300, 16000.0, 0.02, 0.02, 2),
            Err(DspError::TooShort {
                needed: 320,
                got: 300
            })
        );
        assert!(framing(16000, 16000.0, 0.02, 0.0001, 2).is_err());
    }

    #[test]
    fn stack_frames_cuts_the_tail() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let f = framing(10, 1.0, 4.0, 3.0, 2).unwrap();
        let frames = stack_frames(&x, &f);
        assert_eq!(frames, vec![&x[0..4], &x[3..7], &x[6..10]]);
    }

    #[test]
    fn dct_is_orthonormal_type_2() {
        // Orthonormal: the energy of a full transform equals the input's.
        let x = [0.3, -1.2, 2.5, 0.7, -0.1];
        let y = dct_ortho(&x, 5);
        let energy_in: f64 = x.iter().map(|v| v * v).sum();
        let energy_out: f64 = y.iter().map(|v| v * v).sum();
        assert!((energy_in - energy_out).abs() < 1e-12);
        // X[0] = sum / sqrt(N).
        assert!((y[0] - x.iter().sum::<f64>() / 5f64.sqrt()).abs() < 1e-12);
        assert_eq!(dct_ortho(&x, 2).len(), 2);
    }

    #[test]
    fn symmetric_padding_repeats_the_mirror() {
        // np.pad([1, 2, 3], 5, 'symmetric') = 2 3 3 2 1 | 1 2 3 | 3 2 1 1 2.
        let x = [1, 2, 3];
        let padded: Vec<i32> = (-5..8).map(|i| x[symmetric_index(i, 3)]).collect();
        assert_eq!(padded, [2, 3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1, 2]);
    }

    #[test]
    fn cmvnw_with_a_window_over_all_rows_is_global_cmvn() {
        let rows = vec![vec![1.0, 10.0], vec![2.0, 30.0], vec![6.0, 20.0]];
        // A window of 3 rows at the middle row sees all rows: mean (3, 20).
        let local = cmvnw(&rows, 3, false).unwrap();
        assert_eq!(local[1], [-1.0, 10.0]);
        // At the first row the window is x0 x0 x1: mean (4/3, 50/3).
        assert!((local[0][0] - (1.0 - 4.0 / 3.0) as f32).abs() < 1e-6);
        let global = cmvn(&rows, true);
        let deviation = (14.0_f64 / 3.0).sqrt();
        assert!((global[0][0] - (1.0 - 3.0) / deviation).abs() < 1e-9);
        assert!(cmvnw(&rows, 4, true).is_err());
        let normalised = cmvnw(&rows, 101, true).unwrap();
        assert!(normalised.iter().flatten().all(|v| v.is_finite()));
    }

    #[test]
    fn filterbank_matches_hand_computed_bins() {
        // 4 filters, 8 kHz, FFT 16 (9 bins), new mels: points at 0 .. 4 kHz in mel.
        let bank = filterbanks(4, 9, 8000.0, 0.0, 0.0, false).unwrap();
        let expected: Vec<usize> = linspace(frequency_to_mel(0.0), frequency_to_mel(4000.0), 6)
            .into_iter()
            .map(mel_to_frequency)
            .enumerate()
            .map(|(i, f)| {
                let f = if i == 5 { f - 0.001 } else { f };
                (17.0 * f / 8000.0).floor() as usize
            })
            .collect();
        assert_eq!(bank.edge_bins, expected);
        assert_eq!(bank.edge_bins.last(), Some(&8));
        for row in &bank.weights {
            assert!(row.iter().all(|&w| (0.0..=1.0).contains(&w)));
            assert!(row.contains(&1.0));
        }
        assert!(filterbanks(4, 9, 8000.0, 0.0, 5000.0, false).is_err());
        assert!(filterbanks(4, 9, 8000.0, 3000.0, 2000.0, false).is_err());
        // Too many filters for the bins: some cover nothing.
        assert!(filterbanks(40, 9, 8000.0, 0.0, 0.0, false).is_err());
    }

    #[test]
    fn mel_scale_round_trips() {
        for f in [0.0, 300.0, 1000.0, 8000.0] {
            assert!((mel_to_frequency(frequency_to_mel(f)) - f).abs() < 1e-9);
        }
        assert_eq!(linspace(0.0, 1.0, 5), [0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn noise_floor_maps_the_floor_to_0_and_12_db_to_1() {
        assert!(noise_floor_scale(10f64.powf(-5.2), -52.0).abs() < 1e-12);
        assert!((noise_floor_scale(10f64.powf(1.2), -52.0) - 1.0).abs() < 1e-12);
        assert!(noise_floor_scale(0.0, -52.0).is_finite());
        assert!(check_noise_floor(12.0).is_err());
    }
}
