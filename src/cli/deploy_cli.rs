//! `tinylab deploy DIR --target openmv:PATH | ssh:USER@HOST:DIR | arduino:PORT` and
//! `tinylab monitor --port PATH`: the Deploy panel's "Boards" section without a window, through
//! the same [`crate::deploy::run::run_deploy`] the engine's job runs. Results a board prints
//! come out as JSON lines on stdout; the log goes to stderr. `--seconds` or Ctrl+C stops.

use super::model_cli::quantized_run;
use crate::deploy::run::{ArduinoSource, DeployRequest, run_deploy};
use crate::deploy::{DeployTarget, Progress};
use crate::devices::board_monitor::{self, MonitorEnd};
use crate::devices::board_output::BoardResult;
use crate::project::Project;
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `tinylab deploy`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// Project folder.
    pub dir: PathBuf,
    /// openmv:PATH (the board's drive), ssh:USER@HOST:DIR (or USER@HOST:PORT:DIR), or
    /// arduino:PORT.
    #[arg(long)]
    pub target: String,
    /// Run id (default: the latest; quantized first if needed).
    #[arg(long)]
    pub run: Option<String>,
    /// arduino: your own sketch folder (default: the generated example for the board's kit).
    #[arg(long)]
    pub sketch: Option<PathBuf>,
    /// arduino: your own library folder (default: the run's generated Arduino library).
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// arduino: the board's FQBN (default: from the board recognised on the port).
    #[arg(long)]
    pub fqbn: Option<String>,
    /// arduino: the arduino-cli program (default: arduino-cli on PATH).
    #[arg(long)]
    pub arduino_cli: Option<PathBuf>,
    /// ssh: a private key to use besides the agent's.
    #[arg(long)]
    pub identity: Option<PathBuf>,
    /// ssh: a known_hosts file instead of ~/.ssh/known_hosts.
    #[arg(long)]
    pub known_hosts: Option<PathBuf>,
    /// ssh: the Python on the host that runs the runner.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// ssh: start the runner after deploying and print its predictions (JSON lines); the
    /// runner's own arguments follow `--`, e.g. `-- --features x.npy --count 5`.
    #[arg(long)]
    pub start: bool,
    /// ssh: the runner's arguments (after `--`).
    #[arg(last = true)]
    pub runner_args: Vec<String>,
    /// openmv/arduino: after deploying, read this serial port and print the board's predictions.
    #[arg(long)]
    pub monitor: Option<String>,
    /// Stop watching the board after this many seconds (default: until Ctrl+C).
    #[arg(long)]
    pub seconds: Option<f64>,
}

/// `tinylab monitor`'s arguments.
#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    /// Serial port, e.g. /dev/ttyACM0 or the virtual board's /dev/pts/N.
    #[arg(long)]
    pub port: String,
    /// Baud rate.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// A labels.txt naming the class indices SenseCraft and SSCMA print.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Stop after this many seconds (default: until Ctrl+C or the board goes away).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Stop after this many results.
    #[arg(long)]
    pub count: Option<usize>,
}

/// One result as a JSON line on stdout.
fn print_result(result: &BoardResult) {
    if let Ok(line) = serde_json::to_string(result) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) only ends the printing.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Stops when the deadline passes (Ctrl+C ends the process, which closes ports and kills
/// child tools with it).
struct Stopper {
    deadline: Option<Instant>,
}

impl Stopper {
    fn new(seconds: Option<f64>) -> Self {
        Self {
            deadline: seconds.map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0))),
        }
    }

    fn stop(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// `tinylab deploy`.
pub fn deploy(args: DeployArgs) -> Result<()> {
    let DeployArgs {
        dir,
        target,
        run,
        sketch,
        library,
        fqbn,
        arduino_cli,
        identity,
        known_hosts,
        python,
        start,
        runner_args,
        monitor,
        seconds,
    } = args;
    let mut target = DeployTarget::parse(&target)?;
    if let DeployTarget::Ssh(ssh) = &mut target {
        ssh.identity_file = identity;
        ssh.known_hosts_file = known_hosts;
        ssh.python = python;
    } else if start || !runner_args.is_empty() {
        bail!("--start and runner arguments are for ssh: targets");
    }
    let arduino = match (&target, sketch, library) {
        (DeployTarget::Arduino { .. }, sketch @ Some(_), library @ Some(_))
        | (DeployTarget::Arduino { .. }, sketch @ None, library @ None) => Some(ArduinoSource {
            sketch,
            library,
            fqbn,
            program: arduino_cli,
        }),
        (DeployTarget::Arduino { .. }, _, _) => {
            bail!(
                "give both --sketch DIR and --library DIR, or neither (TinyLab then generates \
                 them from the run)"
            )
        }
        _ => None,
    };
    let run = quantized_run(&dir, run)?;
    let threshold = Project::open(&dir)
        .with_context(|| format!("opening {}", dir.display()))?
        .settings()
        .model
        .confidence_threshold;
    let request = DeployRequest {
        run,
        target,
        arduino,
        monitor_port: monitor,
        runner_args: start.then_some(runner_args),
    };
    let stopper = Stopper::new(seconds);
    let report = |fraction: f32, line: &str| eprintln!("[{:>3.0} %] {line}", fraction * 100.0);
    let cancelled = || stopper.stop();
    let progress = Progress::new(&report, &cancelled);
    match run_deploy(&request, &dir, threshold, &progress, &mut || {}, &mut |r| {
        print_result(&r)
    }) {
        Ok(text) => {
            eprintln!("{text}");
            Ok(())
        }
        // Watching the board ends by the time limit: the deploy itself succeeded.
        Err(crate::deploy::DeployError::Cancelled) if stopper.stop() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `tinylab monitor`.
pub fn monitor(args: &MonitorArgs) -> Result<()> {
    let labels = match &args.labels {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    let stopper = Stopper::new(args.seconds);
    let mut printed = 0usize;
    let count = args.count;
    let done = std::cell::Cell::new(false);
    let stop = || stopper.stop() || done.get();
    let end = board_monitor::monitor(
        &args.port,
        args.baud,
        labels,
        &stop,
        &mut |_| {},
        &mut |result| {
            if done.get() {
                return;
            }
            print_result(&result);
            printed += 1;
            if count.is_some_and(|n| printed >= n) {
                done.set(true);
            }
        },
    )
    .map_err(anyhow::Error::msg)?;
    if let MonitorEnd::Lost(reason) = end {
        eprintln!("{}: {reason}", args.port);
    }
    eprintln!("{printed} results");
    Ok(())
}
