//! The model commands: `tinylab quantize DIR` (the float32/int8 comparison), the model formats
//! of `tinylab export`, `tinylab infer MODEL.tflite INPUT` (any `.tflite` TinyLab's kernels run,
//! on a `.npy`, a raw `.bin` or a file through a project's DSP) and `tinylab bench MODEL.tflite`.

use super::{run_command, run_job};
use crate::project::Project;
use crate::project::runs;
use crate::protocol::{Command, Event, JobOutcome, ModelFormat};
use crate::quant::estimate::{METHOD, ModelCost, estimate};
use crate::quant::interpreter::{Runner, TensorData};
use crate::quant::report::{QuantReport, QuantizeSettings};
use crate::quant::stats::graph_stats;
use crate::quant::{DType, Graph, Quantization, TensorSpec};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `tinylab quantize` may change of the project's quantization settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct QuantizeArgs {
    /// One weight scale per tensor instead of per output channel.
    #[arg(long)]
    pub per_tensor: bool,
    /// Activation ranges from this percentile (e.g. 99.99) instead of min/max.
    #[arg(long)]
    pub percentile: Option<f32>,
    /// Training windows to calibrate on.
    #[arg(long)]
    pub calibration: Option<usize>,
}

impl QuantizeArgs {
    fn apply(&self, mut settings: QuantizeSettings) -> QuantizeSettings {
        if self.per_tensor {
            settings.per_channel = false;
        }
        if self.percentile.is_some() {
            settings.percentile = self.percentile;
        }
        if let Some(n) = self.calibration {
            settings.calibration_windows = n;
        }
        settings
    }
}

/// `tinylab quantize DIR`: quantizes a run and prints the comparison.
pub fn quantize(dir: PathBuf, run: Option<String>, args: &QuantizeArgs, json: bool) -> Result<()> {
    let report = quantize_report(&dir, run, args)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", format_report(&report));
    }
    Ok(())
}

fn quantize_report(dir: &Path, run: Option<String>, args: &QuantizeArgs) -> Result<QuantReport> {
    let project = Project::open(dir)?;
    let settings = args.apply(project.settings().model.quantization.clone());
    let run = match run {
        Some(run) => run,
        None => runs::list(dir)
            .pop()
            .context("no trained run: train one first (`tinylab train DIR`)")?,
    };
    drop(project);
    // Opening the project sends the run's saved report first: keep the last one and answer
    // when the job ends (its report comes just before).
    let mut latest = None;
    run_command(
        dir.to_owned(),
        Command::Quantize { run, settings },
        |event| match event {
            Event::Quantized(Some(report)) => {
                latest = Some((**report).clone());
                None
            }
            Event::JobFinished {
                outcome: JobOutcome::Done(_),
                ..
            } => Some(
                latest
                    .take()
                    .ok_or_else(|| "the job sent no report".to_owned()),
            ),
            _ => None,
        },
    )
}

/// The comparison as text.
pub fn format_report(report: &QuantReport) -> String {
    let (f, q) = (&report.float_footprint, &report.int8_footprint);
    let mut out = format!(
        "{}: float32 vs int8 on the {} ({} calibration windows, {} weights, {})\n",
        report.run,
        report.data,
        report.calibration_windows,
        if report.settings.per_channel {
            "per-channel"
        } else {
            "per-tensor"
        },
        report
            .settings
            .percentile
            .map_or_else(|| "min/max ranges".to_owned(), |p| format!("{p} % ranges")),
    );
    let line = |name: &str, a: String, b: String| format!("  {name:<26} {a:>14} {b:>14}\n");
    out += &line("", "float32".into(), "int8".into());
    out += &line(
        "test accuracy",
        format!("{:.1} %", report.float.accuracy * 100.0),
        format!("{:.1} %", report.int8.accuracy * 100.0),
    );
    if let (Some(fd), Some(qd)) = (&report.float_detection, &report.int8_detection) {
        out += &line(
            "detection F1 (P / R)",
            format!("{:.3} ({:.2}/{:.2})", fd.f1, fd.precision, fd.recall),
            format!("{:.3} ({:.2}/{:.2})", qd.f1, qd.precision, qd.recall),
        );
    }
    out += &line(
        "model file (bytes)",
        f.file_bytes.to_string(),
        q.file_bytes.to_string(),
    );
    out += &line(
        "weights (bytes)",
        f.cost.weights_bytes.to_string(),
        q.cost.weights_bytes.to_string(),
    );
    out += &line(
        "tensor arena (bytes)",
        f.cost.arena_bytes.to_string(),
        q.cost.arena_bytes.to_string(),
    );
    out += &line("MACs", f.cost.macs.to_string(), q.cost.macs.to_string());
    out += &format!(
        "  int8 changes {} of {} predictions ({:.1} %), accuracy {:+.1} points; largest probability change {:.3}\n",
        report.changed,
        report.windows,
        report.changed_share() * 100.0,
        report.accuracy_change_points(),
        report.max_probability_change
    );
    out += "  estimated per kit (float32 / int8 latency, int8 RAM and flash):\n";
    for e in &report.estimates {
        out += &format!(
            "    {:<34} {:>9.2} ms {:>9.2} ms {:>8} B RAM {:>8} B flash{}\n",
            e.name,
            e.float_ms,
            e.int8_ms,
            e.ram_bytes,
            e.flash_bytes,
            if e.fits { "" } else { "  (does not fit)" }
        );
    }
    out += &format!("  {METHOD}\n");
    out
}

