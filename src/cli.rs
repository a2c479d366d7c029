//! The command line: every feature also works without a window, through the same engine the GUI
//! uses (commands in, events out). `main.rs` only parses arguments and calls [`run`].

use crate::devices::ports;
use crate::engine::Engine;
use crate::project::formats::SampleFormat;
use crate::project::sample::Split;
use crate::project::{DatasetSummary, Project};
use crate::protocol::{
    Command, DeviceSpec, Event, JobOutcome, Level, ModelFormat, RecordRequest, SplitChoice,
};
use crate::sim::board::{BoardConfig, VirtualBoard};
use crate::sim::motion::Motion;
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod deploy_cli;
mod model_cli;

/// TinyLab: the TinyML labs of Machine Learning Systems, offline.
#[derive(Debug, Parser)]
#[command(name = "tinylab", version, about)]
pub struct Cli {
    /// What to do; with no subcommand the window opens.
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// Where `import` puts samples.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SplitArg {
    /// All to train.
    Train,
    /// All to test.
    Test,
    /// A seeded 80/20 split per label, as Edge Impulse does on upload.
    Auto,
}

/// File format for `export`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormatArg {
    /// CSV with a timestamp column (ms).
    Csv,
    /// Edge Impulse data acquisition JSON.
    EiJson,
    /// The latest (or `--run`) run's float32 model as `.tflite` (quantized first if needed).
    TfliteF32,
    /// Its int8 model as `.tflite`.
    TfliteInt8,
    /// Its int8 model as a C array for TensorFlow Lite Micro, into the folder OUT.
    CArray,
    /// The C99 library (int8 model as straight-line C + the DSP block), into the folder OUT.
    CLibrary,
    /// Its DSP and int8 model as an Arduino library `.zip` (OUT) with a sketch per kit.
    Arduino,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Open the window (on PROJECT, or the last project, or the demo project).
    Gui {
        /// Project folder to open.
        project: Option<PathBuf>,
    },
    /// Create a project from a lab preset.
    New {
        /// New or empty folder.
        dir: PathBuf,
        /// Lab preset id.
        #[arg(long, default_value = "motion")]
        lab: String,
        /// Fill it with the lab's demo data, ready to train: virtual-kit recordings for motion
        /// labs, synthetic words, pictures or scenes for the others (`tinylab new DIR --demo` is
        /// the motion demo the window opens when no project is given).
        #[arg(long)]
        demo: bool,
    },
    /// Run a virtual board on a pseudo-terminal and print its path. Type a motion name and
    /// Enter to switch (idle, lift, maritime, terrestrial); Ctrl+C or end of input stops it.
    SimBoard {
        /// Readings per second.
        #[arg(long, default_value_t = 50.0)]
        rate_hz: f64,
        /// Motion to start with.
        #[arg(long, default_value = "idle")]
        motion: Motion,
        /// Skip the XIAOML Kit's start-up banner.
        #[arg(long)]
        no_banner: bool,
        /// Stop after this many seconds (default: run until stopped).
        #[arg(long)]
        seconds: Option<f64>,
        /// Print Edge Impulse inference results (`Predictions (DSP: …):` blocks) for the current
        /// motion instead of readings, like a board running the motion classifier.
        #[arg(long)]
        inference: bool,
    },
    /// Deploy the latest (or `--run`) run's int8 model to a board: an OpenMV drive, a
    /// Raspberry Pi over SSH, or an Arduino board through arduino-cli.
    Deploy(deploy_cli::DeployArgs),
    /// Read a board's serial output and print what it predicts, one JSON object per line.
    Monitor(deploy_cli::MonitorArgs),
    /// List serial ports and recognised boards.
    Ports {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the USB webcams (and built-in cameras) `--camera webcam:N` can open.
    Cameras {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Record one labelled sample from a serial board, or capture images from a camera, into a
    /// project.
    Capture {
        /// Project folder.
        dir: PathBuf,
        /// Serial port, e.g. /dev/ttyACM0 (see `tinylab ports`).
        #[arg(long, required_unless_present = "camera", conflicts_with = "camera")]
        port: Option<String>,
        /// Camera: webcam:N (a USB webcam), http://HOST/capture, http://HOST:81/stream, or a folder of images.
        #[arg(long)]
        camera: Option<String>,
        /// Images to capture from the camera, one per new frame.
        #[arg(long, default_value_t = 1, requires = "camera")]
        count: usize,
        /// Class label.
        #[arg(long)]
        label: String,
        /// Length of the sample (serial boards).
        #[arg(long, required_unless_present = "camera")]
        seconds: Option<f64>,
        /// Baud rate.
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        /// Train or test.
        #[arg(long, default_value = "train")]
        split: Split,
        /// If the board vanishes mid-recording, keep what was recorded.
        #[arg(long)]
        keep_partial: bool,
    },
    /// Import CSV or Edge Impulse JSON files, WAV audio or PNG/JPEG/BMP images (or folders of
    /// them, one subfolder per label) into a project.
    Import {
        /// Project folder.
        dir: PathBuf,
        /// Files or folders.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Label for every file (default: from the file name, `idle.01.csv` → idle).
        #[arg(long)]
        label: Option<String>,
        /// Where the samples go.
        #[arg(long, value_enum, default_value = "auto")]
        split: SplitArg,
    },
    /// Export the dataset into OUT/training and OUT/testing, as Edge Impulse lays it out
    /// (csv, ei-json), or a trained model (tflite-f32, tflite-int8: the file OUT and labels.txt
    /// beside it; c-array: model.h, model.cc, labels.txt in the folder OUT; c-library:
    /// tinylab_model.h/.c and tinylab_dsp.h/.c in the folder OUT).
    Export {
        /// Project folder.
        dir: PathBuf,
        /// Output folder, or the model file.
        #[arg(long)]
        out: PathBuf,
        /// What to write.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormatArg,
        /// Run whose model is exported (default: the latest).
        #[arg(long)]
        run: Option<String>,
    },
    /// Quantize a run to int8 and print float32 against int8: test accuracy, changed
    /// predictions, sizes, arena, MACs and the estimated latency on each kit.
    Quantize {
        /// Project folder.
        dir: PathBuf,
        /// Run id (default: the latest).
        #[arg(long)]
        run: Option<String>,
        /// Settings for this run (default: the project's).
        #[command(flatten)]
        settings: model_cli::QuantizeArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a .tflite model (TinyLab's or anyone's) on one input and print its outputs.
    Infer {
        /// The .tflite file.
        model: PathBuf,
        /// A .npy or raw .bin of the input tensor, or a WAV/CSV/image with --project.
        input: PathBuf,
        /// Run the input file through this project's processing block first.
        #[arg(long)]
        project: Option<PathBuf>,
        /// Print {"outputs": [{name, shape, dtype, values, dequantized}]}.
        #[arg(long)]
        json: bool,
    },
    /// Time a .tflite model on this computer and estimate its latency on each kit.
    Bench {
        /// The .tflite file.
        model: PathBuf,
        /// Timed inferences.
        #[arg(long, default_value = "20")]
        runs: usize,
    },
    /// Generate the features of every sample with the project's processing block (cached).
    Features {
        /// Project folder.
        dir: PathBuf,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run one processing block on one input and print its features.
    Dsp {
        /// Block: spectral, mfcc, mfe, spectrogram, image, raw.
        block: String,
        /// A WAV file, a CSV of axis columns, or an image (PNG, JPEG, BMP).
        input: PathBuf,
        /// Override a setting by Edge Impulse's name, e.g. --set fft_length=64 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Sampling rate of a CSV without a timestamp column.
        #[arg(long)]
        rate_hz: Option<f64>,
        /// Print {"names", "shape", "values"} as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Train the project's model (features first, from the cache when possible); one line per
    /// epoch; the run is saved under `runs/`.
    Train {
        /// Project folder.
        dir: PathBuf,
        /// Epochs (default: the project's setting).
        #[arg(long)]
        epochs: Option<usize>,
        /// Seed for weight init, shuffling and the validation split (default: the project's).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Evaluate the latest run on the test split: confusion matrix and metrics.
    Eval {
        /// Project folder.
        dir: PathBuf,
        /// Print JSON: accuracy, labels, confusion_matrix, per_class, …
        #[arg(long)]
        json: bool,
    },
    /// Classify a recording window by window with the latest run, as the board's continuous
    /// inference does: one line per window, then the detected keywords (labels).
    Classify {
        /// Project folder.
        dir: PathBuf,
        /// A WAV file (audio projects) or a CSV of readings (sensor projects).
        file: PathBuf,
        /// Run id, e.g. run-002 (default: the latest).
        #[arg(long)]
        run: Option<String>,
        /// Print JSON: labels, windows (probabilities, averaged, detected, times), detections.
        #[arg(long)]
        json: bool,
    },
    /// List the labs (`--lab` ids) with their kits.
    Labs,
    /// Print the project's lab steps with their check marks, computed from the project.
    Check {
        /// Project folder.
        dir: PathBuf,
        /// Print JSON: lab, steps [{title, panel, passed, detail}], done, total.
        #[arg(long)]
        json: bool,
    },
    /// Summarise a project's dataset: samples per label and split, total duration.
    Dataset {
        /// Project folder.
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// How long the CLI waits for the engine to answer a simple command.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs a subcommand (not `Gui`, which `main` handles).
pub fn run(command: CliCommand) -> Result<()> {
    match command {
        CliCommand::Gui { .. } => bail!("the window is opened by main"),
        CliCommand::New { dir, lab, demo } => new_project(dir, &lab, demo),
        CliCommand::SimBoard {
            rate_hz,
            motion,
            no_banner,
            seconds,
            inference,
        } => sim_board(
            BoardConfig {
                rate_hz,
                motion,
                banner: !no_banner,
                inference,
                ..BoardConfig::default()
            },
            seconds,
        ),
        CliCommand::Deploy(args) => deploy_cli::deploy(args),
        CliCommand::Monitor(args) => deploy_cli::monitor(&args),
        CliCommand::Ports { json } => list_ports(json),
        CliCommand::Cameras { json } => list_cameras(json),
        CliCommand::Capture {
            dir,
            port,
            camera,
            count,
            label,
            seconds,
            baud,
            split,
            keep_partial,
        } => match (camera, port) {
            (Some(camera), _) => capture_camera(dir, &camera, &label, split, count),
            (None, port) => capture(
                dir,
                port.unwrap_or_default(),
                baud,
                RecordRequest {
                    label,
                    seconds: seconds.unwrap_or(0.0),
                    split,
                },
                keep_partial,
            ),
        },
        CliCommand::Import {
            dir,
            files,
            label,
            split,
        } => {
            let split = match split {
                SplitArg::Train => SplitChoice::Fixed(Split::Train),
                SplitArg::Test => SplitChoice::Fixed(Split::Test),
                SplitArg::Auto => SplitChoice::Auto,
            };
            run_job(
                dir,
                Command::Import {
                    files,
                    label,
                    split,
                },
            )
        }
        CliCommand::Export {
            dir,
            out,
            format,
            run,
        } => {
            let format = match format {
                ExportFormatArg::Csv => SampleFormat::Csv,
                ExportFormatArg::EiJson => SampleFormat::EiJson,
                ExportFormatArg::TfliteF32 => {
                    return model_cli::export_model(dir, run, ModelFormat::TfliteF32, out);
                }
                ExportFormatArg::TfliteInt8 => {
                    return model_cli::export_model(dir, run, ModelFormat::TfliteInt8, out);
                }
                ExportFormatArg::CArray => {
                    return model_cli::export_model(dir, run, ModelFormat::CArray, out);
                }
                ExportFormatArg::CLibrary => {
                    return model_cli::export_model(dir, run, ModelFormat::CLibrary, out);
                }
                ExportFormatArg::Arduino => {
                    return model_cli::export_model(dir, run, ModelFormat::Arduino, out);
                }
            };
            run_job(
                dir,
                Command::Export {
                    out_dir: out,
                    format,
                },
            )
        }
        CliCommand::Labs => list_labs(),
        CliCommand::Check { dir, json } => check(&dir, json),
        CliCommand::Quantize {
            dir,
            run,
            settings,
            json,
        } => model_cli::quantize(dir, run, &settings, json),
        CliCommand::Infer {
            model,
            input,
            project,
            json,
        } => model_cli::infer(&model, &input, project.as_deref(), json),
        CliCommand::Bench { model, runs } => model_cli::bench(&model, runs),
        CliCommand::Dataset { dir, json } => dataset(dir, json),
        CliCommand::Features { dir, json } => features(dir, json),
        CliCommand::Train { dir, epochs, seed } => train(dir, epochs, seed),
        CliCommand::Eval { dir, json } => eval(dir, json),
        CliCommand::Classify {
            dir,
            file,
            run,
            json,
        } => classify(&dir, &file, run.as_deref(), json),
        CliCommand::Dsp {
            block,
            input,
            set,
            rate_hz,
            json,
        } => dsp(&block, &input, &set, rate_hz, json),
    }
}

fn new_project(dir: PathBuf, lab: &str, demo: bool) -> Result<()> {
    let engine = Engine::start(|| {})?;
    engine.send(Command::CreateProject {
        dir: dir.clone(),
        lab: lab.to_owned(),
        demo,
    })?;
    wait_for(&engine, ANSWER_TIMEOUT, |event| match event {
        Event::ProjectOpened { .. } => Some(Ok(())),
        _ => None,
    })?;
    let preset = crate::labs::lab(lab)?;
    let next = if demo {
        let samples = crate::project::Project::open(&dir)?.samples().len();
        format!(
            "{samples} demo samples (synthetic); train with `tinylab train {}`",
            dir.display()
        )
    } else if preset.sensor.kind == crate::project::MICROPHONE {
        format!(
            "add audio with `tinylab import {} FOLDER_OF_WAVS`",
            dir.display()
        )
    } else if preset.sensor.kind == crate::project::CAMERA {
        format!(
            "add images with `tinylab import {} FOLDER` (one subfolder of images per label)",
            dir.display()
        )
    } else {
        let label = preset.capture.labels.first().map_or("idle", String::as_str);
        let seconds = preset.capture.sample_seconds;
        format!(
            "record with `tinylab capture {} --port PATH --label {label} --seconds {seconds}`",
            dir.display()
        )
    };
    println!("created {} (lab {lab}); {next}", dir.display());
    Ok(())
}

fn sim_board(config: BoardConfig, seconds: Option<f64>) -> Result<()> {
    let BoardConfig {
        rate_hz, motion, ..
    } = config;
    let board = VirtualBoard::start(config)?;
    println!("{}", board.path());
    eprintln!(
        "virtual board: {rate_hz} Hz, motion {motion:?}, at {} — type idle, lift, maritime or terrestrial + Enter to switch",
        board.path()
    );
    std::io::stdout().flush()?;
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    // Motion changes come from stdin on a named thread, so the deadline still applies.
    let (tx, rx) = crossbeam_channel::bounded::<Option<String>>(16);
    std::thread::Builder::new()
        .name("sim-board-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(Some(line)).is_err() {
                    return;
                }
            }
            let _ = tx.send(None);
        })?;
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let mut input = Some(rx);
    while deadline.is_none_or(|d| Instant::now() < d) {
        let Some(rx) = &input else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(line)) => match line.trim().parse::<Motion>() {
                Ok(motion) => {
                    board.set_motion(motion);
                    eprintln!("motion: {motion:?}");
                }
                Err(e) => eprintln!("{e}"),
            },
            // Ctrl+D at a terminal stops the board; a non-interactive stdin (started in the
            // background, or from a script) just ends the motion commands.
            Ok(None) | Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                if interactive && deadline.is_none() {
                    break;
                }
                input = None;
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
        }
    }
    eprintln!(
        "virtual board stopped after {} lines",
        board.lines_written()
    );
    Ok(())
}

fn list_ports(json: bool) -> Result<()> {
    let list = ports::list_ports()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if list.is_empty() {
        println!(
            "no serial ports found; plug in a board, or run `tinylab sim-board` for a virtual one"
        );
    } else {
        for port in &list {
            println!("{}", port.describe());
        }
    }
    Ok(())
}

fn list_cameras(json: bool) -> Result<()> {
    let list = crate::devices::webcam::list_webcams().map_err(anyhow::Error::msg)?;
    if json {
        let items: Vec<_> = list
            .iter()
            .map(|w| {
                serde_json::json!({
                    "camera": format!("webcam:{}", w.index), "name": w.name,
                    "description": w.description,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else if list.is_empty() {
        println!(
            "no webcams found; an ESP32 camera works by its address (--camera http://HOST/capture), \
             a folder of images by its path"
        );
    } else {
        for w in &list {
            println!("webcam:{}  {}  ({})", w.index, w.name, w.description);
        }
    }
    Ok(())
}

fn open_project(engine: &Engine, dir: PathBuf) -> Result<()> {
    engine.send(Command::OpenProject { dir })?;
    wait_for(engine, ANSWER_TIMEOUT, |event| match event {
        Event::ProjectOpened { .. } => Some(Ok(())),
        _ => None,
    })
}

fn capture(
    dir: PathBuf,
    port: String,
    baud: u32,
    request: RecordRequest,
    keep_partial: bool,
) -> Result<()> {
    let engine = Engine::start(|| {})?;
    open_project(&engine, dir)?;
    engine.send(Command::Connect(DeviceSpec::Serial {
        path: port.clone(),
        baud,
    }))?;
    let format = wait_for(&engine, Duration::from_secs(20), |event| match event {
        Event::FormatDetected(format) => Some(Ok(format.clone())),
        Event::DeviceClosed {
            reason: Some(reason),
        } => Some(Err(reason.clone())),
        _ => None,
    })
    .with_context(|| format!("no readings detected on {port}"))?;
    eprintln!(
        "{port}: {} axes ({}) at {} Hz",
        format.axes.len(),
        format.axes.join(", "),
        format.rate_hz
    );
    let label = request.label.clone();
    engine.send(Command::StartRecording(request))?;
    let seconds_limit = Duration::from_secs(3600 + 60);
    let meta = wait_for(&engine, seconds_limit, |event| match event {
        Event::Recording {
            readings, target, ..
        } => {
            progress(&format!("recording {label}: {readings}/{target} readings"));
            None
        }
        Event::RecordingSaved(meta) => Some(Ok(meta.clone())),
        Event::RecordingInterrupted {
            readings,
            seconds,
            reason,
        } => {
            progress("");
            if keep_partial {
                eprintln!("{reason}; keeping the {readings} readings ({seconds:.1} s) recorded");
                match engine.send(Command::KeepPartial(true)) {
                    Ok(()) => None,
                    Err(e) => Some(Err(e.to_string())),
                }
            } else {
                let _ = engine.send(Command::KeepPartial(false));
                Some(Err(format!(
                    "{reason}; {readings} readings ({seconds:.1} s) were recorded and discarded — \
                     run again with --keep-partial to keep them"
                )))
            }
        }
        _ => None,
    })?;
    progress("");
    println!(
        "saved {} \"{}\" ({} readings, {:.2} s at {} Hz, {})",
        meta.id,
        meta.label,
        meta.readings,
        meta.duration_s(),
        meta.rate_hz,
        meta.split
    );
    Ok(())
}

/// Captures `count` images from a camera, one per new frame, as samples labelled `label`.
fn capture_camera(
    dir: PathBuf,
    address: &str,
    label: &str,
    split: Split,
    count: usize,
) -> Result<()> {
    let engine = Engine::start(|| {})?;
    open_project(&engine, dir)?;
    let spec = crate::devices::camera::CameraSpec::parse(address);
    engine.send(Command::Connect(DeviceSpec::Camera(spec)))?;
    let mut saved = 0;
    let mut capturing = false;
    let mut last_index = None;
    while saved < count {
        let done = wait_for(&engine, Duration::from_secs(30), |event| match event {
            Event::CameraFrame { frame, .. } if !capturing && last_index != Some(frame.index) => {
                last_index = Some(frame.index);
                Some(Ok(false))
            }
            Event::RecordingSaved(meta) => {
                println!(
                    "saved {} \"{}\" ({}, {})",
                    meta.id, meta.label, meta.source, meta.split
                );
                Some(Ok(true))
            }
            Event::DeviceClosed {
                reason: Some(reason),
            } => Some(Err(reason.clone())),
            _ => None,
        })
        .with_context(|| format!("capturing from {address}"))?;
        if done {
            saved += 1;
            capturing = false;
        } else {
            engine.send(Command::CaptureFrame {
                label: label.to_owned(),
                split,
            })?;
            capturing = true;
        }
    }
    engine.send(Command::Disconnect)?;
    Ok(())
}

pub(crate) fn run_job(dir: PathBuf, command: Command) -> Result<()> {
    run_job_watching(dir, command, |_| {})
}

/// Runs a job to its end, showing every event to `watch` on the way, and prints its sentence.
fn run_job_watching(dir: PathBuf, command: Command, mut watch: impl FnMut(&Event)) -> Result<()> {
    let text = run_command(dir, command, |event| {
        watch(event);
        match event {
            Event::JobFinished {
                outcome: JobOutcome::Done(text),
                ..
            } => Some(Ok(text.clone())),
            _ => None,
        }
    })?;
    println!("{text}");
    Ok(())
}

/// Opens `dir` in a headless engine, sends `command`, shows job progress on a terminal, and
/// waits for the event `pick` accepts; a failed or cancelled job ends the wait with its reason.
pub(crate) fn run_command<T>(
    dir: PathBuf,
    command: Command,
    mut pick: impl FnMut(&Event) -> Option<Result<T, String>>,
) -> Result<T> {
    let engine = Engine::start(|| {})?;
    open_project(&engine, dir)?;
    engine.send(command)?;
    let result = wait_for(
        &engine,
        Duration::from_secs(24 * 3600),
        |event| match event {
            Event::JobProgress {
                fraction, message, ..
            } => {
                progress(&format!("{:3.0}% {message:<60.60}", fraction * 100.0));
                None
            }
            Event::JobFinished {
                outcome: JobOutcome::Failed(why),
                ..
            } => Some(Err(why.clone())),
            Event::JobFinished {
                outcome: JobOutcome::Cancelled,
                ..
            } => Some(Err("cancelled".into())),
            other => pick(other),
        },
    );
    progress("");
    result
}

/// What a step without an automatic check says.
const MANUAL_STEP: &str = "no automatic check: yours to tick";

/// `tinylab check DIR`: the lab's steps and their marks, from the project's files.
fn check(dir: &std::path::Path, json: bool) -> Result<()> {
    use crate::lab_guide::{LabState, RunState, evaluate_steps};
    let project = Project::open(dir)?;
    let settings = project.settings();
    let lab = crate::labs::lab(&settings.lab)?;
    let records = crate::project::runs::records(dir);
    let run = match records.into_iter().last() {
        Some(record) => {
            let record = record?;
            let test = crate::engine::evaluation::evaluate(
                &record,
                crate::project::runs::DataSet::Test,
                record.model.confidence_threshold,
                record.model.anomaly.threshold,
            )
            .ok()
            .filter(|e| !e.metrics.predictions.is_empty())
            .map(|e| e.metrics.accuracy);
            let quantized = crate::project::runs::load_quantized(dir, &record.id)?
                .map(|q| (q.float.accuracy, q.int8.accuracy));
            Some(RunState {
                id: record.id.clone(),
                validation_accuracy: record.final_val_accuracy().map(f64::from),
                test_accuracy: test,
                quantized,
                deployed_to: crate::project::runs::deployments(dir, &record.id)?
                    .into_iter()
                    .map(|d| d.target)
                    .collect(),
            })
        }
        None => None,
    };
    let state = LabState {
        labels: settings.capture.labels.clone(),
        dataset: project.summary(),
        features_current: crate::engine::features_job::is_cached(
            &dir.join(crate::project::CACHE_DIR).join("features"),
            &settings.dsp,
            &settings.impulse,
            project.samples(),
        ),
        run,
    };
    let (results, done, total) = evaluate_steps(&lab.steps, &state);
    if json {
        let steps: Vec<_> = lab
            .steps
            .iter()
            .zip(&results)
            .map(|(step, result)| {
                serde_json::json!({
                    "title": step.title, "panel": step.panel,
                    "passed": result.as_ref().map(|r| r.passed),
                    "detail": result.as_ref().map_or(MANUAL_STEP, |r| r.detail.as_str()),
                })
            })
            .collect();
        let value = serde_json::json!({
            "lab": lab.id, "title": lab.title, "steps": steps, "done": done,
            "total": total,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "{} ({}): {done} of {total} checked steps done",
        lab.title, lab.id,
    );
    for (index, (step, result)) in lab.steps.iter().zip(&results).enumerate() {
        let (mark, detail) = match result {
            Some(r) => (if r.passed { "[x]" } else { "[ ]" }, r.detail.as_str()),
            None => ("[-]", MANUAL_STEP),
        };
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" — {detail}")
        };
        println!("{mark} {}. {}{detail}", index + 1, step.title);
    }
    Ok(())
}

fn dataset(dir: PathBuf, json: bool) -> Result<()> {
    let project = Project::open(&dir)?;
    let summary = project.summary();
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", format_summary(&summary));
    }
    Ok(())
}

fn features(dir: PathBuf, json: bool) -> Result<()> {
    let summary = run_command(dir, Command::GenerateFeatures, |event| match event {
        Event::FeaturesGenerated(summary) => Some(Ok(summary.clone())),
        _ => None,
    })?;
    if json {
        let points: Vec<_> = summary
            .points
            .iter()
            .map(|p| serde_json::json!({"sample": p.sample.to_string(), "label": p.label, "window": p.window, "pca": p.xy}))
            .collect();
        let value = serde_json::json!({
            "block": summary.block, "shape": summary.shape, "names": summary.names,
            "samples": summary.samples, "windows": summary.windows, "from_cache": summary.from_cache,
            "elapsed_s": summary.elapsed_s, "explained_variance_ratio": summary.explained_variance_ratio,
            "points": points,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", summary.describe());
    }
    Ok(())
}

fn train(dir: PathBuf, epochs: Option<usize>, seed: Option<u64>) -> Result<()> {
    run_job_watching(dir, Command::Train { epochs, seed }, |event| {
        if let Event::TrainingEpoch { report, .. } = event {
            progress("");
            println!("{}", format_epoch(report));
        }
    })
}

/// One epoch as `tinylab train` prints it.
pub fn format_epoch(report: &crate::nn::train::EpochReport) -> String {
    let validation = match (report.val_loss, report.val_accuracy) {
        (Some(loss), Some(accuracy)) => {
            format!(
                "  val_loss {loss:.4}  val_accuracy {:6.2} %",
                accuracy * 100.0
            )
        }
        _ => String::new(),
    };
    format!(
        "epoch {:>3}/{}  loss {:.4}  accuracy {:6.2} %{validation}  ({:.2} s)",
        report.epoch,
        report.epochs,
        report.train_loss,
        report.train_accuracy * 100.0,
        report.elapsed_s
    )
}

fn eval(dir: PathBuf, json: bool) -> Result<()> {
    let mut latest = None;
    run_command(dir, Command::Evaluate { run: None }, |event| match event {
        Event::Evaluated(evaluation) => {
            latest = Some(evaluation.clone());
            None
        }
        Event::JobFinished {
            outcome: JobOutcome::Done(_),
            ..
        } => Some(Ok(())),
        _ => None,
    })?;
    let Some(evaluation) = latest else {
        bail!("the engine evaluated the run but sent no results");
    };
    if json {
        let mut value = evaluation.metrics.to_json();
        if let Some(object) = value.as_object_mut() {
            object.insert("run".into(), evaluation.run.clone().into());
            object.insert("set".into(), evaluation.set.title().into());
            object.insert(
                "confidence_threshold".into(),
                evaluation.confidence_threshold.into(),
            );
            if let Some(detection) = &evaluation.detection {
                object.insert(
                    "detection".into(),
                    serde_json::to_value(&detection.metrics)?,
                );
            }
            if evaluation.has_anomaly {
                let samples: serde_json::Map<String, serde_json::Value> = evaluation
                    .samples
                    .iter()
                    .filter_map(|s| Some((s.sample.to_string(), s.max_anomaly?.into())))
                    .collect();
                object.insert(
                    "anomaly_threshold".into(),
                    evaluation.anomaly_threshold.into(),
                );
                object.insert("anomalous_windows".into(), evaluation.anomalies.into());
                object.insert("max_anomaly_per_sample".into(), samples.into());
            }
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", format_evaluation(&evaluation));
    }
    Ok(())
}

/// Classifies `file` window by window with a run of the project in `dir`.
fn classify(
    dir: &std::path::Path,
    file: &std::path::Path,
    run: Option<&str>,
    json: bool,
) -> Result<()> {
    use crate::engine::live::{self, LiveClassifier, StreamShape};
    let project = Project::open(dir)?;
    let stored = crate::project::runs::load(dir, run)?;
    let settings = project.settings();
    let mut series = crate::project::formats::read_sample(file, settings.sensor.rate_hz)?.series;
    // The project's axis names when the file has as many axes (feature names follow them).
    if series.axes.len() == settings.sensor.axes.len() {
        series.axes.clone_from(&settings.sensor.axes);
    }
    let threshold = settings.model.confidence_threshold;
    let shape = StreamShape {
        axes: series.axes.clone(),
        rate_hz: series.rate_hz,
    };
    let mut classifier = LiveClassifier::new(&stored, shape, settings.sensor.rate_hz, threshold)
        .with_context(|| format!("{} cannot be classified", file.display()))?;
    // A file shorter than one window is zero-padded, as the impulse's zero padding does.
    let window =
        crate::dsp::windowing::readings_in(stored.record.impulse.window_ms, series.rate_hz);
    let axes = series.axes.len();
    if series.readings() < window {
        series.values.resize(window * axes, 0.0);
    }
    let windows = classifier.push(&series.values)?;
    let found = live::detections(&windows);
    let labels = classifier.labels().to_vec();
    let name = |i: usize| labels.get(i).cloned().unwrap_or_default();
    if json {
        let windows: Vec<_> = windows
            .iter()
            .map(|w| {
                serde_json::json!({
                    "start_s": w.start_s, "end_s": w.end_s, "probabilities": w.probabilities,
                    "averaged": w.averaged, "detected": w.detected.map(|(i, _)| name(i)),
                    "confidence": w.detected.map(|(_, p)| p), "anomaly": w.anomaly,
                    "dsp_ms": w.dsp_ms, "nn_ms": w.nn_ms,
                })
            })
            .collect();
        let found: Vec<_> = found
            .iter()
            .map(|d| serde_json::json!({"label": name(d.label), "start_s": d.start_s, "end_s": d.end_s, "peak": d.peak}))
            .collect();
        let value = serde_json::json!({
            "run": classifier.run_id(), "file": file.display().to_string(), "labels": labels,
            "threshold": threshold, "averaging": classifier.averaging(),
            "windows": windows, "detections": found,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let mut text = format!(
        "{}: {} windows with {}; detected = mean of the last {} windows above {threshold}\n",
        file.display(),
        windows.len(),
        classifier.run_id(),
        classifier.averaging()
    );
    for window in &windows {
        text.push_str(&live::format_window(window, &labels));
        text.push('\n');
    }
    if found.is_empty() {
        text.push_str(&format!("detected: nothing above {threshold}\n"));
    }
    for d in &found {
        text.push_str(&format!(
            "detected: {} at {:.2}-{:.2} s (peak {:.2})\n",
            name(d.label),
            d.start_s,
            d.end_s,
            d.peak
        ));
    }
    // A reader that stops early (`| head`) is not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// The confusion matrix and per-class metrics as `tinylab eval` prints them.
pub fn format_evaluation(evaluation: &crate::protocol::RunEvaluation) -> String {
    if let Some(detection) = &evaluation.detection {
        return format_detection(evaluation, &detection.metrics);
    }
    let metrics = &evaluation.metrics;
    let width = evaluation
        .labels
        .iter()
        .map(String::len)
        .chain([9])
        .max()
        .unwrap_or(9);
    let mut out = format!(
        "{} on the {} split: accuracy {} over {} windows (uncertain below {:.2}: {})\n\n",
        evaluation.run,
        evaluation.set.title(),
        crate::protocol::percent(Some(metrics.accuracy as f32)),
        metrics.predictions.len(),
        evaluation.confidence_threshold,
        crate::protocol::percent(Some(metrics.uncertain_share as f32)),
    );
    let corner = "true \\ predicted";
    let first = width.max(corner.len());
    out += &format!("{corner:first$}");
    for label in evaluation.labels.iter().chain([&"uncertain".to_owned()]) {
        out += &format!(" {label:>width$}");
    }
    out += "\n";
    for ((label, row), unsure) in evaluation
        .labels
        .iter()
        .zip(&metrics.confusion_matrix)
        .zip(&metrics.uncertain)
    {
        out += &format!("{label:first$}");
        for count in row.iter().chain([unsure]) {
            out += &format!(" {count:>width$}");
        }
        out += "\n";
    }
    out += &format!(
        "\n{:width$} {:>9} {:>9} {:>9} {:>9}\n",
        "label", "precision", "recall", "f1", "windows"
    );
    for (label, class) in evaluation.labels.iter().zip(&metrics.per_class) {
        out += &format!(
            "{label:width$} {:>9.3} {:>9.3} {:>9.3} {:>9}\n",
            class.precision, class.recall, class.f1, class.support
        );
    }
    if evaluation.has_anomaly {
        out += &format!(
            "\nanomaly: {} windows above {:.2}\n",
            evaluation.anomalies, evaluation.anomaly_threshold
        );
    }
    out
}

/// A FOMO run's evaluation as `tinylab eval` prints it: the F1 line, then one row per class.
fn format_detection(
    evaluation: &crate::protocol::RunEvaluation,
    metrics: &crate::nn::detection::DetectionMetrics,
) -> String {
    let width = evaluation
        .labels
        .iter()
        .map(String::len)
        .chain([7])
        .max()
        .unwrap_or(7);
    let mut out = format!(
        "{} on the {} split: F1 {:.3} (precision {:.3}, recall {:.3}) over {} images, centroids \
         at confidence ≥ {:.2}\n\n{:width$} {:>9} {:>9} {:>9} {:>5} {:>5} {:>5}\n",
        evaluation.run,
        evaluation.set.title(),
        metrics.f1,
        metrics.precision,
        metrics.recall,
        metrics.images,
        evaluation.confidence_threshold,
        "label",
        "precision",
        "recall",
        "f1",
        "TP",
        "FP",
        "FN"
    );
    for class in &metrics.per_class {
        let c = class.counts;
        out += &format!(
            "{:width$} {:>9.3} {:>9.3} {:>9.3} {:>5} {:>5} {:>5}\n",
            class.label,
            class.precision,
            class.recall,
            class.f1,
            c.true_positives,
            c.false_positives,
            c.false_negatives
        );
    }
    out
}

/// Features of a file (an image, a WAV or a CSV of readings) with `settings`; a signal is cut
/// to its first `window_ms` when given (one window, as the model sees it).
pub(crate) fn features_of_file(
    settings: &crate::dsp::block::DspSettings,
    input: &std::path::Path,
    rate_hz: Option<f64>,
    window_ms: Option<u32>,
) -> Result<crate::dsp::Features> {
    use crate::dsp::block::BlockInput;
    if settings.reads_images() {
        let (width, height, rgb) = crate::project::formats::image::load_rgb(input)?;
        return Ok(
            settings.features(&BlockInput::Image(crate::dsp::image::ImageInput {
                width,
                height,
                rgb: &rgb,
            }))?,
        );
    }
    let mut series = match crate::project::formats::SampleFormat::of(input)? {
        crate::project::formats::SampleFormat::Wav => {
            crate::project::formats::wav::read_series(input)?
        }
        _ => crate::project::formats::csv::read_series(input, rate_hz)?,
    };
    if let Some(ms) = window_ms {
        let frames = (series.rate_hz * ms as f64 / 1000.0).round() as usize;
        series.values.truncate(frames * series.axes.len());
    }
    let signal = crate::dsp::Signal {
        axes: series.axes.len(),
        rate_hz: series.rate_hz,
        values: &series.values,
    };
    Ok(settings.features(&BlockInput::Signal {
        signal,
        axis_names: &series.axes,
    })?)
}

fn dsp(
    block: &str,
    input: &std::path::Path,
    set: &[String],
    rate_hz: Option<f64>,
    json: bool,
) -> Result<()> {
    use crate::dsp::block::DspSettings;
    let mut settings = DspSettings::default_for(block)?;
    for pair in set {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--set takes KEY=VALUE, got {pair:?}");
        };
        settings.set(key.trim(), value.trim())?;
    }
    let features = features_of_file(&settings, input, rate_hz, None)?;
    if json {
        println!("{}", serde_json::to_string(&features)?);
    } else {
        println!(
            "{} features, shape {:?}",
            features.values.len(),
            features.shape
        );
        if features.names.len() == features.values.len() {
            for (name, value) in features.names.iter().zip(&features.values) {
                println!("{name:<40} {value:>12.6}");
            }
        } else {
            let cols = features.shape.last().copied().unwrap_or(1).max(1);
            for row in features.values.chunks(cols) {
                println!(
                    "{}",
                    row.iter()
                        .map(|v| format!("{v:>9.4}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
        }
    }
    Ok(())
}

/// The dataset summary as a text table.
pub fn format_summary(summary: &DatasetSummary) -> String {
    let mut out = format!(
        "{:<16} {:>6} {:>9} {:>6} {:>9}\n",
        "label", "train", "train s", "test", "test s"
    );
    for (label, c) in &summary.by_label {
        out += &format!(
            "{label:<16} {:>6} {:>9.1} {:>6} {:>9.1}\n",
            c.train_samples, c.train_seconds, c.test_samples, c.test_seconds
        );
    }
    out += &format!(
        "{} samples, {:.1} s in total\n",
        summary.samples, summary.total_seconds
    );
    out
}

/// Rewrites the progress line on a terminal; prints nothing when stderr is a file or a pipe.
fn progress(line: &str) {
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        // Blank the previous line, then write this one; an empty line just clears it.
        eprint!("\r{:72}\r{line}", "");
    }
}

/// Waits for the event `pick` accepts; an error notice from the engine ends the wait with it.
fn wait_for<T>(
    engine: &Engine,
    timeout: Duration,
    mut pick: impl FnMut(&Event) -> Option<Result<T, String>>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(event) = engine.recv_timeout(left) else {
            bail!(
                "timed out after {} s waiting for the engine",
                timeout.as_secs()
            );
        };
        if let Some(result) = pick(&event) {
            return result.map_err(anyhow::Error::msg);
        }
        if let Event::Notice {
            level: Level::Error,
            text,
        } = event
        {
            bail!(text);
        }
    }
}

/// `tinylab labs`: every lab with its kits (by name), kit-independent labs first.
fn list_labs() -> Result<()> {
    let kits = crate::labs::kits();
    let name = |id: &String| {
        kits.iter()
            .find(|k| &k.id == id)
            .map_or(id.clone(), |k| k.name.clone())
    };
    println!("{:<14} {:<58} KITS", "LAB", "TITLE");
    for id in crate::labs::lab_ids() {
        let lab = crate::labs::lab(id)?;
        let kit_names: Vec<String> = lab.kits.iter().map(name).collect();
        println!("{id:<14} {:<58} {}", lab.title, kit_names.join(", "));
    }
    println!(
        "\nCreate one with `tinylab new DIR --lab LAB` (add --demo to fill it with demo data)."
    );
    Ok(())
}
