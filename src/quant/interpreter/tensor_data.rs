//! The values of one tensor while a graph runs: a typed vector per element type, with the
//! float view of quantized data (`scale · (q − zero_point)`, as TFLite's `DEQUANTIZE`).

use crate::quant::kernels::elementwise::dequantize;
use crate::quant::{DType, QuantError, Quantization, TensorSpec};

/// A tensor's contents, flattened in row-major (NHWC) order.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    /// `float32` values.
    F32(Vec<f32>),
    /// `int8` values.
    I8(Vec<i8>),
    /// `uint8` values.
    U8(Vec<u8>),
    /// `int32` values (biases, shapes, axes, paddings).
    I32(Vec<i32>),
}

impl TensorData {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::F32,
            TensorData::I8(_) => DType::I8,
            TensorData::U8(_) => DType::U8,
            TensorData::I32(_) => DType::I32,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::I8(v) => v.len(),
            TensorData::U8(v) => v.len(),
            TensorData::I32(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as real numbers: float32 as is; integers through `q`'s first scale and zero
    /// point (`scale · (q − zero_point)` in double, as `DEQUANTIZE`), or as plain numbers without
    /// quantization.
    pub fn dequantized(&self, q: Option<&Quantization>) -> Vec<f32> {
        let (scale, zero_point) = match q {
            Some(q) => (
                q.scale.first().copied().unwrap_or(1.0),
                q.zero_point.first().copied().unwrap_or(0) as i32,
            ),
            None => (1.0, 0),
        };
        match self {
            TensorData::F32(v) => v.clone(),
            TensorData::I8(v) => dequantize(v.iter().map(|&x| i32::from(x)), scale, zero_point),
            TensorData::U8(v) => dequantize(v.iter().map(|&x| i32::from(x)), scale, zero_point),
            TensorData::I32(v) => dequantize(v.iter().copied(), scale, zero_point),
        }
    }

    /// The float32 values, if that is the type.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match self {
            TensorData::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The int8 values, if that is the type.
    pub fn as_i8(&self) -> Option<&[i8]> {
        match self {
            TensorData::I8(v) => Some(v),
            _ => None,
        }
    }

    /// The uint8 values, if that is the type.
    pub fn as_u8(&self) -> Option<&[u8]> {
        match self {
            TensorData::U8(v) => Some(v),
            _ => None,
        }
    }

    /// The int32 values, if that is the type.
    pub fn as_i32(&self) -> Option<&[i32]> {
        match self {
            TensorData::I32(v) => Some(v),
            _ => None,
        }
    }

    /// The constant contents of `spec` (int64 shapes and axes are narrowed to int32), `None` for
    /// an activation, an error for a type TinyLab does not run.
    pub(crate) fn from_constant(spec: &TensorSpec) -> Result<Option<TensorData>, QuantError> {
        if !spec.is_constant() {
            return Ok(None);
        }
        let data = match spec.dtype {
            DType::F32 => TensorData::F32(spec.data_f32()?),
            DType::I8 => TensorData::I8(spec.data_i8()?),
            DType::I32 => TensorData::I32(spec.data_i32()?),
            DType::U8 => {
                if spec.data.len() != spec.element_count() {
                    return Err(QuantError::Invalid(format!(
                        "tensor {:?} of shape {:?} has {} bytes of data",
                        spec.name,
                        spec.shape,
                        spec.data.len()
                    )));
                }
                TensorData::U8(spec.data.clone())
            }
            DType::I64 => TensorData::I32(
                spec.data_i64()?
                    .into_iter()
                    .map(|v| {
                        i32::try_from(v).map_err(|_| {
                            QuantError::Invalid(format!(
                                "tensor {:?}: int64 value {v} does not fit int32",
                                spec.name
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            DType::I16 => {
                return Err(QuantError::Invalid(format!(
                    "tensor {:?} is int16, which TinyLab's kernels do not run",
                    spec.name
                )));
            }
        };
        Ok(Some(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dequantized_uses_scale_and_zero_point() {
        let q = Quantization::per_tensor(0.25, -2);
        assert_eq!(
            TensorData::I8(vec![-2, 2, -128]).dequantized(Some(&q)),
            vec![0.0, 1.0, -31.5]
        );
        assert_eq!(TensorData::U8(vec![3]).dequantized(None), vec![3.0]);
        assert_eq!(TensorData::F32(vec![0.5]).dequantized(Some(&q)), vec![0.5]);
        assert_eq!(TensorData::I32(vec![1, 2]).len(), 2);
        assert_eq!(TensorData::I32(vec![]).dtype(), DType::I32);
    }

    #[test]
    fn int64_constants_are_narrowed() {
        let spec = TensorSpec {
            name: "axes".into(),
            shape: vec![2],
            dtype: DType::I64,
            quantization: None,
            data: [1i64, 2].iter().flat_map(|v| v.to_le_bytes()).collect(),
        };
        assert_eq!(
            TensorData::from_constant(&spec).unwrap(),
            Some(TensorData::I32(vec![1, 2]))
        );
    }
}
