//! Spectral analysis (versions 2–4, FFT analysis) in C, step for step as `dsp::spectral`:
//! per axis, scale in `float`; without decimation the Butterworth filter and the mean removal
//! run in `float` (numpy's pairwise mean, unrolled for the window's length); with decimation
//! the Chebyshev stages (steady-state start, every `ratio`-th output kept), the filter and the
//! mean run in `double`. Then RMS, skewness and kurtosis, the max-hold spectrum of `N`-sample
//! frames, version 4's spectral skewness and kurtosis, the kept bins (log10 with 0 → -10), and
//! with `extra_low_freq` the same of the signal decimated by 10, after every axis's features.
//!
//! The filter and decimation coefficients come from `dsp::filter` (the functions the Rust block
//! calls), the kept bins and stages from the block's own plan (`spectral::export_plan`).
//! Version 1 (peaks and band powers) and Wavelet analysis are refused with what to choose.

use super::emit::{self, CSource};
use super::{BlockC, CExportError, DspCInput, fft};
use crate::dsp::Signal;
use crate::dsp::filter::{self, Sos};
use crate::dsp::spectral::{SpectralSettings, export_plan};

/// The Chebyshev decimation filter Edge Impulse uses (`cheby1(8, 0.05, 0.8 / ratio)`).
const DECIMATION_ORDER: u32 = 8;
const DECIMATION_RIPPLE_DB: f64 = 0.05;

