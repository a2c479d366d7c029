//! Deploy to an Arduino board through `arduino-cli`, when it is installed: check the board's core,
//! compile a sketch folder with its library for the board's FQBN, upload the build to the port,
//! and turn the tool's output into progress. The sketch and library come from the Arduino export
//! (`ModelFormat::Arduino`); this module takes their folders as given.
//!
//! Boards and cores (book-labs.md §1.1): Nicla Vision `arduino:mbed_nicla:nicla_vision`, XIAO
//! ESP32S3 `esp32:esp32:XIAO_ESP32S3` with the esp32 core **2.0.17** (the book: 3.x breaks the
//! Edge Impulse examples), Nano 33 BLE Sense `arduino:mbed_nano:nano33ble`.
//!
//! Progress: `compile -v` prints its phases (`Detecting libraries used...`, `Compiling
//! sketch...`, `Compiling libraries...`, `Compiling core...`, `Linking everything together...`)
//! and the size lines; uploads print the uploader's own progress: esptool's `Writing at
//! 0x00010000... (16 %)` (or, from esptool 5, `Writing at 0x… [====   ]  36.0% 1234/5678
//! bytes...`), dfu-util's `Download [=====    ]  36%  524288 bytes` (Nicla) and bossac's
//! `[=====     ] 46% (80/172 pages)` (Nano 33 BLE). Compiling is the first 60 % of the bar,
//! uploading the rest.

use super::process::{self, Finished};
use super::{DeployError, Progress};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The program.
pub const ARDUINO_CLI: &str = "arduino-cli";

/// The esp32 core version the book requires for the XIAO ESP32S3.
pub const ESP32_CORE_VERSION: &str = "2.0.17";

/// Espressif's board-manager index, needed to install the esp32 core.
pub const ESP32_INDEX_URL: &str =
    "https://raw.githubusercontent.com/espressif/arduino-esp32/gh-pages/package_esp32_index.json";

/// What to tell a user without arduino-cli.
pub const INSTALL_ARDUINO_CLI: &str = "install arduino-cli (https://arduino.github.io/arduino-cli/latest/installation/ — \
     on Linux and macOS: curl -fsSL https://raw.githubusercontent.com/arduino/arduino-cli/master/install.sh | sh, \
     or `brew install arduino-cli`; on Windows the MSI installer), put it on your PATH and \
     deploy again";

/// Longest a compile may take (the esp32 core's first build is slow).
const COMPILE_LIMIT: Duration = Duration::from_secs(20 * 60);
/// Longest an upload may take.
const UPLOAD_LIMIT: Duration = Duration::from_secs(5 * 60);
/// Longest a `core list` may take.
const QUERY_LIMIT: Duration = Duration::from_secs(60);

/// A board TinyLab can upload to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArduinoBoard {
    /// The board's name.
    pub name: &'static str,
    /// Fully qualified board name.
    pub fqbn: &'static str,
    /// The core (`packager:architecture`).
    pub core: &'static str,
    /// The core version the labs need, when they need one.
    pub core_version: Option<&'static str>,
    /// A board-manager URL the core needs, when not Arduino's own.
    pub index_url: Option<&'static str>,
}

/// The book's Arduino boards.
pub const BOARDS: [ArduinoBoard; 3] = [
    ArduinoBoard {
        name: "Arduino Nicla Vision",
        fqbn: "arduino:mbed_nicla:nicla_vision",
        core: "arduino:mbed_nicla",
        core_version: None,
        index_url: None,
    },
    ArduinoBoard {
        name: "Seeed XIAO ESP32S3",
        fqbn: "esp32:esp32:XIAO_ESP32S3",
        core: "esp32:esp32",
        core_version: Some(ESP32_CORE_VERSION),
        index_url: Some(ESP32_INDEX_URL),
    },
    ArduinoBoard {
        name: "Arduino Nano 33 BLE Sense",
        fqbn: "arduino:mbed_nano:nano33ble",
        core: "arduino:mbed_nano",
        core_version: None,
        index_url: None,
    },
];

