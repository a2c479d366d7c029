//! The int8 model as straight-line C99: `tinylab_model.h` / `tinylab_model.c` of the C library
//! export (`export::c_library`).
//!
//! The graph is prepared by the same [`Runner`] that measures int8 accuracy, and its prepared
//! steps are written out: one call per operator in plan order, with the multipliers, shifts,
//! zero points and clamps the Rust engine computed (`ops`), to one small static kernel per
//! operator kind, each a port of the Rust kernel (`c_text`); weights are `static const int8_t`,
//! biases `static const int32_t`, and every activation lives in one `static int8_t` arena whose
//! offsets are planned here (`arena`). No allocation, no recursion, no state beyond the arena
//! and the last anomaly score.
//!
//! Float conversions match the Rust side exactly: `tinylab_infer` quantizes each feature as
//! `Runner::probabilities` does, `clamp(roundf(x / scale) + zero_point)` in float32 (C's
//! `roundf` and Rust's `f32::round` both round half away from zero), and dequantizes a score as
//! `(float)((double)scale * (q - zero_point))`, in double as the Rust side does. The K-means
//! score is float32 throughout, as `nn::anomaly`.

mod arena;
mod c_text;
mod ops;

use std::fmt::Write as _;

use crate::nn::anomaly::KMeans;
use crate::quant::interpreter::Runner;
use crate::quant::{DType, Graph, QuantError, TensorSpec};

/// Why a graph cannot become C.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum CModelError {
    /// An operator the C export does not generate, with what to change.
    #[error("the C export cannot generate operator {position} ({op}): it {why}")]
    Unsupported {
        /// TFLite operator name.
        op: &'static str,
        /// Its position in the graph.
        position: usize,
        /// What is wrong.
        why: String,
    },
    /// The graph's inputs, outputs or labels do not fit the library's entry points.
    #[error("the C export needs {0}")]
    Shape(String),
    /// The graph itself is inconsistent.
    #[error(transparent)]
    Graph(#[from] QuantError),
}

/// What the header comment and the labels say.
#[derive(Clone, Debug)]
pub struct ModelInfo<'a> {
    /// The project's name.
    pub project: &'a str,
    /// The run the model comes from (`run-003`).
    pub run: &'a str,
    /// When the files are generated (`2025-05-04`), written in the header comment.
    pub generated: &'a str,
    /// Class names in output order.
    pub labels: &'a [String],
    /// Whether to emit `tinylab_classify` (which calls `tinylab_dsp` from `tinylab_dsp.h`).
    pub with_classify: bool,
}

/// The run's K-means detector and which features it reads.
#[derive(Clone, Copy, Debug)]
pub struct AnomalyC<'a> {
    /// The fitted detector.
    pub kmeans: &'a KMeans,
    /// Indices into the feature vector of the features it scores, in its order.
    pub columns: &'a [usize],
}

/// The generated model and its figures.
#[derive(Clone, Debug)]
pub struct CModel {
    /// `tinylab_model.h`.
    pub header: String,
    /// `tinylab_model.c`.
    pub source: String,
    /// `TINYLAB_ARENA_BYTES`: the static arena holding every activation.
    pub arena_bytes: usize,
    /// Other static RAM of the model file (the last anomaly score).
    pub other_ram_bytes: usize,
    /// Bytes of `static const` data: weights, biases, multipliers, geometry, labels,
    /// K-means centres.
    pub constant_bytes: usize,
    /// Int8 input elements (`TINYLAB_INPUT_LEN`, the DSP's feature count).
    pub input_len: usize,
    /// Output elements (`TINYLAB_OUTPUT_LEN`: the class scores, or cells × classes).
    pub output_len: usize,
    /// The kernels emitted, by TFLite operator name.
    pub kernels: Vec<&'static str>,
}

/// A float as a C `float` literal that reads back as the same value (Rust's shortest
/// round-trip form), or an error for a non-finite value.
fn c_float(value: f32, what: &str) -> Result<String, CModelError> {
    if value.is_finite() {
        Ok(format!("{value:e}f"))
    } else {
        Err(CModelError::Shape(format!("a finite {what}, not {value}")))
    }
}

