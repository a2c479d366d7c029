//! The image block in C: the colour step of Edge Impulse's image block on pixels already at the
//! model's size (`tinylab_dsp`, packed `0xRRGGBB` floats), and the input block's resize of an
//! RGB888 frame of any size followed by the colour step (`tinylab_dsp_image`).
//!
//! The resize mirrors `dsp::image` exactly: the same source rectangle per mode (squash, fit-short
//! crop, fit-long letterbox on black), the same triangle-filter taps (widened by the shrink
//! factor, weights normalised by their sum), horizontal then vertical sums in `double` and one
//! rounding. The taps depend on the frame's size, so the C computes them per call; to need no
//! frame-sized buffer it recomputes a source row's horizontal pass for each output row that reads
//! it (the same sums in the same order, so the same bits as the Rust pass that keeps them).

use super::emit::{self, CSource};
use super::{BlockC, CExportError};
use crate::dsp::image::{Channels, GRAY_WEIGHTS, ImageSettings, ResizeMode};
use crate::dsp::image::{parse_channels, parse_resize_mode};

/// The C taps, the resampler and the colour step, before the entry points.
const RESAMPLE_C: &str = r#"
/* One output pixel's taps along one axis (dsp::image::axis_taps): source pixels
 * first..first+count, raw triangle weights summing to sum (weight 1 for the one pixel when
 * the sum is not positive). */
typedef struct {
    size_t first;
    size_t count;
    double center;
    double filter_scale;
    double sum;
} tl_taps;

static double tl_triangle(size_t i, const tl_taps *taps)
{
    double distance = ((double)i + 0.5 - taps->center) / taps->filter_scale;
    double w = 1.0 - fabs(distance);
    return w > 0.0 ? w : 0.0;
}

static double tl_tap_weight(size_t k, const tl_taps *taps)
{
    if (!(taps->sum > 0.0)) {
        return 1.0;
    }
    return tl_triangle(taps->first + k, taps) / taps->sum;
}

static void tl_axis_taps(size_t in_size, double start, double end, size_t out_size, size_t out,
                         tl_taps *taps)
{
    double scale = (end - start) / (double)out_size;
    double support = scale > 1.0 ? scale : 1.0;
    double lo;
    double hi;
    size_t last;
    size_t i;
    taps->filter_scale = support;
    taps->center = start + ((double)out + 0.5) * scale;
    lo = floor(taps->center - support + 0.5);
    hi = floor(taps->center + support + 0.5);
    taps->first = lo > 0.0 ? (size_t)lo : 0;
    if (taps->first > in_size - 1) {
        taps->first = in_size - 1;
    }
    last = hi > 0.0 ? (size_t)hi : 0;
    if (last > in_size) {
        last = in_size;
    }
    if (last < taps->first + 1) {
        last = taps->first + 1;
    }
    taps->sum = 0.0;
    for (i = taps->first; i < last; i++) {
        taps->sum += tl_triangle(i, taps);
    }
    taps->count = taps->sum > 0.0 ? last - taps->first : 1;
}

/* The horizontal pass of one source row into tl_row (out_w pixels of 3 doubles). */
static void tl_horizontal(const uint8_t *row, size_t in_w, double x0, double x1, size_t out_w)
{
    size_t x;
    for (x = 0; x < out_w; x++) {
        tl_taps taps;
        double acc[3] = {0.0, 0.0, 0.0};
        size_t k;
        tl_axis_taps(in_w, x0, x1, out_w, x, &taps);
        for (k = 0; k < taps.count; k++) {
            const uint8_t *pixel = row + (taps.first + k) * 3;
            double w = tl_tap_weight(k, &taps);
            acc[0] += w * (double)pixel[0];
            acc[1] += w * (double)pixel[1];
            acc[2] += w * (double)pixel[2];
        }
        tl_row[x * 3] = acc[0];
        tl_row[x * 3 + 1] = acc[1];
        tl_row[x * 3 + 2] = acc[2];
    }
}

