//! Residual connection (TFLite ADD): `y = x + body(x)`, the skip of MobileNetV2's inverted
//! residual blocks.
//!
//! ```text
//! forward    y = x + body(x)                 (the body must keep the shape)
//! backward   dx = dy + body_backward(dy)     (the gradient flows through both branches)
//! ```

use super::{Cache, Layer, Mode, ParamGrads, backward_all, forward_all};
use crate::nn::{NnError, Tensor};

/// Forward pass through the body, plus the skip.
pub(crate) fn forward(
    layer: &Layer,
    body: &[Layer],
    x: Tensor,
    mode: &mut Mode<'_>,
) -> Result<(Tensor, Cache), NnError> {
    let (mut y, caches) = forward_all(body, x.clone(), mode)?;
    if y.shape() != x.shape() {
        return Err(layer.shape_error(&format!("a body that keeps {:?}", x.shape()), y.shape()));
    }
    y += &x;
    let cache = mode.keep(|| Cache::Residual(caches));
    Ok((y, cache))
}

/// Backward pass: the body's gradients, and `dy` through the skip added to the body's `dx`.
pub(crate) fn backward(
    body: &[Layer],
    caches: &[Cache],
    dy: Tensor,
    need_dx: bool,
) -> Result<(Option<Tensor>, ParamGrads), NnError> {
    let (dx_body, grads) = backward_all(body, caches, dy.clone(), need_dx)?;
    let dx = dx_body.map(|d| d + dy);
    Ok((dx, grads))
}
