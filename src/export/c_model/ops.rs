//! One C call per prepared operator, in plan order, with the parameters the interpreter
//! computed for it (`quant::interpreter`'s `Prepare` pass): the very multipliers, shifts, zero
//! points and clamps the Rust int8 engine uses, written as `static const` data, and the
//! operator's tensors as arena offsets or constant arrays.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::CModelError;
use super::arena::ArenaPlan;
use super::c_text::Piece;
use crate::quant::interpreter::plan::{Kernel, Step};
use crate::quant::kernels::Window2d;
use crate::quant::kernels::conv::QuantizedOutput;
use crate::quant::kernels::elementwise::float_to_int8;
use crate::quant::kernels::pool::PoolKind;
use crate::quant::{DType, Graph};

/// The emitted operators of one graph.
#[derive(Default)]
pub(super) struct Emitted {
    /// `static const` data: weights, biases, multipliers, shifts, geometry.
    pub constants: String,
    /// The body of `tl_run`: one call per operator.
    pub body: String,
    /// The kernels and helpers the calls need.
    pub pieces: BTreeSet<Piece>,
    /// Bytes of all `static const` data (weights, biases and parameters).
    pub constant_bytes: usize,
    /// Whether some kernel returns a status the body checks.
    pub checks_status: bool,
    emitted_tensors: BTreeSet<usize>,
}

/// Emits every step of `steps` (prepared from `graph`) with tensors placed by `arena`.
pub(super) fn emit_steps(
    graph: &Graph,
    steps: &[Step],
    arena: &ArenaPlan,
) -> Result<Emitted, CModelError> {
    let mut out = Emitted::default();
    for step in steps {
        let mut ctx = StepCtx {
            graph,
            step,
            arena,
            out: &mut out,
        };
        ctx.emit()?;
    }
    Ok(out)
}

struct StepCtx<'a> {
    graph: &'a Graph,
    step: &'a Step,
    arena: &'a ArenaPlan,
    out: &'a mut Emitted,
}

/// `v` as a C `int32_t` constant (`INT32_MIN` has no literal).
fn c_i32(v: i32) -> String {
    if v == i32::MIN {
        "INT32_MIN".to_owned()
    } else {
        v.to_string()
    }
}

/// `values` as the initializer of a C array, `per_line` to a line.
fn c_list<T: ToString>(values: &[T], per_line: usize) -> String {
    let mut text = String::new();
    for line in values.chunks(per_line.max(1)) {
        let items: Vec<String> = line.iter().map(ToString::to_string).collect();
        text.push_str("    ");
        text.push_str(&items.join(", "));
        text.push_str(",\n");
    }
    text
}

/// A shape of rank ≤ 4 with leading 1s to rank 4.
fn shape4(shape: &[usize]) -> Option<[usize; 4]> {
    let lead = 4usize.checked_sub(shape.len())?;
    let mut out = [1; 4];
    for (o, &d) in out.iter_mut().skip(lead).zip(shape) {
        *o = d;
    }
    Some(out)
}

/// Row-major strides of a 4-D shape.
fn strides4(shape: [usize; 4]) -> [usize; 4] {
    let [_, d1, d2, d3] = shape;
    [d1 * d2 * d3, d2 * d3, d3, 1]
}

fn c_array4(values: [usize; 4]) -> String {
    let v: Vec<String> = values.iter().map(ToString::to_string).collect();
    format!("{{{}}}", v.join(", "))
}

