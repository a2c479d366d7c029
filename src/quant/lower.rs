//! Lowering: a trained [`Model`] becomes the float32 [`Graph`] TensorFlow Lite's converter would
//! make of the same Keras model.
//!
//! - batch norms are folded into the layer before them (`nn::fold`); one that follows anything
//!   else becomes a 1×1 DEPTHWISE_CONV_2D with the per-channel scale as weights and the shift as
//!   bias (the converter writes MUL + ADD; the arithmetic is the same, one op instead of two);
//! - a ReLU or ReLU6 straight after FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, a pooling or an
//!   ADD is fused into it, as the converter fuses it; elsewhere it is its own op;
//! - dropout vanishes; flatten and reshape are RESHAPE with an int32 shape tensor;
//! - 1-D layers run as their 2-D op with height 1: `[1, W, C]` is reshaped to `[1, 1, W, C]`
//!   (the converter's EXPAND_DIMS), the kernel `[filters, k, c]` is stored as OHWI
//!   `[filters, 1, k, c]` (same bytes);
//! - global average pooling is MEAN over the spatial axes; a residual block is its body plus ADD.
//!
//! Tensors carry the batch dimension (1). The graph's input is `[1, ..input_shape]` and its output
//! the softmax `[1, classes]`.

use crate::nn::layers::batch_norm::inference_affine;
use crate::nn::{Layer, Model, Padding};
use crate::quant::{Activation, DType, Graph, OpKind, Operator, QuantError, TensorSpec};

/// The float32 graph of `model` (see the module doc). `description` is written into the graph.
pub fn lower_float(model: &Model, description: &str) -> Result<Graph, QuantError> {
    let folded = model
        .fold_batch_norm()
        .map_err(|e| QuantError::Model(e.to_string()))?;
    let mut lowering = Lowering::default();
    let mut input_shape = vec![1];
    input_shape.extend(&folded.input_shape);
    let input = lowering.activation("input", input_shape);
    lowering.graph.inputs = vec![input];
    let output = lowering.layers(&folded.layers, input)?;
    lowering.graph.outputs = vec![output];
    lowering.graph.description = description.to_string();
    lowering.graph.validate()?;
    Ok(lowering.graph)
}

#[derive(Default)]
struct Lowering {
    graph: Graph,
    /// Per-op-type counters for tensor names (`conv2d_1`, `conv2d_2`, ...).
    counters: std::collections::BTreeMap<&'static str, usize>,
    /// Tensors a residual block's ADD reads later: their shape must stay.
    pinned: Vec<usize>,
}

impl Lowering {
    fn activation(&mut self, name: &str, shape: Vec<usize>) -> usize {
        self.graph
            .push_tensor(TensorSpec::activation(name, shape, DType::F32))
    }

    fn shape(&self, tensor: usize) -> Result<Vec<usize>, QuantError> {
        Ok(self.graph.tensor(tensor)?.shape.clone())
    }

    fn name(&mut self, kind: &'static str) -> String {
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        format!("{kind}_{n}")
    }

    fn op(&mut self, kind: OpKind, inputs: Vec<Option<usize>>, output: usize) {
        self.graph.operators.push(Operator {
            kind,
            inputs,
            outputs: vec![output],
        });
    }

    /// Lowers `layers` starting from tensor `x`; returns the last output tensor.
    fn layers(&mut self, layers: &[Layer], mut x: usize) -> Result<usize, QuantError> {
        let mut iter = layers.iter().peekable();
        while let Some(layer) = iter.next() {
            // A following activation fuses into ops that take one.
            let fused = match iter.peek() {
                Some(Layer::Relu) if fuses(layer) => Activation::Relu,
                Some(Layer::Relu6) if fuses(layer) => Activation::Relu6,
                _ => Activation::None,
            };
            if fused != Activation::None {
                iter.next();
            }
            x = self.layer(layer, x, fused)?;
        }
        Ok(x)
    }

