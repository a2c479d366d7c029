//! Spectral analysis's Wavelet analysis in C (`tl_wavelet_features`), as `dsp::wavelet`:
//! PyWavelets' `wavedec` (mode symmetric) with its downsampling convolution's loop order, then
//! Edge Impulse's 14 statistics per coefficient array (`[cA_L, cD_L, …, cD_1]`): histogram
//! entropy, zero and mean crossings, nearest-rank percentiles, mean, std, var, RMS, skewness,
//! kurtosis. The transform and the histogram run in `float` when the block's signal is `float32`
//! (no decimation), else `double`, as PyWavelets and numpy do; the filters come from
//! `wavelet::filter_bank` (and `wavelet::single` for `float`), the array lengths are fixed by the
//! window, so each level's numpy mean is unrolled here.

use super::CExportError;
use super::emit::{self, CSource};
use crate::dsp::wavelet::{self, Precision};

/// Adds the wavelet tables and buffers for signals of `length` samples and returns the C.
pub(super) fn wavelet_c(
    source: &mut CSource,
    name: &str,
    level: u32,
    precision: Precision,
    length: usize,
) -> Result<String, CExportError> {
    let bank = wavelet::filter_bank(name).ok_or_else(|| CExportError::Unsupported {
        block: "spectral-analysis".to_owned(),
        setting: "wavelet".to_owned(),
        value: name.to_owned(),
        instead: format!("choose one of {}", wavelet::WAVELETS.join(", ")),
    })?;
    let ty = match precision {
        Precision::Single => {
            source.floats("tl_wavelet_low", &wavelet::single(name, &bank.low))?;
            source.floats("tl_wavelet_high", &wavelet::single(name, &bank.high))?;
            "float"
        }
        Precision::Double => {
            source.doubles("tl_wavelet_low", &bank.low)?;
            source.doubles("tl_wavelet_high", &bank.high)?;
            "double"
        }
    };
    let taps = bank.low.len();
    if bank.high.len() != taps {
        return Err(CExportError::Unsupported {
            block: "spectral-analysis".to_owned(),
            setting: "wavelet".to_owned(),
            value: name.to_owned(),
            instead: "choose a wavelet whose two filters have one length (db, sym, coif, haar)"
                .to_owned(),
        });
    }
    // Each level's length: `downsample` gives one output per odd i with i + 1 < m + taps.
    let mut lengths = vec![length];
    let mut m = length;
    for _ in 0..level {
        if m == 0 {
            break;
        }
        m = (1..m + taps)
            .step_by(2)
            .filter(|i| i + 1 < m + taps)
            .count();
        lengths.push(m);
    }
    let longest = length + taps;
    source.buffer(ty, "tl_wavelet_a", longest);
    source.buffer(ty, "tl_wavelet_b", longest);
    source.buffer("double", "tl_wavelet_sorted", longest);
    let mut means = String::new();
    let mut seen = Vec::new();
    for &len in &lengths {
        if len == 0 || seen.contains(&len) {
            continue;
        }
        seen.push(len);
        means.push_str(&format!(
            "    case {len}:\n        return ({ty})((double)({}) / {len}.0);\n",
            emit::pairwise_sum(ty, "a", len)
        ));
    }
    let pairwise = if ty == "double" {
        emit::pairwise_block_c("double")
    } else {
        String::new()
    };
    let arrays = level + 1;
    Ok(format!(
        r#"{pairwise}{STATISTICS_C}
/* numpy's mean of an array of this transform's lengths, in its precision. */
static double tl_wavelet_mean(const T_W *a, size_t n)
{{
    switch (n) {{
{means}    default:
        return 0.0;
    }}
}}
{DOWNSAMPLE_C}
/* Wavelet analysis of one mean-removed signal: 14 statistics of each of the {arrays} arrays. */
static void tl_wavelet_features(const double *x, size_t n, float *out)
{{
    size_t i;
    size_t step;
    size_t len = n;
    size_t levels = {level};
    for (i = 0; i < n; i++) {{
        tl_wavelet_a[i] = (T_W)x[i];
    }}
    for (step = 0; step < levels; step++) {{
        size_t next;
        if (len == 0) {{
            break;
        }}
        next = tl_downsample(tl_wavelet_a, len, tl_wavelet_high, {taps}, tl_wavelet_b);
        tl_wavelet_statistics(tl_wavelet_b, next, out + (levels - step) * 14);
        len = tl_downsample(tl_wavelet_a, len, tl_wavelet_low, {taps}, tl_wavelet_b);
        for (i = 0; i < len; i++) {{
            tl_wavelet_a[i] = tl_wavelet_b[i];
        }}
    }}
    tl_wavelet_statistics(tl_wavelet_a, len, out);
}}
"#
    )
    .replace("T_W", ty))
}

