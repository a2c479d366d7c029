//! Sliding windows: TensorFlow Lite's padding rules and the patch walk that convolution,
//! depthwise convolution and pooling share.
//!
//! For an input length `in`, kernel `k` and stride `s`:
//! - `valid`: `out = (in - k) / s + 1`, no padding;
//! - `same`: `out = ceil(in / s)`, total padding `max((out - 1)·s + k - in, 0)`, of which
//!   `total / 2` goes before and the rest (one more when odd) after, as TFLite and TensorFlow do.
//!
//! 1-D layers are the 2-D case with height 1. A *patch* is the `[kh, kw, c]` block of input under
//! one output pixel, flattened in that order, which is also the order of a filter's weights in
//! OHWI (and of the depthwise `[1, kh, kw, c]` kernel). The walk hands each output pixel the
//! in-bounds part of its patch as [`Span`]s: one run of whole pixels per kernel row, contiguous
//! in NHWC, so inner loops work on slices with no per-element bounds logic.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// How a window treats the border (TensorFlow Lite's two padding modes).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// Pad with zeros (or ignore, for pooling) so that `out = ceil(in / stride)`.
    #[default]
    Same,
    /// No padding: windows lie wholly inside the input.
    Valid,
}

impl Padding {
    /// `(output length, padding before)` for one axis, or `None` when the window does not fit
    /// (`valid` with `kernel > input`) or a size is zero.
    pub fn output_and_pad(
        self,
        input: usize,
        kernel: usize,
        stride: usize,
    ) -> Option<(usize, usize)> {
        if input == 0 || kernel == 0 || stride == 0 {
            return None;
        }
        match self {
            Padding::Same => {
                let out = input.div_ceil(stride);
                let total = ((out - 1) * stride + kernel).saturating_sub(input);
                Some((out, total / 2))
            }
            Padding::Valid => (kernel <= input).then(|| ((input - kernel) / stride + 1, 0)),
        }
    }

    /// The word used in layer names.
    pub fn word(self) -> &'static str {
        match self {
            Padding::Same => "same",
            Padding::Valid => "valid",
        }
    }

    /// Serde default for convolutions.
    pub(crate) fn same() -> Padding {
        Padding::Same
    }

    /// Serde default for pooling (Keras's default too).
    pub(crate) fn valid() -> Padding {
        Padding::Valid
    }
}

/// The in-bounds part of one kernel row of a patch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    /// Offset in the flattened `[kh, kw, c]` patch (and in a filter's weights).
    pub patch: usize,
    /// Offset in the flattened NHWC input batch.
    pub input: usize,
    /// Number of values (whole pixels: a multiple of `c`).
    pub len: usize,
}

/// Window geometry of one convolution or pooling layer on one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Windows {
    /// Batch size.
    pub n: usize,
    /// Input height, width, channels.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Input channels.
    pub c: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
    /// Rows of padding above.
    pub pad_top: usize,
    /// Columns of padding on the left.
    pub pad_left: usize,
}

impl Windows {
    /// Geometry for an `[h, w, c]` input, or `None` when the windows do not fit.
    pub fn new(
        n: usize,
        [h, w, c]: [usize; 3],
        [kh, kw]: [usize; 2],
        [sh, sw]: [usize; 2],
        padding: Padding,
    ) -> Option<Windows> {
        let (oh, pad_top) = padding.output_and_pad(h, kh, sh)?;
        let (ow, pad_left) = padding.output_and_pad(w, kw, sw)?;
        (c > 0).then_some(Windows {
            n,
            h,
            w,
            c,
            kh,
            kw,
            sh,
            sw,
            oh,
            ow,
            pad_top,
            pad_left,
        })
    }

    /// Values in one patch: `kh · kw · c`.
    pub fn patch_len(&self) -> usize {
        self.kh * self.kw * self.c
    }

    /// Output pixels in the batch: `n · oh · ow`.
    pub fn pixels(&self) -> usize {
        self.n * self.oh * self.ow
    }

    /// Values in the input batch: `n · h · w · c`.
    pub fn input_len(&self) -> usize {
        self.n * self.h * self.w * self.c
    }

    /// True when every patch is exactly one input pixel (1×1 kernel, stride 1, no padding):
    /// the input already is its own patch matrix.
    pub fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.sh == 1 && self.sw == 1
    }

    /// Calls `visit(pixel, spans)` for every output pixel in NHWC order, with the in-bounds runs
    /// of its patch (padding is simply absent).
    pub fn for_each_window(&self, mut visit: impl FnMut(usize, &[Span])) {
        let &Windows {
            n,
            h,
            w,
            c,
            kh,
            kw,
            sh,
            sw,
            oh,
            ow,
            pad_top,
            pad_left,
        } = self;
        let mut spans = Vec::with_capacity(kh);
        let mut pixel = 0;
        for image in 0..n {
            let image_base = image * h * w * c;
            for oy in 0..oh {
                // Rows of the kernel that fall inside the image.
                let top = oy * sh;
                let ky_lo = pad_top.saturating_sub(top);
                let ky_hi = kh.min((h + pad_top).saturating_sub(top));
                for ox in 0..ow {
                    let left = ox * sw;
                    let kx_lo = pad_left.saturating_sub(left);
                    let kx_hi = kw.min((w + pad_left).saturating_sub(left));
                    spans.clear();
                    if kx_lo < kx_hi {
                        let ix = left + kx_lo - pad_left;
                        for ky in ky_lo..ky_hi {
                            let iy = top + ky - pad_top;
                            spans.push(Span {
                                patch: (ky * kw + kx_lo) * c,
                                input: image_base + (iy * w + ix) * c,
                                len: (kx_hi - kx_lo) * c,
                            });
                        }
                    }
                    visit(pixel, &spans);
                    pixel += 1;
                }
            }
        }
    }

    /// Calls `visit(patch_range, input_range)` for every in-bounds run of every patch: where
    /// it lies in the patch matrix `[pixels, kh·kw·c]` and where in the input batch.
    fn for_each_run(&self, mut visit: impl FnMut(Range<usize>, Range<usize>)) {
        let patch_len = self.patch_len();
        self.for_each_window(|pixel, spans| {
            for span in spans {
                let start = pixel * patch_len + span.patch;
                visit(start..start + span.len, span.input..span.input + span.len);
            }
        });
    }

    /// The patch matrix `[pixels, kh·kw·c]` of `x` (im2col), zeros where the patch is padding.
    /// Rows are written front to back, so no value is written twice.
    pub fn im2col(&self, x: &[f32]) -> Vec<f32> {
        let patch_len = self.patch_len();
        let mut cols = Vec::with_capacity(self.pixels() * patch_len);
        self.for_each_window(|_, spans| {
            let row = cols.len();
            for span in spans {
                cols.resize(row + span.patch, 0.0);
                cols.extend_from_slice(
                    x.get(span.input..span.input + span.len).unwrap_or_default(),
                );
            }
            cols.resize(row + patch_len, 0.0);
        });
        cols
    }

    /// The adjoint of [`Windows::im2col`]: adds every patch row of `cols` back onto the input
    /// positions it was copied from (col2im), giving d(loss)/d(input) `[n, h, w, c]`.
    pub fn col2im(&self, cols: &[f32]) -> Vec<f32> {
        let mut dx = vec![0.0; self.input_len()];
        self.for_each_run(|patch, input| {
            if let (Some(src), Some(dst)) = (cols.get(patch), dx.get_mut(input)) {
                dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
            }
        });
        dx
    }
}
