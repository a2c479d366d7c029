//! Reads a `.tflite` flatbuffer into a [`Graph`]: the first subgraph's tensors (with their
//! constant data copied out of the model's buffers), its operators mapped to [`OpKind`], the
//! description and the metadata entries.
//!
//! Operators TinyLab has no kernel for make the whole read fail with
//! [`QuantError::Unsupported`] naming every one of them (`LOGISTIC`, `CUSTOM(...)`), so the
//! student learns at once what the model needs. Malformed files are
//! [`QuantError::Invalid`] errors from the bounds-checked reader in `flatbuf`.

use crate::export::flatbuf::{self, Table};
use crate::export::tflite_op_names::builtin_name;
use crate::export::tflite_schema::{self as schema, builtin, options_type};
use crate::quant::{Graph, Metadata, OpKind, Operator, QuantError, Quantization, TensorSpec};

/// Reads a `.tflite` model. See the module documentation.
pub fn read(bytes: &[u8]) -> Result<Graph, QuantError> {
    if flatbuf::file_identifier(bytes) != Some(schema::FILE_IDENTIFIER.as_bytes()) {
        return Err(QuantError::Invalid(format!(
            "not a .tflite model: bytes 4..8 should be {:?}",
            schema::FILE_IDENTIFIER
        )));
    }
    let model = flatbuf::root(bytes)?;
    let version = model.scalar::<u32>(schema::model::VERSION, 0)?;
    if version != schema::SCHEMA_VERSION {
        return Err(QuantError::Unsupported(format!(
            "schema version {version} (TinyLab reads version {})",
            schema::SCHEMA_VERSION
        )));
    }
    let buffers = Buffers(model.tables(schema::model::BUFFERS)?);
    let buffer_data = |index: u32, what: &str| buffers.data(index, what);

    let subgraphs = model.tables(schema::model::SUBGRAPHS)?;
    let Some(subgraph) = subgraphs.first() else {
        return Err(QuantError::Invalid("the model has no subgraph".into()));
    };

    let mut tensors = Vec::new();
    for (index, tensor) in subgraph
        .tables(schema::sub_graph::TENSORS)?
        .iter()
        .enumerate()
    {
        tensors.push(read_tensor(tensor, index, &buffers)?);
    }
    let codes = model
        .tables(schema::model::OPERATOR_CODES)?
        .iter()
        .map(read_operator_code)
        .collect::<Result<Vec<_>, _>>()?;

    let mut operators = Vec::new();
    let mut unsupported: Vec<String> = Vec::new();
    for (position, op) in subgraph
        .tables(schema::sub_graph::OPERATORS)?
        .iter()
        .enumerate()
    {
        let opcode_index = op.scalar::<u32>(schema::operator::OPCODE_INDEX, 0)?;
        let Some(code) = codes.get(opcode_index as usize) else {
            return Err(QuantError::Invalid(format!(
                "operator {position} has opcode index {opcode_index}, but the model has {} \
                 operator codes",
                codes.len()
            )));
        };
        let kind = match read_kind(code, op) {
            Ok(kind) => kind,
            Err(QuantError::Unsupported(name)) => {
                if !unsupported.contains(&name) {
                    unsupported.push(name);
                }
                continue;
            }
            Err(other) => return Err(other),
        };
        let inputs = op
            .scalars::<i32>(schema::operator::INPUTS)?
            .into_iter()
            .map(|i| match i {
                -1 => Ok(None),
                i => tensor_index(i, tensors.len(), "an operator input").map(Some),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = indices(
            op.scalars(schema::operator::OUTPUTS)?,
            tensors.len(),
            "output",
        )?;
        let (kind, inputs) = match code {
            Code::Builtin(builtin::EXPAND_DIMS | builtin::SQUEEZE) => {
                as_reshape(&tensors, inputs, &outputs)?
            }
            _ => (kind, inputs),
        };
        operators.push(Operator {
            kind,
            inputs,
            outputs,
        });
    }
    if !unsupported.is_empty() {
        return Err(QuantError::Unsupported(unsupported.join(", ")));
    }

    let mut metadata = Vec::new();
    for entry in model.tables(schema::model::METADATA)? {
        let name = entry.string(schema::metadata::NAME)?;
        let buffer = entry.scalar::<u32>(schema::metadata::BUFFER, 0)?;
        let data = buffer_data(buffer, &format!("metadata {name:?}"))?;
        metadata.push(Metadata { name, data });
    }

    let graph = Graph {
        inputs: indices(
            subgraph.scalars(schema::sub_graph::INPUTS)?,
            tensors.len(),
            "graph input",
        )?,
        outputs: indices(
            subgraph.scalars(schema::sub_graph::OUTPUTS)?,
            tensors.len(),
            "graph output",
        )?,
        tensors,
        operators,
        description: model.string(schema::model::DESCRIPTION)?,
        metadata,
    };
    graph.validate()?;
    Ok(graph)
}

/// The largest tensor TinyLab reads (2 GiB, the flatbuffer size limit).
const MAX_TENSOR_BYTES: usize = i32::MAX as usize;

/// The model's buffers, which tensors and metadata entries refer to by index.
struct Buffers<'a>(Vec<Table<'a>>);

impl Buffers<'_> {
    /// The bytes of buffer `index`, which `what` refers to.
    fn data(&self, index: u32, what: &str) -> Result<Vec<u8>, QuantError> {
        let buffer = self.0.get(index as usize).ok_or_else(|| {
            QuantError::Invalid(format!(
                "{what} refers to buffer {index}, but the model has {} buffers",
                self.0.len()
            ))
        })?;
        let offset = buffer.scalar::<u64>(schema::buffer::OFFSET, 0)?;
        let size = buffer.scalar::<u64>(schema::buffer::SIZE, 0)?;
        if offset > 1 || size > 0 {
            return Err(QuantError::Unsupported(format!(
                "{what} keeps its data outside the flatbuffer (a model over 2 GB)"
            )));
        }
        Ok(buffer.bytes(schema::buffer::DATA)?.to_vec())
    }
}

