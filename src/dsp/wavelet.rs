//! The discrete wavelet transform and the per-level statistics of the Spectral Analysis block's
//! "Wavelet" analysis, reproducing PyWavelets (`pywt.wavedec(x, wavelet, level)`, mode
//! `symmetric`) and Edge Impulse's 14 statistics per coefficient array.
//!
//! One level splits `x` (length `n`) with the decomposition filters `lo`, `hi` (length `F`):
//! `cA[o] = Σ_j lo[j] · x̃[2o + 1 - j]`, `cD[o]` likewise with `hi`, for `o < ⌊(n + F - 1) / 2⌋`,
//! where `x̃` extends `x` by half-sample symmetry (`… x1 x0 | x0 x1 … x_{n-1} | x_{n-1} x_{n-2} …`).
//! `wavedec` repeats this on `cA` `level` times and returns `[cA_L, cD_L, cD_{L-1}, …, cD_1]`,
//! which the block labels `L0`, `L1`, …, `L{level}` (so `L0` is the deepest approximation).
//!
//! Per array the block computes, in this order: Shannon entropy (natural log) of a 100-bin
//! histogram, zero-crossing rate, mean-crossing rate, the 5/25/75/95th percentiles and median
//! (nearest rank `sorted[⌊(n - 1)·p / 100 + 0.5⌋]`), mean, standard deviation (`ddof = 0`),
//! variance (`ddof = 1`, as Edge Impulse does), RMS, skewness and kurtosis (SciPy's biased
//! estimators, 0 for an all-zero array).
//!
//! The filters are PyWavelets' coefficients for the 50 wavelets Edge Impulse offers: orthogonal
//! families store the decomposition low-pass `lo` (the reconstruction low-pass is `lo` reversed),
//! biorthogonal ones both low-passes; `rbioN.M` swaps and reverses `biorN.M`'s; every
//! decomposition high-pass is `hi[k] = (-1)^(k+1) · rec_lo[k]`.
//!
//! The transform runs in `f32` or `f64` ([`Precision`]) as PyWavelets does for the array's
//! dtype, summing in its order, so single-precision coefficients agree bit for bit.

use super::DspError;
use super::spectral::{kurtosis, skewness};
use std::f64::consts::FRAC_1_SQRT_2;

/// The wavelets Edge Impulse's block offers (its `parameters.json`), all supported here.
pub const WAVELETS: [&str; 50] = [
    "bior1.3", "bior1.5", "bior2.2", "bior2.4", "bior2.6", "bior2.8", "bior3.1", "bior3.3",
    "bior3.5", "bior3.7", "bior3.9", "bior4.4", "bior5.5", "bior6.8", "coif1", "coif2", "coif3",
    "db2", "db3", "db4", "db5", "db6", "db7", "db8", "db9", "db10", "haar", "rbio1.3", "rbio1.5",
    "rbio2.2", "rbio2.4", "rbio2.6", "rbio2.8", "rbio3.1", "rbio3.3", "rbio3.5", "rbio3.7",
    "rbio3.9", "rbio4.4", "rbio5.5", "rbio6.8", "sym2", "sym3", "sym4", "sym5", "sym6", "sym7",
    "sym8", "sym9", "sym10",
];

/// The statistics computed per coefficient array, in output order; feature labels are
/// `L{level}-{statistic}`.
pub const STATISTICS: [&str; 14] = [
    "entropy", "zcross", "mcross", "n5", "n25", "n75", "n95", "median", "mean", "std", "var",
    "rms", "skew", "kurtosis",
];

/// A wavelet's decomposition filters.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterBank {
    /// Decomposition low-pass (PyWavelets' `dec_lo`).
    pub low: Vec<f64>,
    /// Decomposition high-pass (PyWavelets' `dec_hi`).
    pub high: Vec<f64>,
}

/// The decomposition filters of `name` (one of [`WAVELETS`], or `db1`), `None` if unknown.
pub fn filter_bank(name: &str) -> Option<FilterBank> {
    let (dec_lo, rec_lo): (Vec<f64>, Vec<f64>) = if name == "haar" {
        orthogonal(DB.first()?)
    } else if let Some(order) = name.strip_prefix("db") {
        orthogonal(DB.get(family_index(order, 1)?)?)
    } else if let Some(order) = name.strip_prefix("sym") {
        orthogonal(SYM.get(family_index(order, 2)?)?)
    } else if let Some(order) = name.strip_prefix("coif") {
        orthogonal(COIF.get(family_index(order, 1)?)?)
    } else if let Some(suffix) = name.strip_prefix("bior") {
        let (_, lo, rec) = BIOR.iter().find(|(s, _, _)| *s == suffix)?;
        (lo.to_vec(), rec.to_vec())
    } else if let Some(suffix) = name.strip_prefix("rbio") {
        let (_, lo, rec) = BIOR.iter().find(|(s, _, _)| *s == suffix)?;
        (
            rec.iter().rev().copied().collect(),
            lo.iter().rev().copied().collect(),
        )
    } else {
        return None;
    };
    let high = rec_lo
        .iter()
        .enumerate()
        .map(|(k, &c)| if k % 2 == 0 { -c } else { c })
        .collect();
    Some(FilterBank { low: dec_lo, high })
}