/// PyWavelets' `downsampling_convolution` in mode symmetric, as `dsp::wavelet::downsample`.
const DOWNSAMPLE_C: &str = r#"
static size_t tl_wavelet_symmetric(size_t n, long k)
{
    long period = 2L * (long)n;
    long m;
    if (period == 0) {
        return 0;
    }
    m = k % period;
    if (m < 0) {
        m += period;
    }
    return m < (long)n ? (size_t)m : (size_t)(period - 1 - m);
}

static size_t tl_downsample(const T_W *x, size_t n, const T_W *filter, size_t f, T_W *out)
{
    size_t i;
    size_t o = 0;
    for (i = 1; i + 1 < n + f; i += 2) {
        T_W sum = 0;
        size_t j;
        size_t k;
        if (i < f && i < n) {
            for (j = 0; j <= i; j++) {
                sum = sum + filter[j] * x[i - j];
            }
            while (j < f) {
                for (k = 0; k < n && j < f; k++, j++) {
                    sum = sum + filter[j] * x[k];
                }
                for (k = 0; k < n && j < f; k++, j++) {
                    sum = sum + filter[j] * x[n - 1 - k];
                }
            }
        } else if (i < n) {
            for (j = 0; j < f; j++) {
                sum = sum + x[i - j] * filter[j];
            }
        } else if (i < f) {
            for (j = 0; j < f; j++) {
                sum = sum + filter[j] * x[tl_wavelet_symmetric(n, (long)i - (long)j)];
            }
        } else {
            j = 0;
            while (i - j >= n) {
                for (k = 0; k < n && i - j >= n; k++, j++) {
                    sum = sum + filter[i - n - j] * x[n - 1 - k];
                }
                for (k = 0; k < n && i - j >= n; k++, j++) {
                    sum = sum + filter[i - n - j] * x[k];
                }
            }
            for (; j < f; j++) {
                sum = sum + filter[j] * x[i - j];
            }
        }
        out[o++] = sum;
    }
    return o;
}
"#;

/// The 14 statistics of one coefficient array (`wavelet::statistics_in`).
const STATISTICS_C: &str = r#"
static double tl_wavelet_mean(const T_W *a, size_t n);

/* np.histogram(x, bins=100) counts in x's precision -> Shannon entropy (natural log). */
static double tl_wavelet_entropy(const T_W *x, size_t n)
{
    unsigned counts[100];
    T_W first = x[0];
    T_W last = x[0];
    T_W bins = (T_W)100.0;
    T_W width;
    T_W step;
    double sum = 0.0;
    size_t i;
    for (i = 0; i < 100; i++) {
        counts[i] = 0;
    }
    for (i = 0; i < n; i++) {
        first = x[i] < first ? x[i] : first;
        last = x[i] > last ? x[i] : last;
    }
    if (first == last) {
        first = first - (T_W)0.5;
        last = last + (T_W)0.5;
    }
    width = last - first;
    step = width / bins;
    for (i = 0; i < n; i++) {
        double position = (double)((x[i] - first) / width * bins);
        size_t bin = position > 0.0 ? (size_t)position : 0;
        T_W edge;
        if (bin > 99) {
            bin = 99;
        }
        edge = (T_W)(double)bin * step + first;
        if (x[i] < edge) {
            bin = bin > 0 ? bin - 1 : 0;
        }
        if (bin != 99) {
            T_W upper = bin + 1 >= 100 ? last : (T_W)(double)(bin + 1) * step + first;
            if (x[i] >= upper) {
                bin++;
            }
        }
        counts[bin]++;
    }
    for (i = 0; i < 100; i++) {
        if (counts[i] > 0) {
            double p = (double)counts[i] / (double)(n > 0 ? n : 1);
            sum += p * log(p);
        }
    }
    return -sum;
}