/// One tensor, its constant data checked against its shape and type.
fn read_tensor(
    tensor: &Table<'_>,
    index: usize,
    buffers: &Buffers<'_>,
) -> Result<TensorSpec, QuantError> {
    let name = tensor.string(schema::tensor::NAME)?;
    let shape = tensor
        .scalars::<i32>(schema::tensor::SHAPE)?
        .into_iter()
        .map(|d| {
            usize::try_from(d).map_err(|_| {
                QuantError::Invalid(format!("tensor {index} ({name:?}) has dimension {d}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let dtype =
        schema::dtype_from_tensor_type(tensor.scalar::<i8>(schema::tensor::TYPE, 0)?, &name)?;
    if tensor.table(schema::tensor::SPARSITY)?.is_some() {
        return Err(QuantError::Unsupported(format!("sparse tensor {name:?}")));
    }
    let buffer = tensor.scalar::<u32>(schema::tensor::BUFFER, 0)?;
    let data = buffers.data(buffer, &format!("tensor {index} ({name:?})"))?;
    // Bounded so that element counts computed from the shape later cannot overflow.
    let expected_bytes = shape
        .iter()
        .try_fold(dtype.size_bytes(), |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_TENSOR_BYTES)
        .ok_or_else(|| {
            QuantError::Invalid(format!(
                "tensor {index} ({name:?}) of shape {shape:?} would take over {MAX_TENSOR_BYTES} \
                 bytes"
            ))
        })?;
    if !data.is_empty() && data.len() != expected_bytes {
        return Err(QuantError::Invalid(format!(
            "tensor {index} ({name:?}) of shape {shape:?} and type {} has {} bytes of data, \
             expected {expected_bytes}",
            dtype.name(),
            data.len()
        )));
    }
    let quantization = match tensor.table(schema::tensor::QUANTIZATION)? {
        Some(q) => read_quantization(&q, &name)?,
        None => None,
    };
    Ok(TensorSpec {
        name,
        shape,
        dtype,
        quantization,
        data,
    })
}

/// Affine quantization parameters; an empty table (as converters write for float tensors)
/// is `None`.
fn read_quantization(q: &Table<'_>, name: &str) -> Result<Option<Quantization>, QuantError> {
    if q.scalar::<u8>(schema::quantization::DETAILS_TYPE, 0)? != 0 {
        return Err(QuantError::Unsupported(format!(
            "custom quantization of tensor {name:?}"
        )));
    }
    let scale: Vec<f32> = q.scalars(schema::quantization::SCALE)?;
    let zero_point: Vec<i64> = q.scalars(schema::quantization::ZERO_POINT)?;
    if scale.is_empty() {
        return Ok(None);
    }
    if !zero_point.is_empty() && zero_point.len() != scale.len() {
        return Err(QuantError::Invalid(format!(
            "tensor {name:?} has {} scales but {} zero points",
            scale.len(),
            zero_point.len()
        )));
    }
    let dimension = q.scalar::<i32>(schema::quantization::QUANTIZED_DIMENSION, 0)?;
    let quantized_dimension = usize::try_from(dimension).map_err(|_| {
        QuantError::Invalid(format!(
            "tensor {name:?} has quantized dimension {dimension}"
        ))
    })?;
    Ok(Some(Quantization {
        scale,
        zero_point,
        quantized_dimension,
    }))
}

/// An operator code: the builtin code, or the custom op's name.
enum Code {
    Builtin(i32),
    Custom(String),
}

fn read_operator_code(code: &Table<'_>) -> Result<Code, QuantError> {
    // As TFLite's `GetBuiltinCode`: the larger of the two fields, since old files only have
    // the byte and new ones write min(code, 127) into it.
    let deprecated =
        i32::from(code.scalar::<i8>(schema::operator_code::DEPRECATED_BUILTIN_CODE, 0)?);
    let extended = code.scalar::<i32>(schema::operator_code::BUILTIN_CODE, 0)?;
    let builtin = deprecated.max(extended);
    if builtin == builtin::CUSTOM {
        return Ok(Code::Custom(
            code.string(schema::operator_code::CUSTOM_CODE)?,
        ));
    }
    Ok(Code::Builtin(builtin))
}

/// Maps an operator and its builtin options to an [`OpKind`].
/// EXPAND_DIMS and SQUEEZE as the RESHAPE they are: the data only, reshaped to the output's
/// shape (their axis inputs and options only say how to get that shape).
fn as_reshape(
    tensors: &[TensorSpec],
    inputs: Vec<Option<usize>>,
    outputs: &[usize],
) -> Result<(OpKind, Vec<Option<usize>>), QuantError> {
    let shape = outputs
        .first()
        .and_then(|&o| tensors.get(o))
        .map(|t| t.shape.iter().map(|&d| d as i32).collect())
        .ok_or_else(|| QuantError::Invalid("EXPAND_DIMS or SQUEEZE without an output".into()))?;
    let data = inputs.into_iter().take(1).collect();
    Ok((
        OpKind::Reshape {
            new_shape: Some(shape),
        },
        data,
    ))
}

fn read_kind(code: &Code, op: &Table<'_>) -> Result<OpKind, QuantError> {
    let code = match code {
        Code::Custom(name) => return Err(QuantError::Unsupported(format!("CUSTOM({name})"))),
        Code::Builtin(code) => *code,
    };
    let name = builtin_name(code);
    // The options table of the expected union member, or `None` (every field at its default).
    let options = |expected: u8| -> Result<Option<Table<'_>>, QuantError> {
        let found = op.scalar::<u8>(schema::operator::BUILTIN_OPTIONS_TYPE, 0)?;
        if found == options_type::NONE {
            return Ok(None);
        }
        if found != expected {
            return Err(QuantError::Invalid(format!(
                "{name} carries builtin options of type {found}, expected {expected}"
            )));
        }
        op.table(schema::operator::BUILTIN_OPTIONS)
    };
    let int = |t: &Option<Table<'_>>, slot: u16, default: i32| -> Result<i32, QuantError> {
        t.as_ref().map_or(Ok(default), |t| t.scalar(slot, default))
    };
    let byte = |t: &Option<Table<'_>>, slot: u16| -> Result<i8, QuantError> {
        t.as_ref().map_or(Ok(0), |t| t.scalar(slot, 0))
    };
    let flag = |t: &Option<Table<'_>>, slot: u16| -> Result<bool, QuantError> {
        t.as_ref().map_or(Ok(false), |t| t.boolean(slot, false))
    };
    let count = |value: i32, what: &str| -> Result<usize, QuantError> {
        usize::try_from(value)
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| QuantError::Invalid(format!("{name} has {what} {value}")))
    };
    let pair = |t: &Option<Table<'_>>, h: u16, w: u16, default: i32, what: &str| {
        Ok::<_, QuantError>([
            count(int(t, h, default)?, what)?,
            count(int(t, w, default)?, what)?,
        ])
    };
    Ok(match code {
        builtin::CONV_2D => {
            use schema::conv2d_options as f;
            let t = options(options_type::CONV2D)?;
            OpKind::Conv2d {
                stride: pair(&t, f::STRIDE_H, f::STRIDE_W, 0, "stride")?,
                dilation: pair(&t, f::DILATION_H, f::DILATION_W, 1, "dilation")?,
                padding: schema::padding_from_code(byte(&t, f::PADDING)?, &name)?,
                activation: schema::activation_from_code(byte(&t, f::ACTIVATION)?, &name)?,
            }
        }
        builtin::DEPTHWISE_CONV_2D => {
            use schema::depthwise_options as f;
            let t = options(options_type::DEPTHWISE_CONV2D)?;
            OpKind::DepthwiseConv2d {
                stride: pair(&t, f::STRIDE_H, f::STRIDE_W, 0, "stride")?,
                dilation: pair(&t, f::DILATION_H, f::DILATION_W, 1, "dilation")?,
                padding: schema::padding_from_code(byte(&t, f::PADDING)?, &name)?,
                depth_multiplier: count(int(&t, f::DEPTH_MULTIPLIER, 0)?, "depth multiplier")?,
                activation: schema::activation_from_code(byte(&t, f::ACTIVATION)?, &name)?,
            }
        }
        builtin::MAX_POOL_2D | builtin::AVERAGE_POOL_2D => {
            use schema::pool2d_options as f;
            let t = options(options_type::POOL2D)?;
            let filter = pair(&t, f::FILTER_H, f::FILTER_W, 0, "filter size")?;
            let stride = pair(&t, f::STRIDE_H, f::STRIDE_W, 0, "stride")?;
            let padding = schema::padding_from_code(byte(&t, f::PADDING)?, &name)?;
            let activation = schema::activation_from_code(byte(&t, f::ACTIVATION)?, &name)?;
            OpKind::pool(
                code == builtin::MAX_POOL_2D,
                filter,
                stride,
                padding,
                activation,
            )
        }
        builtin::FULLY_CONNECTED => {
            use schema::fully_connected_options as f;
            let t = options(options_type::FULLY_CONNECTED)?;
            if byte(&t, f::WEIGHTS_FORMAT)? != 0 {
                return Err(QuantError::Unsupported(format!(
                    "{name} with shuffled weights"
                )));
            }
            OpKind::FullyConnected {
                activation: schema::activation_from_code(byte(&t, f::ACTIVATION)?, &name)?,
                keep_num_dims: flag(&t, f::KEEP_NUM_DIMS)?,
            }
        }
        builtin::MEAN => OpKind::Mean {
            keep_dims: flag(
                &options(options_type::REDUCER)?,
                schema::reducer_options::KEEP_DIMS,
            )?,
        },
        builtin::ADD => OpKind::Add {
            activation: schema::activation_from_code(
                byte(
                    &options(options_type::ADD)?,
                    schema::add_options::ACTIVATION,
                )?,
                &name,
            )?,
        },
        builtin::SOFTMAX => OpKind::Softmax {
            beta: options(options_type::SOFTMAX)?
                .map_or(Ok(0.0), |t| t.scalar(schema::softmax_options::BETA, 0.0))?,
        },
        // Pure shape changes the converter emits around Conv1D (Keras's expand_dims/squeeze):
        // a RESHAPE to the output tensor's shape, filled in by the caller.
        builtin::EXPAND_DIMS | builtin::SQUEEZE => OpKind::Reshape { new_shape: None },
        builtin::RESHAPE => OpKind::Reshape {
            new_shape: match options(options_type::RESHAPE)? {
                Some(t) => t
                    .vector(schema::reshape_options::NEW_SHAPE)?
                    .map(|v| v.scalars())
                    .transpose()?,
                None => None,
            },
        },
        builtin::PAD => {
            options(options_type::PAD)?;
            OpKind::Pad
        }
        builtin::QUANTIZE => {
            options(options_type::QUANTIZE)?;
            OpKind::Quantize
        }
        builtin::DEQUANTIZE => {
            options(options_type::DEQUANTIZE)?;
            OpKind::Dequantize
        }
        builtin::RELU => OpKind::Relu,
        builtin::RELU6 => OpKind::Relu6,
        _ => return Err(QuantError::Unsupported(name)),
    })
}

/// A tensor index from the file, checked against the tensor count.
fn tensor_index(index: i32, tensor_count: usize, what: &str) -> Result<usize, QuantError> {
    usize::try_from(index)
        .ok()
        .filter(|&i| i < tensor_count)
        .ok_or_else(|| {
            QuantError::Invalid(format!(
                "{what} refers to tensor {index}, but the subgraph has {tensor_count} tensors"
            ))
        })
}

fn indices(raw: Vec<i32>, tensor_count: usize, what: &str) -> Result<Vec<usize>, QuantError> {
    raw.into_iter()
        .map(|i| tensor_index(i, tensor_count, what))
        .collect()
}
