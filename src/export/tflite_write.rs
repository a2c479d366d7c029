//! Writes a [`Graph`] as a `.tflite` flatbuffer (schema version 3, file identifier `TFL3`)
//! that LiteRT and TensorFlow Lite Micro load: one subgraph, the operator codes in first-use
//! order, buffer 0 empty (the sentinel the schema asks for) and one 16-byte-aligned buffer per
//! constant tensor and per metadata entry, builtin options for every op the way TensorFlow's
//! converter writes them.
//!
//! Built with the `flatbuffers` crate's safe builder. The builder writes back to front, so
//! children (strings, vectors, sub-tables) are created before the table that points to them.

use flatbuffers::{FlatBufferBuilder, TableFinishedWIPOffset, WIPOffset};

use crate::export::tflite_schema::{self as schema, builtin, options_type};
use crate::quant::{Graph, OpKind, QuantError, TensorSpec};

type Table = WIPOffset<TableFinishedWIPOffset>;

/// Writes `graph` as a `.tflite` model. The graph is validated first; constant data must match
/// each tensor's shape and type.
pub fn write(graph: &Graph) -> Result<Vec<u8>, QuantError> {
    graph.validate()?;
    let Graph {
        tensors,
        operators,
        inputs,
        outputs,
        description,
        metadata,
    } = graph;
    let data_bytes: usize = tensors.iter().map(|t| t.data.len()).sum::<usize>()
        + metadata.iter().map(|m| m.data.len()).sum::<usize>();
    let mut fbb = FlatBufferBuilder::with_capacity(data_bytes + 64 * tensors.len() + 4096);

    // Buffers: 0 is the empty sentinel; activations use it too.
    let mut buffers = vec![empty_table(&mut fbb)];
    let mut tensor_buffers = Vec::with_capacity(tensors.len());
    for (index, tensor) in tensors.iter().enumerate() {
        if tensor.is_constant() {
            check_data(tensor, index)?;
            tensor_buffers.push(to_u32(buffers.len(), "buffer count")?);
            buffers.push(data_buffer(&mut fbb, &tensor.data));
        } else {
            tensor_buffers.push(0);
        }
    }
    let mut metadata_tables = Vec::with_capacity(metadata.len());
    for entry in metadata {
        let buffer = to_u32(buffers.len(), "buffer count")?;
        buffers.push(data_buffer(&mut fbb, &entry.data));
        let name = fbb.create_string(&entry.name);
        let start = fbb.start_table();
        fbb.push_slot_always(schema::metadata::NAME, name);
        fbb.push_slot(schema::metadata::BUFFER, buffer, 0);
        metadata_tables.push(fbb.end_table(start));
    }

    let mut tensor_tables = Vec::with_capacity(tensors.len());
    for (tensor, &buffer) in tensors.iter().zip(&tensor_buffers) {
        tensor_tables.push(tensor_table(&mut fbb, tensor, buffer)?);
    }

    // Operator codes in first-use order, and each operator's index into them.
    let mut codes: Vec<i32> = Vec::new();
    let mut operator_tables = Vec::with_capacity(operators.len());
    for op in operators {
        let code = builtin_code(&op.kind);
        let opcode_index = match codes.iter().position(|&c| c == code) {
            Some(i) => i,
            None => {
                codes.push(code);
                codes.len() - 1
            }
        };
        let op_inputs = op
            .inputs
            .iter()
            .map(|i| i.map_or(Ok(-1), |i| to_i32(i, "tensor index")))
            .collect::<Result<Vec<_>, _>>()?;
        let op_outputs = to_i32s(&op.outputs, "tensor index")?;
        let op_inputs = fbb.create_vector(&op_inputs);
        let op_outputs = fbb.create_vector(&op_outputs);
        let (options_kind, options) = builtin_options(&mut fbb, &op.kind)?;
        let start = fbb.start_table();
        fbb.push_slot(
            schema::operator::OPCODE_INDEX,
            to_u32(opcode_index, "opcode index")?,
            0,
        );
        fbb.push_slot_always(schema::operator::INPUTS, op_inputs);
        fbb.push_slot_always(schema::operator::OUTPUTS, op_outputs);
        fbb.push_slot(schema::operator::BUILTIN_OPTIONS_TYPE, options_kind, 0);
        if let Some(options) = options {
            fbb.push_slot_always(schema::operator::BUILTIN_OPTIONS, options);
        }
        operator_tables.push(fbb.end_table(start));
    }
    let code_tables: Vec<Table> = codes
        .iter()
        .map(|&code| {
            let start = fbb.start_table();
            // As the modern converter: the byte field saturates at 127, the int32 one is exact.
            let deprecated = code.min(schema::PLACEHOLDER_FOR_GREATER_OP_CODES) as i8;
            fbb.push_slot_always(schema::operator_code::DEPRECATED_BUILTIN_CODE, deprecated);
            fbb.push_slot_always(schema::operator_code::VERSION, 1i32);
            fbb.push_slot_always(schema::operator_code::BUILTIN_CODE, code);
            fbb.end_table(start)
        })
        .collect();

    let subgraph_tensors = fbb.create_vector(&tensor_tables);
    let subgraph_inputs = fbb.create_vector(&to_i32s(inputs, "graph input")?);
    let subgraph_outputs = fbb.create_vector(&to_i32s(outputs, "graph output")?);
    let subgraph_operators = fbb.create_vector(&operator_tables);
    let subgraph_name = fbb.create_string("main");
    let start = fbb.start_table();
    fbb.push_slot_always(schema::sub_graph::TENSORS, subgraph_tensors);
    fbb.push_slot_always(schema::sub_graph::INPUTS, subgraph_inputs);
    fbb.push_slot_always(schema::sub_graph::OUTPUTS, subgraph_outputs);
    fbb.push_slot_always(schema::sub_graph::OPERATORS, subgraph_operators);
    fbb.push_slot_always(schema::sub_graph::NAME, subgraph_name);
    let subgraph = fbb.end_table(start);

    let code_vector = fbb.create_vector(&code_tables);
    let subgraphs = fbb.create_vector(&[subgraph]);
    let description = fbb.create_string(description);
    let buffer_vector = fbb.create_vector(&buffers);
    let metadata_vector = fbb.create_vector(&metadata_tables);
    let start = fbb.start_table();
    fbb.push_slot_always(schema::model::VERSION, schema::SCHEMA_VERSION);
    fbb.push_slot_always(schema::model::OPERATOR_CODES, code_vector);
    fbb.push_slot_always(schema::model::SUBGRAPHS, subgraphs);
    fbb.push_slot_always(schema::model::DESCRIPTION, description);
    fbb.push_slot_always(schema::model::BUFFERS, buffer_vector);
    if !metadata_tables.is_empty() {
        fbb.push_slot_always(schema::model::METADATA, metadata_vector);
    }
    let model = fbb.end_table(start);
    // The root offset and the identifier take 8 bytes; make the whole file a multiple of 16
    // so that the buffers aligned from its end are aligned from its start too.
    pad_to_alignment(&mut fbb, 8);
    fbb.finish(model, Some(schema::FILE_IDENTIFIER));
    Ok(fbb.finished_data().to_vec())
}