static double tl_crossings(const double *x, size_t n, double level)
{
    size_t i;
    size_t count = 0;
    for (i = 0; i + 1 < n; i++) {
        if ((x[i] > level) != (x[i + 1] > level)) {
            count++;
        }
    }
    return (double)count / (double)n;
}

/* Heapsort, ascending (no recursion). */
static void tl_sort(double *a, size_t n)
{
    size_t start;
    size_t end;
    if (n < 2) {
        return;
    }
    for (start = n / 2; start-- > 0;) {
        size_t root = start;
        while (2 * root + 1 < n) {
            size_t child = 2 * root + 1;
            if (child + 1 < n && a[child] < a[child + 1]) {
                child++;
            }
            if (a[root] < a[child]) {
                double t = a[root];
                a[root] = a[child];
                a[child] = t;
                root = child;
            } else {
                break;
            }
        }
    }
    for (end = n - 1; end > 0; end--) {
        size_t root = 0;
        double t = a[0];
        a[0] = a[end];
        a[end] = t;
        while (2 * root + 1 < end) {
            size_t child = 2 * root + 1;
            if (child + 1 < end && a[child] < a[child + 1]) {
                child++;
            }
            if (a[root] < a[child]) {
                t = a[root];
                a[root] = a[child];
                a[child] = t;
                root = child;
            } else {
                break;
            }
        }
    }
}

static void tl_wavelet_statistics(const T_W *c, size_t len, float *out)
{
    double *x = tl_wavelet_sorted;
    double n = (double)len;
    double mean = 0.0;
    double squares = 0.0;
    double sum_squares = 0.0;
    double rms;
    double skew = 0.0;
    double kurt = 0.0;
    double zcross;
    double mcross;
    double entropy;
    const int percentiles[5] = {5, 25, 75, 95, 50};
    size_t i;
    if (len == 0) {
        for (i = 0; i < 14; i++) {
            out[i] = 0.0f;
        }
        return;
    }
    for (i = 0; i < len; i++) {
        x[i] = (double)c[i];
        mean += x[i];
    }
    mean /= n;
    entropy = tl_wavelet_entropy(c, len);
    zcross = tl_crossings(x, len, 0.0);
    mcross = tl_crossings(x, len, tl_wavelet_mean(c, len));
    for (i = 0; i < len; i++) {
        double d = x[i] - mean;
        squares += d * d;
        sum_squares += x[i] * x[i];
    }
    rms = sqrt(sum_squares / n);
    if (rms != 0.0) {
        tl_moments(x, len, &skew, &kurt);
    }
    tl_sort(x, len);
    out[0] = (float)entropy;
    out[1] = (float)zcross;
    out[2] = (float)mcross;
    for (i = 0; i < 5; i++) {
        size_t index = (size_t)((double)((len - 1) * (size_t)percentiles[i]) / 100.0 + 0.5);
        out[3 + i] = (float)x[index];
    }
    out[8] = (float)mean;
    out[9] = (float)sqrt(squares / n);
    out[10] = (float)(len > 1 ? squares / (n - 1.0) : 0.0);
    out[11] = (float)rms;
    out[12] = (float)skew;
    out[13] = (float)kurt;
}
"#;
