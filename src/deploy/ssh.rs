//! Deploy to a Raspberry Pi (or any Linux computer) over SSH, with the system's OpenSSH client,
//! so the user's agent, `~/.ssh/config` and `known_hosts` apply and no secret passes through
//! TinyLab. Every call runs with `BatchMode=yes` (never a password prompt that would hang),
//! `StrictHostKeyChecking=yes` (an unknown or changed host key is refused) and a connect
//! timeout.
//!
//! Steps: make the folder; copy `trained.tflite`, `labels.txt` and the generated runner
//! ([`super::pi_runner`]) under temporary names; on the Pi, keep a `.bak` of each file being
//! replaced, rename the new files into place and print their `sha256sum`, which must match
//! TinyLab's; then, when asked, start the runner (`ssh -tt`, so it ends with the connection)
//! and hand each line it prints to a callback (the board monitor's parser).

use super::process::{self, Stream};
use super::sha256::sha256_hex;
use super::{DeployBundle, DeployError, Progress, pi_runner};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The runner's file name in the target folder.
pub const RUNNER_FILE: &str = "tinylab_runner.py";

/// Seconds `ssh` waits for the connection.
pub const CONNECT_TIMEOUT_S: u64 = 10;

/// Longest a copy or a remote command may take.
const STEP_LIMIT: Duration = Duration::from_secs(300);

/// What to install when `ssh`/`scp` are missing.
const INSTALL_SSH: &str = "install OpenSSH's client (Debian/Ubuntu: sudo apt install \
                           openssh-client; macOS and Windows 10+ have it built in)";

/// Where and how to connect.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SshTarget {
    /// User name (empty: the one `~/.ssh/config` or the local user gives).
    pub user: String,
    /// Host name or address.
    pub host: String,
    /// Port (default 22 or what the config says).
    pub port: Option<u16>,
    /// Folder on the host for the model, labels and runner.
    pub dir: String,
    /// A private key to use besides the agent's (`-i`).
    pub identity_file: Option<PathBuf>,
    /// A known-hosts file instead of `~/.ssh/known_hosts` (tests use a temporary one).
    pub known_hosts_file: Option<PathBuf>,
    /// The Python that runs the runner on the host (default `python3`).
    pub python: String,
}

impl SshTarget {
    /// Parses `USER@HOST:DIR` or `USER@HOST:PORT:DIR` (`HOST:DIR` too).
    pub fn parse(text: &str) -> Option<Self> {
        let (user, rest) = match text.split_once('@') {
            Some((user, rest)) if !user.is_empty() => (user, rest),
            Some(_) => return None,
            None => ("", text),
        };
        let (host, rest) = rest.split_once(':')?;
        let (port, dir) = match rest.split_once(':') {
            Some((port, dir)) if port.parse::<u16>().is_ok() => (port.parse().ok(), dir),
            _ => (None, rest),
        };
        if host.is_empty() || dir.is_empty() {
            return None;
        }
        Some(Self {
            user: user.to_owned(),
            host: host.to_owned(),
            port,
            dir: dir.to_owned(),
            python: "python3".to_owned(),
            ..Self::default()
        })
    }

    /// `USER@HOST[:PORT]:DIR`.
    pub fn spec(&self) -> String {
        let port = self.port.map(|p| format!("{p}:")).unwrap_or_default();
        format!("{}:{port}{}", self.destination(), self.dir)
    }

    /// `USER@HOST` (or `HOST`).
    pub fn destination(&self) -> String {
        if self.user.is_empty() {
            self.host.clone()
        } else {
            format!("{}@{}", self.user, self.host)
        }
    }

    /// Options shared by `ssh` and `scp` (the port flag differs: `-p` and `-P`).
    fn options(&self, port_flag: &str) -> Vec<String> {
        let mut args = vec![
            "-o".to_owned(),
            "BatchMode=yes".to_owned(),
            "-o".to_owned(),
            "StrictHostKeyChecking=yes".to_owned(),
            "-o".to_owned(),
            format!("ConnectTimeout={CONNECT_TIMEOUT_S}"),
        ];
        if let Some(port) = self.port {
            args.extend([port_flag.to_owned(), port.to_string()]);
        }
        if let Some(identity) = &self.identity_file {
            args.extend([
                "-i".to_owned(),
                identity.display().to_string(),
                "-o".to_owned(),
                "IdentitiesOnly=yes".to_owned(),
            ]);
        }
        if let Some(known) = &self.known_hosts_file {
            args.extend([
                "-o".to_owned(),
                format!("UserKnownHostsFile={}", known.display()),
                "-o".to_owned(),
                "GlobalKnownHostsFile=/dev/null".to_owned(),
            ]);
        }
        args
    }

