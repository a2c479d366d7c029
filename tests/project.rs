//! Projects on disk: round trips, crash-safe writes, and malformed inputs that must change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tinylab::engine::Engine;
use tinylab::labs;
use tinylab::project::atomic::write_atomic;
use tinylab::project::sample::{Series, Split};
use tinylab::project::{DATASET_FILE, PROJECT_FILE, Project, ProjectError};
use tinylab::protocol::{Command, Event, JobOutcome, SplitChoice};

fn motion_project(dir: &Path) -> Project {
    Project::create(dir, &labs::lab("motion").unwrap()).unwrap()
}

fn series(readings: usize) -> Series {
    let values = (0..readings * 3)
        .map(|i| (i as f32 * 0.37).sin() * 9.81)
        .collect();
    Series {
        axes: vec!["accX".into(), "accY".into(), "accZ".into()],
        rate_hz: 50.0,
        values,
    }
}

#[test]
fn save_and_load_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let mut project = motion_project(&dir);
    let original = series(500);
    let a = project
        .add_series(&original, "idle", Split::Train, "test")
        .unwrap();
    let b = project
        .add_series(&series(100), "lift", Split::Test, "test")
        .unwrap();
    project.relabel(b.id, "maritime").unwrap();
    project.set_split(a.id, Split::Test).unwrap();
    drop(project);

    let reopened = Project::open(&dir).unwrap();
    assert_eq!(reopened.settings().lab, "motion");
    assert_eq!(reopened.settings().sensor.rate_hz, 50.0);
    let samples = reopened.samples();
    assert_eq!(samples.len(), 2);
    assert_eq!(
        (samples[0].label.as_str(), samples[0].split),
        ("idle", Split::Test)
    );
    assert_eq!(samples[1].label, "maritime");
    assert_eq!(reopened.load_series(a.id).unwrap(), original);
    let summary = reopened.summary();
    assert_eq!(summary.samples, 2);
    assert!((summary.total_seconds - 12.0).abs() < 1e-9);
}

#[test]
fn delete_and_restore_bring_back_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut project = motion_project(&tmp.path().join("p"));
    let s = series(50);
    let first = project.add_series(&s, "idle", Split::Train, "t").unwrap();
    let second = project.add_series(&s, "lift", Split::Train, "t").unwrap();
    let deleted = project.delete(first.id).unwrap();
    assert!(!project.sample_path(&first).exists());
    assert_eq!(project.samples().len(), 1);
    project.restore(deleted).unwrap();
    assert_eq!(
        project.samples().iter().map(|m| m.id).collect::<Vec<_>>(),
        [first.id, second.id]
    );
    assert_eq!(project.load_series(first.id).unwrap(), s);
}

#[test]
fn create_refuses_a_folder_with_content() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("thesis.txt"), "keep me").unwrap();
    let err = Project::create(tmp.path(), &labs::lab("motion").unwrap()).unwrap_err();
    assert!(matches!(err, ProjectError::NotEmpty(_)), "{err}");
    assert_eq!(
        fs::read_to_string(tmp.path().join("thesis.txt")).unwrap(),
        "keep me"
    );
}

/// The child half of `killed_writer_leaves_the_old_file`: writes half a file, then hangs until killed.
#[test]
fn atomic_writer_child() {
    let Some(path) = std::env::var_os("TINYLAB_ATOMIC_CHILD_PATH") else {
        return;
    };
    write_atomic(Path::new(&path), |w| {
        w.write_all(&vec![b'x'; 1 << 20])?;
        w.flush()?;
        std::fs::write(format!("{}.ready", path.to_string_lossy()), "")?;
        std::thread::sleep(Duration::from_secs(60));
        Ok(())
    })
    .unwrap();
}

#[test]
fn killed_writer_leaves_the_old_file() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("dataset.json");
    fs::write(&target, "old contents").unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "atomic_writer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TINYLAB_ATOMIC_CHILD_PATH", &target)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = PathBuf::from(format!("{}.ready", target.display()));
    for _ in 0..600 {
        if ready.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        ready.exists(),
        "the child never reached the middle of its write"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(fs::read_to_string(&target).unwrap(), "old contents");
    // A crashed writer's temp file is hidden and never mistaken for the real one.
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.iter().all(|n| n == "dataset.json"
        || n.to_string_lossy().starts_with('.')
        || n.to_string_lossy().ends_with(".ready")));
}

