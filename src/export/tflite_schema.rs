//! The parts of TensorFlow Lite's flatbuffer schema (`schema.fbs`, version 3) that TinyLab reads
//! and writes, as named constants: each table's field slots, the enums' values, the builtin
//! operator names, and the `BuiltinOptions` union's member numbers.
//!
//! A field's slot is its byte position in the table's vtable, `4 + 2 · id`, where `id` counts
//! the fields in declaration order and a union field takes two ids (its type, then its value).
//! Shared by `tflite_write` and `tflite_read`, so the two cannot disagree about the layout.

use crate::nn::Padding;
use crate::quant::{Activation, DType, QuantError};

/// The vtable slot of the field with declaration index `id`.
const fn slot(id: u16) -> u16 {
    4 + 2 * id
}

/// The four bytes at offset 4 of every `.tflite`.
pub const FILE_IDENTIFIER: &str = "TFL3";
/// `Model.version`: the schema version this module follows.
pub const SCHEMA_VERSION: u32 = 3;
/// Builtin codes from here on live only in `OperatorCode.builtin_code`
/// (`PLACEHOLDER_FOR_GREATER_OP_CODES`).
pub const PLACEHOLDER_FOR_GREATER_OP_CODES: i32 = 127;

/// `table Model`.
pub mod model {
    use super::slot;
    /// `version: uint`.
    pub const VERSION: u16 = slot(0);
    /// `operator_codes: [OperatorCode]`.
    pub const OPERATOR_CODES: u16 = slot(1);
    /// `subgraphs: [SubGraph]`.
    pub const SUBGRAPHS: u16 = slot(2);
    /// `description: string`.
    pub const DESCRIPTION: u16 = slot(3);
    /// `buffers: [Buffer]`.
    pub const BUFFERS: u16 = slot(4);
    /// `metadata: [Metadata]` (id 5 is the deprecated `metadata_buffer`).
    pub const METADATA: u16 = slot(6);
}

/// `table OperatorCode`.
pub mod operator_code {
    use super::slot;
    /// `deprecated_builtin_code: byte`.
    pub const DEPRECATED_BUILTIN_CODE: u16 = slot(0);
    /// `custom_code: string`.
    pub const CUSTOM_CODE: u16 = slot(1);
    /// `version: int = 1`.
    pub const VERSION: u16 = slot(2);
    /// `builtin_code: BuiltinOperator (int32)`.
    pub const BUILTIN_CODE: u16 = slot(3);
}

/// `table SubGraph`.
pub mod sub_graph {
    use super::slot;
    /// `tensors: [Tensor]`.
    pub const TENSORS: u16 = slot(0);
    /// `inputs: [int]`.
    pub const INPUTS: u16 = slot(1);
    /// `outputs: [int]`.
    pub const OUTPUTS: u16 = slot(2);
    /// `operators: [Operator]`.
    pub const OPERATORS: u16 = slot(3);
    /// `name: string`.
    pub const NAME: u16 = slot(4);
}

/// `table Tensor`.
pub mod tensor {
    use super::slot;
    /// `shape: [int]`.
    pub const SHAPE: u16 = slot(0);
    /// `type: TensorType (byte)`.
    pub const TYPE: u16 = slot(1);
    /// `buffer: uint`.
    pub const BUFFER: u16 = slot(2);
    /// `name: string`.
    pub const NAME: u16 = slot(3);
    /// `quantization: QuantizationParameters`.
    pub const QUANTIZATION: u16 = slot(4);
    /// `sparsity: SparsityParameters` (id 5 is `is_variable`).
    pub const SPARSITY: u16 = slot(6);
}

/// `table QuantizationParameters`.
pub mod quantization {
    use super::slot;
    /// `scale: [float]` (ids 0 and 1 are `min` and `max`).
    pub const SCALE: u16 = slot(2);
    /// `zero_point: [long]`.
    pub const ZERO_POINT: u16 = slot(3);
    /// `details_type: QuantizationDetails` (the union's type; id 5 is its value).
    pub const DETAILS_TYPE: u16 = slot(4);
    /// `quantized_dimension: int`.
    pub const QUANTIZED_DIMENSION: u16 = slot(6);
}

/// `table Operator`.
pub mod operator {
    use super::slot;
    /// `opcode_index: uint`.
    pub const OPCODE_INDEX: u16 = slot(0);
    /// `inputs: [int]`, `-1` for an omitted optional input.
    pub const INPUTS: u16 = slot(1);
    /// `outputs: [int]`.
    pub const OUTPUTS: u16 = slot(2);
    /// `builtin_options_type: BuiltinOptions` (the union's type, a ubyte).
    pub const BUILTIN_OPTIONS_TYPE: u16 = slot(3);
    /// `builtin_options: BuiltinOptions` (the union's value, a table).
    pub const BUILTIN_OPTIONS: u16 = slot(4);
}

