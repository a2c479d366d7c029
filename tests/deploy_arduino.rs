//! The arduino-cli deploy: command lines per board, the progress parser on the output in
//! `tests/fixtures/arduino_cli/` (written from documented and publicly posted arduino-cli output;
//! see the README there — arduino-cli cannot be installed here), the core check, and the whole
//! deploy against a stand-in `arduino-cli` script that replays those fixtures, including a
//! missing tool and a wrong esp32 core.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};
use tinylab::deploy::arduino::{
    self, ArduinoJob, BOARDS, ESP32_CORE_VERSION, board_by_fqbn, compile_progress,
    installed_core_version, upload_progress,
};
use tinylab::deploy::{DeployError, Progress};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/arduino_cli")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn args(command: &std::process::Command) -> Vec<String> {
    command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn command_lines_for_each_board() {
    let program = Path::new("arduino-cli");
    let expected = [
        "arduino:mbed_nicla:nicla_vision",
        "esp32:esp32:XIAO_ESP32S3",
        "arduino:mbed_nano:nano33ble",
    ];
    assert_eq!(BOARDS.map(|b| b.fqbn), expected);
    for board in BOARDS {
        let compile = arduino::compile_command(
            program,
            &board,
            Path::new("/s/motion"),
            Path::new("/l/tinylab_motion"),
            Path::new("/b"),
        );
        assert_eq!(
            args(&compile),
            [
                "compile",
                "-v",
                "--fqbn",
                board.fqbn,
                "--library",
                "/l/tinylab_motion",
                "--build-path",
                "/b",
                "/s/motion"
            ]
        );
        let upload = arduino::upload_command(
            program,
            &board,
            "/dev/ttyACM0",
            Path::new("/s/motion"),
            Path::new("/b"),
        );
        assert_eq!(
            args(&upload),
            [
                "upload",
                "-v",
                "-p",
                "/dev/ttyACM0",
                "--fqbn",
                board.fqbn,
                "--input-dir",
                "/b",
                "/s/motion"
            ]
        );
    }
    assert_eq!(
        args(&arduino::core_list_command(program, true)),
        ["core", "list", "--json"]
    );
    assert_eq!(
        args(&arduino::core_list_command(program, false)),
        ["core", "list", "--format", "json"]
    );
    assert_eq!(
        arduino::board_for("Seeed XIAO ESP32S3").map(|b| b.fqbn),
        Some("esp32:esp32:XIAO_ESP32S3")
    );
    assert_eq!(
        arduino::board_for("Arduino Nano 33 BLE (Sense)").map(|b| b.fqbn),
        Some("arduino:mbed_nano:nano33ble")
    );
}

/// Fractions of every line that gives progress, split at `\r` as the process reader does.
fn fractions(text: &str, parse: fn(&str) -> Option<arduino::ToolProgress>) -> Vec<f32> {
    text.split(['\n', '\r'])
        .filter_map(parse)
        .map(|p| p.fraction)
        .collect()
}

fn assert_rising(values: &[f32], first: f32, last: f32) {
    assert!(!values.is_empty());
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
    assert!((values[0] - first).abs() < 1e-4, "{values:?}");
    assert!((values[values.len() - 1] - last).abs() < 1e-4, "{values:?}");
}

#[test]
fn progress_from_real_output_formats() {
    let compile = fractions(&fixture("compile_verbose.txt"), compile_progress);
    assert_eq!(compile.len(), 8, "{compile:?}");
    assert_rising(&compile, 0.03, 0.6);
    // esptool 4: 11 "Writing at" lines, 9 % … 100 %, then the reset.
    let esp4 = fractions(&fixture("upload_esp32_esptool4.txt"), upload_progress);
    assert_eq!(esp4.len(), 12);
    assert_rising(&esp4, 0.6 + 0.4 * 0.09, 1.0);
    let esp5 = fractions(&fixture("upload_esp32_esptool5.txt"), upload_progress);
    assert_rising(&esp5, 0.6, 1.0);
    assert!((esp5[1] - (0.6 + 0.4 * 0.451)).abs() < 1e-4, "{esp5:?}");
    let dfu = fractions(&fixture("upload_nicla_dfu.txt"), upload_progress);
    assert_rising(&dfu, 0.6, 1.0);
    assert!((dfu[1] - (0.6 + 0.4 * 0.36)).abs() < 1e-4, "{dfu:?}");
    let bossac = fractions(&fixture("upload_nano33_bossac.txt"), upload_progress);
    assert_eq!(bossac.len(), 4, "{bossac:?}");
    assert_rising(&bossac, 0.6, 1.0);
}