    fn layer(
        &mut self,
        layer: &Layer,
        x: usize,
        activation: Activation,
    ) -> Result<usize, QuantError> {
        let shape = self.shape(x)?;
        match layer {
            Layer::Dense {
                units,
                weights,
                bias,
            } => {
                let name = self.name("dense");
                let x = self.flat(x)?;
                let inputs = self.shape(x)?.iter().skip(1).product::<usize>();
                let w = self.constant(&format!("{name}/weights"), vec![*units, inputs], weights)?;
                let b = self.constant(&format!("{name}/bias"), vec![*units], bias)?;
                let y = self.activation(&name, vec![1, *units]);
                self.op(
                    OpKind::FullyConnected {
                        activation,
                        keep_num_dims: false,
                    },
                    vec![Some(x), Some(w), Some(b)],
                    y,
                );
                Ok(y)
            }
            Layer::Conv1d {
                filters,
                kernel_size,
                stride,
                padding,
                weights,
                bias,
            } => {
                let x = self.as_image(x)?;
                self.conv(ConvSpec {
                    kind: "conv1d",
                    x,
                    filters: *filters,
                    kernel: [1, *kernel_size],
                    stride: [1, *stride],
                    padding: *padding,
                    depthwise: false,
                    weights,
                    bias,
                    activation,
                })
            }
            Layer::Conv2d {
                filters,
                kernel_size,
                stride,
                padding,
                weights,
                bias,
            } => self.conv(ConvSpec {
                kind: "conv2d",
                x,
                filters: *filters,
                kernel: *kernel_size,
                stride: *stride,
                padding: *padding,
                depthwise: false,
                weights,
                bias,
                activation,
            }),
            Layer::DepthwiseConv2d {
                kernel_size,
                stride,
                padding,
                weights,
                bias,
            } => self.conv(ConvSpec {
                kind: "depthwise_conv2d",
                x,
                filters: shape.last().copied().unwrap_or(0),
                kernel: *kernel_size,
                stride: *stride,
                padding: *padding,
                depthwise: true,
                weights,
                bias,
                activation,
            }),
            Layer::MaxPool1d {
                pool_size,
                stride,
                padding,
            }
            | Layer::AvgPool1d {
                pool_size,
                stride,
                padding,
            } => {
                let x = self.as_image(x)?;
                let max = matches!(layer, Layer::MaxPool1d { .. });
                let stride = [1, stride.unwrap_or(*pool_size)];
                self.pool(x, max, [1, *pool_size], stride, *padding, activation)
            }
            Layer::MaxPool2d {
                pool_size,
                stride,
                padding,
            }
            | Layer::AvgPool2d {
                pool_size,
                stride,
                padding,
            } => {
                let max = matches!(layer, Layer::MaxPool2d { .. });
                let stride = stride.unwrap_or(*pool_size);
                self.pool(x, max, *pool_size, stride, *padding, activation)
            }
            Layer::GlobalAvgPool => {
                let name = self.name("global_average_pooling");
                let rank = shape.len();
                let axes: Vec<i32> = (1..rank.saturating_sub(1)).map(|a| a as i32).collect();
                let axes_tensor = self.graph.push_tensor(TensorSpec::constant_i32(
                    format!("{name}/axes"),
                    vec![axes.len()],
                    &axes,
                ));
                let channels = shape.last().copied().unwrap_or(0);
                let y = self.activation(&name, vec![1, channels]);
                self.op(
                    OpKind::Mean { keep_dims: false },
                    vec![Some(x), Some(axes_tensor)],
                    y,
                );
                Ok(y)
            }
            Layer::BatchNorm { .. } => {
                let params = layer.batch_norm_params().ok_or_else(|| {
                    QuantError::Model("a batch norm without its statistics".into())
                })?;
                let (scale, shift) = inference_affine(&params);
                self.channel_affine(x, &scale, &shift, activation)
            }
            Layer::Dropout { .. } => Ok(x),
            Layer::Flatten => self.flat(x),
            Layer::Reshape { shape: target } => {
                let mut full = vec![1];
                full.extend(target);
                self.reshape(x, full)
            }
            Layer::Residual { layers } => {
                self.pinned.push(x);
                let body = self.layers(layers, x)?;
                let body = if self.shape(body)? == shape {
                    body
                } else {
                    self.reshape(body, shape.clone())?
                };
                let name = self.name("add");
                let y = self.activation(&name, shape);
                self.op(OpKind::Add { activation }, vec![Some(x), Some(body)], y);
                Ok(y)
            }
            Layer::InvertedResidual { .. } => Err(QuantError::Model(
                "an inverted residual block that was never expanded (rebuild the model)".into(),
            )),
            Layer::Relu | Layer::Relu6 => {
                let name = self.name("relu");
                let y = self.activation(&name, shape);
                let kind = if matches!(layer, Layer::Relu) {
                    OpKind::Relu
                } else {
                    OpKind::Relu6
                };
                self.op(kind, vec![Some(x)], y);
                Ok(y)
            }
            Layer::Softmax => {
                let name = self.name("softmax");
                let y = self.activation(&name, shape);
                self.op(OpKind::Softmax { beta: 1.0 }, vec![Some(x)], y);
                Ok(y)
            }
        }
    }