/// `dbN` → index `N - first` into its family's table.
fn family_index(order: &str, first: usize) -> Option<usize> {
    order.parse::<usize>().ok()?.checked_sub(first)
}

/// An orthogonal wavelet's low-passes: decomposition as stored, reconstruction reversed.
fn orthogonal(dec_lo: &[f64]) -> (Vec<f64>, Vec<f64>) {
    (dec_lo.to_vec(), dec_lo.iter().rev().copied().collect())
}

/// The precision of the array the block transforms: `float32` when the window was not
/// decimated (PyWavelets then computes in single precision), else `float64`. The transform,
/// the histogram and the mean-crossing level follow it, because a coefficient rounded
/// differently can change histogram bin and so the entropy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// `f32` arithmetic, as for a `float32` array.
    Single,
    /// `f64` arithmetic.
    Double,
}

/// The arithmetic the transform and histogram need, in `f32` or `f64`.
pub(crate) trait Sample:
    Copy
    + Default
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Sample for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Sample for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// One filter of one level: `out[o] = Σ_j filter[j] · x̃[2o + 1 - j]` with half-sample
/// symmetric extension, summed in PyWavelets' order (so `f32` results agree bit for bit):
/// on the left edge the in-range terms then the reflected ones, inside ascending `j`, on the
/// right edge the reflected terms (filter index descending) then the in-range ones.
fn downsample<T: Sample>(x: &[T], filter: &[T]) -> Vec<T> {
    let (n, f) = (x.len(), filter.len());
    let at = |v: &[T], i: usize| v.get(i).copied().unwrap_or_default();
    let mut out = Vec::with_capacity((n + f).saturating_sub(1) / 2);
    let mut i = 1;
    while i + 1 < n + f {
        let mut sum = T::default();
        if i < f && i < n {
            let mut j = 0;
            while j <= i {
                sum = sum + at(filter, j) * at(x, i - j);
                j += 1;
            }
            while j < f {
                let mut k = 0;
                while k < n && j < f {
                    sum = sum + at(filter, j) * at(x, k);
                    j += 1;
                    k += 1;
                }
                k = 0;
                while k < n && j < f {
                    sum = sum + at(filter, j) * at(x, n - 1 - k);
                    j += 1;
                    k += 1;
                }
            }
        } else if i < n {
            for j in 0..f {
                sum = sum + at(x, i - j) * at(filter, j);
            }
        } else if i < f {
            // The filter is longer than the signal (never at the window lengths the block
            // accepts): the plain definition.
            for j in 0..f {
                sum = sum + at(filter, j) * at(x, symmetric_index(n, i as i64 - j as i64));
            }
        } else {
            let mut j = 0;
            while i - j >= n {
                let mut k = 0;
                while k < n && i - j >= n {
                    sum = sum + at(filter, i - n - j) * at(x, n - 1 - k);
                    j += 1;
                    k += 1;
                }
                k = 0;
                while k < n && i - j >= n {
                    sum = sum + at(filter, i - n - j) * at(x, k);
                    j += 1;
                    k += 1;
                }
            }
            while j < f {
                sum = sum + at(filter, j) * at(x, i - j);
                j += 1;
            }
        }
        out.push(sum);
        i += 2;
    }
    out
}

/// Index into `x` (length `n`) of the half-sample symmetric extension at `k`, period `2n`.
fn symmetric_index(n: usize, k: i64) -> usize {
    let period = 2 * n as i64;
    if period == 0 {
        return 0;
    }
    let m = k.rem_euclid(period);
    let index = if m < n as i64 { m } else { period - 1 - m };
    usize::try_from(index).unwrap_or(0)
}