#[test]
fn core_versions_and_advice() {
    let new = fixture("core_list_1x.json");
    let old = fixture("core_list_0x.json");
    assert_eq!(
        installed_core_version(&new, "arduino:mbed_nicla")
            .unwrap()
            .as_deref(),
        Some("4.2.4")
    );
    assert_eq!(
        installed_core_version(&new, "esp32:esp32")
            .unwrap()
            .as_deref(),
        Some("3.0.7")
    );
    assert_eq!(
        installed_core_version(&new, "arduino:mbed_nano").unwrap(),
        None
    );
    assert_eq!(
        installed_core_version(&old, "esp32:esp32")
            .unwrap()
            .as_deref(),
        Some("2.0.17")
    );
    assert_eq!(installed_core_version("{}", "esp32:esp32").unwrap(), None);
    assert!(installed_core_version("not json", "esp32:esp32").is_err());

    let xiao = board_by_fqbn("esp32:esp32:XIAO_ESP32S3").unwrap();
    let wrong = arduino::core_advice(&xiao, Some("3.0.7")).unwrap();
    assert!(
        wrong.contains(&format!("esp32:esp32@{ESP32_CORE_VERSION}")),
        "{wrong}"
    );
    assert!(wrong.contains("--additional-urls"), "{wrong}");
    assert_eq!(arduino::core_advice(&xiao, Some("2.0.17")), None);
    let nano = board_by_fqbn("arduino:mbed_nano:nano33ble").unwrap();
    let missing = arduino::core_advice(&nano, None).unwrap();
    assert!(
        missing.contains("arduino-cli core install arduino:mbed_nano"),
        "{missing}"
    );
    assert_eq!(arduino::core_advice(&nano, Some("4.0.2")), None);
}

/// A stand-in `arduino-cli`: answers `core list` with a fixture, replays the compile and upload
/// fixtures, and records its arguments.
fn fake_cli(dir: &Path, core_list: &str) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arduino_cli");
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{log}'\ncase \"$1 $2\" in\n  'core list') cat '{fx}/{core_list}' ;;\n  'compile -v') cat '{fx}/compile_verbose.txt' ;;\n  'upload -v') cat '{fx}/upload_esp32_esptool4.txt' ;;\n  *) echo \"unknown command $1\" >&2; exit 1 ;;\nesac\n",
        log = dir.join("calls.log").display(),
        fx = fixtures.display(),
    );
    let path = dir.join("arduino-cli");
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

fn job(dir: &Path, program: PathBuf) -> ArduinoJob {
    let sketch = dir.join("motion");
    let library = dir.join("tinylab_motion");
    std::fs::create_dir_all(&sketch).unwrap();
    std::fs::create_dir_all(library.join("src")).unwrap();
    std::fs::write(
        sketch.join("motion.ino"),
        "#include <tinylab_motion.h>\nvoid setup() {}\nvoid loop() {}\n",
    )
    .unwrap();
    ArduinoJob {
        program,
        board: board_by_fqbn("esp32:esp32:XIAO_ESP32S3").unwrap(),
        port: "/dev/ttyACM0".to_owned(),
        sketch,
        library,
        build: dir.join("build"),
    }
}

fn run(job: &ArduinoJob) -> (Result<(), DeployError>, Vec<(f32, String)>) {
    let log = std::sync::Mutex::new(Vec::new());
    let report = |fraction: f32, line: &str| log.lock().unwrap().push((fraction, line.to_owned()));
    let never = || false;
    let result = arduino::deploy(job, &Progress::new(&report, &never));
    (result, log.into_inner().unwrap())
}

#[cfg(unix)]
#[test]
fn whole_deploy_through_a_stand_in_cli() {
    let dir = tempfile::tempdir().unwrap();
    let program = fake_cli(dir.path(), "core_list_0x.json");
    let job = job(dir.path(), program);
    let (result, log) = run(&job);
    result.unwrap();
    let fractions: Vec<f32> = log.iter().map(|(f, _)| *f).collect();
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{fractions:?}");
    assert_eq!(fractions.last().copied(), Some(1.0));
    assert!(
        log.iter()
            .any(|(_, l)| l.contains("Sketch uses 298457 bytes"))
    );
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[0], "core list --json");
    assert!(calls[1].starts_with("compile -v --fqbn esp32:esp32:XIAO_ESP32S3 --library"));
    assert!(calls[2].starts_with("upload -v -p /dev/ttyACM0 --fqbn esp32:esp32:XIAO_ESP32S3"));
}

