//! The model as TensorFlow Lite sees it: a flat list of tensors (shape, element type,
//! quantization, constant data) and operators that read and write them by index.
//!
//! This is the one intermediate form between TinyLab's layer graph and every runtime artefact:
//! `quant::lower` turns an [`crate::nn::Model`] into a float32 [`Graph`], `quant::ptq` turns that
//! into an int8 one, `quant::interpreter` runs either with TFLite's reference kernels, and
//! `export::tflite` writes and reads it as a `.tflite` flatbuffer. A graph read from a `.tflite`
//! made by another tool is the same type, so TinyLab runs models it did not train.
//!
//! Conventions follow the TFLite schema: shapes include the batch dimension (always 1 here),
//! activations are NHWC, convolution filters OHWI, depthwise filters `[1, kh, kw, c·m]`, fully
//! connected weights `[units, in]`; constant data are little-endian bytes; an absent optional
//! input (a fully connected layer without bias) is `None` where TFLite writes `-1`.

use serde::{Deserialize, Serialize};

use crate::nn::Padding;
use crate::quant::QuantError;

/// Element type of a tensor (the subset of TFLite's `TensorType` TinyLab reads and writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// `FLOAT32`.
    F32,
    /// `INT8`: activations and weights of quantized models.
    I8,
    /// `UINT8`: legacy quantized models (read only, for the QUANTIZE op).
    U8,
    /// `INT16`.
    I16,
    /// `INT32`: biases of quantized models, shapes, axes, paddings.
    I32,
    /// `INT64`.
    I64,
}

impl DType {
    /// Bytes per element.
    pub fn size_bytes(self) -> usize {
        match self {
            DType::I8 | DType::U8 => 1,
            DType::I16 => 2,
            DType::F32 | DType::I32 => 4,
            DType::I64 => 8,
        }
    }

    /// The name TFLite's schema and the `--json` output use (`float32`, `int8`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
        }
    }
}

/// Affine quantization: `real = scale · (q − zero_point)`, one entry per tensor or, along
/// `quantized_dimension`, one per channel (TFLite's `QuantizationParameters`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantization {
    /// One scale, or one per channel.
    pub scale: Vec<f32>,
    /// As many zero points as scales (all 0 for symmetric weights).
    pub zero_point: Vec<i64>,
    /// The channel axis of per-channel parameters (0 for conv and fully connected weights, 3
    /// for depthwise weights).
    pub quantized_dimension: usize,
}

impl Quantization {
    /// One scale and zero point for the whole tensor.
    pub fn per_tensor(scale: f32, zero_point: i64) -> Self {
        Self {
            scale: vec![scale],
            zero_point: vec![zero_point],
            quantized_dimension: 0,
        }
    }

    /// The scale and zero point of the whole tensor, or an error for per-channel parameters
    /// (activations must be per-tensor).
    pub fn single(&self) -> Result<(f32, i64), QuantError> {
        match (self.scale.as_slice(), self.zero_point.as_slice()) {
            ([scale], [zero_point]) => Ok((*scale, *zero_point)),
            ([scale], []) => Ok((*scale, 0)),
            _ => Err(QuantError::Invalid(format!(
                "expected per-tensor quantization, found {} scales",
                self.scale.len()
            ))),
        }
    }
}

/// One tensor of the graph: an activation (empty `data`) or a constant (weights, biases,
/// shapes, axes, paddings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// Name shown in errors and written to the `.tflite` (e.g. `conv1d_1/weights`).
    pub name: String,
    /// Shape, batch dimension included.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// Quantization parameters, for quantized tensors.
    pub quantization: Option<Quantization>,
    /// Constant contents as little-endian bytes (`shape` product × element size), or empty for
    /// a tensor computed at run time.
    pub data: Vec<u8>,
}

impl TensorSpec {
    /// An activation tensor (no constant data).
    pub fn activation(name: impl Into<String>, shape: Vec<usize>, dtype: DType) -> Self {
        Self {
            name: name.into(),
            shape,
            dtype,
            quantization: None,
            data: Vec::new(),
        }
    }

