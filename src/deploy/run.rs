//! One deploy from start to end, shared by the engine's job and `tinylab deploy`: read the run's
//! bundle, deploy to the target, then (when asked) watch what the board prints — its serial port
//! after an OpenMV or Arduino deploy, the runner's output after an SSH deploy — and hand each
//! parsed result out, until cancelled.

use super::arduino::{self, ArduinoJob};
use super::{DeployError, DeployTarget, Progress, bundle_from_run, openmv, ssh};
use crate::devices::board_monitor::{self, MonitorEnd};
use crate::devices::board_output::{BoardOutputParser, BoardResult};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The sketch and library an Arduino deploy compiles. Without them TinyLab generates both from
/// the run (the Arduino export, into a fresh temporary folder) and compiles the example sketch
/// of the board's kit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArduinoSource {
    /// The sketch folder (`None`: the generated example for the board).
    pub sketch: Option<PathBuf>,
    /// The library folder (`None`: the generated library).
    pub library: Option<PathBuf>,
    /// The board's FQBN; `None`: from the board recognised on the port.
    pub fqbn: Option<String>,
    /// The `arduino-cli` to run (default: `arduino-cli` on PATH).
    pub program: Option<PathBuf>,
}

/// What to deploy where, and what to do afterwards.
#[derive(Clone, Debug, PartialEq)]
pub struct DeployRequest {
    /// The run whose int8 model goes out.
    pub run: String,
    /// Where.
    pub target: DeployTarget,
    /// For `arduino:` targets: what to compile.
    pub arduino: Option<ArduinoSource>,
    /// After an OpenMV or Arduino deploy: the board's serial port to watch (baud 115200).
    pub monitor_port: Option<String>,
    /// After an SSH deploy: start the runner with these arguments and watch its output.
    pub runner_args: Option<Vec<String>>,
}

/// The port name that stands for a virtual board in inference mode (the monitor starts one).
pub const VIRTUAL_INFERENCE_PORT: &str = "virtual";

/// Baud rate of the book's inference sketches.
pub const MONITOR_BAUD: u32 = 115_200;

/// Longest an SSH runner is watched (cancel ends it sooner).
const RUNNER_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// Deploys, then watches; returns a sentence for the job's end. Once the model is on the board
/// the deploy is added to the run's `deployments.json` and `on_deployed` is called, before any
/// watching (which only a cancel ends).
pub fn run_deploy(
    request: &DeployRequest,
    project_dir: &Path,
    confidence_threshold: f32,
    progress: &Progress<'_>,
    on_deployed: &mut dyn FnMut(),
    on_result: &mut dyn FnMut(BoardResult),
) -> Result<String, DeployError> {
    let bundle = bundle_from_run(project_dir, &request.run, confidence_threshold)?;
    let done = match &request.target {
        DeployTarget::OpenMv { drive } => {
            let report = openmv::deploy(&bundle, drive, progress)?;
            format!(
                "deployed {} to {}: {}{}",
                bundle.run,
                drive.display(),
                report.written.join(", "),
                if report.backups.is_empty() {
                    String::new()
                } else {
                    format!(" (kept {})", report.backups.join(", "))
                }
            )
        }
        DeployTarget::Ssh(target) => {
            ssh::deploy(&bundle, target, progress)?;
            deployed(
                project_dir,
                &bundle.run,
                &request.target,
                progress,
                on_deployed,
            );
            if let Some(args) = &request.runner_args {
                progress.step(1.0, "starting the runner; its predictions follow");
                let mut parser = BoardOutputParser::new(bundle.labels.clone());
                ssh::run_runner(target, args, RUNNER_LIMIT, progress, |line| {
                    progress.step(1.0, line);
                    for result in parser.push_line(line) {
                        on_result(result);
                    }
                })?;
                if let Some(result) = parser.flush() {
                    on_result(result);
                }
            }
            format!("deployed {} to {}", bundle.run, target.spec())
        }
        DeployTarget::Arduino { port } => {
            let source = request.arduino.clone().unwrap_or_default();
            let board = match &source.fqbn {
                Some(fqbn) => arduino::board_by_fqbn(fqbn).ok_or_else(|| {
                    DeployError::Unsupported(format!(
                        "TinyLab uploads to {} only, not {fqbn}",
                        arduino::BOARDS.map(|b| b.fqbn).join(", ")
                    ))
                })?,
                None => board_on_port(port)?,
            };
            let build = std::env::temp_dir().join(format!(
                "tinylab-arduino-build-{}",
                board.fqbn.replace(':', "_")
            ));
            let (sketch, library) = match (source.sketch, source.library) {
                (Some(sketch), Some(library)) => (sketch, library),
                _ => {
                    let generated = arduino::generate_source(project_dir, &bundle.run, &board)?;
                    progress.step(
                        0.0,
                        &format!(
                            "generated the Arduino library and the sketch {} in {}",
                            generated.0.display(),
                            generated.1.display()
                        ),
                    );
                    generated
                }
            };
            let job = ArduinoJob {
                program: source
                    .program
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(arduino::ARDUINO_CLI)),
                board,
                port: port.clone(),
                sketch,
                library,
                build,
            };
            arduino::deploy(&job, progress)?;
            format!("deployed {} to the {} on {port}", bundle.run, board.name)
        }
    };
    if !matches!(request.target, DeployTarget::Ssh(_)) {
        deployed(
            project_dir,
            &bundle.run,
            &request.target,
            progress,
            on_deployed,
        );
    }
    if let Some(port) = &request.monitor_port {
        progress.step(1.0, &format!("reading what the board prints on {port}"));
        let stop = || progress.is_cancelled();
        let end = board_monitor::monitor(
            port,
            MONITOR_BAUD,
            bundle.labels.clone(),
            &stop,
            &mut |line| progress.step(1.0, line),
            on_result,
        )
        .map_err(DeployError::Tool)?;
        if let MonitorEnd::Lost(reason) = end {
            progress.step(1.0, &format!("the board went away: {reason}"));
        }
    }
    Ok(done)
}

/// Keeps the deploy in the run's list (a failure to write it is logged: the board has the model).
fn deployed(
    project_dir: &Path,
    run: &str,
    target: &DeployTarget,
    progress: &Progress<'_>,
    on_deployed: &mut dyn FnMut(),
) {
    if let Err(e) = crate::project::runs::record_deployment(project_dir, run, &target.spec()) {
        progress.step(
            1.0,
            &format!("the deploy could not be noted in the run: {e}"),
        );
    }
    on_deployed();
}

/// The Arduino board recognised on `port`.
fn board_on_port(port: &str) -> Result<arduino::ArduinoBoard, DeployError> {
    let ports =
        crate::devices::ports::list_ports().map_err(|e| DeployError::Tool(e.to_string()))?;
    let name = ports
        .iter()
        .find(|p| p.path == port)
        .and_then(|p| p.board)
        .map(|b| b.name);
    name.and_then(arduino::board_for).ok_or_else(|| {
        DeployError::Unsupported(format!(
            "the board on {port} is not one TinyLab recognises as {}: give its FQBN \
             (`--fqbn`, e.g. esp32:esp32:XIAO_ESP32S3)",
            arduino::BOARDS.map(|b| b.name).join(", ")
        ))
    })
}