    /// `ssh … DEST -- SCRIPT`, optionally with a forced terminal.
    pub fn ssh_command(&self, script: &str, terminal: bool) -> Command {
        let mut command = Command::new("ssh");
        command.args(self.options("-p"));
        if terminal {
            command.arg("-tt");
        }
        command.arg(self.destination()).arg("--").arg(script);
        command
    }

    /// `scp … FILES DEST:DIR/`.
    pub fn scp_command(&self, files: &[PathBuf]) -> Command {
        let mut command = Command::new("scp");
        command.args(self.options("-P"));
        command.args(files);
        command.arg(format!("{}:{}/", self.destination(), self.dir));
        command
    }
}

/// Quotes `text` for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A failed `ssh`/`scp` explained from its last lines.
fn explain(target: &SshTarget, what: &str, tail: &str) -> DeployError {
    let host = &target.host;
    let why = if tail.contains("Host key verification failed")
        || tail.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || tail.contains("No ED25519 host key is known")
        || tail.contains("host key is known")
    {
        format!(
            "the host key of {host} is not the one known for it (or it is not known yet), so \
             the connection was refused. Connect once in a terminal (`ssh {}`), check the key \
             fingerprint the Pi shows (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on \
             it) and accept it; if the Pi was reinstalled, remove the old key with \
             `ssh-keygen -R {host}`",
            target.destination()
        )
    } else if tail.contains("Permission denied") {
        format!(
            "{host} refused the login: TinyLab signs in with your SSH keys only (agent or \
             ~/.ssh), never a password. Copy your key once with `ssh-copy-id {}`, or load it \
             with `ssh-add`",
            target.destination()
        )
    } else if tail.contains("Connection refused") {
        format!(
            "nothing accepts SSH connections on {host}: enable SSH on the Pi (sudo raspi-config \
             → Interface Options → SSH) or check the port"
        )
    } else if tail.contains("Could not resolve hostname")
        || tail.contains("Name or service not known")
    {
        format!(
            "the name {host} is not known on this network: check it (raspberrypi.local needs \
             mDNS), or use the Pi's IP address"
        )
    } else if tail.contains("subsystem request failed") {
        format!(
            "{host}'s SSH server offers no SFTP, which scp needs: enable the `Subsystem sftp` \
             line in its /etc/ssh/sshd_config (Raspberry Pi OS has it) and restart ssh"
        )
    } else if tail.contains("timed out") || tail.contains("No route to host") {
        format!("{host} did not answer: is it on, and on the same network as this computer?")
    } else {
        format!("it said: {}", tail.trim())
    };
    DeployError::Tool(format!("{what} on {} failed: {why}", target.destination()))
}

/// Runs one remote script to its end; returns its stdout lines.
fn remote(
    target: &SshTarget,
    what: &str,
    script: &str,
    progress: &Progress<'_>,
) -> Result<Vec<String>, DeployError> {
    let mut lines = Vec::new();
    let finished = process::run(
        target.ssh_command(script, false),
        STEP_LIMIT,
        progress,
        INSTALL_SSH,
        |stream, line| {
            if stream == Stream::Stdout {
                lines.push(line.to_owned());
            }
        },
    )?;
    if !finished.status.success() {
        return Err(explain(target, what, &finished.tail_text(8)));
    }
    Ok(lines)
}