/// Generates the spectral-analysis block's C.
pub(super) fn generate(
    settings: &SpectralSettings,
    input: &DspCInput,
) -> Result<BlockC, CExportError> {
    let &DspCInput::Series {
        axes,
        readings,
        rate_hz,
    } = input
    else {
        return Err(CExportError::BadInput(
            "spectral analysis reads time series, not images".to_owned(),
        ));
    };
    let unsupported = |setting: &str, value: String, instead: &str| CExportError::Unsupported {
        block: "spectral-analysis".to_owned(),
        setting: setting.to_owned(),
        value,
        instead: instead.to_owned(),
    };
    let zeros = vec![0.0_f32; axes * readings];
    let names: Vec<String> = (0..axes).map(|a| format!("axis{a}")).collect();
    let signal = Signal {
        axes,
        rate_hz,
        values: &zeros,
    };
    let plan = export_plan(settings, &signal, &names)?;
    if plan.wavelet {
        return Err(unsupported(
            "analysis_type",
            settings.analysis_type.clone(),
            "choose FFT analysis for a C library export",
        ));
    }
    if plan.peaks {
        return Err(unsupported(
            "implementation_version",
            plan.version.to_string(),
            "choose implementation version 4 (or 2 or 3) for a C library export",
        ));
    }
    let n = plan.fft_length;
    let mut source = CSource::default();
    let low = plan.version >= 4 && settings.extra_low_freq;
    let double_path = !plan.stages.is_empty();
    // Only the helpers this configuration calls: an unused static function fails -Werror.
    if double_path {
        source.code(SOSFILT_C);
    } else {
        source.code(emit::PAIRWISE_BLOCK_C);
        if plan.filter.is_some() {
            source.code(SOSFILT_F32_C);
        }
    }
    if low && !double_path {
        source.code(SOSFILT_C);
    }
    if double_path || low {
        source.code(DECIMATE_C);
    }
    if double_path || low {
        source.code(REMOVE_MEAN_C);
    }
    fft::emit(&mut source, n)?;

    // Lengths after each decimation stage, `ceil(len / ratio)`.
    let mut length = readings;
    let mut stage_lines = String::new();
    let mut chebyshev_done = Vec::new();
    for &ratio in &plan.stages {
        chebyshev_table(&mut source, ratio, &mut chebyshev_done)?;
        stage_lines.push_str(&format!(
            "        n = tl_decimate(tl_cheby{ratio}_sos, tl_cheby{ratio}_zi, tl_x, n, {ratio});\n"
        ));
        length = length.div_ceil(ratio);
    }
    if low {
        chebyshev_table(&mut source, 10, &mut chebyshev_done)?;
        source.buffer("double", "tl_low", length);
    }
    let sections = plan.filter.as_ref().map_or(0, |sos| sos.sections.len());
    if let Some(sos) = &plan.filter {
        let flat: Vec<f64> = sos.sections.iter().flatten().copied().collect();
        if plan.stages.is_empty() {
            let floats: Vec<f32> = flat.iter().map(|&c| c as f32).collect();
            source.floats("tl_filter_sos", &floats)?;
        } else {
            source.doubles("tl_filter_sos", &flat)?;
        }
    }
    source.buffer("float", "tl_scaled", readings);
    source.buffer("double", "tl_x", readings);
    source.buffer("double", "tl_power", n / 2 + 1);
    source.buffer("double", "tl_spectrum", n / 2 + 1);

    let statistics = if plan.version >= 4 { 5 } else { 3 };
    let per_axis = statistics + plan.bins.len();
    let low_per_axis = 5 + plan.low_bins.len();
    let main_total = per_axis * axes;
    let features_len = main_total + if low { low_per_axis * axes } else { 0 };

    let prepare = if plan.stages.is_empty() {
        let filter = if plan.filter.is_some() {
            format!("        tl_sosfilt_f32(tl_filter_sos, {sections}, tl_scaled, TL_READINGS);\n")
        } else {
            String::new()
        };
        format!(
            "{filter}        mean_f = (float)((double)({}) / (double)TL_READINGS);\n        \
             for (i = 0; i < TL_READINGS; i++) {{\n            \
             tl_x[i] = (double)(tl_scaled[i] - mean_f);\n        }}\n",
            emit::pairwise_sum_f32("tl_scaled", readings)
        )
    } else {
        let filter = if plan.filter.is_some() {
            format!(
                "        {{\n            double z[{}] = {{0.0}};\n            \
                 tl_sosfilt(tl_filter_sos, {sections}, z, tl_x, n, 1);\n        }}\n",
                2 * sections
            )
        } else {
            String::new()
        };
        format!(
            "        for (i = 0; i < TL_READINGS; i++) {{\n            \
             tl_x[i] = (double)tl_scaled[i];\n        }}\n{stage_lines}{filter}        \
             tl_remove_mean(tl_x, n);\n"
        )
    };
    let low_call = if low {
        format!(
            "        for (i = 0; i < n; i++) {{\n            tl_low[i] = tl_x[i];\n        }}\n        \
             m = tl_decimate(tl_cheby10_sos, tl_cheby10_zi, tl_low, n, 10);\n        \
             tl_remove_mean(tl_low, m);\n        \
             tl_spectrum_features(tl_low, m, 1, {}, {}, features + {main_total} + axis * {low_per_axis});\n",
            plan.low_bins.start, plan.low_bins.end
        )
    } else {
        String::new()
    };
    let (bins_start, bins_end) = (plan.bins.start, plan.bins.end);
    let v4 = i32::from(plan.version >= 4);
    let overlap_step = if settings.do_fft_overlap {
        n - n / 2
    } else {
        n
    }
    .max(1);
    let do_log = i32::from(settings.do_log);
    source.code(&format!(
        r#"
#define TL_READINGS {readings}
#define TL_AXES {axes}

{STATISTICS_C}
/* Steps 4-5 of dsp::spectral on a mean-removed signal: RMS, skewness, kurtosis, (spectral
 * skewness and kurtosis), then the powers of bins first..end-1. */
static void tl_spectrum_features(const double *x, size_t n, int spectral_statistics,
                                 size_t first, size_t end, float *out)
{{
    size_t start;
    size_t k;
    double skew;
    double kurt;
    tl_moments(x, n, &skew, &kurt);
    *out++ = (float)tl_rms(x, n);
    *out++ = (float)skew;
    *out++ = (float)kurt;
    for (k = 0; k <= TL_FFT_N / 2; k++) {{
        tl_spectrum[k] = 0.0;
    }}
    for (start = 0; start <= n; start += {overlap_step}) {{
        size_t stop = start + TL_FFT_N < n ? start + TL_FFT_N : n;
        tl_rfft_power(x + start, stop - start, tl_power);
        for (k = 0; k <= TL_FFT_N / 2; k++) {{
            double p = tl_power[k] / (double)TL_FFT_N;
            if (p > tl_spectrum[k]) {{
                tl_spectrum[k] = p;
            }}
        }}
    }}
    if (spectral_statistics) {{
        tl_moments(tl_spectrum, TL_FFT_N / 2 + 1, &skew, &kurt);
        *out++ = (float)skew;
        *out++ = (float)kurt;
    }}
    for (k = first; k < end; k++) {{
        double p = tl_spectrum[k];
        if ({do_log}) {{
            p = log10(p == 0.0 ? 1e-10 : p);
        }}
        *out++ = (float)p;
    }}
}}

int tinylab_dsp(const float *raw, size_t len, float *features)
{{
    size_t axis;
    size_t i;
    if (raw == NULL || features == NULL) {{
        return TINYLAB_ERR_NULL;
    }}
    if (len != TINYLAB_RAW_LEN) {{
        return TINYLAB_ERR_LEN;
    }}
    for (i = 0; i < TINYLAB_RAW_LEN; i++) {{
        if (!isfinite(raw[i])) {{
            return TINYLAB_ERR_INPUT;
        }}
    }}
    for (axis = 0; axis < TL_AXES; axis++) {{
        size_t n = TL_READINGS;
        size_t m = 0;
        float mean_f = 0.0f;
        for (i = 0; i < TL_READINGS; i++) {{
            tl_scaled[i] = raw[i * TL_AXES + axis] * {scale};
            if (!isfinite(tl_scaled[i])) {{
                return TINYLAB_ERR_INPUT;
            }}
        }}
{prepare}        tl_spectrum_features(tl_x, n, {v4}, {bins_start}, {bins_end}, features + axis * {per_axis});
{low_call}        (void)m;
        (void)mean_f;
    }}
    return 0;
}}
"#,
        scale = emit::float(plan.scale),
    ));
    Ok(BlockC {
        source,
        raw_len: axes * readings,
        features_len,
        defines: Vec::new(),
    })
}