/* Resamples the source rectangle [x0, x1) x [y0, y1) of an in_w x in_h RGB888 image to
 * out_w x out_h pixels, written into tl_resized at column left, row top. */
static void tl_resample(const uint8_t *rgb, size_t in_w, size_t in_h, double x0, double y0,
                        double x1, double y1, size_t out_w, size_t out_h, size_t left, size_t top)
{
    size_t y;
    for (y = 0; y < out_h; y++) {
        tl_taps taps;
        size_t k;
        size_t j;
        uint8_t *out = tl_resized + ((top + y) * TL_OUT_W + left) * 3;
        tl_axis_taps(in_h, y0, y1, out_h, y, &taps);
        for (j = 0; j < out_w * 3; j++) {
            tl_acc[j] = 0.0;
        }
        for (k = 0; k < taps.count; k++) {
            double w = tl_tap_weight(k, &taps);
            tl_horizontal(rgb + (taps.first + k) * in_w * 3, in_w, x0, x1, out_w);
            for (j = 0; j < out_w * 3; j++) {
                tl_acc[j] += w * tl_row[j];
            }
        }
        for (j = 0; j < out_w * 3; j++) {
            double v = round(tl_acc[j]);
            if (v < 0.0) {
                v = 0.0;
            }
            if (v > 255.0) {
                v = 255.0;
            }
            out[j] = (uint8_t)v;
        }
    }
}
"#;

/// Generates the image block's C.
pub(super) fn generate(settings: &ImageSettings) -> Result<BlockC, CExportError> {
    let channels = parse_channels(&settings.channels)?;
    let mode = parse_resize_mode(&settings.resize_mode)?;
    let (width, height) = (settings.width as usize, settings.height as usize);
    let pixels = width * height;
    let depth = match channels {
        Channels::Rgb => 3,
        Channels::Grayscale => 1,
    };
    let mut source = CSource::default();
    source.data.push_str(&format!(
        "#define TL_OUT_W {width}\n#define TL_OUT_H {height}\n"
    ));
    source.buffer("uint8_t", "tl_resized", pixels * 3);
    source.buffer("double", "tl_row", width * 3);
    source.buffer("double", "tl_acc", width * 3);
    source.code(&colour_c(channels));
    source.code(RESAMPLE_C);
    source.code(&resize_c(mode));
    source.code(PACKED_C);
    Ok(BlockC {
        source,
        raw_len: pixels,
        features_len: pixels * depth,
        defines: vec![("TINYLAB_DSP_CHANNELS".to_owned(), depth.to_string())],
    })
}

/// The colour step on `tl_resized` (Edge Impulse's image `dsp.py`, as `features_from_pixels`).
fn colour_c(channels: Channels) -> String {
    let body = match channels {
        Channels::Rgb => "    for (i = 0; i < TL_OUT_W * TL_OUT_H * 3; i++) {\n        \
             features[i] = (float)((double)tl_resized[i] / 255.0);\n    }"
            .to_owned(),
        Channels::Grayscale => {
            let [r, g, b] = GRAY_WEIGHTS.map(emit::double);
            format!(
                "    for (i = 0; i < TL_OUT_W * TL_OUT_H; i++) {{\n        \
                 const uint8_t *p = tl_resized + i * 3;\n        \
                 features[i] = (float)({r} * (double)p[0] + {g} * (double)p[1] + {b} * \
                 (double)p[2]);\n    }}"
            )
        }
    };
    format!(
        "\n/* RGB8 pixels at the model's size -> features in 0..1. */\n\
         static void tl_colour(float *features)\n{{\n    size_t i;\n{body}\n}}\n"
    )
}

