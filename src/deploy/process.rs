//! Running an external program (`ssh`, `scp`, `arduino-cli`) so that it can never hang a deploy:
//! its stdout and stderr are read line by line on two named threads and handed to a callback as
//! they come (progress bars that redraw with `\r` count as lines), the child is killed when the
//! user cancels or when the time limit passes, and a program that is not installed gives a
//! sentence saying what to install instead of "No such file or directory".

use super::{DeployError, Progress};
use crossbeam_channel::{RecvTimeoutError, bounded};
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How often the cancel flag and the time limit are checked.
const POLL: Duration = Duration::from_millis(50);

/// Which stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// How a program ended.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its last lines (stdout and stderr interleaved as read), for error messages.
    pub tail: Vec<String>,
}

impl Finished {
    /// The last `n` lines joined, for an error message.
    pub fn tail_text(&self, n: usize) -> String {
        let start = self.tail.len().saturating_sub(n);
        self.tail.get(start..).unwrap_or_default().join("\n")
    }
}

/// Lines kept for [`Finished::tail`].
const TAIL_LINES: usize = 40;

/// Runs `command` (stdin closed), calling `on_line` for every line of its output, until it
/// exits, `limit` passes, or `progress` is cancelled (then the child is killed). `install_hint`
/// is what to tell the user when the program does not exist.
pub fn run(
    mut command: Command,
    limit: Duration,
    progress: &Progress<'_>,
    install_hint: &str,
    mut on_line: impl FnMut(Stream, &str),
) -> Result<Finished, DeployError> {
    let program = command.get_program().to_string_lossy().into_owned();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DeployError::Tool(format!("`{program}` is not installed: {install_hint}"))
        } else {
            DeployError::Tool(format!("could not start `{program}`: {e}"))
        }
    })?;
    let (tx, rx) = bounded::<(Stream, String)>(1024);
    let mut readers = Vec::new();
    for (stream, pipe) in [
        (
            Stream::Stdout,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            Stream::Stderr,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ] {
        let Some(pipe) = pipe else { continue };
        let tx = tx.clone();
        let name = format!(
            "{program} {}",
            if stream == Stream::Stdout {
                "stdout"
            } else {
                "stderr"
            }
        );
        match std::thread::Builder::new()
            .name(name)
            .spawn(move || read_lines(pipe, |line| tx.send((stream, line)).is_ok()))
        {
            Ok(handle) => readers.push(handle),
            Err(e) => {
                kill(&mut child);
                return Err(DeployError::Tool(format!(
                    "could not read `{program}`: {e}"
                )));
            }
        }
    }
    drop(tx);
    let deadline = Instant::now() + limit;
    let mut tail: Vec<String> = Vec::new();
    let mut outcome = Ok(());
    loop {
        match rx.recv_timeout(POLL) {
            Ok((stream, line)) => {
                on_line(stream, &line);
                if tail.len() == TAIL_LINES {
                    tail.remove(0);
                }
                tail.push(line);
            }
            // Both pipes closed: the program has exited (or closed its output).
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        // Checked after every line too: a chatty tool must not outrun Stop.
        if progress.is_cancelled() {
            outcome = Err(DeployError::Cancelled);
            break;
        }
        if Instant::now() > deadline {
            outcome = Err(DeployError::Tool(format!(
                "`{program}` did not finish within {} s and was stopped",
                limit.as_secs()
            )));
            break;
        }
    }
    if outcome.is_err() {
        kill(&mut child);
    }
    // The pipes are closed once the child is gone; the readers end with them.
    let status = wait_with_limit(
        &mut child,
        deadline.max(Instant::now()) + Duration::from_secs(5),
    );
    for reader in readers {
        let _ = reader.join();
    }
    outcome?;
    let status = status.ok_or_else(|| {
        DeployError::Tool(format!(
            "`{program}` closed its output but did not exit; it was stopped"
        ))
    })?;
    Ok(Finished { status, tail })
}

/// Waits for the child until `deadline`, then kills it; `None` if it had to be killed.
fn wait_with_limit(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
            _ => {
                kill(child);
                return None;
            }
        }
    }
}

/// Kills and reaps the child (best effort: it may have exited already).
fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads `pipe` to its end, calling `send` with each line (split at `\n` or `\r`, invalid UTF-8
/// replaced, empty lines skipped); stops early when `send` says the receiver is gone.
fn read_lines(mut pipe: impl Read, mut send: impl FnMut(String) -> bool) {
    let mut buffer = [0u8; 4096];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let count = match pipe.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => count,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        for &byte in buffer.get(..count).unwrap_or_default() {
            if byte == b'\n' || byte == b'\r' {
                if !line.is_empty() && !send(String::from_utf8_lossy(&line).into_owned()) {
                    return;
                }
                line.clear();
            } else if line.len() < 64 * 1024 {
                line.push(byte);
            }
        }
    }
    if !line.is_empty() {
        send(String::from_utf8_lossy(&line).into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn lines_stream_and_status_comes_back() {
        let report = |_: f32, _: &str| {};
        let never = || false;
        let progress = Progress::new(&report, &never);
        let mut lines = Vec::new();
        let finished = run(
            sh("printf 'a\\rb\\n'; echo err >&2; exit 3"),
            Duration::from_secs(30),
            &progress,
            "",
            |_, line| lines.push(line.to_owned()),
        )
        .unwrap();
        lines.sort();
        assert_eq!(lines, ["a", "b", "err"]);
        assert_eq!(finished.status.code(), Some(3));
    }

    #[test]
    fn cancel_kills_the_program() {
        let cancel = AtomicBool::new(false);
        let report = |_: f32, _: &str| {};
        let cancelled = || cancel.load(Ordering::Relaxed);
        let progress = Progress::new(&report, &cancelled);
        let result = run(
            sh("echo started; exec sleep 600"),
            Duration::from_secs(600),
            &progress,
            "",
            |_, _| cancel.store(true, Ordering::Relaxed),
        );
        assert!(matches!(result, Err(DeployError::Cancelled)), "{result:?}");
    }

    #[test]
    fn time_limit_kills_the_program() {
        let report = |_: f32, _: &str| {};
        let never = || false;
        let progress = Progress::new(&report, &never);
        let result = run(
            sh("exec sleep 600"),
            Duration::from_millis(200),
            &progress,
            "",
            |_, _| {},
        );
        let Err(DeployError::Tool(text)) = result else {
            panic!("{result:?}")
        };
        assert!(text.contains("did not finish"), "{text}");
    }

    #[test]
    fn a_missing_program_says_what_to_install() {
        let report = |_: f32, _: &str| {};
        let never = || false;
        let progress = Progress::new(&report, &never);
        let result = run(
            Command::new("tinylab-no-such-program"),
            Duration::from_secs(5),
            &progress,
            "install it from example.org",
            |_, _| {},
        );
        let Err(DeployError::Tool(text)) = result else {
            panic!("{result:?}")
        };
        assert!(
            text.contains("is not installed: install it from example.org"),
            "{text}"
        );
    }
}