/// A C string literal of `text` (bytes outside printable ASCII as octal escapes).
fn c_string(text: &str) -> String {
    let mut out = String::from("\"");
    for byte in text.bytes() {
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'?' => out.push_str("\\?"),
            0x20..=0x7e => out.push(char::from(byte)),
            other => {
                let _ = write!(out, "\\{other:03o}");
            }
        }
    }
    out.push('"');
    out
}

/// `text` with `*/` broken so it can sit inside a C comment.
fn comment_safe(text: &str) -> String {
    text.replace("*/", "* /").replace(['\n', '\r'], " ")
}

/// The per-tensor `(scale, zero point)` of an int8 graph input or output.
fn int8_io(graph: &Graph, index: usize, what: &str) -> Result<(TensorSpec, f32, i32), CModelError> {
    let tensor = graph.tensor(index)?.clone();
    if tensor.dtype != DType::I8 {
        return Err(CModelError::Shape(format!(
            "an int8 {what}, but {:?} is {}; export the int8 model",
            tensor.name,
            tensor.dtype.name()
        )));
    }
    let (scale, zero_point) = tensor
        .quantization
        .as_ref()
        .ok_or_else(|| CModelError::Shape(format!("quantization parameters on the {what}")))?
        .single()?;
    Ok((tensor, scale, zero_point as i32))
}

