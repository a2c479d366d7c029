//! Data augmentation: random changes applied to each training sample of each batch, drawn from
//! the training run's seeded RNG, so a run replays exactly. Everything is off by default.
//!
//! Which changes apply depends on the sample's [`Layout`]:
//! - any layout: Gaussian noise (`noise_std`);
//! - audio features `[frames, coefficients]` (MFCC, MFE, spectrogram): a time shift by up to
//!   `time_shift_max` frames either way (frames shifted in are 0), and SpecAugment masks
//!   (Park et al. 2019) — `time_masks` bands of up to `time_mask_width` whole frames and
//!   `freq_masks` bands of up to `freq_mask_width` coefficients, set to 0;
//! - images `[height, width, channels]` with values in 0..1 (TinyLab's image block): a
//!   horizontal flip half of the time, a random crop keeping a share in
//!   `[1 − crop_share, 1]` of each side, resized back bilinearly (half-pixel centres, like
//!   `tf.image.resize`), and a brightness shift by up to ± `brightness`, clipped to 0..1 (what
//!   Edge Impulse's image augmentation does: `random_brightness` then `clip_by_value`).
//!
//! The order is shift, masks, flip, crop, brightness, noise. Only enabled changes draw random
//! numbers. [`Augmentation::check`] refuses a change that the layout cannot take, so a user who
//! asks for time masks on 63 motion features is told so instead of silently getting nothing.

use serde::{Deserialize, Serialize};

use super::NnError;
use crate::rng::Rng;

/// Augmentation settings (`[training.augmentation]`); the default changes nothing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Augmentation {
    /// Standard deviation of Gaussian noise added to every value (0 = off).
    pub noise_std: f32,
    /// Audio: shift by a uniform whole number of frames in ± this (0 = off).
    pub time_shift_max: usize,
    /// Audio: how many time masks per sample (0 = off).
    pub time_masks: usize,
    /// Audio: a time mask covers a uniform 0..=this many frames.
    pub time_mask_width: usize,
    /// Audio: how many frequency masks per sample (0 = off).
    pub freq_masks: usize,
    /// Audio: a frequency mask covers a uniform 0..=this many coefficients.
    pub freq_mask_width: usize,
    /// Images: mirror left–right with probability ½.
    pub flip_horizontal: bool,
    /// Images: crop away up to this share of each side, then resize back (0 = off, < 1).
    pub crop_share: f32,
    /// Images: add a uniform shift in ± this to every value, then clip to 0..1 (0 = off).
    pub brightness: f32,
}

impl Default for Augmentation {
    fn default() -> Self {
        Self {
            noise_std: 0.0,
            time_shift_max: 0,
            time_masks: 0,
            time_mask_width: 5,
            freq_masks: 0,
            freq_mask_width: 2,
            flip_horizontal: false,
            crop_share: 0.0,
            brightness: 0.0,
        }
    }
}

/// How a sample's values are laid out, which decides the changes that make sense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A plain feature vector (e.g. spectral features of motion).
    Flat {
        /// Values per sample.
        len: usize,
    },
    /// Audio features, row-major `[frames, coefficients]`.
    Spectrogram {
        /// Time frames.
        frames: usize,
        /// Coefficients (or frequency bins) per frame.
        coefficients: usize,
    },
    /// An image, row-major `[height, width, channels]`.
    Image {
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
        /// Channels (1 grayscale, 3 RGB).
        channels: usize,
    },
}

impl Layout {
    /// The layout of a per-sample shape: 2-D is audio features, 3-D an image, anything else
    /// a flat vector.
    pub fn from_shape(shape: &[usize]) -> Self {
        match *shape {
            [frames, coefficients] => Self::Spectrogram {
                frames,
                coefficients,
            },
            [height, width, channels] => Self::Image {
                height,
                width,
                channels,
            },
            _ => Self::Flat {
                len: shape.iter().product(),
            },
        }
    }