/// `tinylab export DIR --format tflite-f32|tflite-int8|c-array --out PATH`: quantizes the run
/// first when it never was, then writes the model.
pub fn export_model(
    dir: PathBuf,
    run: Option<String>,
    format: ModelFormat,
    out: PathBuf,
) -> Result<()> {
    let run = quantized_run(&dir, run)?;
    run_job(
        dir,
        Command::ExportModel {
            run,
            format,
            path: out,
        },
    )
}

/// The run to export or deploy (the latest when `None`), quantized first if it never was.
pub(crate) fn quantized_run(dir: &Path, run: Option<String>) -> Result<String> {
    let run = match run {
        Some(run) => run,
        None => runs::list(dir)
            .pop()
            .context("no trained run: train one first (`tinylab train DIR`)")?,
    };
    if runs::load_quantized(dir, &run)?.is_none() {
        eprintln!("{run} was never quantized; quantizing it first");
        quantize_report(dir, Some(run.clone()), &QuantizeArgs::default())?;
    }
    Ok(run)
}

/// Reads a `.tflite` into a graph, naming the file in errors.
fn read_model(path: &Path) -> Result<Graph> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    crate::export::tflite::read(&bytes).with_context(|| format!("reading {}", path.display()))
}

/// The graph's single input tensor.
fn input_tensor(graph: &Graph) -> Result<&TensorSpec> {
    match graph.inputs.as_slice() {
        [i] => Ok(graph.tensor(*i)?),
        other => bail!(
            "the model has {} inputs; infer feeds models with one",
            other.len()
        ),
    }
}

/// `tinylab infer MODEL INPUT`: runs the model on one input and prints every output tensor.
pub fn infer(model: &Path, input: &Path, project: Option<&Path>, json: bool) -> Result<()> {
    let graph = read_model(model)?;
    let runner = Runner::new(&graph)?;
    let spec = input_tensor(&graph)?;
    let data = load_input(spec, input, project)?;
    let outputs = runner.invoke(&[data])?;
    let described: Vec<serde_json::Value> = graph
        .outputs
        .iter()
        .zip(&outputs)
        .map(|(&index, data)| {
            let tensor = graph.tensor(index)?;
            Ok(serde_json::json!({
                "name": tensor.name,
                "shape": tensor.shape,
                "dtype": data.dtype().name(),
                "values": values_json(data),
                "dequantized": data.dequantized(tensor.quantization.as_ref()),
            }))
        })
        .collect::<Result<_>>()?;
    if json {
        println!("{}", serde_json::json!({ "outputs": described }));
        return Ok(());
    }
    let labels = labels_of(&graph);
    for (output, value) in graph.outputs.iter().zip(&described) {
        let tensor = graph.tensor(*output)?;
        println!("{} {:?} {}", tensor.name, tensor.shape, value["dtype"]);
        let real = outputs
            .get(graph.outputs.iter().position(|o| o == output).unwrap_or(0))
            .map(|d| d.dequantized(tensor.quantization.as_ref()))
            .unwrap_or_default();
        for (i, v) in real.iter().enumerate() {
            let name = labels.get(i).cloned().unwrap_or_else(|| i.to_string());
            println!("  {name:<20} {v:>10.5}");
        }
    }
    Ok(())
}

fn values_json(data: &TensorData) -> serde_json::Value {
    match data {
        TensorData::F32(v) => serde_json::json!(v),
        TensorData::I8(v) => serde_json::json!(v),
        TensorData::U8(v) => serde_json::json!(v),
        TensorData::I32(v) => serde_json::json!(v),
    }
}

/// Labels from TinyLab's metadata entry, if the model has one.
fn labels_of(graph: &Graph) -> Vec<String> {
    graph
        .metadata_entry(crate::engine::quantize_job::METADATA_NAME)
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok())
        .and_then(|v| serde_json::from_value(v.get("labels")?.clone()).ok())
        .unwrap_or_default()
}

