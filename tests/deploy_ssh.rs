//! The SSH deploy against a real OpenSSH server: the test starts Debian's `sshd` on a free
//! 127.0.0.1 port with a throw-away host key, user key and known_hosts in a temporary folder
//! (`~/.ssh` is never touched), deploys the motion lab's int8 model (the converter fixture) with
//! labels and the generated runner, and checks:
//! - the files arrive intact (their sha256 on disk against ours, and the deploy's own check);
//! - a second deploy keeps `.bak` copies of what it replaces;
//! - the runner starts over SSH under the reference venv's Python (LiteRT), reads feature rows
//!   instead of a camera, and what comes back, parsed by the board-output parser, matches
//!   TinyLab's own int8 interpreter on the same inputs to one quantization step;
//! - a host whose key is not the known one is refused, with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::pyref::{python, write_npy_f32};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use tinylab::deploy::ssh::{self, SshTarget};
use tinylab::deploy::{DeployBundle, DeployError, InputKind, Progress, Task};
use tinylab::devices::board_output::BoardOutputParser;
use tinylab::quant::interpreter::{Runner, TensorData};

const SSHD: &str = "/usr/sbin/sshd";
/// scp speaks SFTP since OpenSSH 9; Debian's server binary (a Pi's sshd has it configured).
const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";
const LABELS: [&str; 4] = ["idle", "lift", "maritime", "terrestrial"];
/// Features per window of the converter fixture's motion model.
const FEATURES: usize = 39;

fn converter_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/converter")
        .join(name)
}

/// One sshd at a time: a free port is only free until someone binds it, so tests that each
/// pick one and start a server must not race.
static ONE_SSHD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A running sshd; killed on drop.
struct Sshd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (openssh-client; scripts/install-deps.sh installs it)");
    assert!(status.success());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_sshd() -> Sshd {
    assert!(
        Path::new(SSHD).exists(),
        "{SSHD} is missing: run scripts/install-deps.sh (it installs openssh-server)"
    );
    let turn = ONE_SSHD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("host_key"));
    keygen(&d.join("user_key"));
    std::fs::copy(d.join("user_key.pub"), d.join("authorized_keys")).unwrap();
    // sshd insists on its privilege-separation folder when it runs as root.
    if unsafe_is_root() {
        let _ = std::fs::create_dir_all("/run/sshd");
    }
    let port = free_port();
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
         AuthorizedKeysFile {d}/authorized_keys\nUsePAM no\nStrictModes no\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
         PermitRootLogin prohibit-password\nLogLevel ERROR\n\
         Subsystem sftp {SFTP_SERVER}\n",
        d = d.display()
    );
    std::fs::write(d.join("sshd_config"), config).unwrap();
    let child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(d.join("sshd_config"))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "sshd did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let host_key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
    let key: Vec<&str> = host_key.split_whitespace().take(2).collect();
    std::fs::write(
        d.join("known_hosts"),
        format!("[127.0.0.1]:{port} {}\n", key.join(" ")),
    )
    .unwrap();
    Sshd {
        child,
        port,
        dir,
        _turn: turn,
    }
}

fn unsafe_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn target(sshd: &Sshd, dir: &Path) -> SshTarget {
    SshTarget {
        user: user(),
        host: "127.0.0.1".to_owned(),
        port: Some(sshd.port),
        dir: dir.display().to_string(),
        identity_file: Some(sshd.dir.path().join("user_key")),
        known_hosts_file: Some(sshd.dir.path().join("known_hosts")),
        python: python().display().to_string(),
    }
}

fn bundle() -> DeployBundle {
    DeployBundle {
        run: "run-001".to_owned(),
        model_tflite: std::fs::read(converter_fixture("motion_dnn_int8.tflite")).unwrap(),
        labels: LABELS.map(str::to_owned).to_vec(),
        task: Task::Classification { threshold: 0.6 },
        input: InputKind::Features {
            block: "Spectral analysis".to_owned(),
        },
        input_shape: vec![FEATURES],
    }
}

fn deploy(bundle: &DeployBundle, target: &SshTarget) -> (Result<(), DeployError>, Vec<String>) {
    let log = std::sync::Mutex::new(Vec::new());
    let report = |_: f32, line: &str| log.lock().unwrap().push(line.to_owned());
    let never = || false;
    let result = ssh::deploy(bundle, target, &Progress::new(&report, &never));
    (result, log.into_inner().unwrap())
}

fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn feature_rows(count: usize) -> Vec<Vec<f32>> {
    let bytes = std::fs::read(converter_fixture("motion_dnn_calibration.npy")).unwrap();
    let array = tinylab::quant::npy::parse(&bytes).unwrap();
    let TensorData::F32(values) = array.data else {
        panic!("float32 features expected")
    };
    values
        .chunks(array.shape[1])
        .take(count)
        .map(<[f32]>::to_vec)
        .collect()
}

