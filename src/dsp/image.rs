//! Edge Impulse's image pipeline: the image input block's resize to the model's `width × height`
//! followed by the "Image" processing block, which turns RGB8 pixels into 0..1 features.
//!
//! Shapes: an RGB8 image `H × W × 3` (row-major, bytes) → resized RGB8 `h × w × 3` →
//! features `[h, w, 3]` for `RGB` or `[h, w, 1]` for `Grayscale`, values in 0..1, row-major.
//!
//! **Features** (Edge Impulse's `image/dsp.py`, implementation version 1), per pixel `(R, G, B)`:
//! - `RGB`: `R/255, G/255, B/255`;
//! - `Grayscale`: ITU-R 601-2 luma on 0..255 values, scaled to 0..1, computed in float64 in this
//!   order: `(0.299/255)·R + (0.587/255)·G + (0.114/255)·B`.
//!
//! The features stay floats in 0..1 as Edge Impulse gives them; quantizing a model's input to
//! int8 (`q = clamp(round(x / scale) + zero_point, −128, 127)`) belongs to the quantization
//! module, which knows the model's input scale and zero point.
//!
//! **Resize** (Edge Impulse does this in its input block, not in `dsp.py`, and does not publish
//! the code; the geometry follows its documented modes and its Linux SDK's
//! `get_features_from_image_with_studio_mode`):
//! - `squash`: the whole image is scaled to `w × h`; the aspect ratio is not kept.
//! - `fit-short` ("fit shortest axis"): scale so the short side fits, then keep the centre `w × h`
//!   (the long side is cropped equally on both ends). Done as one resampling of the centred source
//!   rectangle of aspect `w : h` (fractional edges allowed), which equals scaling then cropping.
//! - `fit-long` ("fit longest axis"): scale so the long side fits (the other side becomes
//!   `⌊side · scale⌋`, at least 1 pixel), then centre it on a black `w × h` canvas (letterbox), as
//!   Edge Impulse's SDK pads with 0.
//!
//! Edge Impulse's own spellings `fit-shortest` and `fit-longest` are accepted too.
//!
//! Interpolation: bilinear, i.e. a separable triangle filter on pixel centres
//! (`x_src = x0 + (x_out + ½)·scale − ½`, edges clamped). When shrinking, the triangle is widened
//! by the shrink factor so every source pixel contributes (antialiasing): this is Pillow's
//! `Image.resize(.., BILINEAR)`, which the tests use as the reference. Sums are `f64` and rounded
//! once to the nearest byte (Pillow rounds after each pass, so it can differ by 1).

use super::{DspError, Features};
use serde::{Deserialize, Serialize};

/// The block's name, as in project files and `--set`.
pub const BLOCK: &str = "image";

/// The values `channels` accepts.
pub const CHANNELS: [&str; 2] = ["RGB", "Grayscale"];

/// The values `resize_mode` accepts (Edge Impulse's `fit-shortest` / `fit-longest` are accepted
/// as well and mean `fit-short` / `fit-long`).
pub const RESIZE_MODES: [&str; 3] = ["squash", "fit-short", "fit-long"];

/// Largest target side in pixels: far above the labs' 96 to 320 px, small enough to refuse typos.
pub const MAX_SIDE_PX: u32 = 4096;

/// An RGB8 image as decoded: `width × height` pixels, row-major, 3 bytes per pixel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageInput<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width · height · 3` bytes, row-major RGB8.
    pub rgb: &'a [u8],
}

/// The image input block's resize and the image processing block's colour depth, with the labs'
/// defaults (96 × 96, squash, RGB).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageSettings {
    /// Colour depth of the features: `RGB` (3 values per pixel) or `Grayscale` (1).
    pub channels: String,
    /// Model input width in pixels.
    pub width: u32,
    /// Model input height in pixels.
    pub height: u32,
    /// How the image is brought to `width × height`: `squash`, `fit-short` or `fit-long`.
    pub resize_mode: String,
}

impl Default for ImageSettings {
    fn default() -> Self {
        Self {
            channels: "RGB".to_owned(),
            width: 96,
            height: 96,
            resize_mode: "squash".to_owned(),
        }
    }
}