    fn constant(
        &mut self,
        name: &str,
        shape: Vec<usize>,
        values: &[f32],
    ) -> Result<usize, QuantError> {
        let expected: usize = shape.iter().product();
        if values.len() != expected {
            return Err(QuantError::Model(format!(
                "{name} holds {} values, its shape {shape:?} needs {expected} (is the model trained?)",
                values.len()
            )));
        }
        Ok(self
            .graph
            .push_tensor(TensorSpec::constant_f32(name, shape, values)))
    }

    /// RESHAPE of `x` to `shape` (batch included), with the shape as an int32 input as the
    /// converter writes it; `x` itself when it already has that shape.
    fn reshape(&mut self, x: usize, shape: Vec<usize>) -> Result<usize, QuantError> {
        if self.shape(x)? == shape {
            return Ok(x);
        }
        // A reshape of the previous reshape's output becomes that reshape (the converter folds
        // them the same way), unless a residual block still needs the intermediate shape.
        if let Some(last) = self.graph.operators.last()
            && matches!(last.kind, OpKind::Reshape { .. })
            && last.outputs == [x]
            && !self.pinned.contains(&x)
            && !self.graph.inputs.contains(&x)
        {
            let dims: Vec<i32> = shape.iter().map(|&d| d as i32).collect();
            let shape_input = last.inputs.get(1).copied().flatten();
            if let Some(t) = shape_input.and_then(|i| self.graph.tensors.get_mut(i)) {
                *t = TensorSpec::constant_i32(t.name.clone(), vec![dims.len()], &dims);
            }
            if let Some(t) = self.graph.tensors.get_mut(x) {
                t.shape = shape;
            }
            return Ok(x);
        }
        let name = self.name("reshape");
        let dims: Vec<i32> = shape.iter().map(|&d| d as i32).collect();
        let shape_tensor = self.graph.push_tensor(TensorSpec::constant_i32(
            format!("{name}/shape"),
            vec![dims.len()],
            &dims,
        ));
        let y = self.activation(&name, shape);
        // The shape is an input tensor only, without ReshapeOptions, as the converter writes it.
        self.op(
            OpKind::Reshape { new_shape: None },
            vec![Some(x), Some(shape_tensor)],
            y,
        );
        Ok(y)
    }

    /// `x` as `[1, values]`.
    fn flat(&mut self, x: usize) -> Result<usize, QuantError> {
        let count: usize = self.shape(x)?.iter().product();
        self.reshape(x, vec![1, count])
    }

    /// `x` as NHWC: `[1, W, C]` becomes `[1, 1, W, C]`; 4-D tensors pass.
    fn as_image(&mut self, x: usize) -> Result<usize, QuantError> {
        match self.shape(x)?.as_slice() {
            [1, w, c] => self.reshape(x, vec![1, 1, *w, *c]),
            [1, _, _, _] => Ok(x),
            other => Err(QuantError::Model(format!(
                "a 1-D layer needs a [width, channels] input, found {other:?}"
            ))),
        }
    }