/// TinyLab's own int8 interpreter on one row: dequantized probabilities.
fn ours(row: &[f32]) -> Vec<f32> {
    let graph = tinylab::export::tflite::read(
        &std::fs::read(converter_fixture("motion_dnn_int8.tflite")).unwrap(),
    )
    .unwrap();
    let runner = Runner::new(&graph).unwrap();
    let input = &graph.tensors[graph.inputs[0]];
    let (scale, zero_point) = input.quantization.as_ref().unwrap().single().unwrap();
    let q: Vec<i8> = row
        .iter()
        .map(|v| ((v / scale).round() + zero_point as f32).clamp(-128.0, 127.0) as i8)
        .collect();
    let output = &graph.tensors[graph.outputs[0]];
    let (out_scale, out_zero) = output.quantization.as_ref().unwrap().single().unwrap();
    match runner.invoke(&[TensorData::I8(q)]).unwrap().remove(0) {
        TensorData::I8(v) => v
            .iter()
            .map(|&x| (f32::from(x) - out_zero as f32) * out_scale)
            .collect(),
        other => panic!("{:?}", other.dtype()),
    }
}

#[test]
fn deploy_copies_intact_files_and_the_runner_reports_back() {
    let sshd = start_sshd();
    let remote = sshd.dir.path().join("pi/tinylab");
    let target = target(&sshd, &remote);
    let bundle = bundle();

    let (result, log) = deploy(&bundle, &target);
    result.unwrap_or_else(|e| panic!("{e}\nlog: {log:?}"));
    assert!(log.last().unwrap().contains("checksums match"), "{log:?}");
    let ours_sum = tinylab::deploy::sha256::sha256_hex(&bundle.model_tflite);
    assert_eq!(sha256sum(&remote.join("trained.tflite")), ours_sum);
    assert_eq!(
        sha256sum(&converter_fixture("motion_dnn_int8.tflite")),
        ours_sum,
        "our SHA-256 agrees with coreutils"
    );
    assert_eq!(
        std::fs::read_to_string(remote.join("labels.txt")).unwrap(),
        "idle\nlift\nmaritime\nterrestrial\n"
    );
    let runner = std::fs::read_to_string(remote.join(ssh::RUNNER_FILE)).unwrap();
    assert_eq!(runner, tinylab::deploy::pi_runner::runner_py(&bundle));
    assert!(
        !remote.join("labels.txt.bak").exists(),
        "nothing replaced yet"
    );

    // A second deploy with other labels keeps the first ones as a backup.
    let mut renamed = bundle.clone();
    renamed.labels[0] = "still".to_owned();
    deploy(&renamed, &target).0.unwrap();
    assert_eq!(
        std::fs::read_to_string(remote.join("labels.txt.bak")).unwrap(),
        "idle\nlift\nmaritime\nterrestrial\n"
    );
    assert!(
        !remote.join("trained.tflite.bak").exists(),
        "an identical file is not backed up"
    );
    deploy(&bundle, &target).0.unwrap();

    // Run the runner over SSH on five feature rows.
    let rows = feature_rows(5);
    let npy = sshd.dir.path().join("features.npy");
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    assert_eq!(rows[0].len(), FEATURES);
    write_npy_f32(&npy, &[rows.len(), FEATURES], &flat);
    let mut parser = BoardOutputParser::new(bundle.labels.clone());
    let mut results = Vec::new();
    let report = |_: f32, _: &str| {};
    let never = || false;
    ssh::run_runner(
        &target,
        &[
            "--features".to_owned(),
            npy.display().to_string(),
            "--count".to_owned(),
            "5".to_owned(),
        ],
        Duration::from_secs(120),
        &Progress::new(&report, &never),
        |line| {
            results.extend(parser.push(line.as_bytes()));
            results.extend(parser.push(b"\n"));
        },
    )
    .unwrap();
    results.extend(parser.flush());
    assert_eq!(results.len(), 5, "{results:?}");
    for (row, result) in rows.iter().zip(&results) {
        let labels: Vec<&str> = result.classes.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, LABELS);
        assert!(result.timing.classification_ms.is_some());
        for (class, expected) in result.classes.iter().zip(ours(row)) {
            assert!(
                (class.score - expected).abs() <= 1.0 / 256.0 + 1e-4,
                "LiteRT on the Pi says {} for {}, TinyLab's interpreter {expected}",
                class.score,
                class.label
            );
        }
    }
}

#[test]
fn a_host_with_another_key_is_refused() {
    let sshd = start_sshd();
    let mut target = target(&sshd, &sshd.dir.path().join("never"));
    let impostor = sshd.dir.path().join("other_key");
    keygen(&impostor);
    let key = std::fs::read_to_string(impostor.with_extension("pub")).unwrap();
    let key: Vec<&str> = key.split_whitespace().take(2).collect();
    let known = sshd.dir.path().join("wrong_known_hosts");
    std::fs::write(
        &known,
        format!("[127.0.0.1]:{} {}\n", sshd.port, key.join(" ")),
    )
    .unwrap();
    target.known_hosts_file = Some(known);
    let (result, _) = deploy(&bundle(), &target);
    let Err(DeployError::Tool(text)) = result else {
        panic!("{result:?}")
    };
    assert!(text.contains("host key"), "{text}");
    assert!(
        !sshd.dir.path().join("never").exists(),
        "nothing was done on the host"
    );

    // An unknown host (empty known_hosts) is refused too: no silent trust on first use.
    let empty = sshd.dir.path().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    target.known_hosts_file = Some(empty);
    let (result, _) = deploy(&bundle(), &target);
    assert!(
        matches!(result, Err(DeployError::Tool(ref t)) if t.contains("host key")),
        "{result:?}"
    );
}