    /// A float32 constant.
    pub fn constant_f32(name: impl Into<String>, shape: Vec<usize>, values: &[f32]) -> Self {
        Self {
            name: name.into(),
            shape,
            dtype: DType::F32,
            quantization: None,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// An int32 constant (shapes, axes, paddings, quantized biases).
    pub fn constant_i32(name: impl Into<String>, shape: Vec<usize>, values: &[i32]) -> Self {
        Self {
            name: name.into(),
            shape,
            dtype: DType::I32,
            quantization: None,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// An int8 constant (quantized weights).
    pub fn constant_i8(name: impl Into<String>, shape: Vec<usize>, values: &[i8]) -> Self {
        Self {
            name: name.into(),
            shape,
            dtype: DType::I8,
            quantization: None,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// Number of elements (the product of the shape; 1 for a scalar).
    pub fn element_count(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor holds constant data.
    pub fn is_constant(&self) -> bool {
        !self.data.is_empty()
    }

    /// The constant data as float32 values.
    pub fn data_f32(&self) -> Result<Vec<f32>, QuantError> {
        self.expect_data(DType::F32)?;
        Ok(decode(&self.data, f32::from_le_bytes))
    }

    /// The constant data as int32 values.
    pub fn data_i32(&self) -> Result<Vec<i32>, QuantError> {
        self.expect_data(DType::I32)?;
        Ok(decode(&self.data, i32::from_le_bytes))
    }

    /// The constant data as int8 values.
    pub fn data_i8(&self) -> Result<Vec<i8>, QuantError> {
        self.expect_data(DType::I8)?;
        Ok(self.data.iter().map(|&b| b as i8).collect())
    }

    /// The constant data as int64 values (some converters write axes and shapes as int64).
    pub fn data_i64(&self) -> Result<Vec<i64>, QuantError> {
        self.expect_data(DType::I64)?;
        Ok(decode(&self.data, i64::from_le_bytes))
    }

    fn expect_data(&self, dtype: DType) -> Result<(), QuantError> {
        if self.dtype != dtype {
            return Err(QuantError::Invalid(format!(
                "tensor {:?} is {}, expected {}",
                self.name,
                self.dtype.name(),
                dtype.name()
            )));
        }
        let expected = self.element_count() * dtype.size_bytes();
        if self.data.len() != expected {
            return Err(QuantError::Invalid(format!(
                "tensor {:?} of shape {:?} has {} bytes of data, expected {expected}",
                self.name,
                self.shape,
                self.data.len()
            )));
        }
        Ok(())
    }
}

/// Little-endian elements of `N` bytes each (the length was checked by `expect_data`).
fn decode<const N: usize, T>(data: &[u8], from_le: fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .filter_map(|b| <[u8; N]>::try_from(b).ok())
        .map(from_le)
        .collect()
}

/// A fused activation (TFLite's `ActivationFunctionType`, the ones our layers produce).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `NONE`.
    #[default]
    None,
    /// `RELU`.
    Relu,
    /// `RELU6`.
    Relu6,
}

/// An operator and its options (the TFLite builtin ops TinyLab runs; strides, filters and
/// dilations are `[height, width]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OpKind {
    /// `FULLY_CONNECTED`: inputs `[x, weights [units, in], bias?]`.
    FullyConnected {
        /// Fused activation.
        activation: Activation,
        /// Keep the input's leading dimensions instead of flattening to `[batch, units]`.
        keep_num_dims: bool,
    },
    /// `CONV_2D`: inputs `[x, filter OHWI, bias?]`.
    Conv2d {
        /// `[sh, sw]`.
        stride: [usize; 2],
        /// `[dh, dw]`.
        dilation: [usize; 2],
        /// Border rule.
        padding: Padding,
        /// Fused activation.
        activation: Activation,
    },
    /// `DEPTHWISE_CONV_2D`: inputs `[x, filter [1, kh, kw, c·m], bias?]`.
    DepthwiseConv2d {
        /// `[sh, sw]`.
        stride: [usize; 2],
        /// `[dh, dw]`.
        dilation: [usize; 2],
        /// Border rule.
        padding: Padding,
        /// Output channels per input channel.
        depth_multiplier: usize,
        /// Fused activation.
        activation: Activation,
    },
    /// `MAX_POOL_2D`.
    MaxPool2d {
        /// `[fh, fw]`.
        filter: [usize; 2],
        /// `[sh, sw]`.
        stride: [usize; 2],
        /// Border rule.
        padding: Padding,
        /// Fused activation.
        activation: Activation,
    },
    /// `AVERAGE_POOL_2D`.
    AveragePool2d {
        /// `[fh, fw]`.
        filter: [usize; 2],
        /// `[sh, sw]`.
        stride: [usize; 2],
        /// Border rule.
        padding: Padding,
        /// Fused activation.
        activation: Activation,
    },
    /// `MEAN`: inputs `[x, axes (int32)]`.
    Mean {
        /// Keep the reduced axes with length 1.
        keep_dims: bool,
    },
    /// `ADD`: inputs `[a, b]` of the same shape.
    Add {
        /// Fused activation.
        activation: Activation,
    },
    /// `PAD`: inputs `[x, paddings (int32 [rank, 2])]`, zeros (the zero point when quantized).
    Pad,
    /// `RESHAPE`: inputs `[x, shape (int32)?]`; the shape input wins over the option.
    Reshape {
        /// `ReshapeOptions.new_shape`, when written.
        new_shape: Option<Vec<i32>>,
    },
    /// `SOFTMAX` over the last axis.
    Softmax {
        /// `exp(beta · x)`.
        beta: f32,
    },
    /// `RELU`.
    Relu,
    /// `RELU6`.
    Relu6,
    /// `QUANTIZE`: float32 → int8, or int8 → int8 with another scale.
    Quantize,
    /// `DEQUANTIZE`: int8 → float32.
    Dequantize,
}

impl OpKind {
    /// `MAX_POOL_2D` (`max`) or `AVERAGE_POOL_2D` with these options.
    pub fn pool(
        max: bool,
        filter: [usize; 2],
        stride: [usize; 2],
        padding: Padding,
        activation: Activation,
    ) -> Self {
        if max {
            OpKind::MaxPool2d {
                filter,
                stride,
                padding,
                activation,
            }
        } else {
            OpKind::AveragePool2d {
                filter,
                stride,
                padding,
                activation,
            }
        }
    }

    /// The TFLite builtin operator name, as errors and summaries print it.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::FullyConnected { .. } => "FULLY_CONNECTED",
            OpKind::Conv2d { .. } => "CONV_2D",
            OpKind::DepthwiseConv2d { .. } => "DEPTHWISE_CONV_2D",
            OpKind::MaxPool2d { .. } => "MAX_POOL_2D",
            OpKind::AveragePool2d { .. } => "AVERAGE_POOL_2D",
            OpKind::Mean { .. } => "MEAN",
            OpKind::Add { .. } => "ADD",
            OpKind::Pad => "PAD",
            OpKind::Reshape { .. } => "RESHAPE",
            OpKind::Softmax { .. } => "SOFTMAX",
            OpKind::Relu => "RELU",
            OpKind::Relu6 => "RELU6",
            OpKind::Quantize => "QUANTIZE",
            OpKind::Dequantize => "DEQUANTIZE",
        }
    }
}

/// One operator: what it computes and which tensors it reads and writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    /// The op and its options.
    pub kind: OpKind,
    /// Input tensor indices; `None` for an omitted optional input.
    pub inputs: Vec<Option<usize>>,
    /// Output tensor indices.
    pub outputs: Vec<usize>,
}

/// A named blob in the model's metadata (TFLite `Metadata` → buffer), e.g. TinyLab's labels and
/// DSP settings as JSON, or the converter's `min_runtime_version`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The entry's name.
    pub name: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// A whole model: one subgraph, operators in execution order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Graph {
    /// Every tensor, referred to by index.
    pub tensors: Vec<TensorSpec>,
    /// Operators in execution order (each reads only graph inputs, constants or earlier outputs).
    pub operators: Vec<Operator>,
    /// Indices of the graph's input tensors.
    pub inputs: Vec<usize>,
    /// Indices of the graph's output tensors.
    pub outputs: Vec<usize>,
    /// The model's description string.
    pub description: String,
    /// Metadata entries.
    pub metadata: Vec<Metadata>,
}

impl Graph {
    /// The tensor at `index`, or an error naming the index.
    pub fn tensor(&self, index: usize) -> Result<&TensorSpec, QuantError> {
        self.tensors.get(index).ok_or_else(|| {
            QuantError::Invalid(format!(
                "tensor index {index} is out of range ({} tensors)",
                self.tensors.len()
            ))
        })
    }