/// Generates `tinylab_model.h` and `tinylab_model.c` for the int8 `graph`.
pub fn model_sources(
    graph: &Graph,
    info: &ModelInfo,
    anomaly: Option<AnomalyC>,
) -> Result<CModel, CModelError> {
    let runner = Runner::new(graph)?;
    let (&[input], &[output]) = (graph.inputs.as_slice(), graph.outputs.as_slice()) else {
        return Err(CModelError::Shape(format!(
            "a model with one input and one output, not {} and {}",
            graph.inputs.len(),
            graph.outputs.len()
        )));
    };
    let (input_tensor, input_scale, input_zero_point) = int8_io(graph, input, "input")?;
    let (output_tensor, output_scale, output_zero_point) = int8_io(graph, output, "output")?;
    let (input_len, output_len) = (input_tensor.element_count(), output_tensor.element_count());
    let labels = info.labels;
    if labels.is_empty() || !output_len.is_multiple_of(labels.len()) {
        return Err(CModelError::Shape(format!(
            "an output of one score per label: {output_len} outputs for {} labels",
            labels.len()
        )));
    }
    let plan = arena::plan_arena(graph);
    let offset = |index: usize| {
        plan.offsets
            .get(index)
            .copied()
            .flatten()
            .ok_or_else(|| CModelError::Shape(format!("tensor {index} placed in the arena")))
    };
    let (input_offset, output_offset) = (offset(input)?, offset(output)?);
    let emitted = ops::emit_steps(graph, runner.steps(), &plan)?;
    let mut constant_bytes = emitted.constant_bytes;
    let kernels: Vec<&'static str> = {
        let mut names: Vec<&'static str> = runner.steps().iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        names
    };

    let header_comment = format!(
        "/* TinyLab model: project {}, {}, generated {}.\n\
         \x20*\n\
         \x20* The int8 model as straight-line C99 (no allocation, no recursion): the same integer\n\
         \x20* arithmetic as TinyLab's int8 engine and TensorFlow Lite Micro's reference kernels.\n\
         \x20* Kernels used: {}. Arena: {} bytes; constants: {} bytes.\n\
         \x20*\n\
         \x20* Use: tinylab_classify(raw, TINYLAB_RAW_LEN, scores) runs the DSP and the model on\n\
         \x20* one window of raw input; tinylab_infer(features, scores) starts from the DSP's\n\
         \x20* TINYLAB_INPUT_LEN features; tinylab_invoke_int8(input, output) runs the int8 graph\n\
         \x20* alone. scores holds TINYLAB_OUTPUT_LEN floats, in the order of tinylab_labels.\n\
         \x20* Functions return 0 or a negative error code. Not reentrant: one static arena.\n\
         \x20*/\n",
        comment_safe(info.project),
        comment_safe(info.run),
        comment_safe(info.generated),
        kernels.join(", "),
        plan.bytes,
        constant_bytes,
    );

    let has_anomaly = anomaly.is_some();
    let mut header = header_comment.clone();
    let _ = write!(
        header,
        "#ifndef TINYLAB_MODEL_H\n#define TINYLAB_MODEL_H\n\n\
         #include <stddef.h>\n#include <stdint.h>\n\n\
         #ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n\
         #define TINYLAB_LABEL_COUNT {}\n\
         /* Int8 input elements (= the DSP's features) and output elements (the scores). */\n\
         #define TINYLAB_INPUT_LEN {input_len}\n\
         #define TINYLAB_OUTPUT_LEN {output_len}\n\
         /* Quantization of the input and output: real = scale * (q - zero_point). */\n\
         #define TINYLAB_INPUT_SCALE {}\n\
         #define TINYLAB_INPUT_ZERO_POINT {input_zero_point}\n\
         #define TINYLAB_OUTPUT_SCALE {}\n\
         #define TINYLAB_OUTPUT_ZERO_POINT {output_zero_point}\n\
         /* The static arena holding every activation, planned at export. */\n\
         #define TINYLAB_ARENA_BYTES {}\n\
         #define TINYLAB_HAS_ANOMALY {}\n\
         /* A kernel met values it cannot compute (TFLite Micro fails the same way). */\n\
         #define TINYLAB_MODEL_ERR_KERNEL (-20)\n\n\
         extern const char *const tinylab_labels[TINYLAB_LABEL_COUNT];\n\n\
         /* The int8 graph: TINYLAB_INPUT_LEN int8 in, TINYLAB_OUTPUT_LEN int8 out. */\n\
         int tinylab_invoke_int8(const int8_t *input, int8_t *output);\n\
         /* Quantize the features, invoke, dequantize the scores (and score the anomaly). */\n\
         int tinylab_infer(const float *features, float *scores);\n",
        labels.len(),
        c_float(input_scale, "input scale")?,
        c_float(output_scale, "output scale")?,
        plan.bytes,
        u8::from(has_anomaly),
    );
    if info.with_classify {
        header.push_str(
            "/* tinylab_dsp then tinylab_infer on one window of TINYLAB_RAW_LEN raw values. */\n\
             int tinylab_classify(const float *raw, size_t len, float *scores);\n",
        );
    }
    header.push_str(
        "#if TINYLAB_HAS_ANOMALY\n\
         /* The K-means anomaly score of the window the last tinylab_infer saw (distance to the\n\
         \x20  nearest centre minus its radius; above 0.3 is unusual, Edge Impulse's default). */\n\
         float tinylab_anomaly_score(void);\n\
         #endif\n\n\
         #ifdef __cplusplus\n}\n#endif\n\n#endif /* TINYLAB_MODEL_H */\n",
    );

    let mut source = header_comment;
    source.push_str("#include \"tinylab_model.h\"\n");
    if info.with_classify {
        source.push_str("#include \"tinylab_dsp.h\"\n");
    }
    source.push_str("\n#include <math.h>\n\n");
    source.push_str("const char *const tinylab_labels[TINYLAB_LABEL_COUNT] = {\n");
    for label in labels {
        let _ = writeln!(source, "    {},", c_string(label));
        constant_bytes += label.len() + 1 + 4;
    }
    source.push_str("};\n\n");
    let _ = writeln!(source, "static int8_t tl_arena[TINYLAB_ARENA_BYTES];\n");
    source.push_str(&c_text::pieces_text(&emitted.pieces));
    source.push('\n');
    source.push_str(&emitted.constants);
    source.push_str("\n/* The graph, operator by operator. */\nstatic int tl_run(void) {\n");
    if emitted.checks_status {
        source.push_str("    int status;\n");
    }
    source.push_str(&emitted.body);
    source.push_str("    return 0;\n}\n\n");
    let _ = write!(
        source,
        "int tinylab_invoke_int8(const int8_t *input, int8_t *output) {{\n\
         \x20   int32_t i;\n\
         \x20   int status;\n\
         \x20   for (i = 0; i < TINYLAB_INPUT_LEN; ++i) {{\n\
         \x20       tl_arena[{input_offset} + i] = input[i];\n\
         \x20   }}\n\
         \x20   status = tl_run();\n\
         \x20   if (status != 0) {{\n\
         \x20       return status;\n\
         \x20   }}\n\
         \x20   for (i = 0; i < TINYLAB_OUTPUT_LEN; ++i) {{\n\
         \x20       output[i] = tl_arena[{output_offset} + i];\n\
         \x20   }}\n\
         \x20   return 0;\n\
         }}\n\n\
         /* clamp(round(x / scale) + zero_point) in float32, as TinyLab's Runner quantizes. */\n\
         static int8_t tl_quantize(float x) {{\n\
         \x20   float q = roundf(x / TINYLAB_INPUT_SCALE);\n\
         \x20   int32_t v;\n\
         \x20   if (q != q) {{\n\
         \x20       q = 0.0f; /* NaN: Rust's saturating cast gives 0 */\n\
         \x20   }}\n\
         \x20   if (q > 1000.0f) {{\n\
         \x20       q = 1000.0f;\n\
         \x20   }}\n\
         \x20   if (q < -1000.0f) {{\n\
         \x20       q = -1000.0f;\n\
         \x20   }}\n\
         \x20   v = (int32_t)q + TINYLAB_INPUT_ZERO_POINT;\n\
         \x20   return (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));\n\
         }}\n\n"
    );
    if let Some(anomaly) = anomaly {
        constant_bytes += anomaly_text(&mut source, anomaly, input_len)?;
    }
    let _ = write!(
        source,
        "int tinylab_infer(const float *features, float *scores) {{\n\
         \x20   int32_t i;\n\
         \x20   int status;\n\
         \x20   for (i = 0; i < TINYLAB_INPUT_LEN; ++i) {{\n\
         \x20       tl_arena[{input_offset} + i] = tl_quantize(features[i]);\n\
         \x20   }}\n"
    );
    if has_anomaly {
        source.push_str("    tl_anomaly_last = tl_anomaly(features);\n");
    }
    let _ = write!(
        source,
        "\x20   status = tl_run();\n\
         \x20   if (status != 0) {{\n\
         \x20       return status;\n\
         \x20   }}\n\
         \x20   for (i = 0; i < TINYLAB_OUTPUT_LEN; ++i) {{\n\
         \x20       scores[i] = (float)((double)TINYLAB_OUTPUT_SCALE *\n\
         \x20                           (double)((int32_t)tl_arena[{output_offset} + i] - TINYLAB_OUTPUT_ZERO_POINT));\n\
         \x20   }}\n\
         \x20   return 0;\n\
         }}\n"
    );
    if info.with_classify {
        source.push_str(
            "\nint tinylab_classify(const float *raw, size_t len, float *scores) {\n\
             \x20   static float features[TINYLAB_FEATURES_LEN];\n\
             \x20   int status = tinylab_dsp(raw, len, features);\n\
             \x20   if (status != 0) {\n\
             \x20       return status;\n\
             \x20   }\n\
             \x20   return tinylab_infer(features, scores);\n\
             }\n",
        );
    }
    let other_ram_bytes =
        if has_anomaly { 4 } else { 0 } + if info.with_classify { input_len * 4 } else { 0 };
    Ok(CModel {
        header,
        source,
        arena_bytes: plan.bytes,
        other_ram_bytes,
        constant_bytes,
        input_len,
        output_len,
        kernels,
    })
}

