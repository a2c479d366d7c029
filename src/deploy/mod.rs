//! One-click deploy of a run's int8 model to a board: an OpenMV drive ([`openmv`]), a Raspberry
//! Pi or any Linux computer over SSH ([`ssh`], with the Python runner of [`pi_runner`]), or an
//! Arduino board through `arduino-cli` ([`arduino`]). Each target is a plain function taking a
//! [`DeployBundle`] (what was measured: the run's `model-int8.tflite`, its labels, the task and
//! the input) and a [`Progress`] (a progress/log sink and a cancel flag), so the engine runs it
//! as a job and the CLI calls it directly.
//!
//! External programs (`ssh`, `scp`, `arduino-cli`) run through [`process`], which streams their
//! output into the log line by line, kills them on cancel and after a time limit, and says what
//! to install when a program is missing.

pub mod arduino;
pub mod drives;
pub mod openmv;
pub mod pi_runner;
pub mod process;
pub mod run;
pub mod sha256;
pub mod ssh;

use crate::dsp::block::DspSettings;
use crate::project::runs;
use std::path::{Path, PathBuf};

/// What the model does, which decides the generated program.
#[derive(Clone, Debug, PartialEq)]
pub enum Task {
    /// One label per input; below `threshold` the program says "uncertain".
    Classification {
        /// The project's confidence threshold (0.6 in the lab presets, as Edge Impulse).
        threshold: f32,
    },
    /// FOMO: a heat map per class, class 0 the background; centroids at ≥ `min_confidence`.
    Fomo {
        /// The lab's `min_confidence` (0.8 in the book's OpenMV script).
        min_confidence: f32,
    },
}

/// What the model reads.
#[derive(Clone, Debug, PartialEq)]
pub enum InputKind {
    /// A camera frame resized to `width × height`, RGB or grayscale, values 0–1.
    Image {
        /// Model input width, pixels.
        width: u32,
        /// Model input height, pixels.
        height: u32,
        /// One channel instead of three.
        grayscale: bool,
    },
    /// Anything else (motion, audio): features computed by the board's own DSP code.
    Features {
        /// The processing block's title, for messages.
        block: String,
    },
}

/// Everything a deploy target needs, read from a run folder.
#[derive(Clone, Debug)]
pub struct DeployBundle {
    /// The run's id.
    pub run: String,
    /// The int8 model exactly as quantized and measured (`model-int8.tflite`).
    pub model_tflite: Vec<u8>,
    /// Labels in output order.
    pub labels: Vec<String>,
    /// Classification or FOMO.
    pub task: Task,
    /// What the model reads.
    pub input: InputKind,
    /// Shape of one input (the run's `input_shape`).
    pub input_shape: Vec<usize>,
}

impl DeployBundle {
    /// `labels.txt`: one label per line, in output order.
    pub fn labels_text(&self) -> String {
        crate::engine::quantize_job::labels_text(&self.labels)
    }
}

/// Why a deploy failed, in words that say what to do.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The run has no int8 model yet.
    #[error("{run} has no int8 model: quantize it first (Optimize panel, or `tinylab quantize`)")]
    NotQuantized {
        /// The run.
        run: String,
    },
    /// The run could not be read.
    #[error("could not read the run: {0}")]
    Run(String),
    /// The target does not take this kind of model.
    #[error("{0}")]
    Unsupported(String),
    /// A target string that does not parse.
    #[error(
        "unknown deploy target `{0}`: use openmv:PATH (the board's drive), ssh:USER@HOST:DIR, or \
         arduino:PORT"
    )]
    BadTarget(String),
    /// A file could not be written or read.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong and what to do.
        reason: String,
    },
    /// An external tool is missing or failed.
    #[error("{0}")]
    Tool(String),
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// Where a job reports progress and log lines, and how it learns it was cancelled.
pub struct Progress<'a> {
    report: &'a dyn Fn(f32, &str),
    cancelled: &'a dyn Fn() -> bool,
}

impl<'a> Progress<'a> {
    /// A sink: `report(fraction 0–1, log line)` and `cancelled()`.
    pub fn new(report: &'a dyn Fn(f32, &str), cancelled: &'a dyn Fn() -> bool) -> Self {
        Self { report, cancelled }
    }

    /// Reports progress with a log line.
    pub fn step(&self, fraction: f32, line: &str) {
        (self.report)(fraction.clamp(0.0, 1.0), line);
    }