/// The input tensor's data from a `.npy`, a raw `.bin`, or a file through the project's DSP.
fn load_input(spec: &TensorSpec, input: &Path, project: Option<&Path>) -> Result<TensorData> {
    let count = spec.element_count();
    let extension = input
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let data = match extension.as_str() {
        "npy" => {
            let bytes =
                std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
            let array = crate::quant::npy::parse(&bytes)?;
            convert(array.data, spec)?
        }
        "bin" => {
            let bytes =
                std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
            raw(&bytes, spec)?
        }
        _ => {
            let Some(dir) = project else {
                bail!(
                    "{}: give a .npy or .bin of the input tensor, or --project DIR to run the file \
                     through that project's processing block",
                    input.display()
                );
            };
            let project = Project::open(dir)?;
            let settings = project.settings();
            let features = super::features_of_file(
                &settings.dsp,
                input,
                None,
                Some(settings.impulse.window_ms),
            )?;
            convert(TensorData::F32(features.values), spec)?
        }
    };
    if data.len() != count {
        bail!(
            "the input has {} values but the model's input {:?} {:?} takes {count}",
            data.len(),
            spec.name,
            spec.shape
        );
    }
    Ok(data)
}

/// Raw little-endian bytes of the input tensor.
fn raw(bytes: &[u8], spec: &TensorSpec) -> Result<TensorData> {
    let expected = spec.element_count() * spec.dtype.size_bytes();
    if bytes.len() != expected {
        bail!(
            "the .bin has {} bytes; the input {:?} ({} × {}) needs {expected}",
            bytes.len(),
            spec.name,
            spec.element_count(),
            spec.dtype.name()
        );
    }
    let words = || {
        bytes
            .chunks_exact(4)
            .filter_map(|b| <[u8; 4]>::try_from(b).ok())
    };
    Ok(match spec.dtype {
        DType::F32 => TensorData::F32(words().map(f32::from_le_bytes).collect()),
        DType::I8 => TensorData::I8(bytes.iter().map(|&b| b as i8).collect()),
        DType::U8 => TensorData::U8(bytes.to_vec()),
        DType::I32 => TensorData::I32(words().map(i32::from_le_bytes).collect()),
        other => bail!("inputs of type {} are not supported", other.name()),
    })
}

/// `data` as the input tensor's type: floats are quantized for an int8 input; integer data must
/// already have the tensor's type.
fn convert(data: TensorData, spec: &TensorSpec) -> Result<TensorData> {
    Ok(match (data, spec.dtype) {
        (TensorData::F32(values), DType::I8) => {
            let (scale, zero_point) = spec
                .quantization
                .as_ref()
                .map(Quantization::single)
                .transpose()?
                .context("the int8 input has no quantization parameters")?;
            TensorData::I8(
                values
                    .iter()
                    .map(|v| ((v / scale).round() + zero_point as f32).clamp(-128.0, 127.0) as i8)
                    .collect(),
            )
        }
        (data, dtype) if data.dtype() == dtype => data,
        (data, dtype) => bail!(
            "the input is {} but the model takes {}",
            data.dtype().name(),
            dtype.name()
        ),
    })
}

/// `tinylab bench MODEL`: time per inference on this computer, and the per-kit estimate.
pub fn bench(model: &Path, runs: usize) -> Result<()> {
    let graph = read_model(model)?;
    let runner = Runner::new(&graph)?;
    let spec = input_tensor(&graph)?;
    let input = zeros(spec)?;
    runner.invoke(std::slice::from_ref(&input))?;
    let mut times_ms = Vec::with_capacity(runs.max(1));
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        runner.invoke(std::slice::from_ref(&input))?;
        times_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times_ms.sort_by(f64::total_cmp);
    let median = times_ms.get(times_ms.len() / 2).copied().unwrap_or(0.0);
    let stats = graph_stats(&graph)?;
    let int8 = spec.dtype == DType::I8;
    println!(
        "{}: {} operators, {} MACs, arena {} B, weights {} B ({} input)",
        model.display(),
        stats.operators,
        stats.macs,
        stats.arena_bytes,
        stats.weights_bytes,
        spec.dtype.name()
    );
    println!(
        "this computer (TinyLab's reference kernels, one thread): median {median:.3} ms, best {:.3} ms over {} runs",
        times_ms.first().copied().unwrap_or(0.0),
        times_ms.len()
    );
    let cost = ModelCost {
        macs: stats.macs,
        operators: stats.operators,
        operator_kinds: stats.operator_kinds,
        arena_bytes: stats.arena_bytes,
        weights_bytes: stats.weights_bytes,
        dsp_bytes: 0,
    };
    println!(
        "estimated on the kits ({}):",
        if int8 { "int8" } else { "float32" }
    );
    for e in estimate(&cost) {
        println!(
            "  {:<34} {:>9.2} ms",
            e.name,
            if int8 { e.int8_ms } else { e.float_ms }
        );
    }
    Ok(())
}

fn zeros(spec: &TensorSpec) -> Result<TensorData> {
    let n = spec.element_count();
    Ok(match spec.dtype {
        DType::F32 => TensorData::F32(vec![0.0; n]),
        DType::I8 => TensorData::I8(vec![0; n]),
        DType::U8 => TensorData::U8(vec![0; n]),
        DType::I32 => TensorData::I32(vec![0; n]),
        other => bail!("inputs of type {} are not supported", other.name()),
    })
}