#[cfg(unix)]
#[test]
fn wrong_core_version_stops_before_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let program = fake_cli(dir.path(), "core_list_1x.json");
    let (result, _) = run(&job(dir.path(), program));
    let Err(DeployError::Tool(text)) = result else {
        panic!("{result:?}")
    };
    assert!(
        text.contains("2.0.17") && text.contains("3.0.7 is installed"),
        "{text}"
    );
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert_eq!(
        calls.lines().count(),
        1,
        "no compile after a wrong core: {calls}"
    );
}

#[test]
fn missing_arduino_cli_explains_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let (result, _) = run(&job(dir.path(), dir.path().join("no-arduino-cli-here")));
    let Err(DeployError::Tool(text)) = result else {
        panic!("{result:?}")
    };
    assert!(
        text.contains("is not installed: install arduino-cli"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn tinylab_deploy_to_arduino_runs_the_tool_and_reports_progress() {
    let dir = tempfile::tempdir().unwrap();
    let project = common::quantized_demo(dir.path());
    let program = fake_cli(dir.path(), "core_list_0x.json");
    let job = job(dir.path(), program.clone());
    let out = common::tinylab(&[
        "deploy",
        project.to_str().unwrap(),
        "--target",
        "arduino:/dev/ttyACM0",
        "--fqbn",
        "esp32:esp32:XIAO_ESP32S3",
        "--sketch",
        job.sketch.to_str().unwrap(),
        "--library",
        job.library.to_str().unwrap(),
        "--arduino-cli",
        program.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("[100 %] Hard resetting via RTS pin..."),
        "{stderr}"
    );
    assert!(
        stderr.contains("to the Seeed XIAO ESP32S3 on /dev/ttyACM0"),
        "{stderr}"
    );
    // Without a sketch and library TinyLab generates both from the run (the Arduino export) and
    // compiles the example of the board's kit.
    let out = common::tinylab(&[
        "deploy",
        project.to_str().unwrap(),
        "--target",
        "arduino:/dev/ttyACM0",
        "--fqbn",
        "esp32:esp32:XIAO_ESP32S3",
        "--arduino-cli",
        program.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("generated the Arduino library"), "{stderr}");
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    let compile = calls.lines().rfind(|l| l.starts_with("compile")).unwrap();
    let words: Vec<&str> = compile.split_whitespace().collect();
    let library =
        std::path::PathBuf::from(words[words.iter().position(|w| *w == "--library").unwrap() + 1]);
    let sketch = std::path::PathBuf::from(*words.last().unwrap());
    assert!(library.join("library.properties").is_file(), "{compile}");
    assert!(library.join("src/tinylab_model.c").is_file(), "{compile}");
    let ino = sketch.join(format!(
        "{}.ino",
        sketch.file_name().unwrap().to_str().unwrap()
    ));
    assert!(ino.is_file(), "{compile}");
    assert!(sketch.starts_with(library.join("examples")), "{compile}");
    assert!(sketch.ends_with("xiaoml_kit_motion"), "{compile}");
    // Only one of the two is refused; an unknown target says what it takes.
    let out = common::tinylab(&[
        "deploy",
        project.to_str().unwrap(),
        "--target",
        "arduino:/dev/ttyACM0",
        "--sketch",
        job.sketch.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("or neither"));
    let out = common::tinylab(&[
        "deploy",
        project.to_str().unwrap(),
        "--target",
        "usb:/dev/x",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("use openmv:PATH"));
    // An OpenMV drive takes camera models only: the motion demo is refused with the way out.
    let drive = dir.path().join("drive");
    std::fs::create_dir(&drive).unwrap();
    let out = common::tinylab(&[
        "deploy",
        project.to_str().unwrap(),
        "--target",
        &format!("openmv:{}", drive.display()),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("arduino:PORT instead"));
    assert_eq!(
        std::fs::read_dir(&drive).unwrap().count(),
        0,
        "nothing written"
    );
}