/// `table Buffer`.
pub mod buffer {
    use super::slot;
    /// `data: [ubyte] (force_align: 16)`.
    pub const DATA: u16 = slot(0);
    /// `offset: ulong` (data outside the flatbuffer, for models over 2 GB).
    pub const OFFSET: u16 = slot(1);
    /// `size: ulong`.
    pub const SIZE: u16 = slot(2);
    /// The alignment the schema asks for buffer data.
    pub const DATA_ALIGNMENT_BYTES: usize = 16;
}

/// `table Metadata`.
pub mod metadata {
    use super::slot;
    /// `name: string`.
    pub const NAME: u16 = slot(0);
    /// `buffer: uint`.
    pub const BUFFER: u16 = slot(1);
}

/// `table Conv2DOptions`.
pub mod conv2d_options {
    use super::slot;
    /// `padding: Padding`.
    pub const PADDING: u16 = slot(0);
    /// `stride_w: int`.
    pub const STRIDE_W: u16 = slot(1);
    /// `stride_h: int`.
    pub const STRIDE_H: u16 = slot(2);
    /// `fused_activation_function`.
    pub const ACTIVATION: u16 = slot(3);
    /// `dilation_w_factor: int = 1`.
    pub const DILATION_W: u16 = slot(4);
    /// `dilation_h_factor: int = 1`.
    pub const DILATION_H: u16 = slot(5);
}

/// `table DepthwiseConv2DOptions`.
pub mod depthwise_options {
    use super::slot;
    /// `padding: Padding`.
    pub const PADDING: u16 = slot(0);
    /// `stride_w: int`.
    pub const STRIDE_W: u16 = slot(1);
    /// `stride_h: int`.
    pub const STRIDE_H: u16 = slot(2);
    /// `depth_multiplier: int`.
    pub const DEPTH_MULTIPLIER: u16 = slot(3);
    /// `fused_activation_function`.
    pub const ACTIVATION: u16 = slot(4);
    /// `dilation_w_factor: int = 1`.
    pub const DILATION_W: u16 = slot(5);
    /// `dilation_h_factor: int = 1`.
    pub const DILATION_H: u16 = slot(6);
}

/// `table Pool2DOptions`.
pub mod pool2d_options {
    use super::slot;
    /// `padding: Padding`.
    pub const PADDING: u16 = slot(0);
    /// `stride_w: int`.
    pub const STRIDE_W: u16 = slot(1);
    /// `stride_h: int`.
    pub const STRIDE_H: u16 = slot(2);
    /// `filter_width: int`.
    pub const FILTER_W: u16 = slot(3);
    /// `filter_height: int`.
    pub const FILTER_H: u16 = slot(4);
    /// `fused_activation_function`.
    pub const ACTIVATION: u16 = slot(5);
}

/// `table FullyConnectedOptions`.
pub mod fully_connected_options {
    use super::slot;
    /// `fused_activation_function`.
    pub const ACTIVATION: u16 = slot(0);
    /// `weights_format` (only `DEFAULT = 0` is supported).
    pub const WEIGHTS_FORMAT: u16 = slot(1);
    /// `keep_num_dims: bool`.
    pub const KEEP_NUM_DIMS: u16 = slot(2);
}

/// `table SoftmaxOptions`.
pub mod softmax_options {
    use super::slot;
    /// `beta: float`.
    pub const BETA: u16 = slot(0);
}

/// `table AddOptions`.
pub mod add_options {
    use super::slot;
    /// `fused_activation_function`.
    pub const ACTIVATION: u16 = slot(0);
}

/// `table ReshapeOptions`.
pub mod reshape_options {
    use super::slot;
    /// `new_shape: [int]`.
    pub const NEW_SHAPE: u16 = slot(0);
}

/// `table ReducerOptions`.
pub mod reducer_options {
    use super::slot;
    /// `keep_dims: bool`.
    pub const KEEP_DIMS: u16 = slot(0);
}

/// Member numbers of `union BuiltinOptions` (its declaration order, from 1; 0 is NONE).
pub mod options_type {
    /// No options.
    pub const NONE: u8 = 0;
    /// `Conv2DOptions`.
    pub const CONV2D: u8 = 1;
    /// `DepthwiseConv2DOptions`.
    pub const DEPTHWISE_CONV2D: u8 = 2;
    /// `Pool2DOptions`.
    pub const POOL2D: u8 = 5;
    /// `FullyConnectedOptions`.
    pub const FULLY_CONNECTED: u8 = 8;
    /// `SoftmaxOptions`.
    pub const SOFTMAX: u8 = 9;
    /// `AddOptions`.
    pub const ADD: u8 = 11;
    /// `ReshapeOptions`.
    pub const RESHAPE: u8 = 17;
    /// `PadOptions`.
    pub const PAD: u8 = 22;
    /// `ReducerOptions`.
    pub const REDUCER: u8 = 27;
    /// `DequantizeOptions`.
    pub const DEQUANTIZE: u8 = 38;
    /// `QuantizeOptions`.
    pub const QUANTIZE: u8 = 89;
}