/// Adds `tl_cheby{ratio}_sos` / `_zi` (Edge Impulse's decimation filter and its steady state,
/// from `dsp::filter`) once per ratio.
fn chebyshev_table(
    source: &mut CSource,
    ratio: usize,
    done: &mut Vec<usize>,
) -> Result<(), CExportError> {
    if done.contains(&ratio) {
        return Ok(());
    }
    done.push(ratio);
    let sos: Sos =
        filter::chebyshev1_low(DECIMATION_ORDER, DECIMATION_RIPPLE_DB, 0.8 / ratio as f64)?;
    let flat: Vec<f64> = sos.sections.iter().flatten().copied().collect();
    let zi: Vec<f64> = sos.steady_state().into_iter().flatten().collect();
    source.doubles(&format!("tl_cheby{ratio}_sos"), &flat)?;
    source.doubles(&format!("tl_cheby{ratio}_zi"), &zi)?;
    Ok(())
}

/// Second-order sections in `double` (in place, keeping every `keep`-th output) and `float`.
const SOSFILT_C: &str = r#"
/* scipy's sosfilt (transposed direct form II) over x[0..n) from state z, in place; output i is
 * kept at x[i / keep] when i % keep == 0. Returns the outputs kept. */
static size_t tl_sosfilt(const double *sos, size_t sections, double *z, double *x, size_t n,
                         size_t keep)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double current = x[i];
        size_t s;
        for (s = 0; s < sections; s++) {
            const double *c = sos + s * 6;
            double out = c[0] * current + z[s * 2];
            z[s * 2] = c[1] * current - c[4] * out + z[s * 2 + 1];
            z[s * 2 + 1] = c[2] * current - c[5] * out;
            current = out;
        }
        if (i % keep == 0) {
            x[i / keep] = current;
        }
    }
    return (n + keep - 1) / keep;
}
"#;

/// `sosfilt` on `float32` data.
const SOSFILT_F32_C: &str = r#"
/* sosfilt on float32 data, all in single precision, from a zero state, in place. */
static void tl_sosfilt_f32(const float *sos, size_t sections, float *x, size_t n)
{
    float z[16] = {0.0f};
    size_t i;
    for (i = 0; i < n; i++) {
        float current = x[i];
        size_t s;
        for (s = 0; s < sections; s++) {
            const float *c = sos + s * 6;
            float out = c[0] * current + z[s * 2];
            z[s * 2] = c[1] * current - c[4] * out + z[s * 2 + 1];
            z[s * 2 + 1] = c[2] * current - c[5] * out;
            current = out;
        }
        x[i] = current;
    }
}
"#;

/// Edge Impulse's decimation (after [`SOSFILT_C`]).
const DECIMATE_C: &str = r#"
/* Edge Impulse's decimate_simple: the Chebyshev filter from its steady state at x[0], every
 * ratio-th output kept, in place. */
static size_t tl_decimate(const double *sos, const double *zi, double *x, size_t n, size_t ratio)
{
    double z[8];
    size_t j;
    if (n == 0) {
        return 0;
    }
    for (j = 0; j < 8; j++) {
        z[j] = zi[j] * x[0];
    }
    return tl_sosfilt(sos, 4, z, x, n, ratio);
}
"#;

/// RMS, moments and mean removal in `double`, as `dsp::spectral`.
const STATISTICS_C: &str = r#"
static double tl_rms(const double *x, size_t n)
{
    double sum = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        sum += x[i] * x[i];
    }
    return sqrt(sum / (double)(n > 0 ? n : 1));
}

/* scipy.stats skew and kurtosis (biased; 0 and -3 for numerically constant input). */
static void tl_moments(const double *x, size_t n, double *skew, double *kurt)
{
    double mean = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0, floor;
    size_t i;
    if (n == 0) {
        *skew = 0.0;
        *kurt = -3.0;
        return;
    }
    for (i = 0; i < n; i++) {
        mean += x[i];
    }
    mean /= (double)n;
    for (i = 0; i < n; i++) {
        double d = x[i] - mean;
        double d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    floor = 1e-15 * mean;
    if (m2 <= floor * floor) {
        *skew = 0.0;
        *kurt = -3.0;
    } else {
        *skew = m3 / pow(m2, 1.5);
        *kurt = m4 / pow(m2, 2.0) - 3.0;
    }
}
"#;

/// Mean removal in `double`.
const REMOVE_MEAN_C: &str = r#"
static void tl_remove_mean(double *x, size_t n)
{
    double mean = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        mean += x[i];
    }
    mean /= (double)(n > 0 ? n : 1);
    for (i = 0; i < n; i++) {
        x[i] -= mean;
    }
}
"#;