    fn conv(&mut self, spec: ConvSpec<'_>) -> Result<usize, QuantError> {
        let shape = self.shape(spec.x)?;
        let [_, h, w, c] = shape.as_slice() else {
            return Err(QuantError::Model(format!(
                "{} needs a [height, width, channels] input, found {shape:?}",
                spec.kind
            )));
        };
        let [kh, kw] = spec.kernel;
        let out_hw = spec
            .padding
            .output_and_pad(*h, kh, spec.stride[0])
            .zip(spec.padding.output_and_pad(*w, kw, spec.stride[1]));
        let Some(((oh, _), (ow, _))) = out_hw else {
            return Err(QuantError::Model(format!(
                "{} kernel {kh}×{kw} does not fit the input {h}×{w}",
                spec.kind
            )));
        };
        let name = self.name(spec.kind);
        let filter_shape = if spec.depthwise {
            vec![1, kh, kw, *c]
        } else {
            vec![spec.filters, kh, kw, *c]
        };
        let filter = self.constant(&format!("{name}/weights"), filter_shape, spec.weights)?;
        let bias = self.constant(&format!("{name}/bias"), vec![spec.filters], spec.bias)?;
        let y = self.activation(&name, vec![1, oh, ow, spec.filters]);
        let kind = if spec.depthwise {
            OpKind::DepthwiseConv2d {
                stride: spec.stride,
                dilation: [1, 1],
                padding: spec.padding,
                depth_multiplier: 1,
                activation: spec.activation,
            }
        } else {
            OpKind::Conv2d {
                stride: spec.stride,
                dilation: [1, 1],
                padding: spec.padding,
                activation: spec.activation,
            }
        };
        self.op(kind, vec![Some(spec.x), Some(filter), Some(bias)], y);
        Ok(y)
    }

    #[allow(clippy::too_many_arguments)]
    fn pool(
        &mut self,
        x: usize,
        max: bool,
        filter: [usize; 2],
        stride: [usize; 2],
        padding: Padding,
        activation: Activation,
    ) -> Result<usize, QuantError> {
        let shape = self.shape(x)?;
        let [_, h, w, c] = shape.as_slice() else {
            return Err(QuantError::Model(format!(
                "pooling needs a [height, width, channels] input, found {shape:?}"
            )));
        };
        let out = padding
            .output_and_pad(*h, filter[0], stride[0])
            .zip(padding.output_and_pad(*w, filter[1], stride[1]));
        let Some(((oh, _), (ow, _))) = out else {
            return Err(QuantError::Model(format!(
                "pool {}×{} does not fit the input {h}×{w}",
                filter[0], filter[1]
            )));
        };
        let name = self.name(if max { "max_pool" } else { "average_pool" });
        let y = self.activation(&name, vec![1, oh, ow, *c]);
        let kind = OpKind::pool(max, filter, stride, padding, activation);
        self.op(kind, vec![Some(x)], y);
        Ok(y)
    }

    /// `y = x · scale + shift` per channel (a batch norm nothing absorbed), as a 1×1 depthwise
    /// convolution on `x` viewed as `[1, 1, values / C, C]`.
    fn channel_affine(
        &mut self,
        x: usize,
        scale: &[f32],
        shift: &[f32],
        activation: Activation,
    ) -> Result<usize, QuantError> {
        let shape = self.shape(x)?;
        let channels = scale.len();
        let count: usize = shape.iter().product();
        if channels == 0 || !count.is_multiple_of(channels) {
            return Err(QuantError::Model(format!(
                "a batch norm of {channels} channels on an input of shape {shape:?}"
            )));
        }
        let image = self.reshape(x, vec![1, 1, count / channels, channels])?;
        let y = self.conv(ConvSpec {
            kind: "batch_norm",
            x: image,
            filters: channels,
            kernel: [1, 1],
            stride: [1, 1],
            padding: Padding::Valid,
            depthwise: true,
            weights: scale,
            bias: shift,
            activation,
        })?;
        self.reshape(y, shape)
    }
}

/// What [`Lowering::conv`] needs.
struct ConvSpec<'a> {
    kind: &'static str,
    x: usize,
    filters: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: Padding,
    depthwise: bool,
    weights: &'a [f32],
    bias: &'a [f32],
    activation: Activation,
}

/// Whether a ReLU after `layer` fuses into its op.
fn fuses(layer: &Layer) -> bool {
    matches!(
        layer,
        Layer::Dense { .. }
            | Layer::Conv1d { .. }
            | Layer::Conv2d { .. }
            | Layer::DepthwiseConv2d { .. }
            | Layer::MaxPool1d { .. }
            | Layer::AvgPool1d { .. }
            | Layer::MaxPool2d { .. }
            | Layer::AvgPool2d { .. }
            | Layer::BatchNorm { .. }
            | Layer::Residual { .. }
    )
}