    /// Whether the user asked to stop.
    pub fn is_cancelled(&self) -> bool {
        (self.cancelled)()
    }

    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<(), DeployError> {
        if self.is_cancelled() {
            Err(DeployError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// A deploy target, as `tinylab deploy --target` spells it.
#[derive(Clone, Debug, PartialEq)]
pub enum DeployTarget {
    /// `openmv:PATH`: the OpenMV board's USB drive.
    OpenMv {
        /// The drive's mount point.
        drive: PathBuf,
    },
    /// `ssh:USER@HOST:DIR`: a Raspberry Pi or other Linux computer.
    Ssh(ssh::SshTarget),
    /// `arduino:PORT`: a board on a serial port, through arduino-cli.
    Arduino {
        /// The board's serial port.
        port: String,
    },
}

impl DeployTarget {
    /// Parses `openmv:PATH`, `ssh:USER@HOST:DIR` (`ssh:USER@HOST:PORT:DIR` too) or
    /// `arduino:PORT`.
    pub fn parse(text: &str) -> Result<Self, DeployError> {
        let bad = || DeployError::BadTarget(text.to_owned());
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        match kind {
            "openmv" if !rest.is_empty() => Ok(Self::OpenMv {
                drive: PathBuf::from(rest),
            }),
            "ssh" => ssh::SshTarget::parse(rest).map(Self::Ssh).ok_or_else(bad),
            "arduino" if !rest.is_empty() => Ok(Self::Arduino {
                port: rest.to_owned(),
            }),
            _ => Err(bad()),
        }
    }

    /// How the target is written (the inverse of [`parse`](Self::parse)).
    pub fn spec(&self) -> String {
        match self {
            Self::OpenMv { drive } => format!("openmv:{}", drive.display()),
            Self::Ssh(target) => format!("ssh:{}", target.spec()),
            Self::Arduino { port } => format!("arduino:{port}"),
        }
    }
}

/// Reads run `run` of the project in `project_dir` into a bundle: the int8 model its last
/// quantization kept, its labels, FOMO or classification (from the model's output), the input
/// (from its DSP block) and the project's thresholds.
pub fn bundle_from_run(
    project_dir: &Path,
    run: &str,
    confidence_threshold: f32,
) -> Result<DeployBundle, DeployError> {
    let stored = runs::load(project_dir, Some(run)).map_err(|e| DeployError::Run(e.to_string()))?;
    let path = runs::run_dir(project_dir, run).join(runs::INT8_TFLITE);
    let model_tflite = std::fs::read(&path).map_err(|_| DeployError::NotQuantized {
        run: run.to_owned(),
    })?;
    let task = if stored.model.cells() > 1 {
        Task::Fomo {
            min_confidence: confidence_threshold,
        }
    } else {
        Task::Classification {
            threshold: confidence_threshold,
        }
    };
    let input = match &stored.record.dsp {
        DspSettings::Image(image) => InputKind::Image {
            width: image.width,
            height: image.height,
            grayscale: image.channels.eq_ignore_ascii_case("grayscale"),
        },
        other => InputKind::Features {
            block: other.title().to_owned(),
        },
    };
    Ok(DeployBundle {
        run: run.to_owned(),
        model_tflite,
        labels: stored.record.labels.clone(),
        task,
        input,
        input_shape: stored.record.input_shape.clone(),
    })
}

/// Formats a float for generated Python/C source: always with a decimal point.
pub(crate) fn literal(value: f32) -> String {
    let text = format!("{value}");
    if text.contains('.') || text.contains('e') {
        text
    } else {
        format!("{text}.0")
    }
}

/// A Python string literal of `text` (JSON's escaping is valid Python).
pub(crate) fn python_str(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_print_back() {
        for spec in [
            "openmv:/media/me/NO NAME",
            "ssh:pi@raspberrypi.local:/home/pi/tinylab",
            "ssh:pi@127.0.0.1:2222:/tmp/x",
            "arduino:/dev/ttyACM0",
        ] {
            let target = DeployTarget::parse(spec).unwrap();
            assert_eq!(target.spec(), spec);
        }
        for bad in [
            "",
            "openmv:",
            "usb:/dev/x",
            "ssh:host",
            "ssh:@h:/d",
            "arduino:",
        ] {
            assert!(DeployTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn literals() {
        assert_eq!(literal(0.6), "0.6");
        assert_eq!(literal(1.0), "1.0");
        assert_eq!(python_str("a\"b"), "\"a\\\"b\"");
    }
}
