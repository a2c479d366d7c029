//! The layer vocabulary: [`Layer`] as written in presets and saved models (hyper-parameters and
//! weights, serde), and the dispatch of shape inference, initialisation, forward and backward to
//! one file per layer concept.
//!
//! Every variant maps 1:1 to a TensorFlow Lite builtin op (FULLY_CONNECTED, CONV_2D,
//! DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN, RESHAPE, ADD, RELU, RELU6, SOFTMAX;
//! batch norm folds into the preceding op, dropout vanishes), and weights are stored in TFLite's
//! layouts so export copies them. Activations are batch first, channels last (NHWC).

pub mod activation;
pub mod batch_norm;
pub mod conv;
pub mod dense;
pub mod depthwise;
pub mod dropout;
pub mod geometry;
pub mod global_pool;
pub mod inverted_residual;
pub(crate) mod linalg;
pub mod pool;
pub mod residual;
pub mod shape;

pub use geometry::Padding;

use serde::{Deserialize, Serialize};

use crate::nn::{NnError, Tensor};
use crate::rng::Rng;

/// A layer as written in a preset or saved model: hyper-parameters plus weights.
///
/// Weights are flat vectors in TensorFlow Lite's layouts; presets leave them out and
/// [`crate::nn::Model::classifier`] initialises them, saved models carry them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Layer {
    /// Fully connected: `y = x · Wᵀ + b` on `[features]` (see `dense.rs`).
    Dense {
        /// Output features.
        units: usize,
        /// `[units, in]` (TFLite FULLY_CONNECTED; Keras's kernel transposed).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        weights: Vec<f32>,
        /// `[units]`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        bias: Vec<f32>,
    },
    /// 1-D convolution on `[W, C]` (TFLite runs it as CONV_2D with height 1; see `conv.rs`).
    Conv1d {
        /// Output channels.
        filters: usize,
        /// Kernel width.
        kernel_size: usize,
        /// Step between windows.
        #[serde(default = "one")]
        stride: usize,
        /// Border rule (default same).
        #[serde(default = "Padding::same")]
        padding: Padding,
        /// `[filters, k, in_c]`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        weights: Vec<f32>,
        /// `[filters]`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        bias: Vec<f32>,
    },
    /// 2-D convolution on `[H, W, C]` (CONV_2D; see `conv.rs`).
    Conv2d {
        /// Output channels.
        filters: usize,
        /// `[kh, kw]`.
        kernel_size: [usize; 2],
        /// `[sh, sw]` (default `[1, 1]`).
        #[serde(default = "ones")]
        stride: [usize; 2],
        /// Border rule (default same).
        #[serde(default = "Padding::same")]
        padding: Padding,
        /// OHWI `[filters, kh, kw, in_c]`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        weights: Vec<f32>,
        /// `[filters]`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        bias: Vec<f32>,
    },
    /// Depthwise 2-D convolution, depth multiplier 1 (DEPTHWISE_CONV_2D; see `depthwise.rs`).
    DepthwiseConv2d {
        /// `[kh, kw]`.
        kernel_size: [usize; 2],
        /// `[sh, sw]` (default `[1, 1]`).
        #[serde(default = "ones")]
        stride: [usize; 2],
        /// Border rule (default same).
        #[serde(default = "Padding::same")]
        padding: Padding,
        /// `[1, kh, kw, c]`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        weights: Vec<f32>,
        /// `[c]`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        bias: Vec<f32>,
    },
    /// Max pooling over `[W, C]` (see `pool.rs`).
    MaxPool1d {
        /// Window width.
        pool_size: usize,
        /// Step (default: the pool size).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<usize>,
        /// Border rule (default valid, like Keras).
        #[serde(default = "Padding::valid")]
        padding: Padding,
    },
    /// Average pooling over `[W, C]`; with same padding the mean is over the in-bounds values.
    AvgPool1d {
        /// Window width.
        pool_size: usize,
        /// Step (default: the pool size).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<usize>,
        /// Border rule (default valid).
        #[serde(default = "Padding::valid")]
        padding: Padding,
    },
    /// Max pooling over `[H, W, C]` (MAX_POOL_2D).
    MaxPool2d {
        /// `[ph, pw]`.
        pool_size: [usize; 2],
        /// Step (default: the pool size).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<[usize; 2]>,
        /// Border rule (default valid).
        #[serde(default = "Padding::valid")]
        padding: Padding,
    },
    /// Average pooling over `[H, W, C]` (AVERAGE_POOL_2D).
    AvgPool2d {
        /// `[ph, pw]`.
        pool_size: [usize; 2],
        /// Step (default: the pool size).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<[usize; 2]>,
        /// Border rule (default valid).
        #[serde(default = "Padding::valid")]
        padding: Padding,
    },
    /// Mean over every axis but the channels: `[.., C] → [C]` (MEAN; see `global_pool.rs`).
    GlobalAvgPool,
    /// Batch normalisation over the last axis (see `batch_norm.rs`); folded away for export.
    BatchNorm {
        /// Added to the variance (Keras default 1e-3).
        #[serde(default = "bn_epsilon")]
        epsilon: f32,
        /// Moving-statistics momentum (Keras default 0.99).
        #[serde(default = "bn_momentum")]
        momentum: f32,
        /// Scale `[c]` (trainable).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        gamma: Vec<f32>,
        /// Offset `[c]` (trainable).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        beta: Vec<f32>,
        /// Moving mean `[c]`, used at inference.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        moving_mean: Vec<f32>,
        /// Moving variance `[c]`, used at inference.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        moving_variance: Vec<f32>,
    },
    /// Inverted dropout while training, identity at inference (see `dropout.rs`).
    Dropout {
        /// Share of values zeroed while training.
        rate: f32,
    },
    /// `[..] → [product]` (RESHAPE; see `shape.rs`).
    Flatten,
    /// Per-sample reshape to `shape` (RESHAPE).
    Reshape {
        /// Target per-sample shape; the value count must not change.
        shape: Vec<usize>,
    },
    /// `y = x + body(x)` (ADD; see `residual.rs`).
    Residual {
        /// The body, which must keep the shape.
        layers: Vec<Layer>,
    },
    /// MobileNetV2 inverted residual block, preset sugar only: expanded into primitive layers
    /// when the model is built (see `inverted_residual.rs`).
    InvertedResidual {
        /// Expansion factor `t` (1 skips the expanding 1×1 convolution).
        expansion: usize,
        /// Output channels.
        filters: usize,
        /// Depthwise stride (1 or 2).
        stride: usize,
    },
    /// `max(x, 0)` (see `activation.rs`).
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// Softmax over the last axis.
    Softmax,
}

