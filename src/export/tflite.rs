//! The `.tflite` format (TensorFlow Lite / LiteRT flatbuffer, schema version 3): [`write`] a
//! [`crate::quant::Graph`] as a model LiteRT and TensorFlow Lite Micro run, and [`read`] a model
//! made by TinyLab or by TensorFlow's converter back into a graph.
//!
//! `read(write(g))` equals `g` for every graph TinyLab makes, and `write(read(bytes))` computes
//! what `bytes` computes (the operator versions, signatures and converter metadata TinyLab does
//! not model are not carried over).

pub use super::tflite_read::read;
pub use super::tflite_write::write;