/// The block's intermediates for the Features panel.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSteps {
    /// The image after resize and crop or letterbox, before the colour conversion: `width ·
    /// height · 3` bytes of RGB8, for the preview.
    pub resized_rgb: Vec<u8>,
    /// Width of `resized_rgb` in pixels (the model's input width).
    pub width: u32,
    /// Height of `resized_rgb` in pixels (the model's input height).
    pub height: u32,
    /// The features, as [`features`] returns them.
    pub features: Features,
}

/// The grayscale weights applied to `R`, `G`, `B` bytes (ITU-R 601-2 luma scaled to 0..1), also
/// baked into the C library export.
pub(crate) const GRAY_WEIGHTS: [f64; 3] = [0.299 / 255.0, 0.587 / 255.0, 0.114 / 255.0];

/// Colour depth of the features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Channels {
    Rgb,
    Grayscale,
}

/// How an image is brought to the model's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResizeMode {
    Squash,
    FitShort,
    FitLong,
}

pub(crate) fn parse_channels(channels: &str) -> Result<Channels, DspError> {
    match channels {
        "RGB" => Ok(Channels::Rgb),
        "Grayscale" => Ok(Channels::Grayscale),
        other => Err(DspError::BadSetting {
            name: "channels".to_owned(),
            value: other.to_owned(),
            why: format!("must be one of {}", CHANNELS.join(", ")),
        }),
    }
}

pub(crate) fn parse_resize_mode(resize_mode: &str) -> Result<ResizeMode, DspError> {
    match resize_mode {
        "squash" => Ok(ResizeMode::Squash),
        "fit-short" | "fit-shortest" => Ok(ResizeMode::FitShort),
        "fit-long" | "fit-longest" => Ok(ResizeMode::FitLong),
        other => Err(DspError::BadSetting {
            name: "resize_mode".to_owned(),
            value: other.to_owned(),
            why: format!("must be one of {}", RESIZE_MODES.join(", ")),
        }),
    }
}

fn check_side(name: &str, side_px: u32) -> Result<usize, DspError> {
    if side_px == 0 || side_px > MAX_SIDE_PX {
        return Err(DspError::BadSetting {
            name: name.to_owned(),
            value: side_px.to_string(),
            why: format!("must be 1 to {MAX_SIDE_PX} pixels"),
        });
    }
    Ok(side_px as usize)
}

/// Refuses an empty image or one whose byte count is not `width · height · 3`.
fn check_image(image: &ImageInput) -> Result<(usize, usize), DspError> {
    let (width, height) = (image.width as usize, image.height as usize);
    let wrong = |expected: String| DspError::WrongInput {
        block: BLOCK.to_owned(),
        expected,
    };
    if width == 0 || height == 0 || image.rgb.is_empty() {
        return Err(wrong(format!(
            "a non-empty image, but got {width} × {height} pixels and {} bytes",
            image.rgb.len()
        )));
    }
    let expected_len = width.checked_mul(height).and_then(|n| n.checked_mul(3));
    if expected_len != Some(image.rgb.len()) {
        return Err(wrong(format!(
            "{width} × {height} × 3 bytes of RGB8, but got {} bytes",
            image.rgb.len()
        )));
    }
    Ok((width, height))
}

/// The shape of the features `settings` give, `[height, width, 1 or 3]`, without an image.
pub fn output_shape(settings: &ImageSettings) -> Result<Vec<usize>, DspError> {
    let depth = match parse_channels(&settings.channels)? {
        Channels::Rgb => 3,
        Channels::Grayscale => 1,
    };
    Ok(vec![
        check_side("height", settings.height)?,
        check_side("width", settings.width)?,
        depth,
    ])
}

/// The image block on one image: resize to `settings.width × settings.height`, then features in
/// 0..1 of shape `[height, width, channels]` (no names).
pub fn features(settings: &ImageSettings, image: &ImageInput) -> Result<Features, DspError> {
    steps(settings, image).map(|steps| steps.features)
}

/// [`features`] with the resized image kept for the preview.
pub fn steps(settings: &ImageSettings, image: &ImageInput) -> Result<ImageSteps, DspError> {
    let ImageSettings {
        channels,
        width,
        height,
        resize_mode,
    } = settings;
    parse_channels(channels)?;
    let resized_rgb = resize(image, *width, *height, resize_mode)?;
    let features = features_from_pixels(channels, *width, *height, &resized_rgb)?;
    Ok(ImageSteps {
        resized_rgb,
        width: *width,
        height: *height,
        features,
    })
}

