//! The OpenMV deploy into a temporary folder laid out like the board's drive (`.openmv_disk`,
//! the student's `main.py`, `README.txt`): the files are complete, the generated `main.py`
//! compiles with Python's `py_compile` (classification and FOMO), a second deploy keeps a
//! backup of what it replaces, a read-only drive gives a clear error and changes nothing, and
//! the drive finder sees the folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::Command;
use tinylab::deploy::openmv::{self, LABELS_FILE, MODEL_FILE, SCRIPT_FILE};
use tinylab::deploy::{DeployBundle, DeployError, InputKind, Progress, Task, drives};

const STUDENT_SCRIPT: &str = "# my own script\nprint('hello')\n";

fn drive() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let drive = root.path();
    std::fs::write(drive.join(drives::OPENMV_MARKER), "").unwrap();
    std::fs::write(drive.join("main.py"), STUDENT_SCRIPT).unwrap();
    std::fs::write(
        drive.join("README.txt"),
        "Thank you for supporting OpenMV!\n",
    )
    .unwrap();
    root
}

fn bundle(task: Task, grayscale: bool) -> DeployBundle {
    DeployBundle {
        run: "run-003".to_owned(),
        // Any bytes stand for the model here: the deploy copies them unchanged.
        model_tflite: (0..=255u8).cycle().take(5000).collect(),
        labels: vec!["background".into(), "periquito".into(), "robot".into()],
        task,
        input: InputKind::Image {
            width: 96,
            height: 96,
            grayscale,
        },
        input_shape: vec![96, 96, if grayscale { 1 } else { 3 }],
    }
}

fn deploy(bundle: &DeployBundle, drive: &Path) -> Result<openmv::OpenMvReport, DeployError> {
    let report = |_: f32, _: &str| {};
    let never = || false;
    openmv::deploy(bundle, drive, &Progress::new(&report, &never))
}

/// Compiles `path` with Python's `py_compile`; panics with Python's error when it is invalid.
fn py_compile(path: &Path) {
    let out = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{} is not valid Python:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn deploy_writes_complete_files_and_keeps_backups() {
    let root = drive();
    let drive = root.path();
    let classify = bundle(Task::Classification { threshold: 0.6 }, false);
    let report = deploy(&classify, drive).unwrap();
    assert_eq!(report.written, [MODEL_FILE, LABELS_FILE, SCRIPT_FILE]);
    assert_eq!(report.backups, ["main.py.bak"]);
    assert_eq!(
        std::fs::read(drive.join(MODEL_FILE)).unwrap(),
        classify.model_tflite
    );
    assert_eq!(
        std::fs::read_to_string(drive.join(LABELS_FILE)).unwrap(),
        "background\nperiquito\nrobot\n"
    );
    assert_eq!(
        std::fs::read_to_string(drive.join("main.py.bak")).unwrap(),
        STUDENT_SCRIPT
    );
    let script = std::fs::read_to_string(drive.join(SCRIPT_FILE)).unwrap();
    assert!(script.contains("THRESHOLD = 0.6"), "{script}");
    assert!(script.contains("sensor.RGB565"));
    assert!(script.contains("Prediction:"));
    py_compile(&drive.join(SCRIPT_FILE));
    // No temporary files left on the drive.
    let names: Vec<String> = std::fs::read_dir(drive)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");

    // The same deploy again replaces nothing that differs: no new backup.
    assert!(deploy(&classify, drive).unwrap().backups.is_empty());

    // A FOMO model: the classification script becomes the backup.
    let fomo = bundle(
        Task::Fomo {
            min_confidence: 0.8,
        },
        true,
    );
    let report = deploy(&fomo, drive).unwrap();
    assert_eq!(report.backups, ["main.py.bak"]);
    assert_eq!(
        std::fs::read_to_string(drive.join("main.py.bak")).unwrap(),
        script
    );
    let fomo_script = std::fs::read_to_string(drive.join(SCRIPT_FILE)).unwrap();
    assert!(fomo_script.contains("min_confidence = 0.8"));
    assert!(fomo_script.contains("sensor.GRAYSCALE"));
    assert!(fomo_script.contains("fomo_post_process"));
    py_compile(&drive.join(SCRIPT_FILE));

    assert!(drives::is_openmv_drive(drive));
}

#[test]
fn non_image_models_are_refused_with_the_way_out() {
    let root = drive();
    let mut motion = bundle(Task::Classification { threshold: 0.6 }, false);
    motion.input = InputKind::Features {
        block: "Spectral analysis".into(),
    };
    let Err(DeployError::Unsupported(text)) = deploy(&motion, root.path()) else {
        panic!("a motion model is not an OpenMV model")
    };
    assert!(text.contains("arduino:PORT"), "{text}");
    assert_eq!(
        std::fs::read_to_string(root.path().join("main.py")).unwrap(),
        STUDENT_SCRIPT
    );
}

#[test]
fn a_missing_drive_says_to_plug_the_board_in() {
    let root = drive();
    let gone = root.path().join("not-mounted");
    let Err(DeployError::File { reason, .. }) = deploy(
        &bundle(Task::Classification { threshold: 0.6 }, false),
        &gone,
    ) else {
        panic!("expected a file error")
    };
    assert!(reason.contains("plugged in"), "{reason}");
}

/// Makes `dir` read-only for real: a read-only bind mount as root (root ignores permission
/// bits), permission bits otherwise. Undone on drop.
struct ReadOnly<'a> {
    dir: &'a Path,
    mounted: bool,
}

