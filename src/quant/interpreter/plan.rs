//! Preparing a graph to run: every operator checked (types, shapes, quantization) and turned
//! into a [`Step`] with its kernel's precomputed parameters, as TFLM's `Prepare` functions do;
//! and running one step on its input values.

use super::TensorData;
use crate::quant::kernels::conv::{self, ConvShape, DepthwiseShape, QuantizedOutput};
use crate::quant::kernels::elementwise::{self, AddQuant, ReluQuant, RequantizeQuant};
use crate::quant::kernels::fully_connected::{self, FullyConnectedShape};
use crate::quant::kernels::pool::{self, PoolKind, PoolShape};
use crate::quant::kernels::reduce::{self, MeanQuant, Reduction};
use crate::quant::kernels::softmax::{self, SoftmaxQuant};
use crate::quant::kernels::{
    INT8_RANGE, Window2d, activation_range_f32, activation_range_quantized, channel_multipliers,
    fixed_point::quantize_multiplier,
};
use crate::quant::{Activation, DType, Graph, OpKind, Operator, QuantError, TensorSpec};

/// The uint8 range `[0, 255]`.
const UINT8_RANGE: [i32; 2] = [0, 255];

/// One operator ready to run.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    /// The TFLite operator name, for errors.
    pub name: &'static str,
    /// The operator's position in the graph, for errors.
    pub position: usize,
    /// Input tensor indices (`None` for an omitted optional input).
    pub inputs: Vec<Option<usize>>,
    /// The output tensor index.
    pub output: usize,
    /// What to compute.
    pub kernel: Kernel,
}

/// A kernel and its precomputed parameters.
#[derive(Clone, Debug)]
pub(crate) enum Kernel {
    ConvF32(ConvShape, (f32, f32)),
    ConvI8(ConvShape, QuantizedOutput),
    DepthwiseF32(DepthwiseShape, (f32, f32)),
    DepthwiseI8(DepthwiseShape, QuantizedOutput),
    FullyConnectedF32(FullyConnectedShape, (f32, f32)),
    FullyConnectedI8(FullyConnectedShape, i32, QuantizedOutput),
    PoolF32(PoolKind, PoolShape, (f32, f32)),
    PoolI8(PoolKind, PoolShape, (i32, i32)),
    MeanF32(Reduction),
    MeanI8(Reduction, MeanQuant),
    /// Input shapes and the output shape (broadcast when they differ).
    AddF32([Vec<usize>; 2], Vec<usize>, (f32, f32)),
    AddI8([Vec<usize>; 2], Vec<usize>, AddQuant),
    ReluF32 {
        six: bool,
    },
    ReluI8(ReluQuant),
    Relu6I8 {
        scale: f32,
        zero_point: i32,
    },
    /// Input shape, `(before, after)` per axis, and the pad value (the zero point for int8).
    Pad(Vec<usize>, Vec<(usize, usize)>, i32),
    Reshape,
    QuantizeF32ToI8 {
        scale: f32,
        zero_point: i32,
    },
    /// Integer → integer, with the output type's range.
    Requantize(RequantizeQuant, DType),
    Dequantize {
        scale: f32,
        zero_point: i32,
    },
    SoftmaxF32 {
        depth: usize,
        beta: f32,
    },
    SoftmaxI8 {
        depth: usize,
        quant: SoftmaxQuant,
    },
}

/// The view of one operator while preparing it: lookups that fail with the operator named.
struct OpView<'g> {
    graph: &'g Graph,
    op: &'g Operator,
    name: &'static str,
    position: usize,
}

impl<'g> OpView<'g> {
    fn invalid(&self, message: impl std::fmt::Display) -> QuantError {
        QuantError::Invalid(format!(
            "operator {} ({}): {message}",
            self.position, self.name
        ))
    }

    fn unsupported(&self, message: impl std::fmt::Display) -> QuantError {
        QuantError::Unsupported(format!(
            "{} (operator {}) {message}",
            self.name, self.position
        ))
    }

