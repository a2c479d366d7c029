//! MobileNetV2's inverted residual block (Sandler et al. 2018; Keras `_inverted_res_block`), as
//! preset sugar: [`expand`] turns it into primitive layers when the model is built, so training,
//! folding and export only ever see TFLite ops.
//!
//! For an input `[H, W, C]`, expansion `t`, output channels `F` and stride `s`:
//!
//! ```text
//! expand     conv2d 1×1 → t·C, batch norm, relu6        (left out when t = 1)
//! depthwise  depthwise conv2d 3×3 stride s same, batch norm, relu6
//! project    conv2d 1×1 → F, batch norm                  (linear bottleneck: no activation)
//! add        y = x + block(x)   when s = 1 and C = F     (a `Residual` around the three)
//! ```
//! Output `[ceil(H/s), ceil(W/s), F]`. Keras pads a stride-2 depthwise with `correct_pad`, which
//! for even sizes is TFLite's `same` (nothing before, one after); odd sizes differ by a pixel of
//! alignment, and MobileNet inputs (96, 160, 224) are even. Keras's convolutions here have no bias
//! (batch norm follows); ours carry one initialised to zero, which batch norm makes inert in
//! training (its gradient is exactly cancelled by the batch mean) and folding absorbs.

use super::{Layer, Padding};
use crate::nn::NnError;

/// The primitive layers of an inverted residual block for a per-sample input `[H, W, C]`.
pub fn expand(block: &Layer, input: &[usize]) -> Result<Vec<Layer>, NnError> {
    let &Layer::InvertedResidual {
        expansion,
        filters,
        stride,
    } = block
    else {
        return Ok(vec![block.clone()]);
    };
    let &[_, _, channels] = input else {
        return Err(block.shape_error("[H, W, C]", input));
    };
    if expansion == 0 || filters == 0 || stride == 0 {
        return Err(NnError::Spec(format!(
            "{}: expansion, filters and stride must be at least 1",
            block.name()
        )));
    }
    let conv1x1 = |filters| Layer::Conv2d {
        filters,
        kernel_size: [1, 1],
        stride: [1, 1],
        padding: Padding::Same,
        weights: Vec::new(),
        bias: Vec::new(),
    };
    let batch_norm = || Layer::BatchNorm {
        epsilon: 1e-3,
        momentum: 0.999,
        gamma: Vec::new(),
        beta: Vec::new(),
        moving_mean: Vec::new(),
        moving_variance: Vec::new(),
    };
    let mut body = Vec::with_capacity(8);
    if expansion != 1 {
        body.extend([conv1x1(expansion * channels), batch_norm(), Layer::Relu6]);
    }
    body.extend([
        Layer::DepthwiseConv2d {
            kernel_size: [3, 3],
            stride: [stride, stride],
            padding: Padding::Same,
            weights: Vec::new(),
            bias: Vec::new(),
        },
        batch_norm(),
        Layer::Relu6,
        conv1x1(filters),
        batch_norm(),
    ]);
    Ok(if stride == 1 && channels == filters {
        vec![Layer::Residual { layers: body }]
    } else {
        body
    })
}