/// Copies the bundle and the runner to `target.dir` and checks their checksums.
pub fn deploy(
    bundle: &DeployBundle,
    target: &SshTarget,
    progress: &Progress<'_>,
) -> Result<(), DeployError> {
    let runner = pi_runner::runner_py(bundle);
    let labels = bundle.labels_text();
    let files: [(&str, &[u8]); 3] = [
        (super::openmv::MODEL_FILE, &bundle.model_tflite),
        (super::openmv::LABELS_FILE, labels.as_bytes()),
        (RUNNER_FILE, runner.as_bytes()),
    ];
    progress.step(0.05, &format!("connecting to {}", target.destination()));
    let dir = remote_path(&target.dir);
    remote(
        target,
        "making the folder",
        &format!("mkdir -p -- {dir}"),
        progress,
    )?;
    progress.step(0.2, &format!("made {}", target.dir));

    // Stage the files locally under their upload names.
    let staging = Staging::new()?;
    let mut paths = Vec::new();
    for (name, bytes) in &files {
        let path = staging.0.join(upload_name(name));
        std::fs::write(&path, bytes).map_err(|e| DeployError::File {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        paths.push(path);
    }
    progress.check()?;
    let finished = process::run(
        target.scp_command(&paths),
        STEP_LIMIT,
        progress,
        INSTALL_SSH,
        |_, line| progress.step(0.5, line),
    )?;
    if !finished.status.success() {
        return Err(explain(target, "copying the files", &finished.tail_text(8)));
    }
    progress.step(0.7, "copied; putting the files in place");

    // Back up, rename into place, and print the checksums, in one remote script.
    let mut script = format!("set -e; cd -- {dir}; ");
    for (name, _) in &files {
        let (name, upload) = (shell_quote(name), shell_quote(&upload_name(name)));
        script += &format!(
            "if [ -f {name} ] && ! cmp -s {name} {upload}; then cp -p {name} {name}.bak; fi; \
             mv -f {upload} {name}; "
        );
    }
    script += "sha256sum";
    for (name, _) in &files {
        script += &format!(" {}", shell_quote(name));
    }
    let sums = remote(target, "putting the files in place", &script, progress)?;
    for (name, bytes) in &files {
        let expected = sha256_hex(bytes);
        let found = sums.iter().find_map(|line| {
            let (sum, file) = line.split_once(char::is_whitespace)?;
            (file.trim().trim_start_matches('*') == *name).then_some(sum.to_owned())
        });
        match found {
            Some(sum) if sum == expected => {}
            Some(sum) => {
                return Err(DeployError::Tool(format!(
                    "{name} arrived damaged on {} (sha256 {sum}, expected {expected}): deploy \
                     again; if it keeps happening, check the Pi's SD card",
                    target.host
                )));
            }
            None => {
                return Err(DeployError::Tool(format!(
                    "could not check {name} on {}: `sha256sum` printed {sums:?}",
                    target.host
                )));
            }
        }
    }
    progress.step(
        1.0,
        &format!(
            "deployed to {}: {} files, checksums match",
            target.spec(),
            files.len()
        ),
    );
    Ok(())
}

/// A local temporary folder, removed when dropped.
struct Staging(PathBuf);

impl Staging {
    fn new() -> Result<Self, DeployError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("tinylab-deploy-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| DeployError::File {
            path: dir.clone(),
            reason: format!("could not make a temporary folder: {e}"),
        })?;
        Ok(Self(dir))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Best effort: a leftover folder in the temp directory harms nothing.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A remote folder for the shell: quoted, with a leading `~/` kept expandable.
pub fn remote_path(dir: &str) -> String {
    match dir.strip_prefix("~/") {
        Some(rest) => format!("\"$HOME\"/{}", shell_quote(rest)),
        None if dir == "~" => "\"$HOME\"".to_owned(),
        None => shell_quote(dir),
    }
}

/// The temporary name a file is uploaded under.
fn upload_name(name: &str) -> String {
    format!(".{name}.tinylab-upload")
}

/// The remote command that starts the runner with `args` (each quoted).
pub fn runner_script(target: &SshTarget, args: &[String]) -> String {
    let mut script = format!(
        "cd -- {} && exec {} -u {RUNNER_FILE}",
        remote_path(&target.dir),
        shell_quote(&target.python)
    );
    for arg in args {
        script += " ";
        script += &shell_quote(arg);
    }
    script
}

/// Starts the runner on the host and hands every line it prints to `on_line` until it exits,
/// `limit` passes, or `progress` is cancelled (the connection is closed, which ends the runner:
/// it runs on a terminal).
pub fn run_runner(
    target: &SshTarget,
    args: &[String],
    limit: Duration,
    progress: &Progress<'_>,
    mut on_line: impl FnMut(&str),
) -> Result<(), DeployError> {
    let finished = process::run(
        target.ssh_command(&runner_script(target, args), true),
        limit,
        progress,
        INSTALL_SSH,
        |_, line| on_line(line),
    )?;
    if finished.status.success() {
        Ok(())
    } else {
        Err(explain(target, "running the model", &finished.tail_text(8)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let target = SshTarget::parse("pi@raspberrypi.local:2222:/home/pi/x").unwrap();
        assert_eq!(target.user, "pi");
        assert_eq!(target.port, Some(2222));
        assert_eq!(target.dir, "/home/pi/x");
        assert_eq!(SshTarget::parse("pi@h:~/tinylab").unwrap().dir, "~/tinylab");
        assert_eq!(SshTarget::parse("h:d").unwrap().destination(), "h");
    }

    #[test]
    fn command_lines_keep_host_key_checking_on() {
        let mut target = SshTarget::parse("pi@h:22:/d").unwrap();
        target.known_hosts_file = Some(PathBuf::from("/tmp/k"));
        let command = target.ssh_command("true", false);
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(command.get_program(), "ssh");
        for wanted in [
            "BatchMode=yes",
            "StrictHostKeyChecking=yes",
            "UserKnownHostsFile=/tmp/k",
        ] {
            assert!(args.iter().any(|a| a == wanted), "{args:?}");
        }
        assert_eq!(
            args.iter().rev().take(3).collect::<Vec<_>>(),
            ["true", "--", "pi@h"]
        );
        let scp: Vec<String> = target
            .scp_command(&[PathBuf::from("/a")])
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(scp.windows(2).any(|w| w == ["-P", "22"]), "{scp:?}");
        assert_eq!(scp.last().map(String::as_str), Some("pi@h:/d/"));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(remote_path("~/tl"), r#""$HOME"/'tl'"#);
    }
}