    /// Values per sample.
    pub fn len(&self) -> usize {
        match *self {
            Self::Flat { len } => len,
            Self::Spectrogram {
                frames,
                coefficients,
            } => frames * coefficients,
            Self::Image {
                height,
                width,
                channels,
            } => height * width * channels,
        }
    }

    /// Whether a sample has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Augmentation {
    /// Whether no change is enabled.
    pub fn is_off(&self) -> bool {
        self.noise_std == 0.0
            && !self.uses_audio_layout()
            && !self.flip_horizontal
            && self.crop_share == 0.0
            && self.brightness == 0.0
    }

    fn uses_audio_layout(&self) -> bool {
        self.time_shift_max > 0 || self.time_masks > 0 || self.freq_masks > 0
    }

    fn uses_image_layout(&self) -> bool {
        self.flip_horizontal || self.crop_share > 0.0 || self.brightness > 0.0
    }

    /// Rejects settings out of range, or changes that `layout` cannot take, in words that say
    /// what to change.
    pub fn check(&self, layout: &Layout) -> Result<(), NnError> {
        let amounts = [
            ("noise_std", self.noise_std, f32::INFINITY),
            ("crop_share", self.crop_share, 1.0),
            ("brightness", self.brightness, f32::INFINITY),
        ];
        for (name, value, below) in amounts {
            if !(value >= 0.0 && value < below) {
                return Err(NnError::Data(format!(
                    "augmentation {name} is {value}; it must be at least 0 and below {below}"
                )));
            }
        }
        if self.uses_audio_layout() && !matches!(layout, Layout::Spectrogram { .. }) {
            return Err(NnError::Data(format!(
                "time shift and time/frequency masks need audio features shaped [frames, \
                 coefficients]; these samples are {layout:?}: turn them off"
            )));
        }
        if self.uses_image_layout() && !matches!(layout, Layout::Image { .. }) {
            return Err(NnError::Data(format!(
                "flip, crop and brightness need images shaped [height, width, channels]; \
                 these samples are {layout:?}: turn them off"
            )));
        }
        Ok(())
    }

    /// Applies the enabled changes to every sample of `batch` (row-major, `layout.len()` values
    /// a sample).
    pub fn apply_batch(&self, batch: &mut [f32], layout: &Layout, rng: &mut Rng) {
        if self.is_off() || layout.is_empty() {
            return;
        }
        for sample in batch.chunks_exact_mut(layout.len()) {
            self.apply(sample, layout, rng);
        }
    }

    /// Applies the enabled changes to one sample (one of another length than `layout` says is
    /// left unchanged).
    pub fn apply(&self, sample: &mut [f32], layout: &Layout, rng: &mut Rng) {
        if layout.is_empty() || sample.len() != layout.len() {
            return;
        }
        match *layout {
            Layout::Spectrogram {
                frames,
                coefficients,
            } => {
                if self.time_shift_max > 0 {
                    let shift = rng.below(2 * self.time_shift_max + 1) as isize
                        - self.time_shift_max as isize;
                    time_shift(sample, coefficients, shift);
                }
                for _ in 0..self.time_masks {
                    let (start, width) = band(frames, self.time_mask_width, rng);
                    for frame in sample
                        .chunks_exact_mut(coefficients)
                        .skip(start)
                        .take(width)
                    {
                        frame.fill(0.0);
                    }
                }
                for _ in 0..self.freq_masks {
                    let (start, width) = band(coefficients, self.freq_mask_width, rng);
                    for frame in sample.chunks_exact_mut(coefficients) {
                        frame
                            .iter_mut()
                            .skip(start)
                            .take(width)
                            .for_each(|v| *v = 0.0);
                    }
                }
            }
            Layout::Image {
                height,
                width,
                channels,
            } => {
                if self.flip_horizontal && rng.next_f64() < 0.5 {
                    for row in sample.chunks_exact_mut(width * channels) {
                        flip_row(row, channels);
                    }
                }
                if self.crop_share > 0.0 {
                    let keep = 1.0 - rng.range((0.0, f64::from(self.crop_share)));
                    crop_and_resize(sample, [height, width, channels], keep, rng);
                }
                if self.brightness > 0.0 {
                    let delta =
                        rng.range((-f64::from(self.brightness), f64::from(self.brightness))) as f32;
                    sample
                        .iter_mut()
                        .for_each(|v| *v = (*v + delta).clamp(0.0, 1.0));
                }
            }
            Layout::Flat { .. } => {}
        }
        if self.noise_std > 0.0 {
            for v in sample.iter_mut() {
                *v += self.noise_std * rng.next_gaussian() as f32;
            }
        }
    }
}