    /// Input `i`, which must be present.
    fn input(&self, i: usize) -> Result<&'g TensorSpec, QuantError> {
        match self.op.inputs.get(i) {
            Some(Some(index)) => self.graph.tensor(*index),
            _ => Err(self.invalid(format!("input {i} is missing"))),
        }
    }

    /// Input `i`, if present.
    fn optional_input(&self, i: usize) -> Result<Option<&'g TensorSpec>, QuantError> {
        match self.op.inputs.get(i) {
            Some(Some(index)) => self.graph.tensor(*index).map(Some),
            _ => Ok(None),
        }
    }

    fn output(&self) -> Result<(usize, &'g TensorSpec), QuantError> {
        match self.op.outputs.as_slice() {
            [index] => Ok((*index, self.graph.tensor(*index)?)),
            outputs => Err(self.invalid(format!("expected 1 output, found {}", outputs.len()))),
        }
    }

    /// The per-tensor `(scale, zero_point)` of a quantized tensor.
    fn quant(&self, tensor: &TensorSpec) -> Result<(f32, i32), QuantError> {
        let q = tensor.quantization.as_ref().ok_or_else(|| {
            self.invalid(format!(
                "{} tensor {:?} has no quantization",
                tensor.dtype.name(),
                tensor.name
            ))
        })?;
        let (scale, zero_point) = q
            .single()
            .map_err(|e| self.invalid(format!("tensor {:?}: {e}", tensor.name)))?;
        let zero_point = i32::try_from(zero_point).map_err(|_| {
            self.invalid(format!("tensor {:?}: zero point {zero_point}", tensor.name))
        })?;
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(self.invalid(format!("tensor {:?} has scale {scale}", tensor.name)));
        }
        Ok((scale, zero_point))
    }

    /// The scales of a (per-tensor or per-channel) quantized weight tensor with `channels`
    /// channels along `axis`, and its (first) zero point.
    fn weight_scales(
        &self,
        tensor: &TensorSpec,
        channels: usize,
        axis: usize,
    ) -> Result<(Vec<f32>, i32), QuantError> {
        let q = tensor.quantization.as_ref().ok_or_else(|| {
            self.invalid(format!("weights {:?} have no quantization", tensor.name))
        })?;
        if q.scale.len() != 1 && (q.scale.len() != channels || q.quantized_dimension != axis) {
            return Err(self.invalid(format!(
                "weights {:?} have {} scales along axis {}, expected 1 or {channels} along {axis}",
                tensor.name,
                q.scale.len(),
                q.quantized_dimension
            )));
        }
        let zero_point = q.zero_point.first().copied().unwrap_or(0);
        Ok((q.scale.clone(), zero_point as i32))
    }

    fn expect_dtype(&self, tensor: &TensorSpec, dtype: DType) -> Result<(), QuantError> {
        if tensor.dtype == dtype {
            Ok(())
        } else {
            Err(self.unsupported(format!(
                "with {} tensor {:?} where {} is expected",
                tensor.dtype.name(),
                tensor.name,
                dtype.name()
            )))
        }
    }

    fn expect_shape(&self, tensor: &TensorSpec, shape: &[usize]) -> Result<(), QuantError> {
        if tensor.shape == shape {
            Ok(())
        } else {
            Err(self.invalid(format!(
                "tensor {:?} has shape {:?}, expected {shape:?}",
                tensor.name, tensor.shape
            )))
        }
    }

    fn constant_ints(&self, tensor: &TensorSpec) -> Result<Vec<i32>, QuantError> {
        match TensorData::from_constant(tensor)? {
            Some(TensorData::I32(v)) => Ok(v),
            _ => Err(self.invalid(format!(
                "tensor {:?} must be a constant int32 tensor",
                tensor.name
            ))),
        }
    }

    fn nhwc(&self, tensor: &TensorSpec) -> Result<[usize; 4], QuantError> {
        <[usize; 4]>::try_from(tensor.shape.as_slice()).map_err(|_| {
            self.invalid(format!(
                "tensor {:?} has shape {:?}, expected 4 dimensions (NHWC)",
                tensor.name, tensor.shape
            ))
        })
    }

    /// The int8 requantization of a conv / depthwise / fully connected output.
    fn quantized_output(
        &self,
        input: &TensorSpec,
        multipliers: Vec<(i32, i32)>,
        output: &TensorSpec,
        activation: Activation,
    ) -> Result<QuantizedOutput, QuantError> {
        let (_, input_zero_point) = self.quant(input)?;
        let (output_scale, output_zero_point) = self.quant(output)?;
        let (activation_min, activation_max) =
            activation_range_quantized(activation, output_scale, output_zero_point, INT8_RANGE)?;
        Ok(QuantizedOutput {
            input_offset: -input_zero_point,
            output_offset: output_zero_point,
            multipliers,
            activation_min,
            activation_max,
        })
    }

    /// Checks the types of `[input, weights, bias?] → output` of a float or int8 layer and
    /// returns whether it is int8.
    fn layer_types(
        &self,
        input: &TensorSpec,
        weights: &TensorSpec,
        bias: Option<&TensorSpec>,
        output: &TensorSpec,
    ) -> Result<bool, QuantError> {
        let (weights_type, bias_type) = match input.dtype {
            DType::F32 => (DType::F32, DType::F32),
            DType::I8 => (DType::I8, DType::I32),
            other => {
                return Err(self.unsupported(format!(
                    "with {} input (float32 or int8 are supported)",
                    other.name()
                )));
            }
        };
        self.expect_dtype(weights, weights_type)?;
        if let Some(bias) = bias {
            self.expect_dtype(bias, bias_type)?;
        }
        self.expect_dtype(output, input.dtype)?;
        Ok(input.dtype == DType::I8)
    }
}