/// A table with no fields (buffer 0, `PadOptions`, ...).
fn empty_table(fbb: &mut FlatBufferBuilder<'_>) -> Table {
    let start = fbb.start_table();
    fbb.end_table(start)
}

/// Pushes zero bytes so that the next `following_bytes` end on a 16-byte boundary counted from
/// the end of the buffer (the builder writes back to front).
fn pad_to_alignment(fbb: &mut FlatBufferBuilder<'_>, following_bytes: usize) {
    let alignment = schema::buffer::DATA_ALIGNMENT_BYTES;
    let used = fbb.unfinished_data().len();
    let padding = (alignment - (used + following_bytes) % alignment) % alignment;
    for _ in 0..padding {
        fbb.push(0u8);
    }
}

/// A `Buffer` holding `data`, its bytes 16-byte aligned as the schema's `force_align` asks.
fn data_buffer(fbb: &mut FlatBufferBuilder<'_>, data: &[u8]) -> Table {
    pad_to_alignment(fbb, data.len());
    let data = fbb.create_vector(data);
    let start = fbb.start_table();
    fbb.push_slot_always(schema::buffer::DATA, data);
    fbb.end_table(start)
}

fn tensor_table(
    fbb: &mut FlatBufferBuilder<'_>,
    tensor: &TensorSpec,
    buffer: u32,
) -> Result<Table, QuantError> {
    let shape = fbb.create_vector(&to_i32s(&tensor.shape, "tensor dimension")?);
    let name = fbb.create_string(&tensor.name);
    let quantization = match &tensor.quantization {
        Some(q) => {
            if !q.zero_point.is_empty() && q.zero_point.len() != q.scale.len() {
                return Err(QuantError::Invalid(format!(
                    "tensor {:?} has {} scales but {} zero points",
                    tensor.name,
                    q.scale.len(),
                    q.zero_point.len()
                )));
            }
            let scale = fbb.create_vector(&q.scale);
            let zero_point = fbb.create_vector(&q.zero_point);
            let dimension = to_i32(q.quantized_dimension, "quantized dimension")?;
            let start = fbb.start_table();
            fbb.push_slot_always(schema::quantization::SCALE, scale);
            fbb.push_slot_always(schema::quantization::ZERO_POINT, zero_point);
            fbb.push_slot(schema::quantization::QUANTIZED_DIMENSION, dimension, 0);
            Some(fbb.end_table(start))
        }
        None => None,
    };
    let start = fbb.start_table();
    fbb.push_slot_always(schema::tensor::SHAPE, shape);
    fbb.push_slot(
        schema::tensor::TYPE,
        schema::tensor_type_from_dtype(tensor.dtype),
        0,
    );
    fbb.push_slot(schema::tensor::BUFFER, buffer, 0);
    fbb.push_slot_always(schema::tensor::NAME, name);
    if let Some(quantization) = quantization {
        fbb.push_slot_always(schema::tensor::QUANTIZATION, quantization);
    }
    Ok(fbb.end_table(start))
}