fn one() -> usize {
    1
}

fn ones() -> [usize; 2] {
    [1, 1]
}

fn bn_epsilon() -> f32 {
    1e-3
}

fn bn_momentum() -> f32 {
    0.99
}

/// Whether a forward pass trains (dropout active, batch norm on batch statistics).
pub(crate) enum Mode<'a> {
    /// Inference: nothing is cached.
    Infer,
    /// Training, with the generator for dropout masks.
    Train(&'a mut Rng),
}

impl Mode<'_> {
    /// True while training.
    pub(crate) fn is_train(&self) -> bool {
        matches!(self, Mode::Train(_))
    }

    /// `make()`'s cache while training, nothing at inference.
    pub(crate) fn keep(&self, make: impl FnOnce() -> Cache) -> Cache {
        if self.is_train() { make() } else { Cache::None }
    }
}

/// A batch shape split into the batch size and the per-sample shape.
pub(crate) fn per_sample(batch_shape: &[usize]) -> (usize, &[usize]) {
    match batch_shape.split_first() {
        Some((n, sample)) => (*n, sample),
        None => (0, &[]),
    }
}

/// What a layer's backward pass needs from its forward pass.
#[derive(Debug, Clone)]
pub(crate) enum Cache {
    /// Nothing (inference, or a layer whose gradient needs only `dy`).
    None,
    /// The input batch (dense, depthwise) or patch matrix (convolution), flat, plus the input
    /// shape (batch first).
    Input {
        /// Flat input or patch matrix.
        values: Vec<f32>,
        /// Input shape, batch first.
        shape: Vec<usize>,
    },
    /// The input shape only (reshape, flatten, average pooling).
    Shape(Vec<usize>),
    /// The output (activations whose derivative is a function of it).
    Output(Tensor),
    /// Max pooling: for every output value, the flat input index that won.
    Argmax {
        /// Winning input index per output value.
        indices: Vec<u32>,
        /// Input shape, batch first.
        shape: Vec<usize>,
    },
    /// Dropout: the multiplier of every value (`0` or `1 / (1 - rate)`).
    Mask(Vec<f32>),
    /// Batch norm in training mode.
    BatchNorm(batch_norm::BatchCache),
    /// A residual body's caches.
    Residual(Vec<Cache>),
}