/// A random band of `0..=max_width` positions (at most `size`) and its start.
fn band(size: usize, max_width: usize, rng: &mut Rng) -> (usize, usize) {
    let width = rng.below(max_width.min(size) + 1);
    let start = rng.below(size - width + 1);
    (start, width)
}

/// Moves frames `shift` positions later (earlier when negative); frames shifted in are 0.
fn time_shift(sample: &mut [f32], coefficients: usize, shift: isize) {
    let offset = shift.unsigned_abs() * coefficients;
    if offset >= sample.len() {
        sample.fill(0.0);
    } else if shift > 0 {
        sample.copy_within(..sample.len() - offset, offset);
        sample.iter_mut().take(offset).for_each(|v| *v = 0.0);
    } else if shift < 0 {
        sample.copy_within(offset.., 0);
        sample.iter_mut().rev().take(offset).for_each(|v| *v = 0.0);
    }
}

/// Reverses the order of the pixels of one image row, keeping each pixel's channels in order.
fn flip_row(row: &mut [f32], channels: usize) {
    let pixels = row.len() / channels.max(1);
    for left in 0..pixels / 2 {
        let right = pixels - 1 - left;
        for c in 0..channels {
            row.swap(left * channels + c, right * channels + c);
        }
    }
}

/// Crops a random window of `keep` × each side and resizes it back to the full size
/// (bilinear, half-pixel centres, edge pixels repeated).
fn crop_and_resize(
    sample: &mut [f32],
    [height, width, channels]: [usize; 3],
    keep: f64,
    rng: &mut Rng,
) {
    let crop_h = ((height as f64 * keep).round() as usize).clamp(1, height.max(1));
    let crop_w = ((width as f64 * keep).round() as usize).clamp(1, width.max(1));
    let top = rng.below(height - crop_h + 1);
    let left = rng.below(width - crop_w + 1);
    if crop_h == height && crop_w == width {
        return;
    }
    let source = sample.to_vec();
    let pixel = |y: usize, x: usize, c: usize| -> f32 {
        source
            .get(((top + y) * width + left + x) * channels + c)
            .copied()
            .unwrap_or(0.0)
    };
    // Source coordinate of an output pixel centre, and its two neighbours and weight.
    let taps = |out: usize, out_size: usize, in_size: usize| -> (usize, usize, f32) {
        let pos = ((out as f64 + 0.5) * in_size as f64 / out_size as f64 - 0.5).max(0.0);
        let low = (pos.floor() as usize).min(in_size - 1);
        let high = (low + 1).min(in_size - 1);
        (low, high, (pos - low as f64) as f32)
    };
    for (y, row) in sample.chunks_exact_mut(width * channels).enumerate() {
        let (y0, y1, wy) = taps(y, height, crop_h);
        for (x, out) in row.chunks_exact_mut(channels).enumerate() {
            let (x0, x1, wx) = taps(x, width, crop_w);
            for (c, value) in out.iter_mut().enumerate() {
                let top_row = lerp(pixel(y0, x0, c), pixel(y0, x1, c), wx);
                let bottom_row = lerp(pixel(y1, x0, c), pixel(y1, x1, c), wx);
                *value = lerp(top_row, bottom_row, wy);
            }
        }
    }
}

/// `a + (b − a)·t`: exactly `a` when `a == b`, so flat regions stay flat.
fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}
