//! A model: the per-sample input shape and a sequence of layers, serialisable with its weights.
//!
//! [`Model::classifier`] builds one from a preset's body (expanding sugar such as inverted
//! residual blocks, appending the `dense(classes)` + softmax head, initialising weights from a
//! seed). Inference ([`Model::forward`]) ends in probabilities; training runs
//! [`Model::forward_train`] (logits plus a [`Trace`]) and [`Model::backward`] (the gradients of
//! every trainable parameter, in [`Model::params_mut`] order). The model is `Sync` and the passes
//! take `&self`, so scoped threads can each run a shard of a batch.

use serde::{Deserialize, Serialize};

use crate::nn::layers::{self, Cache, Layer, Mode, inverted_residual};
use crate::nn::{NnError, Tensor};
use crate::rng::Rng;

/// The head [`Model::with_head`] appends to a body.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    /// `Dense(classes)` + softmax: one class per sample.
    #[default]
    Dense,
    /// 1×1 `Conv2D(classes)` + softmax per cell: a class per cell of a `[H, W]` grid (FOMO).
    PerCell,
}

/// A sequential model (see the module doc).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Model {
    /// Per-sample input shape, e.g. `[637]` or `[96, 96, 3]`.
    pub input_shape: Vec<usize>,
    /// The layers, in order; a classifier ends in `dense(classes)` and softmax.
    pub layers: Vec<Layer>,
}

/// One row of [`Model::summary`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LayerSummary {
    /// The layer's name, e.g. "conv1d 8×3 same" (residual bodies' layers start with "· ").
    pub name: String,
    /// Per-sample output shape.
    pub output_shape: Vec<usize>,
    /// Trainable parameters.
    pub params: usize,
    /// Multiply-accumulates per sample.
    pub macs: u64,
}

/// What [`Model::backward`] and [`Model::update_batch_stats`] need from a training forward pass
/// (per-layer caches). Opaque; only valid for the model that made it.
#[derive(Debug, Clone)]
pub struct Trace {
    caches: Vec<Cache>,
}

/// Gradients of every trainable parameter, in [`Model::params_mut`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients(pub Vec<Vec<f32>>);

impl Gradients {
    /// Adds `other` element-wise (e.g. the gradients of another shard of the batch).
    pub fn add_assign(&mut self, other: &Gradients) {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            mine.iter_mut().zip(theirs).for_each(|(a, b)| *a += b);
        }
    }

    /// Multiplies every gradient by `factor`.
    pub fn scale(&mut self, factor: f32) {
        self.0.iter_mut().flatten().for_each(|g| *g *= factor);
    }
}

impl Model {
    /// Builds a classifier: `body` (a preset's layers, sugar expanded), then the head
    /// `Dense(classes)` + `Softmax` appended; empty weights initialised from `seed` (Glorot-uniform
    /// kernels, zero biases, BN γ 1 / β 0 / mean 0 / variance 1, like Keras), given ones checked.
    pub fn classifier(
        input_shape: &[usize],
        body: &[Layer],
        classes: usize,
        seed: u64,
    ) -> Result<Model, NnError> {
        Self::with_head(input_shape, body, classes, seed, Head::Dense)
    }

    /// Like [`Model::classifier`] with the head chosen: [`Head::PerCell`] appends a 1×1
    /// `Conv2D(classes)` + `Softmax` over the last axis instead, so a `[H, W, C]` body gives a
    /// `[H, W, classes]` map of per-cell probabilities (FOMO).
    pub fn with_head(
        input_shape: &[usize],
        body: &[Layer],
        classes: usize,
        seed: u64,
        head: Head,
    ) -> Result<Model, NnError> {
        if classes == 0 {
            return Err(NnError::Spec(
                "a classifier needs at least one class".into(),
            ));
        }
        let mut layers = expand_sugar(body, input_shape)?;
        layers.push(match head {
            Head::Dense => Layer::Dense {
                units: classes,
                weights: Vec::new(),
                bias: Vec::new(),
            },
            Head::PerCell => Layer::Conv2d {
                filters: classes,
                kernel_size: [1, 1],
                stride: [1, 1],
                padding: layers::Padding::same(),
                weights: Vec::new(),
                bias: Vec::new(),
            },
        });
        layers.push(Layer::Softmax);
        let mut rng = Rng::new(seed);
        init_all(&mut layers, input_shape, &mut rng)?;
        let model = Model {
            input_shape: input_shape.to_vec(),
            layers,
        };
        // Weights given in the body must fit too.
        model.output_shape()?;
        Ok(model)
    }