/// `enum BuiltinOperator` values of the ops TinyLab runs.
pub mod builtin {
    /// `ADD`.
    pub const ADD: i32 = 0;
    /// `AVERAGE_POOL_2D`.
    pub const AVERAGE_POOL_2D: i32 = 1;
    /// `CONV_2D`.
    pub const CONV_2D: i32 = 3;
    /// `DEPTHWISE_CONV_2D`.
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    /// `DEQUANTIZE`.
    pub const DEQUANTIZE: i32 = 6;
    /// `FULLY_CONNECTED`.
    pub const FULLY_CONNECTED: i32 = 9;
    /// `MAX_POOL_2D`.
    pub const MAX_POOL_2D: i32 = 17;
    /// `RELU`.
    pub const RELU: i32 = 19;
    /// `RELU6`.
    pub const RELU6: i32 = 21;
    /// `RESHAPE`.
    pub const RESHAPE: i32 = 22;
    /// `SOFTMAX`.
    pub const SOFTMAX: i32 = 25;
    /// `CUSTOM`: the op is named by `OperatorCode.custom_code`.
    pub const CUSTOM: i32 = 32;
    /// `PAD`.
    pub const PAD: i32 = 34;
    /// `MEAN`.
    pub const MEAN: i32 = 40;
    /// `SQUEEZE` (read as RESHAPE).
    pub const SQUEEZE: i32 = 43;
    /// `EXPAND_DIMS` (read as RESHAPE).
    pub const EXPAND_DIMS: i32 = 70;
    /// `QUANTIZE`.
    pub const QUANTIZE: i32 = 114;
}

/// `enum TensorType` value of a [`DType`].
pub fn tensor_type_from_dtype(dtype: DType) -> i8 {
    match dtype {
        DType::F32 => 0,
        DType::I32 => 2,
        DType::U8 => 3,
        DType::I64 => 4,
        DType::I16 => 7,
        DType::I8 => 9,
    }
}

/// The [`DType`] of an `enum TensorType` value, or an error naming the type.
pub fn dtype_from_tensor_type(tensor_type: i8, tensor_name: &str) -> Result<DType, QuantError> {
    Ok(match tensor_type {
        0 => DType::F32,
        2 => DType::I32,
        3 => DType::U8,
        4 => DType::I64,
        7 => DType::I16,
        9 => DType::I8,
        other => {
            let name = usize::try_from(other)
                .ok()
                .and_then(|i| TENSOR_TYPE_NAMES.get(i))
                .copied()
                .unwrap_or("an unknown type");
            return Err(QuantError::Unsupported(format!(
                "tensor {tensor_name:?} of type {name} ({other}); TinyLab reads FLOAT32, INT8, \
                 UINT8, INT16, INT32 and INT64 tensors"
            )));
        }
    })
}

/// `enum TensorType` names, by value.
const TENSOR_TYPE_NAMES: [&str; 19] = [
    "FLOAT32",
    "FLOAT16",
    "INT32",
    "UINT8",
    "INT64",
    "STRING",
    "BOOL",
    "INT16",
    "COMPLEX64",
    "INT8",
    "FLOAT64",
    "COMPLEX128",
    "UINT64",
    "RESOURCE",
    "VARIANT",
    "UINT32",
    "UINT16",
    "INT4",
    "BFLOAT16",
];

/// `enum Padding` value of a [`Padding`].
pub fn padding_code(padding: Padding) -> i8 {
    match padding {
        Padding::Same => 0,
        Padding::Valid => 1,
    }
}

/// The [`Padding`] of an `enum Padding` value.
pub fn padding_from_code(code: i8, op: &str) -> Result<Padding, QuantError> {
    match code {
        0 => Ok(Padding::Same),
        1 => Ok(Padding::Valid),
        other => Err(QuantError::Invalid(format!(
            "{op} has padding {other}, expected SAME (0) or VALID (1)"
        ))),
    }
}

/// `enum ActivationFunctionType` value of an [`Activation`].
pub fn activation_code(activation: Activation) -> i8 {
    match activation {
        Activation::None => 0,
        Activation::Relu => 1,
        Activation::Relu6 => 3,
    }
}

/// The [`Activation`] of an `enum ActivationFunctionType` value; the ones TinyLab has no kernel
/// for (`RELU_N1_TO_1`, `TANH`, `SIGN_BIT`) are unsupported.
pub fn activation_from_code(code: i8, op: &str) -> Result<Activation, QuantError> {
    match code {
        0 => Ok(Activation::None),
        1 => Ok(Activation::Relu),
        3 => Ok(Activation::Relu6),
        2 => Err(QuantError::Unsupported(format!(
            "{op} with fused activation RELU_N1_TO_1"
        ))),
        4 => Err(QuantError::Unsupported(format!(
            "{op} with fused activation TANH"
        ))),
        5 => Err(QuantError::Unsupported(format!(
            "{op} with fused activation SIGN_BIT"
        ))),
        other => Err(QuantError::Invalid(format!(
            "{op} has fused activation {other}, which the schema does not define"
        ))),
    }
}