    /// Adds a tensor and returns its index.
    pub fn push_tensor(&mut self, tensor: TensorSpec) -> usize {
        self.tensors.push(tensor);
        self.tensors.len() - 1
    }

    /// Checks that every index is in range and that operators only read tensors that exist by
    /// the time they run (graph inputs, constants, or outputs of earlier operators).
    pub fn validate(&self) -> Result<(), QuantError> {
        let mut ready: Vec<bool> = self.tensors.iter().map(TensorSpec::is_constant).collect();
        for &i in &self.inputs {
            self.tensor(i)?;
            if let Some(r) = ready.get_mut(i) {
                *r = true;
            }
        }
        for (position, op) in self.operators.iter().enumerate() {
            for &input in op.inputs.iter().flatten() {
                self.tensor(input)?;
                if !ready.get(input).copied().unwrap_or(false) {
                    return Err(QuantError::Invalid(format!(
                        "operator {position} ({}) reads tensor {input} ({:?}) before anything \
                         writes it",
                        op.kind.name(),
                        self.tensors
                            .get(input)
                            .map(|t| t.name.as_str())
                            .unwrap_or("")
                    )));
                }
            }
            for &output in &op.outputs {
                self.tensor(output)?;
                if let Some(r) = ready.get_mut(output) {
                    *r = true;
                }
            }
        }
        for &o in &self.outputs {
            if !ready.get(o).copied().unwrap_or(false) {
                return Err(QuantError::Invalid(format!(
                    "graph output {o} is never computed"
                )));
            }
        }
        Ok(())
    }

    /// The metadata entry called `name`, if any.
    pub fn metadata_entry(&self, name: &str) -> Option<&[u8]> {
        self.metadata
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.data.as_slice())
    }
}