    /// Sets the moving-statistics momentum of every batch norm, residual bodies included. FOMO
    /// trains from scratch on a few hundred images: at MobileNetV2's 0.999 the moving statistics
    /// lag so far behind after a few hundred steps that the model finds nothing in inference
    /// mode (measured), so its preset sets `batch_norm_momentum = 0.9`.
    pub fn set_batch_norm_momentum(&mut self, value: f32) {
        fn walk(layers: &mut [Layer], value: f32) {
            for layer in layers {
                match layer {
                    Layer::BatchNorm { momentum, .. } => *momentum = value,
                    Layer::Residual { layers } => walk(layers, value),
                    _ => {}
                }
            }
        }
        walk(&mut self.layers, value);
    }

    /// Per-layer summary: name, per-sample output shape, trainable parameters, MACs per sample.
    /// A residual block lists its body's layers (named "· …") and then its "add" row.
    pub fn summary(&self) -> Result<Vec<LayerSummary>, NnError> {
        let mut rows = Vec::new();
        summarise(&self.layers, &self.input_shape, "", &mut rows)?;
        Ok(rows)
    }

    /// Inference on a batch `[N, ..input_shape]`, including the final softmax: probabilities
    /// `[N, classes]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, NnError> {
        self.check_input(x)?;
        let x = x.as_standard_layout().into_owned();
        Ok(layers::forward_all(&self.layers, x, &mut Mode::Infer)?.0)
    }

    /// Training forward (dropout active, batch norm on batch statistics); returns the output of
    /// the layer before a trailing softmax (the logits) and the trace backward needs.
    pub fn forward_train(&self, x: &Tensor, rng: &mut Rng) -> Result<(Tensor, Trace), NnError> {
        self.check_input(x)?;
        let x = x.as_standard_layout().into_owned();
        let (logits, caches) =
            layers::forward_all(self.trained_layers(), x, &mut Mode::Train(rng))?;
        Ok((logits, Trace { caches }))
    }

    /// Gradients of every trainable parameter given d(loss)/d(logits) `[N, classes]`.
    pub fn backward(&self, trace: &Trace, grad_logits: &Tensor) -> Result<Gradients, NnError> {
        let dy = grad_logits.as_standard_layout().into_owned();
        let (_, grads) = layers::backward_all(self.trained_layers(), &trace.caches, dy, false)?;
        Ok(Gradients(grads))
    }

    /// d(loss)/d(input) as well as the parameter gradients (for gradient checks and saliency).
    pub fn backward_with_input(
        &self,
        trace: &Trace,
        grad_logits: &Tensor,
    ) -> Result<(Tensor, Gradients), NnError> {
        let dy = grad_logits.as_standard_layout().into_owned();
        let (dx, grads) = layers::backward_all(self.trained_layers(), &trace.caches, dy, true)?;
        let dx = dx.ok_or_else(|| NnError::Spec("the model has no layers".into()))?;
        Ok((dx, Gradients(grads)))
    }

    /// Trainable parameters, in the same order as [`Gradients::0`].
    pub fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mut out = Vec::new();
        for layer in &mut self.layers {
            layer.params_mut(&mut out);
        }
        out
    }

    /// Moves batch norm moving mean/variance toward the trace's batch statistics (Keras
    /// momentum rule).
    pub fn update_batch_stats(&mut self, trace: &Trace) {
        layers::update_all(&mut self.layers, &trace.caches);
    }

    /// Inference copy with every batch norm folded into the preceding convolution or dense layer
    /// (for export); see `fold.rs`.
    pub fn fold_batch_norm(&self) -> Result<Model, NnError> {
        crate::nn::fold::fold_batch_norm(self)
    }

    /// Number of classes: the last axis of the model's output (0 if the model does not fit its
    /// input).
    pub fn classes(&self) -> usize {
        self.output_shape()
            .ok()
            .and_then(|s| s.last().copied())
            .unwrap_or(0)
    }

    /// Output positions each classified on its own: 1 for a classifier, the grid's cells
    /// (`H · W` of a `[H, W, classes]` output) for a per-cell (FOMO) model.
    pub fn cells(&self) -> usize {
        self.output_shape()
            .map(|s| s.iter().rev().skip(1).product())
            .unwrap_or(1)
    }

    /// Per-sample output shape, checking every layer's hyper-parameters and weights.
    pub fn output_shape(&self) -> Result<Vec<usize>, NnError> {
        check_all(&self.layers, &self.input_shape)
    }

    /// The layers training runs: all but a trailing softmax (folded into the loss).
    fn trained_layers(&self) -> &[Layer] {
        match self.layers.split_last() {
            Some((Layer::Softmax, rest)) => rest,
            _ => &self.layers,
        }
    }

    fn check_input(&self, x: &Tensor) -> Result<(), NnError> {
        if x.ndim() == self.input_shape.len() + 1
            && x.shape().get(1..) == Some(&self.input_shape[..])
        {
            Ok(())
        } else {
            let mut expected = vec!["N".to_string()];
            expected.extend(self.input_shape.iter().map(usize::to_string));
            Err(NnError::Shape {
                layer: "model input".into(),
                expected: format!("[{}]", expected.join(", ")),
                got: x.shape().to_vec(),
            })
        }
    }
}