/// The `BuiltinOperator` code of an op.
fn builtin_code(kind: &OpKind) -> i32 {
    match kind {
        OpKind::FullyConnected { .. } => builtin::FULLY_CONNECTED,
        OpKind::Conv2d { .. } => builtin::CONV_2D,
        OpKind::DepthwiseConv2d { .. } => builtin::DEPTHWISE_CONV_2D,
        OpKind::MaxPool2d { .. } => builtin::MAX_POOL_2D,
        OpKind::AveragePool2d { .. } => builtin::AVERAGE_POOL_2D,
        OpKind::Mean { .. } => builtin::MEAN,
        OpKind::Add { .. } => builtin::ADD,
        OpKind::Pad => builtin::PAD,
        OpKind::Reshape { .. } => builtin::RESHAPE,
        OpKind::Softmax { .. } => builtin::SOFTMAX,
        OpKind::Relu => builtin::RELU,
        OpKind::Relu6 => builtin::RELU6,
        OpKind::Quantize => builtin::QUANTIZE,
        OpKind::Dequantize => builtin::DEQUANTIZE,
    }
}

/// The `BuiltinOptions` union member and table of an op (`NONE` for RELU and RELU6, which the
/// converter writes without options).
fn builtin_options(
    fbb: &mut FlatBufferBuilder<'_>,
    kind: &OpKind,
) -> Result<(u8, Option<Table>), QuantError> {
    let (member, table) = match kind {
        OpKind::Conv2d {
            stride,
            dilation,
            padding,
            activation,
        } => {
            use schema::conv2d_options as f;
            let [stride_h, stride_w] = to_i32_pair(stride, "stride")?;
            let [dilation_h, dilation_w] = to_i32_pair(dilation, "dilation")?;
            let start = fbb.start_table();
            fbb.push_slot(f::PADDING, schema::padding_code(*padding), 0);
            fbb.push_slot_always(f::STRIDE_W, stride_w);
            fbb.push_slot_always(f::STRIDE_H, stride_h);
            fbb.push_slot(f::ACTIVATION, schema::activation_code(*activation), 0);
            fbb.push_slot(f::DILATION_W, dilation_w, 1);
            fbb.push_slot(f::DILATION_H, dilation_h, 1);
            (options_type::CONV2D, fbb.end_table(start))
        }
        OpKind::DepthwiseConv2d {
            stride,
            dilation,
            padding,
            depth_multiplier,
            activation,
        } => {
            use schema::depthwise_options as f;
            let [stride_h, stride_w] = to_i32_pair(stride, "stride")?;
            let [dilation_h, dilation_w] = to_i32_pair(dilation, "dilation")?;
            let depth_multiplier = to_i32(*depth_multiplier, "depth multiplier")?;
            let start = fbb.start_table();
            fbb.push_slot(f::PADDING, schema::padding_code(*padding), 0);
            fbb.push_slot_always(f::STRIDE_W, stride_w);
            fbb.push_slot_always(f::STRIDE_H, stride_h);
            fbb.push_slot_always(f::DEPTH_MULTIPLIER, depth_multiplier);
            fbb.push_slot(f::ACTIVATION, schema::activation_code(*activation), 0);
            fbb.push_slot(f::DILATION_W, dilation_w, 1);
            fbb.push_slot(f::DILATION_H, dilation_h, 1);
            (options_type::DEPTHWISE_CONV2D, fbb.end_table(start))
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
            use schema::pool2d_options as f;
            let [stride_h, stride_w] = to_i32_pair(stride, "stride")?;
            let [filter_h, filter_w] = to_i32_pair(filter, "filter size")?;
            let start = fbb.start_table();
            fbb.push_slot(f::PADDING, schema::padding_code(*padding), 0);
            fbb.push_slot_always(f::STRIDE_W, stride_w);
            fbb.push_slot_always(f::STRIDE_H, stride_h);
            fbb.push_slot_always(f::FILTER_W, filter_w);
            fbb.push_slot_always(f::FILTER_H, filter_h);
            fbb.push_slot(f::ACTIVATION, schema::activation_code(*activation), 0);
            (options_type::POOL2D, fbb.end_table(start))
        }
        OpKind::FullyConnected {
            activation,
            keep_num_dims,
        } => {
            use schema::fully_connected_options as f;
            let start = fbb.start_table();
            fbb.push_slot(f::ACTIVATION, schema::activation_code(*activation), 0);
            fbb.push_slot(f::KEEP_NUM_DIMS, *keep_num_dims, false);
            (options_type::FULLY_CONNECTED, fbb.end_table(start))
        }
        OpKind::Mean { keep_dims } => {
            let start = fbb.start_table();
            fbb.push_slot(schema::reducer_options::KEEP_DIMS, *keep_dims, false);
            (options_type::REDUCER, fbb.end_table(start))
        }
        OpKind::Add { activation } => {
            let start = fbb.start_table();
            fbb.push_slot(
                schema::add_options::ACTIVATION,
                schema::activation_code(*activation),
                0,
            );
            (options_type::ADD, fbb.end_table(start))
        }
        OpKind::Softmax { beta } => {
            let start = fbb.start_table();
            fbb.push_slot_always(schema::softmax_options::BETA, *beta);
            (options_type::SOFTMAX, fbb.end_table(start))
        }
        OpKind::Reshape { new_shape } => {
            let new_shape = new_shape.as_ref().map(|s| fbb.create_vector(s));
            let start = fbb.start_table();
            if let Some(new_shape) = new_shape {
                fbb.push_slot_always(schema::reshape_options::NEW_SHAPE, new_shape);
            }
            (options_type::RESHAPE, fbb.end_table(start))
        }
        OpKind::Pad => (options_type::PAD, empty_table(fbb)),
        OpKind::Quantize => (options_type::QUANTIZE, empty_table(fbb)),
        OpKind::Dequantize => (options_type::DEQUANTIZE, empty_table(fbb)),
        OpKind::Relu | OpKind::Relu6 => return Ok((options_type::NONE, None)),
    };
    Ok((member, Some(table)))
}