/// Every operator of `graph` prepared, in order.
pub(super) fn prepare(graph: &Graph) -> Result<Vec<Step>, QuantError> {
    graph
        .operators
        .iter()
        .enumerate()
        .map(|(position, op)| {
            let view = OpView {
                graph,
                op,
                name: op.kind.name(),
                position,
            };
            let (output, _) = view.output()?;
            Ok(Step {
                name: view.name,
                position,
                inputs: op.inputs.clone(),
                output,
                kernel: prepare_op(&view)?,
            })
        })
        .collect()
}

fn prepare_op(view: &OpView) -> Result<Kernel, QuantError> {
    match &view.op.kind {
        OpKind::Conv2d {
            stride,
            dilation,
            padding,
            activation,
        } => {
            let (input, filter, bias) = (view.input(0)?, view.input(1)?, view.optional_input(2)?);
            let (_, output) = view.output()?;
            let int8 = view.layer_types(input, filter, bias, output)?;
            let [n, h, w, c_in] = view.nhwc(input)?;
            let [c_out, kh, kw, filter_c] = view.nhwc(filter)?;
            if filter_c != c_in {
                return Err(view.unsupported(format!(
                    "with {filter_c} filter channels for {c_in} input channels (grouped convolution)"
                )));
            }
            let window = Window2d::new(n, [h, w], [kh, kw], *stride, *dilation, *padding)
                .ok_or_else(|| view.invalid(format!("a {kh}×{kw} window does not fit {h}×{w}")))?;
            view.expect_shape(
                output,
                &[n, window.output_hw[0], window.output_hw[1], c_out],
            )?;
            let shape = ConvShape {
                window,
                input_channels: c_in,
                output_channels: c_out,
            };
            if int8 {
                let (scales, _) = view.weight_scales(filter, c_out, 0)?;
                let multipliers = channel_multipliers(
                    view.quant(input)?.0,
                    &scales,
                    view.quant(output)?.0,
                    c_out,
                );
                Ok(Kernel::ConvI8(
                    shape,
                    view.quantized_output(input, multipliers, output, *activation)?,
                ))
            } else {
                Ok(Kernel::ConvF32(shape, activation_range_f32(*activation)))
            }
        }
        OpKind::DepthwiseConv2d {
            stride,
            dilation,
            padding,
            depth_multiplier,
            activation,
        } => {
            let (input, filter, bias) = (view.input(0)?, view.input(1)?, view.optional_input(2)?);
            let (_, output) = view.output()?;
            let int8 = view.layer_types(input, filter, bias, output)?;
            let [n, h, w, c_in] = view.nhwc(input)?;
            let [one, kh, kw, c_out] = view.nhwc(filter)?;
            if one != 1 || c_in == 0 || c_out % c_in != 0 {
                return Err(view.invalid(format!(
                    "filter shape {:?} does not fit {c_in} input channels",
                    filter.shape
                )));
            }
            let multiplier = c_out / c_in;
            if *depth_multiplier != 0 && *depth_multiplier != multiplier {
                return Err(view.invalid(format!(
                    "depth multiplier {depth_multiplier}, but the filter has {c_out} channels for {c_in}"
                )));
            }
            let window = Window2d::new(n, [h, w], [kh, kw], *stride, *dilation, *padding)
                .ok_or_else(|| view.invalid(format!("a {kh}×{kw} window does not fit {h}×{w}")))?;
            view.expect_shape(
                output,
                &[n, window.output_hw[0], window.output_hw[1], c_out],
            )?;
            let shape = DepthwiseShape {
                window,
                input_channels: c_in,
                depth_multiplier: multiplier,
            };
            if int8 {
                let (scales, _) = view.weight_scales(filter, c_out, 3)?;
                let multipliers = channel_multipliers(
                    view.quant(input)?.0,
                    &scales,
                    view.quant(output)?.0,
                    c_out,
                );
                Ok(Kernel::DepthwiseI8(
                    shape,
                    view.quantized_output(input, multipliers, output, *activation)?,
                ))
            } else {
                Ok(Kernel::DepthwiseF32(
                    shape,
                    activation_range_f32(*activation),
                ))
            }
        }
        OpKind::FullyConnected { activation, .. } => {
            let (input, weights, bias) = (view.input(0)?, view.input(1)?, view.optional_input(2)?);
            let (_, output) = view.output()?;
            let int8 = view.layer_types(input, weights, bias, output)?;
            let [units, depth] =
                <[usize; 2]>::try_from(weights.shape.as_slice()).map_err(|_| {
                    view.invalid(format!(
                        "weights have shape {:?}, expected [units, in]",
                        weights.shape
                    ))
                })?;
            if units == 0 || depth == 0 || output.element_count() % units != 0 {
                return Err(view.invalid(format!(
                    "output shape {:?} does not fit {units} units",
                    output.shape
                )));
            }
            let batches = output.element_count() / units;
            if input.element_count() != batches * depth || output.shape.last() != Some(&units) {
                return Err(view.invalid(format!(
                    "input {:?} and output {:?} do not fit weights [{units}, {depth}]",
                    input.shape, output.shape
                )));
            }
            let shape = FullyConnectedShape {
                batches,
                depth,
                units,
            };
            if !int8 {
                return Ok(Kernel::FullyConnectedF32(
                    shape,
                    activation_range_f32(*activation),
                ));
            }
            let (scales, weights_zero_point) = view.weight_scales(weights, units, 0)?;
            let (input_scale, _) = view.quant(input)?;
            let (output_scale, _) = view.quant(output)?;
            let (multipliers, weights_offset) = match scales.as_slice() {
                // Per tensor: GetQuantizedConvolutionMultipler multiplies the scales in float32.
                [filter_scale] => (
                    vec![quantize_multiplier(
                        f64::from(input_scale * filter_scale) / f64::from(output_scale),
                    )],
                    -weights_zero_point,
                ),
                many => (
                    channel_multipliers(input_scale, many, output_scale, units),
                    0,
                ),
            };
            Ok(Kernel::FullyConnectedI8(
                shape,
                weights_offset,
                view.quantized_output(input, multipliers, output, *activation)?,
            ))
        }
        OpKind::MaxPool2d {
            filter,
            stride,
            padding,
            activation,
        }
        | OpKind::AveragePool2d {
            filter,
            stride,
            padding,
            activation,
        } => {
            let kind = match view.op.kind {
                OpKind::MaxPool2d { .. } => PoolKind::Max,
                _ => PoolKind::Average,
            };
            let input = view.input(0)?;
            let (_, output) = view.output()?;
            let [n, h, w, c] = view.nhwc(input)?;
            let window = Window2d::new(n, [h, w], *filter, *stride, [1, 1], *padding)
                .ok_or_else(|| view.invalid(format!("a {filter:?} window does not fit {h}×{w}")))?;
            view.expect_shape(output, &[n, window.output_hw[0], window.output_hw[1], c])?;
            view.expect_dtype(output, input.dtype)?;
            let shape = PoolShape {
                window,
                channels: c,
            };
            match input.dtype {
                DType::F32 => Ok(Kernel::PoolF32(
                    kind,
                    shape,
                    activation_range_f32(*activation),
                )),
                DType::I8 => {
                    let (scale, zero_point) = view.quant(output)?;
                    let range =
                        activation_range_quantized(*activation, scale, zero_point, INT8_RANGE)?;
                    Ok(Kernel::PoolI8(kind, shape, range))
                }
                other => Err(view.unsupported(format!("with {} input", other.name()))),
            }
        }
        OpKind::Mean { .. } => {
            let (input, axes) = (view.input(0)?, view.input(1)?);
            let (_, output) = view.output()?;
            let reduction = Reduction::new(&input.shape, &view.constant_ints(axes)?)?;
            if reduction.output_len() != output.element_count() {
                return Err(view.invalid(format!(
                    "output {:?} does not fit the mean of {:?}",
                    output.shape, input.shape
                )));
            }
            view.expect_dtype(output, input.dtype)?;
            match input.dtype {
                DType::F32 => Ok(Kernel::MeanF32(reduction)),
                DType::I8 => Ok(Kernel::MeanI8(
                    reduction,
                    MeanQuant::new(view.quant(input)?, view.quant(output)?),
                )),
                other => Err(view.unsupported(format!("with {} input", other.name()))),
            }
        }
        OpKind::Add { activation } => {
            let (a, b) = (view.input(0)?, view.input(1)?);
            let (_, output) = view.output()?;
            view.expect_dtype(b, a.dtype)?;
            view.expect_dtype(output, a.dtype)?;
            let shapes = [a.shape.clone(), b.shape.clone()];
            for shape in &shapes {
                // Checks broadcastability once, on placeholder values.
                elementwise::broadcast(&vec![0u8; shape.iter().product()], shape, &output.shape)
                    .map_err(|e| view.invalid(e))?;
            }
            match a.dtype {
                DType::F32 => Ok(Kernel::AddF32(
                    shapes,
                    output.shape.clone(),
                    activation_range_f32(*activation),
                )),
                DType::I8 => Ok(Kernel::AddI8(
                    shapes,
                    output.shape.clone(),
                    AddQuant::new(
                        view.quant(a)?,
                        view.quant(b)?,
                        view.quant(output)?,
                        *activation,
                    )
                    .map_err(|e| view.invalid(e))?,
                )),
                other => Err(view.unsupported(format!("with {} inputs", other.name()))),
            }
        }
        OpKind::Relu | OpKind::Relu6 => {
            let six = matches!(view.op.kind, OpKind::Relu6);
            let input = view.input(0)?;
            let (_, output) = view.output()?;
            view.expect_dtype(output, input.dtype)?;
            same_count(view, input, output)?;
            match (input.dtype, six) {
                (DType::F32, _) => Ok(Kernel::ReluF32 { six }),
                (DType::I8, false) => Ok(Kernel::ReluI8(ReluQuant::new(
                    view.quant(input)?,
                    view.quant(output)?,
                ))),
                (DType::I8, true) => {
                    let (scale, zero_point) = view.quant(input)?;
                    Ok(Kernel::Relu6I8 { scale, zero_point })
                }
                (other, _) => Err(view.unsupported(format!("with {} input", other.name()))),
            }
        }
        OpKind::Pad => {
            let (input, paddings) = (view.input(0)?, view.input(1)?);
            let (_, output) = view.output()?;
            view.expect_dtype(output, input.dtype)?;
            let values = view.constant_ints(paddings)?;
            if values.len() != 2 * input.shape.len() {
                return Err(view.invalid(format!(
                    "paddings {:?} do not fit rank {}",
                    paddings.shape,
                    input.shape.len()
                )));
            }
            let pairs: Vec<(usize, usize)> = values
                .chunks_exact(2)
                .map(|p| match p {
                    [before, after] => usize::try_from(*before)
                        .ok()
                        .zip(usize::try_from(*after).ok())
                        .ok_or_else(|| view.invalid(format!("negative padding {p:?}"))),
                    _ => Err(view.invalid("odd paddings")),
                })
                .collect::<Result<_, _>>()?;
            let padded: Vec<usize> = input
                .shape
                .iter()
                .zip(&pairs)
                .map(|(d, (b, a))| d + b + a)
                .collect();
            view.expect_shape(output, &padded)?;
            let value = match input.dtype {
                DType::F32 => 0,
                DType::I8 => view.quant(output)?.1,
                other => return Err(view.unsupported(format!("with {} input", other.name()))),
            };
            Ok(Kernel::Pad(input.shape.clone(), pairs, value))
        }
        OpKind::Reshape { new_shape } => {
            let input = view.input(0)?;
            let (_, output) = view.output()?;
            view.expect_dtype(output, input.dtype)?;
            same_count(view, input, output)?;
            let requested = match view.optional_input(1)? {
                Some(shape) if shape.is_constant() => Some(view.constant_ints(shape)?),
                Some(_) => None,
                None => new_shape.clone(),
            };
            if let Some(requested) = requested {
                let resolved =
                    resolve_shape(&requested, input.element_count()).ok_or_else(|| {
                        view.invalid(format!("cannot reshape {:?} to {requested:?}", input.shape))
                    })?;
                if resolved.iter().product::<usize>() != output.element_count() {
                    return Err(view.invalid(format!(
                        "new shape {resolved:?} does not match output {:?}",
                        output.shape
                    )));
                }
            }
            Ok(Kernel::Reshape)
        }
        OpKind::Softmax { beta } => {
            let input = view.input(0)?;
            let (_, output) = view.output()?;
            view.expect_dtype(output, input.dtype)?;
            same_count(view, input, output)?;
            let depth = input.shape.last().copied().unwrap_or(1);
            match input.dtype {
                DType::F32 => Ok(Kernel::SoftmaxF32 { depth, beta: *beta }),
                DType::I8 => {
                    let (scale, zero_point) = view.quant(output)?;
                    if scale != 1.0 / 256.0 || zero_point != -128 {
                        return Err(view.invalid(format!(
                            "int8 output must have scale 1/256 and zero point -128, not {scale} and {zero_point}"
                        )));
                    }
                    let quant = SoftmaxQuant::new(*beta, view.quant(input)?.0)
                        .map_err(|e| view.invalid(e))?;
                    Ok(Kernel::SoftmaxI8 { depth, quant })
                }
                other => Err(view.unsupported(format!("with {} input", other.name()))),
            }
        }
        OpKind::Quantize => {
            let input = view.input(0)?;
            let (_, output) = view.output()?;
            same_count(view, input, output)?;
            match (input.dtype, output.dtype) {
                (DType::F32, DType::I8) => {
                    let (scale, zero_point) = view.quant(output)?;
                    Ok(Kernel::QuantizeF32ToI8 { scale, zero_point })
                }
                (DType::I8 | DType::U8, DType::I8 | DType::U8) => Ok(Kernel::Requantize(
                    RequantizeQuant::new(view.quant(input)?, view.quant(output)?),
                    output.dtype,
                )),
                (from, to) => Err(view.unsupported(format!(
                    "from {} to {} (float32 → int8 and int8/uint8 → int8/uint8 are supported)",
                    from.name(),
                    to.name()
                ))),
            }
        }
        OpKind::Dequantize => {
            let input = view.input(0)?;
            let (_, output) = view.output()?;
            same_count(view, input, output)?;
            view.expect_dtype(output, DType::F32)?;
            match input.dtype {
                DType::I8 | DType::U8 => {
                    let (scale, zero_point) = view.quant(input)?;
                    Ok(Kernel::Dequantize { scale, zero_point })
                }
                other => Err(view.unsupported(format!("with {} input", other.name()))),
            }
        }
    }
}

