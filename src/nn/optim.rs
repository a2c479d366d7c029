//! Optimizers: Adam and SGD with momentum, written as Keras 3 writes them so that a TinyLab run
//! and a Keras run with the same gradients take the same steps.
//!
//! Each trainable tensor has its own [`ParamState`] (Adam's first and second moments, or SGD's
//! velocity) and is updated in place from its gradient slice. [`OptimizerState`] holds one
//! `ParamState` per tensor of a model plus the step counter that Adam's bias correction needs.
//!
//! Adam (Keras 3, `keras/src/optimizers/adam.py`), step `t` counted from 1:
//! ```text
//! α = lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ)
//! m ← m + (g − m)(1 − β₁)
//! v ← v + (g² − v)(1 − β₂)
//! w ← w − α · m / (√v + ε)
//! ```
//! (ε is added to √v after the bias correction has been folded into α, which is Keras's "epsilon
//! hat", not the ε of the Adam paper.) SGD with momentum μ (Keras 3, `sgd.py`):
//! `v ← μ·v − lr·g; w ← w + v`, or with Nesterov `w ← w + μ·v − lr·g`; μ = 0 is plain SGD.

use serde::{Deserialize, Serialize};

use super::NnError;

/// Keras's default Adam β₁.
pub const ADAM_BETA1: f32 = 0.9;
/// Keras's default Adam β₂.
pub const ADAM_BETA2: f32 = 0.999;
/// Keras's default Adam ε (`1e-7`, not PyTorch's `1e-8`).
pub const ADAM_EPSILON: f32 = 1e-7;

/// Which optimizer trains the model, with its hyper-parameters (the learning rate is
/// `TrainConfig::learning_rate`). In TOML: `optimizer = { type = "adam" }` or
/// `optimizer = { type = "sgd", momentum = 0.9 }`; omitted fields take Keras's defaults.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Optimizer {
    /// Adam with Keras's update rule.
    Adam {
        /// Decay of the first moment (Keras default 0.9).
        #[serde(default = "default_beta1")]
        beta1: f32,
        /// Decay of the second moment (Keras default 0.999).
        #[serde(default = "default_beta2")]
        beta2: f32,
        /// Added to √v (Keras default 1e-7).
        #[serde(default = "default_epsilon")]
        epsilon: f32,
    },
    /// Stochastic gradient descent with (optionally Nesterov) momentum.
    Sgd {
        /// Momentum μ in [0, 1); 0 is plain SGD (Keras default 0).
        #[serde(default)]
        momentum: f32,
        /// Nesterov momentum (Keras default false).
        #[serde(default)]
        nesterov: bool,
    },
}

fn default_beta1() -> f32 {
    ADAM_BETA1
}

fn default_beta2() -> f32 {
    ADAM_BETA2
}

fn default_epsilon() -> f32 {
    ADAM_EPSILON
}

impl Default for Optimizer {
    /// Adam with Keras's defaults, what Edge Impulse trains with.
    fn default() -> Self {
        Self::Adam {
            beta1: ADAM_BETA1,
            beta2: ADAM_BETA2,
            epsilon: ADAM_EPSILON,
        }
    }
}

impl Optimizer {
    /// Rejects hyper-parameters outside their ranges, with the field named.
    pub fn validate(&self) -> Result<(), NnError> {
        let bad = |what: &str, value: f32, range: &str| {
            Err(NnError::Data(format!(
                "optimizer {what} is {value}; it must be in {range}"
            )))
        };
        match *self {
            Self::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                if !(0.0..1.0).contains(&beta1) {
                    return bad("beta1", beta1, "[0, 1)");
                }
                if !(0.0..1.0).contains(&beta2) {
                    return bad("beta2", beta2, "[0, 1)");
                }
                if !(epsilon > 0.0 && epsilon.is_finite()) {
                    return bad("epsilon", epsilon, "(0, ∞)");
                }
            }
            Self::Sgd { momentum, .. } => {
                if !(0.0..1.0).contains(&momentum) {
                    return bad("momentum", momentum, "[0, 1)");
                }
            }
        }
        Ok(())
    }
}

/// The optimizer's memory for one trainable tensor: Adam's moments `m` and `v`, or SGD's
/// velocity (in `first`; `second` stays empty).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamState {
    first: Vec<f32>,
    second: Vec<f32>,
}