/// Edge Impulse's image processing block alone (its `dsp.py`): RGB8 pixels already at the model's
/// size to features in 0..1 of shape `[height, width, 1 or 3]`.
pub fn features_from_pixels(
    channels: &str,
    width: u32,
    height: u32,
    rgb: &[u8],
) -> Result<Features, DspError> {
    let channels = parse_channels(channels)?;
    let (width, height) = check_image(&ImageInput { width, height, rgb })?;
    let (values, depth): (Vec<f32>, usize) = match channels {
        Channels::Rgb => (
            rgb.iter().map(|&v| (f64::from(v) / 255.0) as f32).collect(),
            3,
        ),
        Channels::Grayscale => (
            rgb.chunks_exact(3)
                .map(|pixel| match *pixel {
                    [r, g, b] => {
                        let [wr, wg, wb] = GRAY_WEIGHTS;
                        (wr * f64::from(r) + wg * f64::from(g) + wb * f64::from(b)) as f32
                    }
                    _ => 0.0,
                })
                .collect(),
            1,
        ),
    };
    Ok(Features {
        names: Vec::new(),
        shape: vec![height, width, depth],
        values,
    })
}

/// The input block's resize: `image` brought to `width × height` RGB8 by `resize_mode` (see the
/// module doc for the modes and the interpolation).
pub fn resize(
    image: &ImageInput,
    width: u32,
    height: u32,
    resize_mode: &str,
) -> Result<Vec<u8>, DspError> {
    let mode = parse_resize_mode(resize_mode)?;
    let out_w = check_side("width", width)?;
    let out_h = check_side("height", height)?;
    let (in_w, in_h) = check_image(image)?;
    let full = SourceRect {
        x0: 0.0,
        y0: 0.0,
        x1: in_w as f64,
        y1: in_h as f64,
    };
    let source = Source {
        rgb: image.rgb,
        width: in_w,
        height: in_h,
    };
    match mode {
        ResizeMode::Squash => Ok(resample(&source, &full, out_w, out_h)),
        ResizeMode::FitShort => {
            let rect = fit_short_rect(in_w, in_h, out_w, out_h);
            Ok(resample(&source, &rect, out_w, out_h))
        }
        ResizeMode::FitLong => {
            let (inner_w, inner_h, left, top) = letterbox(in_w, in_h, out_w, out_h);
            let inner = resample(&source, &full, inner_w, inner_h);
            let mut canvas = vec![0u8; out_w * out_h * 3];
            for (row, inner_row) in canvas
                .chunks_exact_mut(out_w * 3)
                .skip(top)
                .zip(inner.chunks_exact(inner_w * 3))
            {
                for (dst, &src) in row.iter_mut().skip(left * 3).zip(inner_row) {
                    *dst = src;
                }
            }
            Ok(canvas)
        }
    }
}

/// The part of an `in_w × in_h` image the model sees at `out_w × out_h` in `resize_mode`, in
/// pixel-edge coordinates `[x0, y0, x1, y1]`: the whole image for `squash` and `fit-long`
/// (letterboxed), the centred rectangle of aspect `out_w : out_h` for `fit-short`. The camera
/// preview draws it.
pub fn crop_rect(
    in_w: u32,
    in_h: u32,
    out_w: u32,
    out_h: u32,
    resize_mode: &str,
) -> Result<[f64; 4], DspError> {
    let mode = parse_resize_mode(resize_mode)?;
    let (out_w, out_h) = (check_side("width", out_w)?, check_side("height", out_h)?);
    let (in_w, in_h) = (in_w.max(1) as usize, in_h.max(1) as usize);
    let rect = match mode {
        ResizeMode::FitShort => fit_short_rect(in_w, in_h, out_w, out_h),
        ResizeMode::Squash | ResizeMode::FitLong => SourceRect {
            x0: 0.0,
            y0: 0.0,
            x1: in_w as f64,
            y1: in_h as f64,
        },
    };
    Ok([rect.x0, rect.y0, rect.x1, rect.y1])
}

/// `fit-long`'s letterbox: the scaled image's size `(inner_w, inner_h)` and its offset `(left,
/// top)` on the `out_w × out_h` canvas.
fn letterbox(in_w: usize, in_h: usize, out_w: usize, out_h: usize) -> (usize, usize, usize, usize) {
    let (inner_w, inner_h) = if in_w * out_h >= in_h * out_w {
        (out_w, (in_h * out_w / in_w).clamp(1, out_h))
    } else {
        ((in_w * out_h / in_h).clamp(1, out_w), out_h)
    };
    (
        inner_w,
        inner_h,
        (out_w - inner_w) / 2,
        (out_h - inner_h) / 2,
    )
}

