//! The interpreter: runs a [`Graph`] with TensorFlow Lite Micro's reference kernels
//! (`quant::kernels`), float32 and int8, bit-exact with TFLM.
//!
//! [`Runner::new`] does what TFLM's `Prepare` pass does, once: it checks every operator's types,
//! shapes and quantization, and precomputes multipliers, shifts, clamps and window geometry.
//! [`Runner::invoke`] then only computes. It takes `&self` and allocates its tensors per call,
//! so one runner can serve several threads.
//!
//! Invariant: the runner owns everything it needs (tensor descriptions and decoded constants);
//! the graph it was made from can be dropped.

pub(crate) mod plan;
mod tensor_data;

pub use tensor_data::TensorData;

use crate::quant::kernels::elementwise::quantize_f32_to_i8;
use crate::quant::{DType, Graph, QuantError, TensorSpec};

/// A graph prepared to run.
#[derive(Clone, Debug)]
pub struct Runner {
    /// Every tensor's description (constant data stripped; see `constants`).
    tensors: Vec<TensorSpec>,
    /// Decoded constant data, by tensor index.
    constants: Vec<Option<TensorData>>,
    steps: Vec<plan::Step>,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
}

impl Runner {
    /// Checks `graph` and prepares every operator, or says which operator or tensor cannot run.
    pub fn new(graph: &Graph) -> Result<Runner, QuantError> {
        graph.validate()?;
        let constants = graph
            .tensors
            .iter()
            .map(TensorData::from_constant)
            .collect::<Result<Vec<_>, _>>()?;
        for &i in &graph.inputs {
            let spec = graph.tensor(i)?;
            if !matches!(spec.dtype, DType::F32 | DType::I8 | DType::U8 | DType::I32) {
                return Err(QuantError::Invalid(format!(
                    "graph input {:?} is {}, which TinyLab's kernels do not run",
                    spec.name,
                    spec.dtype.name()
                )));
            }
        }
        let steps = plan::prepare(graph)?;
        let tensors = graph
            .tensors
            .iter()
            .map(|t| TensorSpec {
                data: Vec::new(),
                ..t.clone()
            })
            .collect();
        Ok(Runner {
            tensors,
            constants,
            steps,
            inputs: graph.inputs.clone(),
            outputs: graph.outputs.clone(),
        })
    }

    /// The description of tensor `index` (without its constant data).
    pub fn tensor(&self, index: usize) -> Option<&TensorSpec> {
        self.tensors.get(index)
    }

    /// The prepared operators in execution order, with their kernels' precomputed parameters
    /// (the C model export emits these very numbers).
    pub(crate) fn steps(&self) -> &[plan::Step] {
        &self.steps
    }

    /// Indices of the graph's inputs, in order.
    pub fn inputs(&self) -> &[usize] {
        &self.inputs
    }

    /// Indices of the graph's outputs, in order.
    pub fn outputs(&self) -> &[usize] {
        &self.outputs
    }

    /// Runs the graph on `inputs` (one per graph input, in order) and returns its outputs.
    pub fn invoke(&self, inputs: &[TensorData]) -> Result<Vec<TensorData>, QuantError> {
        self.invoke_observed(inputs, &mut |_, _| {})
    }

    /// [`Runner::invoke`], calling `observe(tensor_index, values)` for every tensor an operator
    /// writes, as it is written (post-training quantization reads activation ranges this way).
    pub fn invoke_observed(
        &self,
        inputs: &[TensorData],
        observe: &mut dyn FnMut(usize, &TensorData),
    ) -> Result<Vec<TensorData>, QuantError> {
        let mut values: Vec<Option<TensorData>> = vec![None; self.tensors.len()];
        self.check_inputs(inputs)?;
        for (&index, data) in self.inputs.iter().zip(inputs) {
            if let Some(slot) = values.get_mut(index) {
                *slot = Some(data.clone());
            }
        }
        for step in &self.steps {
            let step_inputs: Vec<Option<&TensorData>> = step
                .inputs
                .iter()
                .map(|i| i.and_then(|i| self.lookup(&values, i)))
                .collect();
            let output = plan::run(step, &step_inputs)?;
            observe(step.output, &output);
            if let Some(slot) = values.get_mut(step.output) {
                *slot = Some(output);
            }
        }
        self.outputs
            .iter()
            .map(|&i| {
                self.lookup(&values, i).cloned().ok_or_else(|| {
                    QuantError::Invalid(format!("graph output {i} was not computed"))
                })
            })
            .collect()
    }