/// Replaces preset sugar by primitive layers, recursing into residual bodies.
fn expand_sugar(layers: &[Layer], input: &[usize]) -> Result<Vec<Layer>, NnError> {
    let mut out = Vec::with_capacity(layers.len());
    let mut shape = input.to_vec();
    for layer in layers {
        let expanded = match layer {
            Layer::InvertedResidual { .. } => inverted_residual::expand(layer, &shape)?,
            Layer::Residual { layers } => vec![Layer::Residual {
                layers: expand_sugar(layers, &shape)?,
            }],
            other => vec![other.clone()],
        };
        for layer in expanded {
            shape = layer.output_shape(&shape)?;
            out.push(layer);
        }
    }
    Ok(out)
}

/// Initialises empty parameters in order (the seed's stream is consumed layer by layer).
fn init_all(layers: &mut [Layer], input: &[usize], rng: &mut Rng) -> Result<(), NnError> {
    let mut shape = input.to_vec();
    for layer in layers {
        if let Layer::Residual { layers } = layer {
            init_all(layers, &shape, rng)?;
        } else {
            layer.init(&shape, rng)?;
        }
        shape = layer.output_shape(&shape)?;
    }
    Ok(())
}

/// Output shape of a sequence, checking parameter lengths on the way.
fn check_all(layers: &[Layer], input: &[usize]) -> Result<Vec<usize>, NnError> {
    let mut shape = input.to_vec();
    for layer in layers {
        if let Layer::Residual { layers } = layer {
            check_all(layers, &shape)?;
        }
        layer.check_params(&shape)?;
        shape = layer.output_shape(&shape)?;
    }
    Ok(shape)
}

fn summarise(
    layers: &[Layer],
    input: &[usize],
    indent: &str,
    rows: &mut Vec<LayerSummary>,
) -> Result<(), NnError> {
    let mut shape = input.to_vec();
    for layer in layers {
        let output_shape = layer.output_shape(&shape)?;
        let (params, macs) = if let Layer::Residual { layers } = layer {
            summarise(layers, &shape, &format!("{indent}· "), rows)?;
            (0, 0)
        } else {
            (layer.trainable_params(), layer.macs(&shape)?)
        };
        rows.push(LayerSummary {
            name: format!("{indent}{}", layer.name()),
            output_shape: output_shape.clone(),
            params,
            macs,
        });
        shape = output_shape;
    }
    Ok(())
}