/// `wavedec` in `T` with the filters `low`, `high`: `[cA_level, cD_level, …, cD_1]`.
fn decompose<T: Sample>(x: &[f64], low: &[T], high: &[T], level: u32) -> Vec<Vec<T>> {
    let mut approximation: Vec<T> = x.iter().map(|&v| T::from_f64(v)).collect();
    let mut arrays = Vec::new();
    for _ in 0..level {
        if approximation.is_empty() {
            break;
        }
        arrays.push(downsample(&approximation, high));
        approximation = downsample(&approximation, low);
    }
    arrays.push(approximation);
    arrays.reverse();
    arrays
}

/// A filter as PyWavelets holds it for `float32` data: each coefficient rounded to `f32`,
/// except Coiflets, whose single-precision taps are the unscaled coefficient times `√2`, both
/// rounded to `f32` and multiplied in `f32`.
pub(crate) fn single(name: &str, filter: &[f64]) -> Vec<f32> {
    let sqrt2 = std::f64::consts::SQRT_2;
    if name.starts_with("coif") {
        filter
            .iter()
            .map(|&c| (c / sqrt2) as f32 * sqrt2 as f32)
            .collect()
    } else {
        filter.iter().map(|&c| c as f32).collect()
    }
}

/// One level, `pywt.dwt(x, wavelet, mode='symmetric')` in `f64`: `(cA, cD)`, each
/// `⌊(len + F - 1) / 2⌋` long.
pub fn dwt(x: &[f64], bank: &FilterBank) -> (Vec<f64>, Vec<f64>) {
    let mut arrays = decompose(x, &bank.low, &bank.high, 1).into_iter();
    let approximation = arrays.next().unwrap_or_default();
    (approximation, arrays.next().unwrap_or_default())
}

/// `pywt.wavedec(x, wavelet, level=level)` in `f64`: `[cA_level, cD_level, …, cD_1]`
/// (`[x]` at level 0).
pub fn wavedec(x: &[f64], bank: &FilterBank, level: u32) -> Vec<Vec<f64>> {
    decompose(x, &bank.low, &bank.high, level)
}

/// The shortest window Edge Impulse decomposes to `level`: `32 · 2^level` samples (`None` if
/// that overflows).
pub fn min_length(level: u32) -> Option<usize> {
    2usize.checked_pow(level)?.checked_mul(32)
}

/// The block's wavelet features of one axis: [`STATISTICS`] for each array of
/// `wavedec(x, wavelet, level)` computed in `precision`, with labels `L0-entropy`, ….
pub fn features(
    x: &[f64],
    wavelet: &str,
    level: u32,
    precision: Precision,
) -> Result<(Vec<f64>, Vec<String>), DspError> {
    let Some(bank) = filter_bank(wavelet) else {
        return Err(DspError::BadSetting {
            name: "wavelet".into(),
            value: wavelet.into(),
            why: format!("choose one of {}", WAVELETS.join(", ")),
        });
    };
    let arrays: Vec<[f64; 14]> = match precision {
        Precision::Single => {
            let (low, high) = (single(wavelet, &bank.low), single(wavelet, &bank.high));
            decompose(x, &low, &high, level)
                .iter()
                .map(|c| statistics_in(c))
                .collect()
        }
        Precision::Double => decompose(x, &bank.low, &bank.high, level)
            .iter()
            .map(|c| statistics_in(c))
            .collect(),
    };
    let values = arrays.iter().flatten().copied().collect();
    let labels = (0..arrays.len())
        .flat_map(|i| STATISTICS.iter().map(move |s| format!("L{i}-{s}")))
        .collect();
    Ok((values, labels))
}

/// The 14 [`STATISTICS`] of one coefficient array in `f64`, as Edge Impulse computes them.
pub fn statistics(x: &[f64]) -> [f64; 14] {
    statistics_in(x)
}