    /// Class probabilities of a single-input, single-output classifier for float `features`:
    /// an int8 input is quantized with its scale and zero point (rounded, clamped), an int8
    /// output dequantized; float tensors pass through.
    pub fn probabilities(&self, features: &[f32]) -> Result<Vec<f32>, QuantError> {
        let ([input], [output]) = (self.inputs.as_slice(), self.outputs.as_slice()) else {
            return Err(QuantError::Input(format!(
                "probabilities need a graph with one input and one output, not {} and {}",
                self.inputs.len(),
                self.outputs.len()
            )));
        };
        let input_spec = self.spec(*input)?;
        let data = match input_spec.dtype {
            DType::F32 => TensorData::F32(features.to_vec()),
            DType::I8 => {
                let (scale, zero_point) = per_tensor(input_spec)?;
                TensorData::I8(quantize_f32_to_i8(features, scale, zero_point))
            }
            other => {
                return Err(QuantError::Input(format!(
                    "input {:?} is {}; probabilities take float32 or int8 inputs",
                    input_spec.name,
                    other.name()
                )));
            }
        };
        let outputs = self.invoke(&[data])?;
        let output_spec = self.spec(*output)?;
        let first = outputs
            .first()
            .ok_or_else(|| QuantError::Invalid("the graph produced no output".into()))?;
        Ok(first.dequantized(output_spec.quantization.as_ref()))
    }

    fn spec(&self, index: usize) -> Result<&TensorSpec, QuantError> {
        self.tensors
            .get(index)
            .ok_or_else(|| QuantError::Invalid(format!("tensor index {index} is out of range")))
    }

    /// A tensor's current value: computed, given as input, or constant.
    fn lookup<'v>(
        &'v self,
        values: &'v [Option<TensorData>],
        index: usize,
    ) -> Option<&'v TensorData> {
        values
            .get(index)
            .and_then(Option::as_ref)
            .or_else(|| self.constants.get(index).and_then(Option::as_ref))
    }

    fn check_inputs(&self, inputs: &[TensorData]) -> Result<(), QuantError> {
        if inputs.len() != self.inputs.len() {
            return Err(QuantError::Input(format!(
                "the graph takes {} input tensors, {} were given",
                self.inputs.len(),
                inputs.len()
            )));
        }
        for (&index, data) in self.inputs.iter().zip(inputs) {
            let spec = self.spec(index)?;
            if data.dtype() != spec.dtype {
                return Err(QuantError::Input(format!(
                    "input {:?} is {}, but {} values were given",
                    spec.name,
                    spec.dtype.name(),
                    data.dtype().name()
                )));
            }
            if data.len() != spec.element_count() {
                return Err(QuantError::Input(format!(
                    "input {:?} of shape {:?} takes {} values, {} were given",
                    spec.name,
                    spec.shape,
                    spec.element_count(),
                    data.len()
                )));
            }
        }
        Ok(())
    }
}

/// The per-tensor `(scale, zero_point)` of a quantized graph input.
fn per_tensor(spec: &TensorSpec) -> Result<(f32, i32), QuantError> {
    let q = spec.quantization.as_ref().ok_or_else(|| {
        QuantError::Invalid(format!("int8 input {:?} has no quantization", spec.name))
    })?;
    let (scale, zero_point) = q.single()?;
    Ok((scale, zero_point as i32))
}

#[cfg(test)]
mod tests;