#[test]
fn nothing_listening_says_so() {
    let target = SshTarget {
        user: user(),
        host: "127.0.0.1".to_owned(),
        port: Some(free_port()),
        dir: "/tmp/never".to_owned(),
        known_hosts_file: Some(PathBuf::from("/dev/null")),
        python: "python3".to_owned(),
        ..SshTarget::default()
    };
    let (result, _) = deploy(&bundle(), &target);
    let Err(DeployError::Tool(text)) = result else {
        panic!("{result:?}")
    };
    assert!(text.contains("nothing accepts SSH connections"), "{text}");
}

#[test]
fn tinylab_deploy_and_the_engine_job_reach_the_pi_and_bring_its_predictions_back() {
    let sshd = start_sshd();
    let project = common::quantized_demo(sshd.dir.path());
    let run = tinylab::project::runs::load(&project, None).unwrap();
    let width: usize = run.record.input_shape.iter().product();
    let npy = sshd.dir.path().join("demo-features.npy");
    write_npy_f32(&npy, &[2, width], &vec![0.25; 2 * width]);
    let target = target(&sshd, &sshd.dir.path().join("pi/cli"));
    let spec = format!("ssh:{}", target.spec());

    // The CLI: deploy, start the runner on two feature rows, one JSON line per result.
    let (identity, known) = (
        target.identity_file.clone().unwrap(),
        target.known_hosts_file.clone().unwrap(),
    );
    let out = common::ok(&[
        "deploy",
        project.to_str().unwrap(),
        "--target",
        &spec,
        "--identity",
        identity.to_str().unwrap(),
        "--known-hosts",
        known.to_str().unwrap(),
        "--python",
        &target.python,
        "--start",
        "--",
        "--features",
        npy.to_str().unwrap(),
        "--count",
        "2",
    ]);
    let results: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 2, "{out}");
    let labels: Vec<&str> = results[0]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        run.record
            .labels
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        sha256sum(&sshd.dir.path().join("pi/cli/trained.tflite")),
        sha256sum(
            &tinylab::project::runs::run_dir(&project, &run.record.id).join("model-int8.tflite")
        )
    );

    // The deploy is noted in the run, so the lab's "deployed" step is ticked.
    let deployed = tinylab::project::runs::deployments(&project, &run.record.id).unwrap();
    assert_eq!(deployed.len(), 1);
    assert_eq!(deployed[0].target, spec);
    let check: serde_json::Value =
        serde_json::from_str(&common::ok(&["check", project.to_str().unwrap(), "--json"])).unwrap();
    let step = check["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["panel"] == "deploy")
        .unwrap();
    assert_eq!(step["passed"], true, "{step}");

    // The engine's job (what the Deploy panel's button sends), to another folder.
    let engine = tinylab::engine::Engine::start(|| {}).unwrap();
    engine
        .send(tinylab::protocol::Command::OpenProject {
            dir: project.clone(),
        })
        .unwrap();
    common::expect(&engine, "the project", |e| {
        matches!(e, tinylab::protocol::Event::ProjectOpened { .. }).then_some(())
    });
    let mut job_target = target.clone();
    job_target.dir = sshd.dir.path().join("pi/gui").display().to_string();
    engine
        .send(tinylab::protocol::Command::Deploy(Box::new(
            tinylab::deploy::run::DeployRequest {
                run: run.record.id.clone(),
                target: tinylab::deploy::DeployTarget::Ssh(job_target),
                arduino: None,
                monitor_port: None,
                runner_args: Some(vec![
                    "--features".to_owned(),
                    npy.display().to_string(),
                    "--count".to_owned(),
                    "2".to_owned(),
                ]),
            },
        )))
        .unwrap();
    let mut log = Vec::new();
    let mut board_results = 0;
    common::expect(&engine, "the deploy job's end", |event| match event {
        tinylab::protocol::Event::JobProgress { message, .. } => {
            log.push(message);
            None
        }
        tinylab::protocol::Event::BoardOutput { result, .. } => {
            assert_eq!(result.classes.len(), run.record.labels.len());
            board_results += 1;
            None
        }
        tinylab::protocol::Event::JobFinished { outcome, .. } => Some(outcome),
        _ => None,
    });
    assert_eq!(board_results, 2, "{log:?}");
    assert!(log.iter().any(|l| l.contains("checksums match")), "{log:?}");
    assert!(sshd.dir.path().join("pi/gui/tinylab_runner.py").exists());
}