/// [`statistics`] of an array held in `T`: the histogram and the mean-crossing level are
/// computed in `T` as numpy does, the moments in `f64`.
fn statistics_in<T: Sample>(coefficients: &[T]) -> [f64; 14] {
    if coefficients.is_empty() {
        return [0.0; 14];
    }
    let x: Vec<f64> = coefficients.iter().map(|v| v.to_f64()).collect();
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let crossings = |level: f64| {
        x.windows(2)
            .filter(|w| matches!(w, [a, b] if (*a > level) != (*b > level)))
            .count() as f64
            / n
    };
    // `np.nanmean` of the array in its own precision.
    let mean_level = numpy_mean(coefficients).to_f64();
    let mut sorted = x.clone();
    sorted.sort_by(f64::total_cmp);
    let percentile = |p: usize| {
        let index = (((x.len() - 1) * p) as f64 / 100.0 + 0.5) as usize;
        sorted.get(index).copied().unwrap_or(0.0)
    };
    let squares = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
    let rms = (x.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
    let (skew, kurt) = if rms == 0.0 {
        (0.0, 0.0)
    } else {
        (skewness(&x), kurtosis(&x))
    };
    [
        entropy(&histogram(coefficients), x.len()),
        crossings(0.0),
        crossings(mean_level),
        percentile(5),
        percentile(25),
        percentile(75),
        percentile(95),
        percentile(50),
        mean,
        (squares / n).sqrt(),
        if x.len() > 1 {
            squares / (n - 1.0)
        } else {
            0.0
        },
        rms,
        skew,
        kurt,
    ]
}

/// `np.mean(x)` (and `np.nanmean`) for an array in `T`: numpy's pairwise sum in `T` (blocks of
/// up to 128 summed in 8 interleaved lanes), then `T(sum / count)` with the division in `f64`.
pub(crate) fn numpy_mean<T: Sample>(x: &[T]) -> T {
    fn pairwise<T: Sample>(a: &[T]) -> T {
        if a.len() < 8 {
            a.iter().fold(T::default(), |s, &v| s + v)
        } else if a.len() <= 128 {
            let mut lanes = [T::default(); 8];
            for (lane, &v) in lanes.iter_mut().zip(a) {
                *lane = v;
            }
            let whole = a.len() - a.len() % 8;
            for block in a.get(8..whole).unwrap_or(&[]).chunks_exact(8) {
                for (lane, &v) in lanes.iter_mut().zip(block) {
                    *lane = *lane + v;
                }
            }
            let [r0, r1, r2, r3, r4, r5, r6, r7] = lanes;
            let head = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
            a.get(whole..)
                .unwrap_or(&[])
                .iter()
                .fold(head, |s, &v| s + v)
        } else {
            let half = a.len() / 2;
            let (left, right) = a.split_at(half - half % 8);
            pairwise(left) + pairwise(right)
        }
    }
    if x.is_empty() {
        return T::default();
    }
    T::from_f64(pairwise(x).to_f64() / x.len() as f64)
}

/// Bins of the block's histogram.
const BINS: usize = 100;

/// `np.histogram(x, bins=100)` counts, computed in `x`'s precision as numpy does: edges
/// `i · ((max - min) / 100) + min` (±0.5 when all values are equal), index
/// `⌊(v - min) / (max - min) · 100⌋` corrected against the edges, last bin closed.
fn histogram<T: Sample>(x: &[T]) -> [usize; BINS] {
    let mut counts = [0; BINS];
    let Some(&start) = x.first() else {
        return counts;
    };
    let (mut first, mut last) = x.iter().fold((start, start), |(lo, hi), &v| {
        (if v < lo { v } else { lo }, if v > hi { v } else { hi })
    });
    if first == last {
        first = first - T::from_f64(0.5);
        last = last + T::from_f64(0.5);
    }
    let bins = T::from_f64(BINS as f64);
    let width = last - first;
    let step = width / bins;
    let edge = |i: usize| {
        if i >= BINS {
            last
        } else {
            T::from_f64(i as f64) * step + first
        }
    };
    for &v in x {
        let position = ((v - first) / width * bins).to_f64();
        let mut bin = (position.max(0.0) as usize).min(BINS - 1);
        if v < edge(bin) {
            bin = bin.saturating_sub(1);
        }
        if bin != BINS - 1 && v >= edge(bin + 1) {
            bin += 1;
        }
        if let Some(c) = counts.get_mut(bin) {
            *c += 1;
        }
    }
    counts
}

/// Shannon entropy (nats) of histogram counts: `-Σ p ln p` with `p = count / total`.
fn entropy(counts: &[usize], total: usize) -> f64 {
    let total = total.max(1) as f64;
    -counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            p * p.ln()
        })
        .sum::<f64>()
}

// PyWavelets' filter coefficients (mathematical constants, printed with `repr`).