/// Parameter gradients of one layer, in the order of [`Layer::params_mut`].
pub(crate) type ParamGrads = Vec<Vec<f32>>;

impl Layer {
    /// A short readable name, e.g. "conv1d 8×3 same" or "dense 20".
    pub fn name(&self) -> String {
        match self {
            Layer::Dense { units, .. } => format!("dense {units}"),
            Layer::Conv1d {
                filters,
                kernel_size,
                stride,
                padding,
                ..
            } => format!(
                "conv1d {filters}×{kernel_size}{} {}",
                stride_note(&[*stride]),
                padding.word()
            ),
            Layer::Conv2d {
                filters,
                kernel_size: [kh, kw],
                stride,
                padding,
                ..
            } => format!(
                "conv2d {filters}×{kh}×{kw}{} {}",
                stride_note(stride),
                padding.word()
            ),
            Layer::DepthwiseConv2d {
                kernel_size: [kh, kw],
                stride,
                padding,
                ..
            } => format!(
                "depthwise conv2d {kh}×{kw}{} {}",
                stride_note(stride),
                padding.word()
            ),
            Layer::MaxPool1d {
                pool_size, padding, ..
            } => format!("max pool1d {pool_size} {}", padding.word()),
            Layer::AvgPool1d {
                pool_size, padding, ..
            } => format!("avg pool1d {pool_size} {}", padding.word()),
            Layer::MaxPool2d {
                pool_size: [ph, pw],
                padding,
                ..
            } => format!("max pool2d {ph}×{pw} {}", padding.word()),
            Layer::AvgPool2d {
                pool_size: [ph, pw],
                padding,
                ..
            } => format!("avg pool2d {ph}×{pw} {}", padding.word()),
            Layer::GlobalAvgPool => "global avg pool".into(),
            Layer::BatchNorm { .. } => "batch norm".into(),
            Layer::Dropout { rate } => format!("dropout {rate}"),
            Layer::Flatten => "flatten".into(),
            Layer::Reshape { shape } => format!("reshape {}", dims(shape)),
            Layer::Residual { layers } => format!("add (residual over {} layers)", layers.len()),
            Layer::InvertedResidual {
                expansion,
                filters,
                stride,
            } => format!(
                "inverted residual t{expansion} {filters}{}",
                stride_note(&[*stride])
            ),
            Layer::Relu => "relu".into(),
            Layer::Relu6 => "relu6".into(),
            Layer::Softmax => "softmax".into(),
        }
    }

