//! Exports of trained models: the artefacts a student takes to a board or to another tool.
//!
//! - `tflite`: the `.tflite` flatbuffer writer and reader (public API), built on
//!   `tflite_write`, `tflite_read`, the schema constants in `tflite_schema` and
//!   `tflite_op_names`, and the safe flatbuffer reader `flatbuf`.
//! - `c_array`: the TensorFlow Lite Micro C array (`model.h`, `model.cc`) and `labels.txt`.
//! - `arduino` (+ `arduino_sketches`): the C library as an Arduino library with an example
//!   sketch per kit; `zip`: the minimal zip writer it is shipped in.
//! - `c_dsp`: the project's DSP block as generated C99 (`tinylab_dsp.h`, `tinylab_dsp.c`).
//! - `c_model`: the int8 model as straight-line C99 (`tinylab_model.h/.c` of the C library).
//! - `c_library`: both halves and the figures of the C library export.
//!
//! Invariant: exports are pure functions from bytes and graphs to bytes and strings; writing
//! the files is the caller's job.

pub mod arduino;
pub mod arduino_sketches;
pub mod c_array;
pub mod c_dsp;
pub mod c_library;
pub mod c_model;
pub mod tflite;
pub mod zip;

mod flatbuf;
mod tflite_op_names;
mod tflite_read;
mod tflite_schema;
mod tflite_write;