impl<'a> ReadOnly<'a> {
    fn new(dir: &'a Path) -> Self {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        if root {
            let bind = Command::new("mount")
                .arg("--bind")
                .arg(dir)
                .arg(dir)
                .status()
                .unwrap();
            assert!(bind.success(), "mount --bind failed");
            let ro = Command::new("mount")
                .args(["-o", "remount,bind,ro"])
                .arg(dir)
                .status()
                .unwrap();
            assert!(ro.success(), "remount read-only failed");
            Self { dir, mounted: true }
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
            }
            Self {
                dir,
                mounted: false,
            }
        }
    }
}

impl Drop for ReadOnly<'_> {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(self.dir).status();
        } else {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(self.dir, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[test]
fn a_read_only_drive_gives_a_clear_error_and_changes_nothing() {
    let root = drive();
    let drive = root.path();
    let guard = ReadOnly::new(drive);
    let result = deploy(
        &bundle(Task::Classification { threshold: 0.6 }, false),
        drive,
    );
    let Err(DeployError::File { reason, .. }) = result else {
        panic!("{result:?}")
    };
    assert!(reason.contains("read-only"), "{reason}");
    drop(guard);
    assert_eq!(
        std::fs::read_to_string(drive.join("main.py")).unwrap(),
        STUDENT_SCRIPT
    );
    assert!(!drive.join(MODEL_FILE).exists());
}

/// Runs the drive's `main.py` with stand-ins for OpenMV's modules and parses what it prints.
fn run_with_stubs(drive: &Path, mode: &str) -> Vec<tinylab::devices::board_output::BoardResult> {
    let stubs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openmv_stubs.py");
    let out = Command::new("python3")
        .arg(&stubs)
        .arg(drive)
        .arg(mode)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut parser = tinylab::devices::board_output::BoardOutputParser::default();
    let mut results = parser.push(&out.stdout);
    results.extend(parser.flush());
    results
}

#[test]
fn the_generated_scripts_print_what_the_monitor_reads() {
    let root = drive();
    let drive = root.path();
    deploy(
        &bundle(Task::Classification { threshold: 0.6 }, false),
        drive,
    )
    .unwrap();
    let results = run_with_stubs(drive, "class");
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0].prediction.as_deref(), Some("periquito"));
    assert_eq!(results[0].classes.len(), 1);
    assert!((results[0].classes[0].score - 0.85).abs() < 1e-6);
    // 7.5 fps → 133 ms, as the script rounds it.
    assert_eq!(results[0].timing.classification_ms, Some(133.0));
    assert_eq!(
        results[1].prediction.as_deref(),
        Some("uncertain"),
        "0.40 < 0.6"
    );

    deploy(
        &bundle(
            Task::Fomo {
                min_confidence: 0.8,
            },
            true,
        ),
        drive,
    )
    .unwrap();
    let results = run_with_stubs(drive, "fomo");
    assert_eq!(
        results.len(),
        1,
        "a frame with no object prints only its fps: {results:?}"
    );
    let found = &results[0];
    assert!(found.detection);
    assert_eq!(found.boxes.len(), 1);
    assert_eq!(found.boxes[0].label, "periquito");
    assert_eq!((found.boxes[0].x_px, found.boxes[0].y_px), (14.0, 24.0));
    assert!((found.boxes[0].score - 0.9).abs() < 1e-6);
}