/// Generates run `run`'s Arduino library (the Arduino export) into a new temporary folder and
/// picks the example sketch of `board`'s kit: `(sketch folder, library folder)`.
pub fn generate_source(
    project_dir: &Path,
    run: &str,
    board: &ArduinoBoard,
) -> Result<(PathBuf, PathBuf), DeployError> {
    use crate::engine::arduino_export::{build_library, write_library_folder};
    use crate::project::runs;
    let stored = runs::load(project_dir, Some(run)).map_err(|e| DeployError::Run(e.to_string()))?;
    let tflite =
        std::fs::read(runs::run_dir(project_dir, run).join(runs::INT8_TFLITE)).map_err(|_| {
            DeployError::NotQuantized {
                run: run.to_owned(),
            }
        })?;
    let (library, _) = build_library(project_dir, &stored, &tflite).map_err(DeployError::Tool)?;
    let Some(example) = library.examples.iter().find(|e| e.kit.fqbn() == board.fqbn) else {
        return Err(DeployError::Unsupported(format!(
            "the Arduino library of this project has no example for the {} (it has {}): \
             deploy to one of those boards, or give your own --sketch",
            board.name,
            library
                .examples
                .iter()
                .map(|e| e.folder.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let root = std::env::temp_dir().join(format!("tinylab-arduino-{run}-{nanos}"));
    let folder = root.join(&library.name);
    write_library_folder(&library, &folder).map_err(|e| DeployError::Tool(e.to_string()))?;
    Ok((folder.join("examples").join(&example.folder), folder))
}

/// The board for a recognised port's board name (from [`crate::devices::ports`]).
pub fn board_for(port_board_name: &str) -> Option<ArduinoBoard> {
    let name = port_board_name.to_lowercase();
    let pick = |fqbn: &str| BOARDS.iter().copied().find(|b| b.fqbn == fqbn);
    if name.contains("nicla vision") {
        pick("arduino:mbed_nicla:nicla_vision")
    } else if name.contains("xiao esp32s3") {
        pick("esp32:esp32:XIAO_ESP32S3")
    } else if name.contains("nano 33 ble") {
        pick("arduino:mbed_nano:nano33ble")
    } else {
        None
    }
}

/// The board with this FQBN.
pub fn board_by_fqbn(fqbn: &str) -> Option<ArduinoBoard> {
    BOARDS.iter().copied().find(|b| b.fqbn == fqbn)
}

/// `arduino-cli core list --json` (1.x; 0.x spells it `--format json`).
pub fn core_list_command(program: &Path, new_flag: bool) -> Command {
    let mut command = Command::new(program);
    command.args(["core", "list"]);
    if new_flag {
        command.arg("--json");
    } else {
        command.args(["--format", "json"]);
    }
    command
}

/// `arduino-cli compile -v --fqbn FQBN --library LIB --build-path BUILD SKETCH`.
pub fn compile_command(
    program: &Path,
    board: &ArduinoBoard,
    sketch: &Path,
    library: &Path,
    build: &Path,
) -> Command {
    let mut command = Command::new(program);
    command
        .args(["compile", "-v", "--fqbn", board.fqbn, "--library"])
        .arg(library)
        .arg("--build-path")
        .arg(build)
        .arg(sketch);
    command
}

/// `arduino-cli upload -v -p PORT --fqbn FQBN --input-dir BUILD SKETCH`.
pub fn upload_command(
    program: &Path,
    board: &ArduinoBoard,
    port: &str,
    sketch: &Path,
    build: &Path,
) -> Command {
    let mut command = Command::new(program);
    command
        .args([
            "upload",
            "-v",
            "-p",
            port,
            "--fqbn",
            board.fqbn,
            "--input-dir",
        ])
        .arg(build)
        .arg(sketch);
    command
}

/// The installed version of `core`, from `core list`'s JSON (1.x: `{"platforms": [{"id",
/// "installed_version"}]}`; 0.x: `[{"id", "installed"}]`). `None` when it is not installed.
pub fn installed_core_version(json: &str, core: &str) -> Result<Option<String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("arduino-cli printed no JSON: {e}"))?;
    let platforms = match &value {
        serde_json::Value::Array(list) => list.as_slice(),
        serde_json::Value::Object(object) => match object.get("platforms") {
            Some(serde_json::Value::Array(list)) => list.as_slice(),
            // An empty install prints `{}`.
            None | Some(serde_json::Value::Null) => &[],
            Some(_) => return Err("arduino-cli's `platforms` is not a list".to_owned()),
        },
        _ => return Err("arduino-cli's core list is neither a list nor an object".to_owned()),
    };
    for platform in platforms {
        if platform.get("id").and_then(serde_json::Value::as_str) == Some(core) {
            let version = ["installed_version", "installed"]
                .iter()
                .find_map(|key| platform.get(*key).and_then(serde_json::Value::as_str))
                .filter(|v| !v.is_empty());
            return Ok(version.map(str::to_owned));
        }
    }
    Ok(None)
}

/// What to do when `board`'s core is missing (`None`) or at the wrong version.
pub fn core_advice(board: &ArduinoBoard, installed: Option<&str>) -> Option<String> {
    let install = match (board.core_version, board.index_url) {
        (Some(version), Some(url)) => format!(
            "arduino-cli core install {}@{version} --additional-urls {url}",
            board.core
        ),
        (Some(version), None) => format!("arduino-cli core install {}@{version}", board.core),
        (None, Some(url)) => format!(
            "arduino-cli core install {} --additional-urls {url}",
            board.core
        ),
        (None, None) => format!("arduino-cli core install {}", board.core),
    };
    match (installed, board.core_version) {
        (None, _) => Some(format!(
            "the {} needs the {} core, which is not installed: run `arduino-cli core \
             update-index{}` and then `{install}`, and deploy again",
            board.name,
            board.core,
            board
                .index_url
                .map(|url| format!(" --additional-urls {url}"))
                .unwrap_or_default(),
        )),
        (Some(found), Some(wanted)) if found != wanted => Some(format!(
            "the {} labs need the {} core version {wanted} (the book: 3.x breaks the Edge \
             Impulse examples), and {found} is installed: run `{install}`, and deploy again",
            board.name, board.core
        )),
        _ => None,
    }
}

/// One step of the tool's progress.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolProgress {
    /// Share of the whole deploy, 0–1.
    pub fraction: f32,
    /// Short words for the bar.
    pub stage: &'static str,
}

/// Share of the bar the compile takes.
const COMPILE_SHARE: f32 = 0.6;

/// Reads one line of `compile -v` output.
pub fn compile_progress(line: &str) -> Option<ToolProgress> {
    let line = line.trim();
    let (fraction, stage) = if line.starts_with("Detecting libraries used") {
        (0.05, "detecting libraries")
    } else if line.starts_with("Generating function prototypes") {
        (0.1, "generating prototypes")
    } else if line.starts_with("Compiling sketch") {
        (0.15, "compiling the sketch")
    } else if line.starts_with("Compiling libraries") || line.starts_with("Compiling library") {
        (0.3, "compiling the libraries")
    } else if line.starts_with("Compiling core") {
        (0.6, "compiling the core")
    } else if line.starts_with("Linking everything together") {
        (0.9, "linking")
    } else if line.starts_with("Sketch uses") {
        (1.0, "compiled")
    } else {
        return None;
    };
    Some(ToolProgress {
        fraction: fraction * COMPILE_SHARE,
        stage,
    })
}

/// Reads one line of `upload -v` output (esptool, dfu-util, bossac).
pub fn upload_progress(line: &str) -> Option<ToolProgress> {
    let line = line.trim();
    let percent = if line.starts_with("Writing at 0x") {
        // `Writing at 0x00010000... (16 %)` or `Writing at 0x… [===  ]  36.0% 1/2 bytes...`
        percent_in(line)?
    } else if line.starts_with("Download") || line.starts_with('[') {
        // dfu-util `Download [====   ]  36%  524288 bytes`, bossac `[===  ] 46% (80/172 pages)`
        percent_in(line)?
    } else if line.starts_with("Hard resetting") || line.contains("File downloaded successfully") {
        100.0
    } else {
        return None;
    };
    Some(ToolProgress {
        fraction: COMPILE_SHARE + (1.0 - COMPILE_SHARE) * (percent / 100.0).clamp(0.0, 1.0),
        stage: "uploading",
    })
}

/// The number before the first `%` in `line` (`16 %`, `36.0%`, `46%`).
fn percent_in(line: &str) -> Option<f32> {
    let before = line.split('%').next()?.trim_end();
    if before.len() == line.len() {
        return None;
    }
    let start = before
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(0, |i| i + 1);
    before.get(start..)?.parse().ok()
}

/// An Arduino deploy's inputs.
#[derive(Clone, Debug)]
pub struct ArduinoJob {
    /// The `arduino-cli` to run (a name on PATH or a path).
    pub program: PathBuf,
    /// The board.
    pub board: ArduinoBoard,
    /// Its serial port.
    pub port: String,
    /// The sketch folder (holding `<name>/<name>.ino`).
    pub sketch: PathBuf,
    /// The library folder the sketch includes (the exported model library).
    pub library: PathBuf,
    /// Where the build goes.
    pub build: PathBuf,
}

/// Runs a tool step, feeding its lines to `parse` for progress and to the log; the bar starts
/// at `floor` (where the previous step ended) and never moves back.
fn step(
    command: Command,
    limit: Duration,
    progress: &Progress<'_>,
    floor: f32,
    parse: fn(&str) -> Option<ToolProgress>,
) -> Result<Finished, DeployError> {
    let mut last = floor;
    process::run(command, limit, progress, INSTALL_ARDUINO_CLI, |_, line| {
        if let Some(p) = parse(line) {
            last = last.max(p.fraction);
        }
        progress.step(last, line);
    })
}

/// Runs `core list` (1.x or 0.x flags); returns how it ended and its stdout.
fn core_list(
    job: &ArduinoJob,
    progress: &Progress<'_>,
    new_flag: bool,
) -> Result<(Finished, String), DeployError> {
    let mut json = String::new();
    let finished = process::run(
        core_list_command(&job.program, new_flag),
        QUERY_LIMIT,
        progress,
        INSTALL_ARDUINO_CLI,
        |stream, line| {
            if stream == process::Stream::Stdout {
                json.push_str(line);
            }
        },
    )?;
    Ok((finished, json))
}

/// Checks the core, compiles and uploads.
pub fn deploy(job: &ArduinoJob, progress: &Progress<'_>) -> Result<(), DeployError> {
    if !job.sketch.is_dir() || !job.library.is_dir() {
        return Err(DeployError::File {
            path: if job.sketch.is_dir() {
                job.library.clone()
            } else {
                job.sketch.clone()
            },
            reason: "no such folder: export the Arduino library first (Deploy panel, Arduino \
                     library)"
                .to_owned(),
        });
    }
    progress.step(0.0, &format!("checking the {} core", job.board.core));
    // arduino-cli before 1.0 has `--format json` instead of `--json`.
    let (finished, json) = match core_list(job, progress, true)? {
        (finished, _) if !finished.status.success() => core_list(job, progress, false)?,
        answer => answer,
    };
    if !finished.status.success() {
        return Err(DeployError::Tool(format!(
            "`arduino-cli core list` failed: {}",
            finished.tail_text(6)
        )));
    }
    let installed = installed_core_version(&json, job.board.core).map_err(DeployError::Tool)?;
    if let Some(advice) = core_advice(&job.board, installed.as_deref()) {
        return Err(DeployError::Tool(advice));
    }
    progress.check()?;
    let compiled = step(
        compile_command(
            &job.program,
            &job.board,
            &job.sketch,
            &job.library,
            &job.build,
        ),
        COMPILE_LIMIT,
        progress,
        0.0,
        compile_progress,
    )?;
    if !compiled.status.success() {
        return Err(DeployError::Tool(format!(
            "compiling for the {} failed:\n{}",
            job.board.name,
            compiled.tail_text(12)
        )));
    }
    progress.check()?;
    let uploaded = step(
        upload_command(&job.program, &job.board, &job.port, &job.sketch, &job.build),
        UPLOAD_LIMIT,
        progress,
        COMPILE_SHARE,
        upload_progress,
    )?;
    if !uploaded.status.success() {
        return Err(DeployError::Tool(format!(
            "uploading to {} failed: {}\n(close any serial monitor on the port; for a board \
             that does not answer, double-press its reset button and deploy again)",
            job.port,
            uploaded.tail_text(8)
        )));
    }
    progress.step(
        1.0,
        &format!("uploaded to the {} on {}", job.board.name, job.port),
    );
    Ok(())
}