impl ParamState {
    /// Zeroed state for a tensor of `len` values.
    pub fn new(optimizer: &Optimizer, len: usize) -> Self {
        let second = match optimizer {
            Optimizer::Adam { .. } => vec![0.0; len],
            Optimizer::Sgd { .. } => Vec::new(),
        };
        Self {
            first: vec![0.0; len],
            second,
        }
    }

    /// Applies one update to `param` from `grad`. `step` counts updates from 1 (Adam's bias
    /// correction uses it); `param`, `grad` and this state must all have the same length.
    pub fn update(
        &mut self,
        optimizer: &Optimizer,
        step: u64,
        learning_rate: f32,
        param: &mut [f32],
        grad: &[f32],
    ) -> Result<(), NnError> {
        if param.len() != grad.len() || param.len() != self.first.len() {
            return Err(NnError::Shape {
                layer: "optimizer".into(),
                expected: format!("a gradient of {} values", self.first.len()),
                got: vec![param.len(), grad.len()],
            });
        }
        match *optimizer {
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                if self.second.len() != param.len() {
                    return Err(NnError::Data(
                        "the optimizer state was made for SGD, not Adam".into(),
                    ));
                }
                // Keras computes β^t in float32 from the float step count.
                let t = step.max(1) as f32;
                let alpha = learning_rate * (1.0 - beta2.powf(t)).sqrt() / (1.0 - beta1.powf(t));
                let (keep1, keep2) = (1.0 - beta1, 1.0 - beta2);
                for (((w, &g), m), v) in param
                    .iter_mut()
                    .zip(grad)
                    .zip(&mut self.first)
                    .zip(&mut self.second)
                {
                    *m += (g - *m) * keep1;
                    *v += (g * g - *v) * keep2;
                    *w -= alpha * *m / (v.sqrt() + epsilon);
                }
            }
            Optimizer::Sgd { momentum, nesterov } => {
                for ((w, &g), velocity) in param.iter_mut().zip(grad).zip(&mut self.first) {
                    if momentum == 0.0 {
                        *w -= learning_rate * g;
                    } else {
                        *velocity = momentum * *velocity - learning_rate * g;
                        if nesterov {
                            *w += momentum * *velocity - learning_rate * g;
                        } else {
                            *w += *velocity;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// An optimizer with the state of every trainable tensor of one model, in the model's
/// parameter order (`Model::params_mut`, `Gradients::0`).
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState {
    optimizer: Optimizer,
    steps: u64,
    params: Vec<ParamState>,
}

impl OptimizerState {
    /// A fresh optimizer for tensors of the given lengths.
    pub fn new(optimizer: Optimizer, lengths: &[usize]) -> Self {
        Self {
            params: lengths
                .iter()
                .map(|&len| ParamState::new(&optimizer, len))
                .collect(),
            optimizer,
            steps: 0,
        }
    }

    /// The optimizer and its hyper-parameters.
    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// How many updates have been applied.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Applies one update to every tensor in `params` from the matching gradient. The tensors
    /// and gradients must be as many, and as long, as the lengths this state was made for;
    /// nothing is changed when they are not.
    pub fn step(
        &mut self,
        params: Vec<&mut Vec<f32>>,
        grads: &[Vec<f32>],
        learning_rate: f32,
    ) -> Result<(), NnError> {
        let lengths_match = params.len() == self.params.len()
            && grads.len() == self.params.len()
            && params
                .iter()
                .zip(grads)
                .zip(&self.params)
                .all(|((p, g), s)| p.len() == g.len() && g.len() == s.first.len());
        if !lengths_match {
            return Err(NnError::Shape {
                layer: "optimizer".into(),
                expected: format!(
                    "tensors of lengths {:?}",
                    self.params
                        .iter()
                        .map(|s| s.first.len())
                        .collect::<Vec<_>>()
                ),
                got: params.iter().map(|p| p.len()).collect(),
            });
        }
        self.steps += 1;
        for ((param, grad), state) in params.into_iter().zip(grads).zip(&mut self.params) {
            state.update(&self.optimizer, self.steps, learning_rate, param, grad)?;
        }
        Ok(())
    }
}