/// Checks that a constant's bytes fill its shape.
fn check_data(tensor: &TensorSpec, index: usize) -> Result<(), QuantError> {
    let expected = tensor
        .shape
        .iter()
        .try_fold(tensor.dtype.size_bytes(), |n, &d| n.checked_mul(d));
    if expected == Some(tensor.data.len()) {
        Ok(())
    } else {
        Err(QuantError::Invalid(format!(
            "tensor {index} ({:?}) of shape {:?} and type {} has {} bytes of data",
            tensor.name,
            tensor.shape,
            tensor.dtype.name(),
            tensor.data.len()
        )))
    }
}

fn to_i32(value: usize, what: &str) -> Result<i32, QuantError> {
    i32::try_from(value)
        .map_err(|_| QuantError::Invalid(format!("{what} {value} does not fit the schema's int32")))
}

fn to_u32(value: usize, what: &str) -> Result<u32, QuantError> {
    u32::try_from(value).map_err(|_| {
        QuantError::Invalid(format!("{what} {value} does not fit the schema's uint32"))
    })
}

fn to_i32s(values: &[usize], what: &str) -> Result<Vec<i32>, QuantError> {
    values.iter().map(|&v| to_i32(v, what)).collect()
}

fn to_i32_pair(values: &[usize; 2], what: &str) -> Result<[i32; 2], QuantError> {
    let [a, b] = *values;
    Ok([to_i32(a, what)?, to_i32(b, what)?])
}