/// Daubechies `db1` (= `haar`) to `db10`, decomposition low-pass.
const DB: [&[f64]; 10] = [
    &[FRAC_1_SQRT_2, FRAC_1_SQRT_2],
    &[
        -0.12940952255126037,
        0.2241438680420134,
        0.8365163037378079,
        0.48296291314453416,
    ],
    &[
        0.03522629188570953,
        -0.08544127388202666,
        -0.13501102001025458,
        0.45987750211849154,
        0.8068915093110925,
        0.33267055295008263,
    ],
    &[
        -0.010597401785069032,
        0.0328830116668852,
        0.030841381835560764,
        -0.18703481171909309,
        -0.027983769416859854,
        0.6308807679298589,
        0.7148465705529157,
        0.2303778133088965,
    ],
    &[
        0.0033357252854737712,
        -0.012580751999081999,
        -0.006241490212798274,
        0.07757149384004572,
        -0.032244869584638375,
        -0.24229488706638203,
        0.13842814590132074,
        0.7243085284377729,
        0.6038292697971896,
        0.16010239797419293,
    ],
    &[
        -0.0010773010853084796,
        0.004777257510945511,
        0.0005538422011614961,
        -0.03158203931748603,
        0.027522865530305727,
        0.09750160558732304,
        -0.12976686756726194,
        -0.22626469396543983,
        0.31525035170919763,
        0.7511339080210954,
        0.49462389039845306,
        0.11154074335010947,
    ],
    &[
        0.00035371379997452024,
        -0.0018016407040474908,
        0.0004295779729213665,
        0.01255099855609984,
        -0.01657454163066688,
        -0.03802993693501441,
        0.08061260915108308,
        0.07130921926683026,
        -0.22403618499387498,
        -0.14390600392856498,
        0.4697822874051931,
        0.7291320908462351,
        0.3965393194819173,
        0.07785205408500918,
    ],
    &[
        -0.00011747678412476953,
        0.0006754494064505693,
        -0.00039174037337694705,
        -0.004870352993451574,
        0.008746094047405777,
        0.013981027917398282,
        -0.044088253930794755,
        -0.017369301001807547,
        0.12874742662047847,
        0.0004724845739132828,
        -0.2840155429615469,
        -0.015829105256349306,
        0.5853546836542067,
        0.6756307362972898,
        0.31287159091429995,
        0.05441584224310401,
    ],
    &[
        3.93473203162716e-05,
        -0.0002519631889427101,
        0.00023038576352319597,
        0.0018476468830562265,
        -0.00428150368246343,
        -0.004723204757751397,
        0.022361662123679096,
        0.00025094711483145197,
        -0.06763282906132997,
        0.03072568147933338,
        0.14854074933810638,
        -0.09684078322297646,
        -0.2932737832791749,
        0.13319738582500756,
        0.6572880780513005,
        0.6048231236901112,
        0.24383467461259034,
        0.038077947363878345,
    ],
    &[
        -1.3264202894521244e-05,
        9.358867032006959e-05,
        -0.00011646685512928545,
        -0.0006858566949597116,
        0.001992405295185056,
        0.001395351747052901,
        -0.010733175483330575,
        0.0036065535669561697,
        0.033212674059341,
        -0.029457536821875813,
        -0.07139414716639708,
        0.09305736460357235,
        0.12736934033579325,
        -0.19594627437737705,
        -0.24984642432731538,
        0.2811723436605775,
        0.6884590394536035,
        0.5272011889317256,
        0.1881768000776915,
        0.026670057900555554,
    ],
];
/// Symlets `sym2` to `sym10`, decomposition low-pass.
const SYM: [&[f64]; 9] = [
    &[
        -0.12940952255092145,
        0.22414386804185735,
        0.836516303737469,
        0.48296291314469025,
    ],
    &[
        0.035226291882100656,
        -0.08544127388224149,
        -0.13501102001039084,
        0.4598775021193313,
        0.8068915093133388,
        0.3326705529509569,
    ],
    &[
        -0.07576571478927333,
        -0.02963552764599851,
        0.49761866763201545,
        0.8037387518059161,
        0.29785779560527736,
        -0.09921954357684722,
        -0.012603967262037833,
        0.0322231006040427,
    ],
    &[
        0.027333068345077982,
        0.029519490925774643,
        -0.039134249302383094,
        0.1993975339773936,
        0.7234076904024206,
        0.6339789634582119,
        0.01660210576452232,
        -0.17532808990845047,
        -0.021101834024758855,
        0.019538882735286728,
    ],
    &[
        0.015404109327027373,
        0.0034907120842174702,
        -0.11799011114819057,
        -0.048311742585633,
        0.4910559419267466,
        0.787641141030194,
        0.3379294217276218,
        -0.07263752278646252,
        -0.021060292512300564,
        0.04472490177066578,
        0.0017677118642428036,
        -0.007800708325034148,
    ],
    &[
        0.002681814568257878,
        -0.0010473848886829163,
        -0.01263630340325193,
        0.03051551316596357,
        0.0678926935013727,
        -0.049552834937127255,
        0.017441255086855827,
        0.5361019170917628,
        0.767764317003164,
        0.2886296317515146,
        -0.14004724044296152,
        -0.10780823770381774,
        0.004010244871533663,
        0.010268176708511255,
    ],
    &[
        -0.0033824159510061256,
        -0.0005421323317911481,
        0.03169508781149298,
        0.007607487324917605,
        -0.1432942383508097,
        -0.061273359067658524,
        0.4813596512583722,
        0.7771857517005235,
        0.3644418948353314,
        -0.05194583810770904,
        -0.027219029917056003,
        0.049137179673607506,
        0.003808752013890615,
        -0.01495225833704823,
        -0.0003029205147213668,
        0.0018899503327594609,
    ],
    &[
        0.0014009155259146807,
        0.0006197808889855868,
        -0.013271967781817119,
        -0.01152821020767923,
        0.03022487885827568,
        0.0005834627461258068,
        -0.05456895843083407,
        0.238760914607303,
        0.717897082764412,
        0.6173384491409358,
        0.035272488035271894,
        -0.19155083129728512,
        -0.018233770779395985,
        0.06207778930288603,
        0.008859267493400484,
        -0.010264064027633142,
        -0.0004731544986800831,
        0.0010694900329086053,
    ],
    &[
        0.0007701598091144901,
        9.563267072289475e-05,
        -0.008641299277022422,
        -0.0014653825813050513,
        0.0459272392310922,
        0.011609893903711381,
        -0.15949427888491757,
        -0.07088053578324385,
        0.47169066693843925,
        0.7695100370211071,
        0.38382676106708546,
        -0.03553674047381755,
        -0.0319900568824278,
        0.04999497207737669,
        0.005764912033581909,
        -0.02035493981231129,
        -0.0008043589320165449,
        0.004593173585311828,
        5.7036083618494284e-05,
        -0.0004593294210046588,
    ],
];
/// Coiflets `coif1` to `coif3`, decomposition low-pass.
const COIF: [&[f64]; 3] = [
    &[
        -0.015655728135791993,
        -0.07273261951252645,
        0.3848648468648578,
        0.8525720202116004,
        0.3378976624574818,
        -0.07273261951252645,
    ],
    &[
        -0.000720549445520347,
        -0.0018232088709110323,
        0.005611434819368834,
        0.02368017194684777,
        -0.05943441864643109,
        -0.07648859907828076,
        0.4170051844232391,
        0.8127236354494135,
        0.3861100668227629,
        -0.0673725547237256,
        -0.04146493678687178,
        0.01638733646320364,
    ],
    &[
        -3.459977319727278e-05,
        -7.0983302506379e-05,
        0.0004662169598204029,
        0.0011175187708306303,
        -0.0025745176881367972,
        -0.009007976136730624,
        0.015880544863669452,
        0.03455502757329774,
        -0.08230192710629983,
        -0.07179982161915484,
        0.42848347637737,
        0.7937772226260872,
        0.40517690240911824,
        -0.06112339000297255,
        -0.06577191128146936,
        0.023452696142077168,
        0.007782596425672746,
        -0.003793512864380802,
    ],
];
/// Biorthogonal spline wavelets `biorN.M`: (name suffix, decomposition low-pass,
/// reconstruction low-pass), zero-padded to equal length as PyWavelets stores them.
const BIOR: [(&str, &[f64], &[f64]); 14] = [
    (
        "1.3",
        &[
            -0.08838834764831845,
            0.08838834764831845,
            FRAC_1_SQRT_2,
            FRAC_1_SQRT_2,
            0.08838834764831845,
            -0.08838834764831845,
        ],
        &[0.0, 0.0, FRAC_1_SQRT_2, FRAC_1_SQRT_2, 0.0, 0.0],
    ),
    (
        "1.5",
        &[
            0.016572815184059706,
            -0.016572815184059706,
            -0.12153397801643785,
            0.12153397801643785,
            FRAC_1_SQRT_2,
            FRAC_1_SQRT_2,
            0.12153397801643785,
            -0.12153397801643785,
            -0.016572815184059706,
            0.016572815184059706,
        ],
        &[
            0.0,
            0.0,
            0.0,
            0.0,
            FRAC_1_SQRT_2,
            FRAC_1_SQRT_2,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
    ),
    (
        "2.2",
        &[
            0.0,
            -0.1767766952966369,
            0.3535533905932738,
            1.0606601717798212,
            0.3535533905932738,
            -0.1767766952966369,
        ],
        &[
            0.0,
            0.3535533905932738,
            FRAC_1_SQRT_2,
            0.3535533905932738,
            0.0,
            0.0,
        ],
    ),
    (
        "2.4",
        &[
            0.0,
            0.03314563036811941,
            -0.06629126073623882,
            -0.1767766952966369,
            0.4198446513295126,
            0.9943689110435825,
            0.4198446513295126,
            -0.1767766952966369,
            -0.06629126073623882,
            0.03314563036811941,
        ],
        &[
            0.0,
            0.0,
            0.0,
            0.3535533905932738,
            FRAC_1_SQRT_2,
            0.3535533905932738,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
    ),
    (
        "2.6",
        &[
            0.0,
            -0.006905339660024878,
            0.013810679320049757,
            0.04695630968816917,
            -0.1077232986963881,
            -0.16987135563661201,
            0.4474660099696121,
            0.966747552403483,
            0.4474660099696121,
            -0.16987135563661201,
            -0.1077232986963881,
            0.04695630968816917,
            0.013810679320049757,
            -0.006905339660024878,
        ],
        &[
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.3535533905932738,
            FRAC_1_SQRT_2,
            0.3535533905932738,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
    ),
    (
        "2.8",
        &[
            0.0,
            0.0015105430506304422,
            -0.0030210861012608843,
            -0.012947511862546647,
            0.02891610982635418,
            0.05299848189069094,
            -0.13491307360773605,
            -0.16382918343409023,
            0.46257144047591653,
            0.9516421218971786,
            0.46257144047591653,
            -0.16382918343409023,
            -0.13491307360773605,
            0.05299848189069094,
            0.02891610982635418,
            -0.012947511862546647,
            -0.0030210861012608843,
            0.0015105430506304422,
        ],
        &[
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.3535533905932738,
            FRAC_1_SQRT_2,
            0.3535533905932738,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
    ),
    (
        "3.1",
        &[
            -0.3535533905932738,
            1.0606601717798212,
            1.0606601717798212,
            -0.3535533905932738,
        ],
        &[
            0.1767766952966369,
            0.5303300858899106,
            0.5303300858899106,
            0.1767766952966369,
        ],
    ),
    (
        "3.3",
        &[
            0.06629126073623882,
            -0.1988737822087165,
            -0.15467960838455727,
            0.9943689110435825,
            0.9943689110435825,
            -0.15467960838455727,
            -0.1988737822087165,
            0.06629126073623882,
        ],
        &[
            0.0,
            0.0,
            0.1767766952966369,
            0.5303300858899106,
            0.5303300858899106,
            0.1767766952966369,
            0.0,
            0.0,
        ],
    ),
    (
        "3.5",
        &[
            -0.013810679320049757,
            0.04143203796014927,
            0.052480581416189075,
            -0.26792717880896527,
            -0.07181553246425873,
            0.966747552403483,
            0.966747552403483,
            -0.07181553246425873,
            -0.26792717880896527,
            0.052480581416189075,
            0.04143203796014927,
            -0.013810679320049757,
        ],
        &[
            0.0,
            0.0,
            0.0,
            0.0,
            0.1767766952966369,
            0.5303300858899106,
            0.5303300858899106,
            0.1767766952966369,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
    ),
    (
        "3.7",
        &[
            0.0030210861012608843,
            -0.009063258303782653,
            -0.01683176542131064,
            0.074663985074019,
            0.03133297870736289,
            -0.301159125922835,
            -0.02649924094534547,
            0.9516421218971786,
            0.9516421218971786,
            -0.02649924094534547,
            -0.301159125922835,
            0.03133297870736289,
            0.074663985074019,
            -0.01683176542131064,
            -0.009063258303782653,
            0.0030210861012608843,
        ],
        &[
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.1767766952966369,
            0.5303300858899106,
            0.5303300858899106,
            0.1767766952966369,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
    ),
    (
        "3.9",
        &[
            -0.0006797443727836989,
            0.002039233118351097,
            0.005060319219611981,
            -0.020618912641105536,
            -0.014112787930175844,
            0.09913478249423216,
            0.012300136269419315,
            -0.32019196836077857,
            0.0020500227115698858,
            0.9421257006782068,
            0.9421257006782068,
            0.0020500227115698858,
            -0.32019196836077857,
            0.012300136269419315,
            0.09913478249423216,
            -0.014112787930175844,
            -0.020618912641105536,
            0.005060319219611981,
            0.002039233118351097,
            -0.0006797443727836989,
        ],
        &[
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.1767766952966369,
            0.5303300858899106,
            0.5303300858899106,
            0.1767766952966369,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
    ),
    (
        "4.4",
        &[
            0.0,
            0.03782845550726404,
            -0.023849465019556843,
            -0.11062440441843718,
            0.37740285561283066,
            0.8526986790088938,
            0.37740285561283066,
            -0.11062440441843718,
            -0.023849465019556843,
            0.03782845550726404,
        ],
        &[
            0.0,
            -0.06453888262869706,
            -0.04068941760916406,
            0.41809227322161724,
            0.7884856164055829,
            0.41809227322161724,
            -0.04068941760916406,
            -0.06453888262869706,
            0.0,
            0.0,
        ],
    ),
    (
        "5.5",
        &[
            0.0,
            0.0,
            0.03968708834740544,
            0.007948108637240322,
            -0.05446378846823691,
            0.34560528195603346,
            0.7366601814282105,
            0.34560528195603346,
            -0.05446378846823691,
            0.007948108637240322,
            0.03968708834740544,
            0.0,
        ],
        &[
            0.013456709459118716,
            -0.002694966880111507,
            -0.13670658466432914,
            -0.09350469740093886,
            0.47680326579848425,
            0.8995061097486484,
            0.47680326579848425,
            -0.09350469740093886,
            -0.13670658466432914,
            -0.002694966880111507,
            0.013456709459118716,
            0.0,
        ],
    ),
    (
        "6.8",
        &[
            0.0,
            0.0019088317364812906,
            -0.0019142861290887667,
            -0.016990639867602342,
            0.01193456527972926,
            0.04973290349094079,
            -0.07726317316720414,
            -0.09405920349573646,
            0.4207962846098268,
            0.8259229974584023,
            0.4207962846098268,
            -0.09405920349573646,
            -0.07726317316720414,
            0.04973290349094079,
            0.01193456527972926,
            -0.016990639867602342,
            -0.0019142861290887667,
            0.0019088317364812906,
        ],
        &[
            0.0,
            0.0,
            0.0,
            0.014426282505624435,
            0.014467504896790148,
            -0.07872200106262882,
            -0.04036797903033992,
            0.41784910915027457,
            0.7589077294536541,
            0.41784910915027457,
            -0.04036797903033992,
            -0.07872200106262882,
            0.014467504896790148,
            0.014426282505624435,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_wavelet_has_filters_that_pass_constants_at_level_one() {
        for name in WAVELETS {
            let bank = filter_bank(name).unwrap();
            assert_eq!(bank.low.len(), bank.high.len(), "{name}");
            // Low-pass gain √2 at DC, high-pass zero: a constant lands in cA only.
            let dc: f64 = bank.low.iter().sum();
            let hi: f64 = bank.high.iter().sum();
            assert!((dc - 2f64.sqrt()).abs() < 1e-9, "{name}: {dc}");
            assert!(hi.abs() < 1e-9, "{name}: {hi}");
        }
        assert!(filter_bank("db11").is_none());
        assert!(filter_bank("mexh").is_none());
    }

    #[test]
    fn haar_splits_pairs_into_sums_and_differences() {
        let bank = filter_bank("haar").unwrap();
        let (a, d) = dwt(&[1.0, 3.0, 5.0, 9.0], &bank);
        let s = FRAC_1_SQRT_2;
        let expected_a = [4.0 * s, 14.0 * s];
        let expected_d = [-2.0 * s, -4.0 * s];
        for (x, y) in a.iter().zip(expected_a).chain(d.iter().zip(expected_d)) {
            assert!((x - y).abs() < 1e-12, "{a:?} {d:?}");
        }
        assert_eq!(wavedec(&[1.0; 64], &bank, 2).len(), 3);
        assert_eq!(min_length(1), Some(64));
    }

    #[test]
    fn statistics_of_a_known_array() {
        // Checked by hand: 0..=9.
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let s = statistics(&x);
        assert!((s[0] - 10f64.ln()).abs() < 1e-12); // ten values in ten distinct bins
        assert_eq!(s[1], 0.1); // `x > 0` flips once, between 0 and 1
        assert_eq!(s[2], 0.1); // `x > 4.5` flips once
        assert_eq!(s[3], 0.0); // n5: sorted[int(9 * 0.05 + 0.5)] = sorted[0]
        assert_eq!(s[7], 5.0); // median: sorted[int(4.5 + 0.5)]
        assert_eq!(s[8], 4.5);
        assert!((s[10] - 55.0 / 6.0).abs() < 1e-12);
        assert_eq!(statistics(&[0.0; 8]), [0.0; 14]);
    }
}