/// Where a point of the image file lands in the model's input after the resize, per axis
/// `input = file · scale + offset` (pixel-edge coordinates): the geometry of [`resize`], for
/// bounding boxes and detected centroids.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputMapping {
    /// Input pixels per file pixel, across.
    pub scale_x: f64,
    /// Input pixels per file pixel, down.
    pub scale_y: f64,
    /// Input x of the file's left edge.
    pub offset_x: f64,
    /// Input y of the file's top edge.
    pub offset_y: f64,
    /// Model input width in pixels.
    pub input_width: u32,
    /// Model input height in pixels.
    pub input_height: u32,
}

impl InputMapping {
    /// A file point in input pixels.
    pub fn to_input(&self, x: f64, y: f64) -> (f64, f64) {
        (
            x * self.scale_x + self.offset_x,
            y * self.scale_y + self.offset_y,
        )
    }

    /// An input point in file pixels (the inverse of [`InputMapping::to_input`]).
    pub fn to_file(&self, x: f64, y: f64) -> (f64, f64) {
        (
            (x - self.offset_x) / self.scale_x,
            (y - self.offset_y) / self.scale_y,
        )
    }

    /// Whether an input point lies on the model's input (edges included).
    pub fn inside_input(&self, x: f64, y: f64) -> bool {
        x >= 0.0
            && y >= 0.0
            && x <= f64::from(self.input_width)
            && y <= f64::from(self.input_height)
    }
}

/// The mapping of an `in_w × in_h` image into the model's `out_w × out_h` input in
/// `resize_mode` ([`resize`]'s geometry: the source rectangle for `squash` and `fit-short`, the
/// letterbox for `fit-long`).
pub fn input_mapping(
    in_w: u32,
    in_h: u32,
    out_w: u32,
    out_h: u32,
    resize_mode: &str,
) -> Result<InputMapping, DspError> {
    let mode = parse_resize_mode(resize_mode)?;
    let (out_wu, out_hu) = (check_side("width", out_w)?, check_side("height", out_h)?);
    let (in_wu, in_hu) = (in_w.max(1) as usize, in_h.max(1) as usize);
    let (scale_x, scale_y, offset_x, offset_y) = match mode {
        ResizeMode::FitLong => {
            let (inner_w, inner_h, left, top) = letterbox(in_wu, in_hu, out_wu, out_hu);
            (
                inner_w as f64 / in_wu as f64,
                inner_h as f64 / in_hu as f64,
                left as f64,
                top as f64,
            )
        }
        ResizeMode::Squash | ResizeMode::FitShort => {
            let [x0, y0, x1, y1] = crop_rect(in_w, in_h, out_w, out_h, resize_mode)?;
            let scale_x = out_wu as f64 / (x1 - x0);
            let scale_y = out_hu as f64 / (y1 - y0);
            (scale_x, scale_y, -x0 * scale_x, -y0 * scale_y)
        }
    };
    Ok(InputMapping {
        scale_x,
        scale_y,
        offset_x,
        offset_y,
        input_width: out_w,
        input_height: out_h,
    })
}

/// `fit-short`'s source rectangle: the centred part of aspect `out_w : out_h`.
fn fit_short_rect(in_w: usize, in_h: usize, out_w: usize, out_h: usize) -> SourceRect {
    let full = SourceRect {
        x0: 0.0,
        y0: 0.0,
        x1: in_w as f64,
        y1: in_h as f64,
    };
    // Compare aspect ratios exactly in integers: in_w / in_h against out_w / out_h.
    let (wide, tall) = (in_w * out_h, in_h * out_w);
    if wide > tall {
        let crop_w = (in_h * out_w) as f64 / out_h as f64;
        let x0 = (in_w as f64 - crop_w) / 2.0;
        SourceRect {
            x0,
            x1: x0 + crop_w,
            ..full
        }
    } else if tall > wide {
        let crop_h = (in_w * out_h) as f64 / out_w as f64;
        let y0 = (in_h as f64 - crop_h) / 2.0;
        SourceRect {
            y0,
            y1: y0 + crop_h,
            ..full
        }
    } else {
        full
    }
}

