//! Spectral analysis version 1 in C (`tl_peak_features`), as `dsp::spectral`'s peaks path: the
//! RMS; the `count` highest local maxima of `2/N·|rfft(x, N)|` (first `N/2` bins) at least
//! `threshold` high, found as peakutils does (differences, runs of zero differences — plateaus —
//! filled from their neighbours, a peak where the difference turns from positive to negative,
//! above the minimum), highest first (ties in bin order), `(0, 0)` for missing ones; then the mean
//! one-sided periodogram density of each band of `spectral_power_edges`, divided by 10.
//!
//! The peak frequencies (`spectral::peak_frequency`) and each band's bins (from
//! `spectral::bin_frequencies`) are tables computed here.

use super::emit::{self, CSource};
use super::{CExportError, signal_c::RMS_C};
use crate::dsp::spectral::{bin_frequencies, peak_frequency};

/// Adds version 1's tables and buffers and returns its C (`tl_rms`, `tl_peak_features`).
pub(super) fn peaks_c(
    source: &mut CSource,
    n: usize,
    rate_hz: f64,
    count: usize,
    threshold: f64,
    edges: &[f64],
) -> Result<String, CExportError> {
    let half = n / 2;
    let frequencies: Vec<f64> = (0..half)
        .map(|k| peak_frequency(k, half, rate_hz))
        .collect();
    source.doubles("tl_peak_frequency", &frequencies)?;
    // Each band's bins: frequencies rise with the bin, so the bins in `[from, to)` are a run.
    let bins = bin_frequencies(n, rate_hz);
    let (mut firsts, mut counts) = (Vec::new(), Vec::new());
    for band in edges.windows(2) {
        let &[from, to] = band else { continue };
        let inside: Vec<usize> = (0..bins.len())
            .filter(|&k| bins.get(k).is_some_and(|&f| f >= from && f < to))
            .collect();
        firsts.push(inside.first().copied().unwrap_or(0));
        counts.push(inside.len());
    }
    let bands = firsts.len();
    source.integers("uint32_t", "tl_band_first", &firsts);
    source.integers("uint32_t", "tl_band_count", &counts);
    for (ty, name) in [
        ("double", "tl_amplitude"),
        ("double", "tl_dy"),
        ("unsigned char", "tl_flat"),
        ("unsigned char", "tl_candidate"),
    ] {
        source.buffer(ty, name, half);
    }
    source.buffer("double", "tl_centred", n);
    Ok(format!(
        r#"{RMS_C}
/* Version 1 of dsp::spectral on a mean-removed signal: RMS, {count} peaks, {bands} band powers. */
static void tl_peak_features(const double *x, size_t n, float *out)
{{
    size_t half = TL_FFT_N / 2;
    size_t segment = n < TL_FFT_N ? n : TL_FFT_N;
    size_t k;
    size_t j;
    size_t b;
    size_t peaks = {count};
    size_t bands = {bands};
    double mean = 0.0;
    double scale;
    *out++ = (float)tl_rms(x, n);
    tl_rfft_power(x, segment, tl_power);
    for (k = 0; k < half; k++) {{
        tl_amplitude[k] = 2.0 / (double)TL_FFT_N * hypot(tl_fft_re[k], tl_fft_im[k]);
        tl_candidate[k] = 0;
    }}
    if (half >= 2) {{
        size_t len = half - 1;
        size_t zeros = 0;
        double minimum = INFINITY;
        for (k = 0; k < half; k++) {{
            minimum = tl_amplitude[k] < minimum ? tl_amplitude[k] : minimum;
        }}
        for (k = 0; k < len; k++) {{
            tl_dy[k] = tl_amplitude[k + 1] - tl_amplitude[k];
            tl_flat[k] = tl_dy[k] == 0.0;
            zeros += tl_flat[k];
        }}
        if (zeros < len) {{
            /* Plateaus (runs of zero differences) take their neighbours' slopes. */
            for (k = 0; k < len;) {{
                size_t first = k;
                size_t last;
                if (!tl_flat[k]) {{
                    k++;
                    continue;
                }}
                while (k + 1 < len && tl_flat[k + 1]) {{
                    k++;
                }}
                last = k;
                k++;
                if (first == 0) {{
                    double fill = tl_dy[last + 1];
                    for (j = 0; j <= last; j++) {{
                        tl_dy[j] = fill;
                    }}
                }} else if (last + 1 == len) {{
                    double fill = tl_dy[first - 1];
                    for (j = first; j < len; j++) {{
                        tl_dy[j] = fill;
                    }}
                }} else {{
                    double left = tl_dy[first - 1];
                    double right = tl_dy[last + 1];
                    double median = (double)(first + last) / 2.0;
                    for (j = first; j <= last; j++) {{
                        tl_dy[j] = (double)j < median ? left : right;
                    }}
                }}
            }}
            for (k = 1; k + 1 < half; k++) {{
                tl_candidate[k] = tl_dy[k] < 0.0 && tl_dy[k - 1] > 0.0 &&
                                  tl_amplitude[k] > minimum && tl_amplitude[k] >= {threshold};
            }}
        }}
    }}
    for (j = 0; j < peaks; j++) {{
        size_t best = half;
        for (k = 0; k < half; k++) {{
            if (tl_candidate[k] && (best == half || tl_amplitude[k] > tl_amplitude[best])) {{
                best = k;
            }}
        }}
        if (best == half) {{
            *out++ = 0.0f;
            *out++ = 0.0f;
        }} else {{
            *out++ = (float)tl_peak_frequency[best];
            *out++ = (float)tl_amplitude[best];
            tl_candidate[best] = 0;
        }}
    }}
    /* The one-sided periodogram density of the first N samples, mean removed. */
    for (k = 0; k < segment; k++) {{
        mean += x[k];
    }}
    mean /= (double)(segment > 0 ? segment : 1);
    for (k = 0; k < segment; k++) {{
        tl_centred[k] = x[k] - mean;
    }}
    tl_rfft_power(tl_centred, segment, tl_power);
    scale = 1.0 / ({rate} * (double)(segment > 0 ? segment : 1));
    for (b = 0; b < bands; b++) {{
        double sum = 0.0;
        for (k = tl_band_first[b]; k < tl_band_first[b] + tl_band_count[b]; k++) {{
            double one_sided = (k == 0 || ({even} && k == TL_FFT_N / 2)) ? 1.0 : 2.0;
            sum += tl_power[k] * scale * one_sided;
        }}
        *out++ = (float)((tl_band_count[b] == 0 ? 0.0 : sum / (double)tl_band_count[b]) / 10.0);
    }}
}}
"#,
        threshold = emit::double(emit::finite("spectral_peaks_threshold", threshold)?),
        rate = emit::double(rate_hz),
        even = i32::from(n.is_multiple_of(2)),
    ))
}