fn same_count(view: &OpView, input: &TensorSpec, output: &TensorSpec) -> Result<(), QuantError> {
    if input.element_count() == output.element_count() {
        Ok(())
    } else {
        Err(view.invalid(format!(
            "input {:?} and output {:?} differ in size",
            input.shape, output.shape
        )))
    }
}

/// A RESHAPE target with at most one `-1` resolved for `count` elements.
fn resolve_shape(requested: &[i32], count: usize) -> Option<Vec<usize>> {
    let known: usize = requested
        .iter()
        .filter(|&&d| d != -1)
        .map(|&d| usize::try_from(d).ok())
        .product::<Option<usize>>()?;
    match requested.iter().filter(|&&d| d == -1).count() {
        0 => Some(requested.iter().map(|&d| d as usize).collect()),
        1 if known > 0 && count.is_multiple_of(known) => Some(
            requested
                .iter()
                .map(|&d| if d == -1 { count / known } else { d as usize })
                .collect(),
        ),
        _ => None,
    }
}

/// A step's input value, already resolved by the runner.
fn value<'v>(
    step: &Step,
    inputs: &[Option<&'v TensorData>],
    i: usize,
) -> Result<&'v TensorData, QuantError> {
    inputs.get(i).copied().flatten().ok_or_else(|| {
        QuantError::Invalid(format!(
            "operator {} ({}): input {i} has no value",
            step.position, step.name
        ))
    })
}