/// `tinylab_dsp_image`: the mode's source rectangle (or letterbox), the resample, the colour.
fn resize_c(mode: ResizeMode) -> String {
    let body = match mode {
        ResizeMode::Squash => "    tl_resample(rgb888, width, height, 0.0, 0.0, (double)width, \
             (double)height, TL_OUT_W, TL_OUT_H, 0, 0);"
            .to_owned(),
        ResizeMode::FitShort => r#"    /* The centred part of aspect TL_OUT_W : TL_OUT_H (dsp::image::fit_short_rect). */
    double x0 = 0.0, y0 = 0.0, x1 = (double)width, y1 = (double)height;
    size_t wide = width * TL_OUT_H, tall = height * TL_OUT_W;
    if (wide > tall) {
        double crop_w = (double)(height * TL_OUT_W) / (double)TL_OUT_H;
        x0 = ((double)width - crop_w) / 2.0;
        x1 = x0 + crop_w;
    } else if (tall > wide) {
        double crop_h = (double)(width * TL_OUT_H) / (double)TL_OUT_W;
        y0 = ((double)height - crop_h) / 2.0;
        y1 = y0 + crop_h;
    }
    tl_resample(rgb888, width, height, x0, y0, x1, y1, TL_OUT_W, TL_OUT_H, 0, 0);"#
            .to_owned(),
        ResizeMode::FitLong => r#"    /* The long side fits, the other is floor(side * scale) >= 1, centred on black. */
    size_t inner_w, inner_h, i;
    if (width * TL_OUT_H >= height * TL_OUT_W) {
        inner_w = TL_OUT_W;
        inner_h = height * TL_OUT_W / width;
        inner_h = inner_h < 1 ? 1 : (inner_h > TL_OUT_H ? TL_OUT_H : inner_h);
    } else {
        inner_w = width * TL_OUT_H / height;
        inner_w = inner_w < 1 ? 1 : (inner_w > TL_OUT_W ? TL_OUT_W : inner_w);
        inner_h = TL_OUT_H;
    }
    for (i = 0; i < TL_OUT_W * TL_OUT_H * 3; i++) {
        tl_resized[i] = 0;
    }
    tl_resample(rgb888, width, height, 0.0, 0.0, (double)width, (double)height, inner_w, inner_h,
                (TL_OUT_W - inner_w) / 2, (TL_OUT_H - inner_h) / 2);"#
            .to_owned(),
    };
    format!(
        r#"
int tinylab_dsp_image(const uint8_t *rgb888, size_t width, size_t height, float *features)
{{
    if (rgb888 == NULL || features == NULL) {{
        return TINYLAB_ERR_NULL;
    }}
    if (width == 0 || height == 0) {{
        return TINYLAB_ERR_IMAGE_SIZE;
    }}
    {{
{body}
    }}
    tl_colour(features);
    return 0;
}}
"#
    )
}

/// `tinylab_dsp`: packed `0xRRGGBB` floats at the model's size, unpacked then coloured.
const PACKED_C: &str = r#"
int tinylab_dsp(const float *raw, size_t len, float *features)
{
    size_t i;
    if (raw == NULL || features == NULL) {
        return TINYLAB_ERR_NULL;
    }
    if (len != TINYLAB_RAW_LEN) {
        return TINYLAB_ERR_LEN;
    }
    for (i = 0; i < TINYLAB_RAW_LEN; i++) {
        float v = raw[i];
        uint32_t packed;
        if (!(v >= 0.0f && v <= 16777215.0f)) {
            return TINYLAB_ERR_INPUT;
        }
        packed = (uint32_t)v;
        if ((float)packed != v) {
            return TINYLAB_ERR_INPUT;
        }
        tl_resized[i * 3] = (uint8_t)((packed >> 16) & 0xFFu);
        tl_resized[i * 3 + 1] = (uint8_t)((packed >> 8) & 0xFFu);
        tl_resized[i * 3 + 2] = (uint8_t)(packed & 0xFFu);
    }
    tl_colour(features);
    return 0;
}
"#;