/// The K-means tables, `tl_anomaly_last`, `tl_anomaly` and `tinylab_anomaly_score`; returns the
/// bytes of the tables.
fn anomaly_text(
    source: &mut String,
    anomaly: AnomalyC,
    input_len: usize,
) -> Result<usize, CModelError> {
    let AnomalyC { kmeans, columns } = anomaly;
    let dims = kmeans.dims();
    let clusters = kmeans.clusters();
    if dims == 0 || clusters == 0 || columns.len() != dims {
        return Err(CModelError::Shape(format!(
            "a K-means detector with clusters over its {} features (it has {clusters} clusters \
             over {dims}); train the run again",
            columns.len()
        )));
    }
    if let Some(bad) = columns.iter().find(|&&c| c >= input_len) {
        return Err(CModelError::Shape(format!(
            "anomaly feature {bad} inside the {input_len} features"
        )));
    }
    let floats = |values: &[f32], what: &str| -> Result<String, CModelError> {
        let texts = values
            .iter()
            .map(|&v| c_float(v, what))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(texts.join(", "))
    };
    let columns_text: Vec<String> = columns.iter().map(ToString::to_string).collect();
    let _ = write!(
        source,
        "/* K-means anomaly detector: {clusters} clusters over {dims} standardised features. */\n\
         #define TL_ANOMALY_DIMS {dims}\n\
         #define TL_ANOMALY_CLUSTERS {clusters}\n\
         static const int32_t tl_anomaly_columns[TL_ANOMALY_DIMS] = {{{}}};\n\
         static const float tl_anomaly_mean[TL_ANOMALY_DIMS] = {{{}}};\n\
         static const float tl_anomaly_scale[TL_ANOMALY_DIMS] = {{{}}};\n\
         static const float tl_anomaly_radii[TL_ANOMALY_CLUSTERS] = {{{}}};\n\
         static const float tl_anomaly_centres[TL_ANOMALY_CLUSTERS][TL_ANOMALY_DIMS] = {{\n",
        columns_text.join(", "),
        floats(kmeans.mean(), "feature mean")?,
        floats(kmeans.scale(), "feature scale")?,
        floats(kmeans.radii(), "cluster radius")?,
    );
    for centre in kmeans.centroids() {
        let _ = writeln!(source, "    {{{}}},", floats(centre, "cluster centre")?);
    }
    source.push_str(
        "};\n\
         static float tl_anomaly_last = 0.0f;\n\n\
         /* min over clusters of (|scaled - centre| - radius), float32 as TinyLab's KMeans. */\n\
         static float tl_anomaly(const float *features) {\n\
         \x20   float scaled[TL_ANOMALY_DIMS];\n\
         \x20   float best = HUGE_VALF;\n\
         \x20   int32_t d, c;\n\
         \x20   for (d = 0; d < TL_ANOMALY_DIMS; ++d) {\n\
         \x20       scaled[d] = (features[tl_anomaly_columns[d]] - tl_anomaly_mean[d]) / tl_anomaly_scale[d];\n\
         \x20   }\n\
         \x20   for (c = 0; c < TL_ANOMALY_CLUSTERS; ++c) {\n\
         \x20       float sum = 0.0f;\n\
         \x20       float score;\n\
         \x20       for (d = 0; d < TL_ANOMALY_DIMS; ++d) {\n\
         \x20           float diff = scaled[d] - tl_anomaly_centres[c][d];\n\
         \x20           sum += diff * diff;\n\
         \x20       }\n\
         \x20       score = sqrtf(sum) - tl_anomaly_radii[c];\n\
         \x20       if (score < best) {\n\
         \x20           best = score;\n\
         \x20       }\n\
         \x20   }\n\
         \x20   return best;\n\
         }\n\n\
         float tinylab_anomaly_score(void) {\n\
         \x20   return tl_anomaly_last;\n\
         }\n\n",
    );
    Ok(dims * (4 + 4 + 4) + clusters * (dims + 1) * 4)
}