#[test]
fn failing_writer_keeps_the_old_file_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("f.txt");
    fs::write(&target, "old").unwrap();
    let err = write_atomic(&target, |w| {
        w.write_all(b"half")?;
        Err(std::io::Error::other("disk full"))
    });
    assert!(err.is_err());
    assert_eq!(fs::read_to_string(&target).unwrap(), "old");
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "temp file removed"
    );
}

#[test]
fn damaged_project_files_are_named_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    motion_project(&dir);
    let index = fs::read_to_string(dir.join(DATASET_FILE)).unwrap();
    fs::write(dir.join(DATASET_FILE), &index[..index.len() / 2]).unwrap();
    let err = Project::open(&dir).unwrap_err().to_string();
    assert!(
        err.contains(DATASET_FILE) && err.contains("damaged"),
        "{err}"
    );

    let settings = fs::read_to_string(dir.join(PROJECT_FILE)).unwrap();
    fs::write(
        dir.join(PROJECT_FILE),
        settings.replace("rate_hz = 50.0", "rate_hz = \"fast\""),
    )
    .unwrap();
    let err = Project::open(&dir).unwrap_err().to_string();
    assert!(err.contains(PROJECT_FILE), "{err}");
}

/// Imports `file` through the engine and returns the failure text; checks nothing changed.
fn check_import_fails(name: &str, contents: &[u8], expected: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let mut project = motion_project(&dir);
    project
        .add_series(&series(20), "idle", Split::Train, "t")
        .unwrap();
    drop(project);
    let good = tmp.path().join("lift.good.csv");
    fs::write(&good, "timestamp,accX,accY,accZ\n0,1,2,3\n20,1,2,3\n").unwrap();
    let bad = tmp.path().join(name);
    fs::write(&bad, contents).unwrap();
    let index_before = fs::read(dir.join(DATASET_FILE)).unwrap();
    let files_before = fs::read_dir(dir.join("samples")).unwrap().count();

    let engine = Engine::start(|| {}).unwrap();
    engine
        .send(Command::OpenProject { dir: dir.clone() })
        .unwrap();
    engine
        .send(Command::Import {
            files: vec![good, bad.clone()],
            label: None,
            split: SplitChoice::Auto,
        })
        .unwrap();
    let outcome = loop {
        match engine
            .recv_timeout(Duration::from_secs(30))
            .expect("engine answers")
        {
            Event::JobFinished { outcome, .. } => break outcome,
            _ => continue,
        }
    };
    let JobOutcome::Failed(why) = outcome else {
        panic!("{name}: import should fail, got {outcome:?}")
    };
    assert!(
        why.contains(name),
        "{name}: error should name the file: {why}"
    );
    assert!(
        why.contains(expected),
        "{name}: error should say {expected:?}: {why}"
    );
    assert_eq!(
        fs::read(dir.join(DATASET_FILE)).unwrap(),
        index_before,
        "{name}: index changed"
    );
    assert_eq!(
        fs::read_dir(dir.join("samples")).unwrap().count(),
        files_before,
        "{name}: files changed"
    );
}

#[test]
fn truncated_json_changes_nothing() {
    let json = br#"{"protected":{"ver":"v1","alg":"none"},"signature":"0","payload":{"interval_ms":20,"sensors":[{"name":"accX","units":"m/s2"}"#;
    check_import_fails("idle.trunc.json", json, "line 1");
}

#[test]
fn csv_with_a_text_cell_changes_nothing() {
    check_import_fails(
        "idle.text.csv",
        b"timestamp,accX,accY,accZ\n0,1,2,3\n20,1,abc,3\n",
        "line 3, column 3",
    );
}

#[test]
fn csv_with_wrong_column_count_changes_nothing() {
    check_import_fails(
        "idle.cols.csv",
        b"timestamp,accX,accY,accZ\n0,1,2,3\n20,1,2\n",
        "line 3 has 3 values",
    );
}

#[test]
fn empty_file_changes_nothing() {
    check_import_fails("idle.empty.csv", b"", "empty");
}

#[test]
fn huge_line_changes_nothing() {
    let mut text = b"timestamp,accX,accY,accZ\n0,1,2,3\n".to_vec();
    text.extend(std::iter::repeat_n(b'1', 200_000));
    text.push(b'\n');
    check_import_fails("idle.huge.csv", &text, "line 3 is 200000 bytes");
}

#[test]
fn wrong_axis_count_changes_nothing() {
    check_import_fails(
        "idle.axes.csv",
        b"timestamp,accX,accY\n0,1,2\n20,1,2\n",
        "this project records 3",
    );
}