    /// The per-sample output shape for a per-sample input shape, or why the layer cannot take it.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, NnError> {
        let bad = |expected: &str| self.shape_error(expected, input);
        match self {
            Layer::Dense { units, .. } => match input {
                [_] => Ok(vec![*units]),
                _ => Err(bad("[features] (add a flatten layer before dense)")),
            },
            Layer::Conv1d { filters, .. } => {
                Ok(with_channels(&self.windows(1, input)?, 1, *filters))
            }
            Layer::Conv2d { filters, .. } => {
                Ok(with_channels(&self.windows(1, input)?, 2, *filters))
            }
            Layer::DepthwiseConv2d { .. } => {
                let w = self.windows(1, input)?;
                Ok(with_channels(&w, 2, w.c))
            }
            Layer::MaxPool1d { .. } | Layer::AvgPool1d { .. } => {
                let w = self.windows(1, input)?;
                Ok(with_channels(&w, 1, w.c))
            }
            Layer::MaxPool2d { .. } | Layer::AvgPool2d { .. } => {
                let w = self.windows(1, input)?;
                Ok(with_channels(&w, 2, w.c))
            }
            Layer::GlobalAvgPool => match input {
                [.., c] if input.len() >= 2 => Ok(vec![*c]),
                _ => Err(bad("[W, C] or [H, W, C]")),
            },
            Layer::BatchNorm { .. } | Layer::Relu | Layer::Relu6 | Layer::Softmax => {
                if input.is_empty() {
                    Err(bad("at least one axis"))
                } else {
                    Ok(input.to_vec())
                }
            }
            Layer::Dropout { rate } => {
                if (0.0..1.0).contains(rate) {
                    Ok(input.to_vec())
                } else {
                    Err(NnError::Spec(format!(
                        "dropout rate {rate} is not in [0, 1)"
                    )))
                }
            }
            Layer::Flatten => Ok(vec![input.iter().product()]),
            Layer::Reshape { shape } => {
                if shape.iter().product::<usize>() == input.iter().product::<usize>() {
                    Ok(shape.clone())
                } else {
                    Err(bad(&format!("{} values", shape.iter().product::<usize>())))
                }
            }
            Layer::Residual { layers } => {
                let mut shape = input.to_vec();
                for layer in layers {
                    shape = layer.output_shape(&shape)?;
                }
                if shape == input {
                    Ok(shape)
                } else {
                    Err(NnError::Spec(format!(
                        "residual body turns {input:?} into {shape:?}; it must keep the shape"
                    )))
                }
            }
            Layer::InvertedResidual { .. } => {
                let mut shape = input.to_vec();
                for layer in inverted_residual::expand(self, input)? {
                    shape = layer.output_shape(&shape)?;
                }
                Ok(shape)
            }
        }
    }

    /// The window geometry of a convolution or pooling layer for a batch of `n` samples of
    /// per-sample shape `input` (1-D layers as height 1).
    pub(crate) fn windows(&self, n: usize, input: &[usize]) -> Result<geometry::Windows, NnError> {
        let (kernel, stride, padding, rank) = match self {
            Layer::Conv1d {
                kernel_size,
                stride,
                padding,
                ..
            } => ([1, *kernel_size], [1, *stride], *padding, 1),
            Layer::MaxPool1d {
                pool_size,
                stride,
                padding,
            }
            | Layer::AvgPool1d {
                pool_size,
                stride,
                padding,
            } => (
                [1, *pool_size],
                [1, stride.unwrap_or(*pool_size)],
                *padding,
                1,
            ),
            Layer::Conv2d {
                kernel_size,
                stride,
                padding,
                ..
            }
            | Layer::DepthwiseConv2d {
                kernel_size,
                stride,
                padding,
                ..
            } => (*kernel_size, *stride, *padding, 2),
            Layer::MaxPool2d {
                pool_size,
                stride,
                padding,
            }
            | Layer::AvgPool2d {
                pool_size,
                stride,
                padding,
            } => (*pool_size, stride.unwrap_or(*pool_size), *padding, 2),
            _ => return Err(self.shape_error("a windowed layer", input)),
        };
        let hwc = match (rank, input) {
            (1, &[w, c]) => [1, w, c],
            (2, &[h, w, c]) => [h, w, c],
            _ => {
                return Err(self.shape_error(if rank == 1 { "[W, C]" } else { "[H, W, C]" }, input));
            }
        };
        geometry::Windows::new(n, hwc, kernel, stride, padding).ok_or_else(|| {
            NnError::Spec(format!(
                "{}: kernel {kernel:?} with stride {stride:?} does not fit input {input:?}",
                self.name()
            ))
        })
    }

    /// [`Layer::windows`] for a batch shape `[N, ..]`.
    pub(crate) fn batch_windows(
        &self,
        batch_shape: &[usize],
    ) -> Result<geometry::Windows, NnError> {
        let (n, sample) = per_sample(batch_shape);
        self.windows(n, sample)
    }

    /// The trainable and non-trainable parameter vectors of this layer for a per-sample input
    /// shape: `(name, required length, trainable)`, in [`Layer::params_mut`] order (trainable
    /// first). Residual bodies are not listed (their layers carry their own).
    pub(crate) fn param_specs(
        &self,
        input: &[usize],
    ) -> Result<Vec<(&'static str, usize, bool)>, NnError> {
        let channels = input.last().copied().unwrap_or(0);
        Ok(match self {
            Layer::Dense { units, .. } => {
                vec![("weights", units * channels, true), ("bias", *units, true)]
            }
            Layer::Conv1d { filters, .. } | Layer::Conv2d { filters, .. } => {
                let w = self.windows(1, input)?;
                vec![
                    ("weights", filters * w.patch_len(), true),
                    ("bias", *filters, true),
                ]
            }
            Layer::DepthwiseConv2d { .. } => {
                let w = self.windows(1, input)?;
                vec![("weights", w.patch_len(), true), ("bias", w.c, true)]
            }
            Layer::BatchNorm { .. } => vec![
                ("gamma", channels, true),
                ("beta", channels, true),
                ("moving_mean", channels, false),
                ("moving_variance", channels, false),
            ],
            _ => Vec::new(),
        })
    }

    /// This layer's own parameter vectors in [`Layer::param_specs`] order (not a residual body's).
    fn param_vectors(&self) -> Vec<&Vec<f32>> {
        match self {
            Layer::Dense { weights, bias, .. }
            | Layer::Conv1d { weights, bias, .. }
            | Layer::Conv2d { weights, bias, .. }
            | Layer::DepthwiseConv2d { weights, bias, .. } => vec![weights, bias],
            Layer::BatchNorm {
                gamma,
                beta,
                moving_mean,
                moving_variance,
                ..
            } => vec![gamma, beta, moving_mean, moving_variance],
            _ => Vec::new(),
        }
    }

    fn param_vectors_mut(&mut self) -> Vec<&mut Vec<f32>> {
        match self {
            Layer::Dense { weights, bias, .. }
            | Layer::Conv1d { weights, bias, .. }
            | Layer::Conv2d { weights, bias, .. }
            | Layer::DepthwiseConv2d { weights, bias, .. } => vec![weights, bias],
            Layer::BatchNorm {
                gamma,
                beta,
                moving_mean,
                moving_variance,
                ..
            } => vec![gamma, beta, moving_mean, moving_variance],
            _ => Vec::new(),
        }
    }

    /// Checks that every parameter vector has the length the input shape calls for.
    pub(crate) fn check_params(&self, input: &[usize]) -> Result<(), NnError> {
        for ((what, expected, _), values) in self
            .param_specs(input)?
            .into_iter()
            .zip(self.param_vectors())
        {
            if values.len() != expected {
                return Err(NnError::Weights {
                    layer: self.name(),
                    what: what.into(),
                    expected,
                    got: values.len(),
                });
            }
        }
        Ok(())
    }

    /// Fills empty parameter vectors like Keras: Glorot-uniform kernels (fans as Keras computes
    /// them for the kernel's Keras shape), zero biases, batch norm γ 1, β 0, mean 0, variance 1.
    /// Vectors already set are left alone (and checked later).
    pub(crate) fn init(&mut self, input: &[usize], rng: &mut Rng) -> Result<(), NnError> {
        let specs = self.param_specs(input)?;
        let channels = input.last().copied().unwrap_or(0);
        let (fan_in, fan_out) = match &*self {
            Layer::Dense { units, .. } => (channels, *units),
            Layer::Conv1d { filters, .. } | Layer::Conv2d { filters, .. } => {
                let w = self.windows(1, input)?;
                (w.patch_len(), w.kh * w.kw * filters)
            }
            // Keras's depthwise kernel is [kh, kw, c, 1]: fan_in kh·kw·c, fan_out kh·kw.
            Layer::DepthwiseConv2d { .. } => {
                let w = self.windows(1, input)?;
                (w.patch_len(), w.kh * w.kw)
            }
            _ => (0, 0),
        };
        let limit = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
        for ((what, len, _), values) in specs.into_iter().zip(self.param_vectors_mut()) {
            if !values.is_empty() {
                continue;
            }
            *values = match what {
                "weights" => (0..len)
                    .map(|_| rng.range((-limit, limit)) as f32)
                    .collect(),
                "gamma" | "moving_variance" => vec![1.0; len],
                _ => vec![0.0; len],
            };
        }
        Ok(())
    }

    /// Trainable parameters (a residual body's included).
    pub fn trainable_params(&self) -> usize {
        match self {
            Layer::Residual { layers } => layers.iter().map(Layer::trainable_params).sum(),
            Layer::BatchNorm { gamma, beta, .. } => gamma.len() + beta.len(),
            _ => self.param_vectors().iter().map(|v| v.len()).sum(),
        }
    }

    /// True when the layer (or its body) has trainable parameters.
    pub(crate) fn has_params(&self) -> bool {
        match self {
            Layer::Residual { layers } => layers.iter().any(Layer::has_params),
            Layer::Dense { .. }
            | Layer::Conv1d { .. }
            | Layer::Conv2d { .. }
            | Layer::DepthwiseConv2d { .. }
            | Layer::BatchNorm { .. } => true,
            _ => false,
        }
    }

    /// Multiply-accumulates per sample for a per-sample input shape (convolutions and dense
    /// layers; batch norm folds away, pooling and activations are not MACs).
    pub fn macs(&self, input: &[usize]) -> Result<u64, NnError> {
        Ok(match self {
            Layer::Dense { units, .. } => (units * input.iter().product::<usize>()) as u64,
            Layer::Conv1d { filters, .. } | Layer::Conv2d { filters, .. } => {
                let w = self.windows(1, input)?;
                (w.pixels() * w.patch_len() * filters) as u64
            }
            Layer::DepthwiseConv2d { .. } => {
                let w = self.windows(1, input)?;
                (w.pixels() * w.patch_len()) as u64
            }
            Layer::Residual { layers } => {
                let mut shape = input.to_vec();
                let mut total = 0;
                for layer in layers {
                    total += layer.macs(&shape)?;
                    shape = layer.output_shape(&shape)?;
                }
                total
            }
            _ => 0,
        })
    }

    /// Trainable parameter vectors, in the order gradients come back (residual bodies in place).
    pub(crate) fn params_mut<'a>(&'a mut self, out: &mut Vec<&'a mut Vec<f32>>) {
        match self {
            Layer::Residual { layers } => layers.iter_mut().for_each(|l| l.params_mut(out)),
            Layer::BatchNorm { gamma, beta, .. } => {
                out.push(gamma);
                out.push(beta);
            }
            _ => out.extend(self.param_vectors_mut()),
        }
    }

    /// Forward pass on a batch; in training mode also what backward needs.
    pub(crate) fn forward(
        &self,
        x: Tensor,
        mode: &mut Mode<'_>,
    ) -> Result<(Tensor, Cache), NnError> {
        let sample = x.shape().get(1..).unwrap_or(&[]).to_vec();
        self.check_params(&sample)?;
        match self {
            Layer::Dense { weights, bias, .. } => dense::forward(self, weights, bias, x, mode),
            Layer::Conv1d { weights, bias, .. } | Layer::Conv2d { weights, bias, .. } => {
                conv::forward(self, weights, bias, x, mode)
            }
            Layer::DepthwiseConv2d { weights, bias, .. } => {
                depthwise::forward(self, weights, bias, x, mode)
            }
            Layer::MaxPool1d { .. } | Layer::MaxPool2d { .. } => pool::max_forward(self, x, mode),
            Layer::AvgPool1d { .. } | Layer::AvgPool2d { .. } => pool::avg_forward(self, x, mode),
            Layer::GlobalAvgPool => global_pool::forward(self, x, mode),
            Layer::BatchNorm { .. } => match self.batch_norm_params() {
                Some(params) => batch_norm::forward(self, params, x, mode),
                None => Err(self.shape_error("a batch norm", x.shape())),
            },
            Layer::Dropout { rate } => dropout::forward(*rate, x, mode),
            Layer::Flatten | Layer::Reshape { .. } => shape::forward(self, x, mode),
            Layer::Residual { layers } => residual::forward(self, layers, x, mode),
            Layer::InvertedResidual { .. } => Err(NnError::Spec(format!(
                "{} is preset sugar; build the model with Model::classifier to expand it",
                self.name()
            ))),
            Layer::Relu => Ok(activation::relu_forward(x, 0.0, mode)),
            Layer::Relu6 => Ok(activation::relu_forward(x, 6.0, mode)),
            Layer::Softmax => activation::softmax_forward(self, x, mode),
        }
    }

    /// Backward pass: d(loss)/d(input) when `need_dx`, and the gradients of this layer's
    /// trainable parameters in [`Layer::params_mut`] order.
    pub(crate) fn backward(
        &self,
        cache: &Cache,
        dy: Tensor,
        need_dx: bool,
    ) -> Result<(Option<Tensor>, ParamGrads), NnError> {
        let missing = || {
            NnError::Spec(format!(
                "{}: the trace does not come from this model",
                self.name()
            ))
        };
        match (self, cache) {
            (Layer::Dense { weights, .. }, Cache::Input { values, shape }) => {
                dense::backward(self, weights, values, shape, dy, need_dx)
            }
            (
                Layer::Conv1d { weights, .. } | Layer::Conv2d { weights, .. },
                Cache::Input { values, shape },
            ) => conv::backward(self, weights, values, shape, dy, need_dx),
            (Layer::DepthwiseConv2d { weights, .. }, Cache::Input { values, shape }) => {
                depthwise::backward(self, weights, values, shape, dy, need_dx)
            }
            (
                Layer::MaxPool1d { .. } | Layer::MaxPool2d { .. },
                Cache::Argmax { indices, shape },
            ) => Ok((
                Some(pool::max_backward(self, indices, shape, dy)?),
                Vec::new(),
            )),
            (Layer::AvgPool1d { .. } | Layer::AvgPool2d { .. }, Cache::Shape(shape)) => {
                Ok((Some(pool::avg_backward(self, shape, dy)?), Vec::new()))
            }
            (Layer::GlobalAvgPool, Cache::Shape(shape)) => {
                Ok((Some(global_pool::backward(self, shape, dy)?), Vec::new()))
            }
            (Layer::BatchNorm { gamma, .. }, Cache::BatchNorm(cache)) => {
                batch_norm::backward(self, gamma, cache, dy, need_dx)
            }
            (Layer::Dropout { .. }, Cache::Mask(mask)) => {
                Ok((Some(dropout::backward(self, mask, dy)?), Vec::new()))
            }
            (Layer::Flatten | Layer::Reshape { .. }, Cache::Shape(shape)) => {
                Ok((Some(shape::backward(self, shape, dy)?), Vec::new()))
            }
            (Layer::Residual { layers }, Cache::Residual(caches)) => {
                residual::backward(layers, caches, dy, need_dx)
            }
            (Layer::Relu, Cache::Output(y)) => Ok((
                Some(activation::relu_backward(self, y, 0.0, dy)?),
                Vec::new(),
            )),
            (Layer::Relu6, Cache::Output(y)) => Ok((
                Some(activation::relu_backward(self, y, 6.0, dy)?),
                Vec::new(),
            )),
            (Layer::Softmax, Cache::Output(y)) => {
                Ok((Some(activation::softmax_backward(self, y, dy)?), Vec::new()))
            }
            _ => Err(missing()),
        }
    }

    /// Moves batch norm moving statistics toward the batch statistics of `cache` (Keras:
    /// `moving = moving · momentum + batch · (1 − momentum)`), recursing into residual bodies.
    pub(crate) fn update_batch_stats(&mut self, cache: &Cache) {
        match (self, cache) {
            (
                Layer::BatchNorm {
                    momentum,
                    moving_mean,
                    moving_variance,
                    ..
                },
                Cache::BatchNorm(cache),
            ) => batch_norm::update_moving(*momentum, moving_mean, moving_variance, cache),
            (Layer::Residual { layers }, Cache::Residual(caches)) => update_all(layers, caches),
            _ => {}
        }
    }

    /// The parameters of a batch norm layer (`None` for other layers).
    pub(crate) fn batch_norm_params(&self) -> Option<batch_norm::Params<'_>> {
        let Layer::BatchNorm {
            epsilon,
            gamma,
            beta,
            moving_mean,
            moving_variance,
            ..
        } = self
        else {
            return None;
        };
        Some(batch_norm::Params {
            epsilon: *epsilon,
            gamma,
            beta,
            moving_mean,
            moving_variance,
        })
    }

    /// A shape error naming this layer.
    pub(crate) fn shape_error(&self, expected: &str, got: &[usize]) -> NnError {
        NnError::Shape {
            layer: self.name(),
            expected: expected.into(),
            got: got.to_vec(),
        }
    }
}