fn typed<'v, T: ?Sized>(
    step: &Step,
    data: &'v TensorData,
    get: impl Fn(&'v TensorData) -> Option<&'v T>,
) -> Result<&'v T, QuantError> {
    get(data).ok_or_else(|| {
        QuantError::Invalid(format!(
            "operator {} ({}): unexpected {} value",
            step.position,
            step.name,
            data.dtype().name()
        ))
    })
}

/// Runs `step` on its inputs (in the operator's input order, `None` for omitted ones).
pub(super) fn run(step: &Step, inputs: &[Option<&TensorData>]) -> Result<TensorData, QuantError> {
    let f32s = |i: usize| value(step, inputs, i).and_then(|d| typed(step, d, TensorData::as_f32));
    let i8s = |i: usize| value(step, inputs, i).and_then(|d| typed(step, d, TensorData::as_i8));
    let optional_f32 = |i: usize| match inputs.get(i).copied().flatten() {
        Some(d) => typed(step, d, TensorData::as_f32).map(Some),
        None => Ok(None),
    };
    let optional_i32 = |i: usize| match inputs.get(i).copied().flatten() {
        Some(d) => typed(step, d, TensorData::as_i32).map(Some),
        None => Ok(None),
    };
    Ok(match &step.kernel {
        Kernel::ConvF32(shape, range) => TensorData::F32(conv::conv_f32(
            shape,
            f32s(0)?,
            f32s(1)?,
            optional_f32(2)?,
            *range,
        )?),
        Kernel::ConvI8(shape, quant) => TensorData::I8(conv::conv_i8(
            shape,
            i8s(0)?,
            i8s(1)?,
            optional_i32(2)?,
            quant,
        )?),
        Kernel::DepthwiseF32(shape, range) => TensorData::F32(conv::depthwise_f32(
            shape,
            f32s(0)?,
            f32s(1)?,
            optional_f32(2)?,
            *range,
        )?),
        Kernel::DepthwiseI8(shape, quant) => TensorData::I8(conv::depthwise_i8(
            shape,
            i8s(0)?,
            i8s(1)?,
            optional_i32(2)?,
            quant,
        )?),
        Kernel::FullyConnectedF32(shape, range) => {
            TensorData::F32(fully_connected::fully_connected_f32(
                shape,
                f32s(0)?,
                f32s(1)?,
                optional_f32(2)?,
                *range,
            )?)
        }
        Kernel::FullyConnectedI8(shape, weights_offset, quant) => {
            TensorData::I8(fully_connected::fully_connected_i8(
                shape,
                i8s(0)?,
                i8s(1)?,
                optional_i32(2)?,
                *weights_offset,
                quant,
            )?)
        }
        Kernel::PoolF32(kind, shape, range) => {
            TensorData::F32(pool::pool_f32(*kind, shape, f32s(0)?, *range)?)
        }
        Kernel::PoolI8(kind, shape, range) => {
            TensorData::I8(pool::pool_i8(*kind, shape, i8s(0)?, *range)?)
        }
        Kernel::MeanF32(reduction) => TensorData::F32(reduce::mean_f32(reduction, f32s(0)?)?),
        Kernel::MeanI8(reduction, quant) => {
            TensorData::I8(reduce::mean_i8(reduction, i8s(0)?, quant)?)
        }
        Kernel::AddF32([shape_a, shape_b], out_shape, range) => {
            let (a, b) = (f32s(0)?, f32s(1)?);
            let a = broadcast_if_needed(a, shape_a, out_shape)?;
            let b = broadcast_if_needed(b, shape_b, out_shape)?;
            TensorData::F32(elementwise::add_f32(&a, &b, *range)?)
        }
        Kernel::AddI8([shape_a, shape_b], out_shape, quant) => {
            let (a, b) = (i8s(0)?, i8s(1)?);
            let a = broadcast_if_needed(a, shape_a, out_shape)?;
            let b = broadcast_if_needed(b, shape_b, out_shape)?;
            TensorData::I8(elementwise::add_i8(&a, &b, quant)?)
        }
        Kernel::ReluF32 { six } => TensorData::F32(elementwise::relu_f32(f32s(0)?, *six)),
        Kernel::ReluI8(quant) => TensorData::I8(elementwise::relu_i8(i8s(0)?, quant)),
        Kernel::Relu6I8 { scale, zero_point } => {
            TensorData::I8(elementwise::relu6_i8(i8s(0)?, *scale, *zero_point))
        }
        Kernel::Pad(shape, paddings, pad_value) => match value(step, inputs, 0)? {
            TensorData::F32(v) => TensorData::F32(elementwise::pad(v, shape, paddings, 0.0)?),
            TensorData::I8(v) => TensorData::I8(elementwise::pad(
                v,
                shape,
                paddings,
                (*pad_value).clamp(-128, 127) as i8,
            )?),
            other => {
                return Err(QuantError::Invalid(format!(
                    "operator {} (PAD): unexpected {} input",
                    step.position,
                    other.dtype().name()
                )));
            }
        },
        Kernel::Reshape => value(step, inputs, 0)?.clone(),
        Kernel::QuantizeF32ToI8 { scale, zero_point } => TensorData::I8(
            elementwise::quantize_f32_to_i8(f32s(0)?, *scale, *zero_point),
        ),
        Kernel::Requantize(quant, to) => {
            let values: Vec<i32> = match value(step, inputs, 0)? {
                TensorData::I8(v) => v.iter().map(|&x| i32::from(x)).collect(),
                TensorData::U8(v) => v.iter().map(|&x| i32::from(x)).collect(),
                other => {
                    return Err(QuantError::Invalid(format!(
                        "operator {} (QUANTIZE): unexpected {} input",
                        step.position,
                        other.dtype().name()
                    )));
                }
            };
            match to {
                DType::U8 => TensorData::U8(
                    values
                        .into_iter()
                        .map(|q| quant.apply(q, UINT8_RANGE) as u8)
                        .collect(),
                ),
                _ => TensorData::I8(
                    values
                        .into_iter()
                        .map(|q| quant.apply(q, INT8_RANGE) as i8)
                        .collect(),
                ),
            }
        }
        Kernel::Dequantize { scale, zero_point } => {
            let values: Vec<i32> = match value(step, inputs, 0)? {
                TensorData::I8(v) => v.iter().map(|&x| i32::from(x)).collect(),
                TensorData::U8(v) => v.iter().map(|&x| i32::from(x)).collect(),
                other => {
                    return Err(QuantError::Invalid(format!(
                        "operator {} (DEQUANTIZE): unexpected {} input",
                        step.position,
                        other.dtype().name()
                    )));
                }
            };
            TensorData::F32(elementwise::dequantize(values, *scale, *zero_point))
        }
        Kernel::SoftmaxF32 { depth, beta } => {
            TensorData::F32(softmax::softmax_f32(f32s(0)?, *depth, *beta)?)
        }
        Kernel::SoftmaxI8 { depth, quant } => {
            TensorData::I8(softmax::softmax_i8(i8s(0)?, *depth, quant)?)
        }
    })
}

/// The input itself when its shape is the output's, else its broadcast copy.
fn broadcast_if_needed<'a, T: Copy>(
    input: &'a [T],
    shape: &[usize],
    output_shape: &[usize],
) -> Result<std::borrow::Cow<'a, [T]>, QuantError>
where
    [T]: ToOwned<Owned = Vec<T>>,
{
    if shape == output_shape {
        Ok(std::borrow::Cow::Borrowed(input))
    } else {
        elementwise::broadcast(input, shape, output_shape).map(std::borrow::Cow::Owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_targets_resolve_one_unknown() {
        assert_eq!(resolve_shape(&[1, -1], 12), Some(vec![1, 12]));
        assert_eq!(resolve_shape(&[-1, 3, 2], 12), Some(vec![2, 3, 2]));
        assert_eq!(resolve_shape(&[-1, -1], 12), None);
        assert_eq!(resolve_shape(&[5, -1], 12), None);
        assert_eq!(resolve_shape(&[3, 4], 12), Some(vec![3, 4]));
    }
}