/// A checked RGB8 image.
struct Source<'a> {
    rgb: &'a [u8],
    width: usize,
    height: usize,
}

/// A rectangle of the source in pixel-edge coordinates (`0..width`, `0..height`), fractional
/// edges allowed.
#[derive(Clone, Copy, Debug)]
struct SourceRect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// The source pixels one output pixel reads along one axis, and their weights (summing to 1).
struct Taps {
    first: usize,
    weights: Vec<f64>,
}

/// Triangle-filter taps for `out_size` output pixels covering `start..end` of an axis of
/// `in_size` pixels. The filter's radius is one source pixel, widened by the shrink factor when
/// shrinking.
fn axis_taps(in_size: usize, start: f64, end: f64, out_size: usize) -> Vec<Taps> {
    let scale = (end - start) / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale;
    (0..out_size)
        .map(|out| {
            let center = start + (out as f64 + 0.5) * scale;
            // Pixels whose centre lies strictly inside the filter's support.
            let first =
                ((center - support + 0.5).floor().max(0.0) as usize).min(in_size.saturating_sub(1));
            let end = ((center + support + 0.5).floor().max(0.0) as usize)
                .min(in_size)
                .max(first + 1);
            let mut weights: Vec<f64> = (first..end)
                .map(|i| {
                    let distance = (i as f64 + 0.5 - center) / filter_scale;
                    (1.0 - distance.abs()).max(0.0)
                })
                .collect();
            let sum: f64 = weights.iter().sum();
            if sum > 0.0 {
                weights.iter_mut().for_each(|w| *w /= sum);
            } else {
                // Unreachable for rectangles inside the image; the nearest pixel is a safe answer.
                weights = vec![1.0];
            }
            Taps { first, weights }
        })
        .collect()
}

/// Resamples `rect` of `source` to `out_w × out_h` RGB8: a horizontal pass into `f64` rows, a
/// vertical pass, one rounding.
fn resample(source: &Source, rect: &SourceRect, out_w: usize, out_h: usize) -> Vec<u8> {
    let x_taps = axis_taps(source.width, rect.x0, rect.x1, out_w);
    let y_taps = axis_taps(source.height, rect.y0, rect.y1, out_h);
    // Only the source rows some output row reads.
    let row_lo = y_taps.iter().map(|t| t.first).min().unwrap_or(0);
    let row_hi = y_taps
        .iter()
        .map(|t| t.first + t.weights.len())
        .max()
        .unwrap_or(0);
    let mut horizontal = vec![0.0f64; (row_hi - row_lo) * out_w * 3];
    for (src_row, dst_row) in source
        .rgb
        .chunks_exact(source.width * 3)
        .skip(row_lo)
        .zip(horizontal.chunks_exact_mut(out_w * 3))
    {
        for (taps, dst) in x_taps.iter().zip(dst_row.chunks_exact_mut(3)) {
            let mut acc = [0.0f64; 3];
            for (pixel, &w) in src_row.chunks_exact(3).skip(taps.first).zip(&taps.weights) {
                for (a, &v) in acc.iter_mut().zip(pixel) {
                    *a += w * f64::from(v);
                }
            }
            dst.copy_from_slice(&acc);
        }
    }
    let mut out = vec![0u8; out_w * out_h * 3];
    let mut acc = vec![0.0f64; out_w * 3];
    for (taps, out_row) in y_taps.iter().zip(out.chunks_exact_mut(out_w * 3)) {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (row, &w) in horizontal
            .chunks_exact(out_w * 3)
            .skip(taps.first - row_lo)
            .zip(&taps.weights)
        {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += w * v;
            }
        }
        for (dst, &a) in out_row.iter_mut().zip(&acc) {
            *dst = a.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_are_identity_at_the_same_size_and_bilinear_when_growing() {
        for taps in axis_taps(5, 0.0, 5.0, 5) {
            let nonzero: Vec<_> = taps.weights.iter().filter(|w| **w > 0.0).collect();
            assert_eq!(nonzero, [&1.0]);
        }
        let taps = axis_taps(2, 0.0, 2.0, 4);
        let weights: Vec<_> = taps
            .iter()
            .map(|t| {
                let mut full = vec![0.0; 2];
                for (k, w) in t.weights.iter().enumerate() {
                    full[t.first + k] += w;
                }
                full
            })
            .collect();
        assert_eq!(
            weights,
            [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
        );
    }
}