/// `" /s"` when a stride is not all ones.
fn stride_note(stride: &[usize]) -> String {
    if stride.iter().all(|&s| s == 1) {
        String::new()
    } else {
        format!(" /{}", dims(stride))
    }
}

/// `[a, b]` as `a×b`.
pub(crate) fn dims(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

/// Per-sample output shape of a windowed layer of the given rank with `channels` outputs.
fn with_channels(w: &geometry::Windows, rank: usize, channels: usize) -> Vec<usize> {
    if rank == 1 {
        vec![w.ow, channels]
    } else {
        vec![w.oh, w.ow, channels]
    }
}

/// Runs `layers` in order; in training mode returns every layer's cache.
pub(crate) fn forward_all(
    layers: &[Layer],
    mut x: Tensor,
    mode: &mut Mode<'_>,
) -> Result<(Tensor, Vec<Cache>), NnError> {
    let mut caches = Vec::with_capacity(if mode.is_train() { layers.len() } else { 0 });
    for layer in layers {
        let (y, cache) = layer.forward(x, mode)?;
        if mode.is_train() {
            caches.push(cache);
        }
        x = y;
    }
    Ok((x, caches))
}

/// Backward through `layers` from d(loss)/d(output): d(loss)/d(input) when `need_dx`, and every
/// trainable parameter's gradient in forward order. Layers before the first one with parameters
/// are skipped when the input gradient is not needed.
pub(crate) fn backward_all(
    layers: &[Layer],
    caches: &[Cache],
    mut dy: Tensor,
    need_dx: bool,
) -> Result<(Option<Tensor>, ParamGrads), NnError> {
    if caches.len() != layers.len() {
        return Err(NnError::Spec(format!(
            "the trace has {} layers, the model {}",
            caches.len(),
            layers.len()
        )));
    }
    let first = if need_dx {
        0
    } else {
        layers
            .iter()
            .position(Layer::has_params)
            .unwrap_or(layers.len())
    };
    let mut per_layer: Vec<ParamGrads> = Vec::with_capacity(layers.len());
    for (index, (layer, cache)) in layers.iter().zip(caches).enumerate().skip(first).rev() {
        let (dx, grads) = layer.backward(cache, dy, need_dx || index > first)?;
        per_layer.push(grads);
        match dx {
            Some(dx) => dy = dx,
            None => return Ok((None, per_layer.into_iter().rev().flatten().collect())),
        }
    }
    let grads = per_layer.into_iter().rev().flatten().collect();
    Ok((need_dx.then_some(dy), grads))
}

/// [`Layer::update_batch_stats`] over a sequence.
pub(crate) fn update_all(layers: &mut [Layer], caches: &[Cache]) {
    for (layer, cache) in layers.iter_mut().zip(caches) {
        layer.update_batch_stats(cache);
    }
}

/// The flat values of a tensor in standard (row-major) order.
pub(crate) fn values(x: &Tensor) -> std::borrow::Cow<'_, [f32]> {
    match x.as_slice() {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(x.iter().copied().collect()),
    }
}

/// The flat values of an owned tensor in row-major order, without copying when possible.
pub(crate) fn into_values(x: Tensor) -> Vec<f32> {
    if x.is_standard_layout() {
        let len = x.len();
        let (values, offset) = x.into_raw_vec_and_offset();
        let start = offset.unwrap_or(0);
        if start == 0 && values.len() == len {
            return values;
        }
        // A standard-layout view into a larger buffer: copy its part out.
        return values
            .get(start..start + len)
            .map(<[f32]>::to_vec)
            .unwrap_or_default();
    }
    x.iter().copied().collect()
}

/// A tensor of `shape` from row-major `values`.
pub(crate) fn tensor(layer: &Layer, shape: &[usize], values: Vec<f32>) -> Result<Tensor, NnError> {
    let len = values.len();
    Tensor::from_shape_vec(ndarray::IxDyn(shape), values).map_err(|_| {
        layer.shape_error(
            &format!("{} values", shape.iter().product::<usize>()),
            &[len],
        )
    })
}
