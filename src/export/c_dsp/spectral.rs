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
//! Version 1 (peaks and band powers) is in [`spectral_v1`], Wavelet analysis in [`wavelet`].

use super::emit::{self, CSource};
use super::signal_c::{DECIMATE_C, MOMENTS_C, REMOVE_MEAN_C, RMS_C, chebyshev_table, sosfilt_c};
use super::{BlockC, CExportError, DspCInput, fft, spectral_v1, wavelet};
use crate::dsp::Signal;
use crate::dsp::spectral::{SpectralSettings, export_plan};
use crate::dsp::wavelet::Precision;

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
    let zeros = vec![0.0_f32; axes * readings];
    let names: Vec<String> = (0..axes).map(|a| format!("axis{a}")).collect();
    let signal = Signal {
        axes,
        rate_hz,
        values: &zeros,
    };
    let plan = export_plan(settings, &signal, &names)?;
    let n = plan.fft_length;
    let mut source = CSource::default();
    // The low-frequency features belong to FFT analysis only, as in the Rust block.
    let low = plan.version >= 4 && settings.extra_low_freq && !plan.wavelet;
    let double_path = !plan.stages.is_empty();
    // Only the helpers this configuration calls: an unused static function fails -Werror.
    if double_path || low {
        source.code(&sosfilt_c("double", ""));
    }
    if !double_path {
        source.code(&emit::pairwise_block_c("float"));
        if plan.filter.is_some() {
            source.code(&sosfilt_c("float", "_f32"));
        }
    }
    if double_path || low {
        source.code(DECIMATE_C);
    }
    if double_path || low {
        source.code(REMOVE_MEAN_C);
    }
    if !plan.wavelet {
        fft::emit(&mut source, n)?;
        source.buffer("double", "tl_power", n / 2 + 1);
    }

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

    let statistics = if plan.version >= 4 { 5 } else { 3 };
    let per_axis = match &plan.peaks {
        _ if plan.wavelet => 14 * (settings.wavelet_level as usize + 1),
        Some((count, _, edges)) => 1 + 2 * count + edges.len().saturating_sub(1),
        None => statistics + plan.bins.len(),
    };
    let low_per_axis = 5 + plan.low_bins.len();
    let main_total = per_axis * axes;
    let features_len = main_total + if low { low_per_axis * axes } else { 0 };

    let prepare = if plan.stages.is_empty() {
        let filter = if plan.filter.is_some() {
            format!(
                "        {{\n            float z[{}] = {{0.0f}};\n            \
                 (void)tl_sosfilt_f32(tl_filter_sos, {sections}, z, tl_scaled, TL_READINGS, 1);\n        }}\n",
                2 * sections
            )
        } else {
            String::new()
        };
        format!(
            "{filter}        mean_f = (float)((double)({}) / (double)TL_READINGS);\n        \
             for (i = 0; i < TL_READINGS; i++) {{\n            \
             tl_x[i] = (double)(tl_scaled[i] - mean_f);\n        }}\n",
            emit::pairwise_sum("float", "tl_scaled", readings)
        )
    } else {
        let filter = if plan.filter.is_some() {
            format!(
                "        {{\n            double z[{}] = {{0.0}};\n            \
                 (void)tl_sosfilt(tl_filter_sos, {sections}, z, tl_x, n, 1);\n        }}\n",
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
    let (analysis_c, call) = match &plan.peaks {
        _ if plan.wavelet => (
            {
                let precision = if double_path {
                    Precision::Double
                } else {
                    Precision::Single
                };
                let c = wavelet::wavelet_c(
                    &mut source,
                    &settings.wavelet,
                    settings.wavelet_level,
                    precision,
                    length,
                )?;
                format!("{MOMENTS_C}{c}")
            },
            format!("tl_wavelet_features(tl_x, n, features + axis * {per_axis});"),
        ),
        Some((count, threshold, edges)) => (
            spectral_v1::peaks_c(&mut source, n, plan.rate_hz, *count, *threshold, edges)?,
            format!("tl_peak_features(tl_x, n, features + axis * {per_axis});"),
        ),
        None => (
            {
                source.buffer("double", "tl_spectrum", n / 2 + 1);
                format!(
                    "{RMS_C}{MOMENTS_C}{}",
                    spectrum_c(settings.do_fft_overlap, settings.do_log, n)
                )
            },
            format!(
                "tl_spectrum_features(tl_x, n, {}, {}, {}, features + axis * {per_axis});",
                i32::from(plan.version >= 4),
                plan.bins.start,
                plan.bins.end
            ),
        ),
    };
    source.code(&format!(
        r#"
#define TL_READINGS {readings}
#define TL_AXES {axes}

{analysis_c}
int tinylab_dsp(const float *raw, size_t len, float *features)
{{
    size_t axis;
    size_t i;
{entry}    for (axis = 0; axis < TL_AXES; axis++) {{
        size_t n = TL_READINGS;
        size_t m = 0;
        float mean_f = 0.0f;
        for (i = 0; i < TL_READINGS; i++) {{
            tl_scaled[i] = raw[i * TL_AXES + axis] * {scale};
            if (!isfinite(tl_scaled[i])) {{
                return TINYLAB_ERR_INPUT;
            }}
        }}
{prepare}        {call}
{low_call}        (void)m;
        (void)mean_f;
    }}
    return 0;
}}
"#,
        scale = emit::float(plan.scale),
        entry = emit::ENTRY_CHECKS_C,
    ));
    Ok(BlockC {
        source,
        raw_len: axes * readings,
        features_len,
        defines: Vec::new(),
    })
}

/// Steps 4–5 of FFT analysis (`tl_spectrum_features`): moments, the max-hold spectrum of frames
/// every `N` (or `N − N/2` with overlap) samples, spectral moments, the kept bins.
fn spectrum_c(overlap: bool, do_log: bool, n: usize) -> String {
    let overlap_step = if overlap { n - n / 2 } else { n }.max(1);
    let do_log = i32::from(do_log);
    format!(
        r#"/* Steps 4-5 of dsp::spectral on a mean-removed signal: RMS, skewness, kurtosis, (spectral
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
"#
    )
}