impl StepCtx<'_> {
    fn unsupported(&self, why: impl Into<String>) -> CModelError {
        CModelError::Unsupported {
            op: self.step.name,
            position: self.step.position,
            why: why.into(),
        }
    }

    fn name(&self, what: &str) -> String {
        format!("tl_{what}{}", self.step.position)
    }

    fn input_index(&self, i: usize) -> Result<usize, CModelError> {
        self.step
            .inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| self.unsupported(format!("input {i} is missing")))
    }

    /// The C expression of an int8 tensor: its place in the arena or its constant array.
    fn int8_operand(&mut self, index: usize) -> Result<String, CModelError> {
        if let Some(offset) = self.arena.offsets.get(index).copied().flatten() {
            return Ok(format!("tl_arena + {offset}"));
        }
        let tensor = self.graph.tensor(index)?;
        if tensor.is_constant() && tensor.dtype == DType::I8 {
            self.constant_i8(index)
        } else {
            Err(self.unsupported(format!(
                "tensor {:?} is neither an int8 activation nor an int8 constant",
                tensor.name
            )))
        }
    }

    fn input(&mut self, i: usize) -> Result<String, CModelError> {
        let index = self.input_index(i)?;
        self.int8_operand(index)
    }

    fn output(&mut self) -> Result<String, CModelError> {
        self.arena
            .offsets
            .get(self.step.output)
            .copied()
            .flatten()
            .map(|offset| format!("tl_arena + {offset}"))
            .ok_or_else(|| self.unsupported("the output has no place in the arena"))
    }

    fn constant_i8(&mut self, index: usize) -> Result<String, CModelError> {
        let name = format!("tl_t{index}");
        if self.out.emitted_tensors.insert(index) {
            let tensor = self.graph.tensor(index)?;
            let values = tensor.data_i8()?;
            let _ = write!(
                self.out.constants,
                "/* {} {:?} */\nstatic const int8_t {name}[{}] = {{\n{}}};\n",
                tensor.name,
                tensor.shape,
                values.len(),
                c_list(&values, 20)
            );
            self.out.constant_bytes += values.len();
        }
        Ok(name)
    }

    /// The optional int32 bias input `i`, as a constant array or `0`.
    fn bias(&mut self, i: usize) -> Result<String, CModelError> {
        let Some(index) = self.step.inputs.get(i).copied().flatten() else {
            return Ok("0".to_owned());
        };
        let name = format!("tl_t{index}");
        if self.out.emitted_tensors.insert(index) {
            let tensor = self.graph.tensor(index)?;
            let values: Vec<String> = tensor.data_i32()?.into_iter().map(c_i32).collect();
            let _ = write!(
                self.out.constants,
                "/* {} {:?} */\nstatic const int32_t {name}[{}] = {{\n{}}};\n",
                tensor.name,
                tensor.shape,
                values.len(),
                c_list(&values, 8)
            );
            self.out.constant_bytes += values.len() * 4;
        }
        Ok(name)
    }

    /// A `static const int32_t` array of this step named `tl_<what><position>`.
    fn int32_array(&mut self, what: &str, values: &[i32]) -> String {
        let name = self.name(what);
        let texts: Vec<String> = values.iter().map(|&v| c_i32(v)).collect();
        let _ = write!(
            self.out.constants,
            "static const int32_t {name}[{}] = {{\n{}}};\n",
            values.len(),
            c_list(&texts, 8)
        );
        self.out.constant_bytes += values.len() * 4;
        name
    }

    fn window(&mut self, w: &Window2d) -> String {
        let name = self.name("win");
        let fields = [
            w.batches,
            w.input_hw[0],
            w.input_hw[1],
            w.output_hw[0],
            w.output_hw[1],
            w.filter_hw[0],
            w.filter_hw[1],
            w.stride_hw[0],
            w.stride_hw[1],
            w.dilation_hw[0],
            w.dilation_hw[1],
            w.pad_hw[0],
            w.pad_hw[1],
        ];
        let _ = writeln!(
            self.out.constants,
            "static const tl_window {name} = {};",
            c_array4_like(&fields)
        );
        self.out.constant_bytes += fields.len() * 4;
        name
    }

    /// The requantization struct and the multiplier and shift arrays (`channels` entries, a
    /// single multiplier repeated) of a conv / depthwise / fully connected step.
    fn requant(
        &mut self,
        quant: &QuantizedOutput,
        channels: usize,
    ) -> Result<(String, String, String), CModelError> {
        let name = self.name("q");
        let _ = writeln!(
            self.out.constants,
            "static const tl_requant {name} = {{{}, {}, {}, {}}};",
            quant.input_offset, quant.output_offset, quant.activation_min, quant.activation_max
        );
        self.out.constant_bytes += 16;
        let pairs: Vec<(i32, i32)> = match quant.multipliers.as_slice() {
            [one] => vec![*one; channels],
            many if many.len() == channels => many.to_vec(),
            many => {
                return Err(self.unsupported(format!(
                    "{} multipliers for {channels} channels",
                    many.len()
                )));
            }
        };
        let multipliers: Vec<i32> = pairs.iter().map(|p| p.0).collect();
        let shifts: Vec<i32> = pairs.iter().map(|p| p.1).collect();
        Ok((
            name,
            self.int32_array("m", &multipliers),
            self.int32_array("s", &shifts),
        ))
    }

    fn call(&mut self, piece: Piece, text: String) {
        self.out.pieces.insert(piece);
        let _ = writeln!(
            self.out.body,
            "    /* {} {} */\n    {text};",
            self.step.position, self.step.name
        );
    }

    fn checked_call(&mut self, piece: Piece, text: String) {
        self.out.pieces.insert(piece);
        self.out.checks_status = true;
        let _ = writeln!(
            self.out.body,
            "    /* {} {} */\n    status = {text};\n    if (status != 0) {{\n        return status;\n    }}",
            self.step.position, self.step.name
        );
    }

    fn element_count(&self, index: usize) -> Result<usize, CModelError> {
        Ok(self.graph.tensor(index)?.element_count())
    }

    fn shape4_of(&self, shape: &[usize]) -> Result<[usize; 4], CModelError> {
        shape4(shape).ok_or_else(|| {
            self.unsupported(format!(
                "has a tensor of rank {} (the C export handles up to 4)",
                shape.len()
            ))
        })
    }

    fn emit(&mut self) -> Result<(), CModelError> {
        let step = self.step;
        match &step.kernel {
            Kernel::ConvI8(shape, quant) => {
                let window = self.window(&shape.window);
                let (q, m, s) = self.requant(quant, shape.output_channels)?;
                let (input, filter) = (self.input(0)?, self.input(1)?);
                let (bias, output) = (self.bias(2)?, self.output()?);
                self.call(
                    Piece::Conv,
                    format!(
                        "tl_conv(&{window}, {}, {}, {input}, {filter}, {bias}, &{q}, {m}, {s}, {output})",
                        shape.input_channels, shape.output_channels
                    ),
                );
            }
            Kernel::DepthwiseI8(shape, quant) => {
                let window = self.window(&shape.window);
                let (q, m, s) = self.requant(quant, shape.output_channels())?;
                let (input, filter) = (self.input(0)?, self.input(1)?);
                let (bias, output) = (self.bias(2)?, self.output()?);
                self.call(
                    Piece::Depthwise,
                    format!(
                        "tl_depthwise(&{window}, {}, {}, {input}, {filter}, {bias}, &{q}, {m}, {s}, {output})",
                        shape.input_channels, shape.depth_multiplier
                    ),
                );
            }
            Kernel::FullyConnectedI8(shape, weights_offset, quant) => {
                let (q, m, s) = self.requant(quant, shape.units)?;
                let (input, weights) = (self.input(0)?, self.input(1)?);
                let (bias, output) = (self.bias(2)?, self.output()?);
                self.call(
                    Piece::FullyConnected,
                    format!(
                        "tl_fully_connected({}, {}, {}, {input}, {weights}, {bias}, {weights_offset}, &{q}, {m}, {s}, {output})",
                        shape.batches, shape.depth, shape.units
                    ),
                );
            }
            Kernel::PoolI8(kind, shape, (min, max)) => {
                let window = self.window(&shape.window);
                let (input, output) = (self.input(0)?, self.output()?);
                let args = format!(
                    "&{window}, {}, {input}, {min}, {max}, {output}",
                    shape.channels
                );
                match kind {
                    PoolKind::Max => self.call(Piece::MaxPool, format!("tl_max_pool({args})")),
                    PoolKind::Average => {
                        self.checked_call(Piece::AvgPool, format!("tl_avg_pool({args})"));
                    }
                }
            }
            Kernel::MeanI8(reduction, quant) => {
                if reduction.count() == 0 {
                    return Err(self.unsupported("averages over an empty axis"));
                }
                let input_shape = self.shape4_of(reduction.input_shape())?;
                let lead = 4 - reduction.input_shape().len();
                let mut out_strides = [0usize; 4];
                for (o, &s) in out_strides
                    .iter_mut()
                    .skip(lead)
                    .zip(reduction.output_strides())
                {
                    *o = s;
                }
                let mut outer = [1usize; 4];
                let mut inner = [1usize; 4];
                for axis in 0..4 {
                    // A reduced axis (output stride 0) of length > 1 is summed over; padded
                    // leading axes have length 1 either way.
                    if out_strides[axis] == 0 {
                        inner[axis] = input_shape[axis];
                    } else {
                        outer[axis] = input_shape[axis];
                    }
                }
                let (multiplier, shift, zero_point_total) = quant.folded(reduction.count());
                let name = self.name("mean");
                let _ = writeln!(
                    self.out.constants,
                    "static const int32_t {name}[4][4] = {{{}, {}, {}, {}}};",
                    c_array4(outer),
                    c_array4(inner),
                    c_array4(strides4(input_shape)),
                    c_array4(out_strides)
                );
                self.out.constant_bytes += 64;
                let (input, output) = (self.input(0)?, self.output()?);
                self.call(
                    Piece::Mean,
                    format!(
                        "tl_mean({name}[0], {name}[1], {name}[2], {name}[3], {input}, {}, {}, {shift}, {}, {output})",
                        c_i32(zero_point_total),
                        c_i32(multiplier),
                        quant.output_zero_point
                    ),
                );
            }
            Kernel::AddI8([shape_a, shape_b], out_shape, quant) => {
                let out4 = self.shape4_of(out_shape)?;
                let a_strides = self.broadcast_strides(shape_a, out_shape)?;
                let b_strides = self.broadcast_strides(shape_b, out_shape)?;
                let name = self.name("add");
                let fields = [
                    quant.input1_offset,
                    quant.input2_offset,
                    quant.output_offset,
                    quant.left_shift,
                    quant.input1_multiplier.0,
                    quant.input1_multiplier.1,
                    quant.input2_multiplier.0,
                    quant.input2_multiplier.1,
                    quant.output_multiplier.0,
                    quant.output_multiplier.1,
                    quant.activation_min,
                    quant.activation_max,
                ];
                let texts: Vec<String> = fields.iter().map(|&v| c_i32(v)).collect();
                let _ = writeln!(
                    self.out.constants,
                    "static const tl_add_params {name} = {{{}}};\nstatic const int32_t {name}_shapes[3][4] = {{{}, {}, {}}};",
                    texts.join(", "),
                    c_array4(out4),
                    c_array4(a_strides),
                    c_array4(b_strides)
                );
                self.out.constant_bytes += fields.len() * 4 + 48;
                let (a, b, output) = (self.input(0)?, self.input(1)?, self.output()?);
                self.call(
                    Piece::Add,
                    format!(
                        "tl_add_i8(&{name}, {name}_shapes[0], {name}_shapes[1], {name}_shapes[2], {a}, {b}, {output})"
                    ),
                );
            }
            Kernel::ReluI8(quant) => {
                let count = self.element_count(step.output)?;
                let (input, output) = (self.input(0)?, self.output()?);
                let (m, s) = quant.multiplier;
                self.call(
                    Piece::Relu,
                    format!(
                        "tl_relu({count}, {input}, {}, {}, {}, {s}, {}, {output})",
                        quant.input_zero_point,
                        quant.output_zero_point,
                        c_i32(m),
                        quant.activation_min
                    ),
                );
            }
            Kernel::Relu6I8 { scale, zero_point } => {
                let count = self.element_count(step.output)?;
                let lower = (*zero_point).clamp(-128, 127);
                let upper = float_to_int8(6.0, *scale, *zero_point);
                let (input, output) = (self.input(0)?, self.output()?);
                self.call(
                    Piece::Relu6,
                    format!("tl_relu6({count}, {input}, {lower}, {upper}, {output})"),
                );
            }
            Kernel::Pad(shape, paddings, value) => {
                let in4 = self.shape4_of(shape)?;
                let lead = 4 - shape.len();
                let mut before = [0usize; 4];
                let mut out4 = in4;
                for (axis, (b, a)) in paddings.iter().enumerate() {
                    before[lead + axis] = *b;
                    out4[lead + axis] += b + a;
                }
                let name = self.name("pad");
                let _ = writeln!(
                    self.out.constants,
                    "static const int32_t {name}[3][4] = {{{}, {}, {}}};",
                    c_array4(in4),
                    c_array4(before),
                    c_array4(out4)
                );
                self.out.constant_bytes += 48;
                let (input, output) = (self.input(0)?, self.output()?);
                self.call(
                    Piece::Pad,
                    format!(
                        "tl_pad({name}[0], {name}[1], {name}[2], {input}, {}, {output})",
                        (*value).clamp(-128, 127)
                    ),
                );
            }
            Kernel::Reshape => {
                let input = self.input_index(0)?;
                let same = self.arena.offsets.get(input).copied().flatten()
                    == self.arena.offsets.get(step.output).copied().flatten();
                if !same {
                    return Err(self.unsupported("reshapes a constant tensor"));
                }
                let _ = writeln!(
                    self.out.body,
                    "    /* {} RESHAPE: the output shares its input's bytes */",
                    step.position
                );
            }
            Kernel::Requantize(quant, DType::I8) => {
                let count = self.element_count(step.output)?;
                let (input, output) = (self.input(0)?, self.output()?);
                let (m, s) = quant.multiplier;
                self.call(
                    Piece::Requantize,
                    format!(
                        "tl_requantize_i8({count}, {input}, {}, {}, {}, {s}, {output})",
                        quant.input_zero_point,
                        quant.output_zero_point,
                        c_i32(m)
                    ),
                );
            }
            Kernel::SoftmaxI8 { depth, quant } => {
                let count = self.element_count(step.output)?;
                let rows = count / (*depth).max(1);
                let (input, output) = (self.input(0)?, self.output()?);
                self.checked_call(
                    Piece::Softmax,
                    format!(
                        "tl_softmax({rows}, {depth}, {input}, {}, {}, {}, {output})",
                        c_i32(quant.input_multiplier),
                        quant.input_left_shift,
                        c_i32(quant.diff_min)
                    ),
                );
            }
            Kernel::ConvF32(..)
            | Kernel::DepthwiseF32(..)
            | Kernel::FullyConnectedF32(..)
            | Kernel::PoolF32(..)
            | Kernel::MeanF32(..)
            | Kernel::AddF32(..)
            | Kernel::ReluF32 { .. }
            | Kernel::SoftmaxF32 { .. }
            | Kernel::QuantizeF32ToI8 { .. }
            | Kernel::Dequantize { .. }
            | Kernel::Requantize(..) => {
                return Err(self.unsupported(
                    "works on float32 or uint8 values; the C export takes the int8 model \
                     (quantize the run first, Optimize panel or `tinylab quantize`)",
                ));
            }
        }
        Ok(())
    }

    /// Per output axis (rank 4), the input's stride, 0 where the input is broadcast.
    fn broadcast_strides(
        &self,
        shape: &[usize],
        out_shape: &[usize],
    ) -> Result<[usize; 4], CModelError> {
        let out4 = self.shape4_of(out_shape)?;
        let mut in4 = [1usize; 4];
        let lead = 4usize
            .checked_sub(shape.len())
            .ok_or_else(|| self.unsupported("has an input of rank above 4"))?;
        for (o, &d) in in4.iter_mut().skip(lead).zip(shape) {
            *o = d;
        }
        let dense = strides4(in4);
        let mut strides = [0usize; 4];
        for axis in 0..4 {
            strides[axis] = if in4[axis] == 1 && out4[axis] != 1 {
                0
            } else {
                dense[axis]
            };
        }
        Ok(strides)
    }
}

/// A C brace initializer of integers.
fn c_array4_like(values: &[usize]) -> String {
    let v: Vec<String> = values.iter().map(ToString::to_string).collect();
    format!("{{{}}}", v.join(", "))
}
