//! The engine's side of the Deploy panel's "Boards" section: `Command::Deploy` and
//! `Command::MonitorBoard` as jobs. A deploy's log lines go out as the job's progress messages,
//! and each result the board prints as a partial result (`Event::BoardOutput`); cancelling the
//! job kills a running tool, closes the SSH connection or the port. The work is in
//! [`crate::deploy::run`] and [`crate::devices::board_monitor`].

use super::EngineLoop;
use super::dataset_jobs::JobOutput;
use super::jobs::{JobContext, JobError};
use crate::deploy::run::{DeployRequest, VIRTUAL_INFERENCE_PORT, run_deploy};
use crate::deploy::{DeployError, Progress};
use crate::devices::board_monitor::{self, MonitorEnd};
use crate::protocol::Level;
use crate::sim::board::{BoardConfig, VirtualBoard};

impl EngineLoop {
    /// Starts deploying the request's run.
    pub(super) fn start_deploy(&mut self, request: DeployRequest) {
        let Some(project) = &self.project else {
            return self.notice(Level::Error, "open a project before deploying");
        };
        let dir = project.dir().to_owned();
        let threshold = project.settings().model.confidence_threshold;
        let name = format!("deploy of {} to {}", request.run, request.target.spec());
        self.spawn_job(name, move |ctx| {
            let report = |fraction: f32, line: &str| ctx.progress(fraction, line);
            let cancelled = || ctx.is_cancelled();
            let progress = Progress::new(&report, &cancelled);
            let mut on_result = |result| ctx.partial(JobOutput::BoardOutput(result));
            let mut on_deployed = || ctx.partial(JobOutput::Deployed);
            match run_deploy(
                &request,
                &dir,
                threshold,
                &progress,
                &mut on_deployed,
                &mut on_result,
            ) {
                Ok(text) => Ok(JobOutput::Done(text)),
                // Cancelling a deploy that is only watching the board is how it ends.
                Err(DeployError::Cancelled) => Err(JobError::Cancelled),
                Err(e) => Err(JobError::Failed(e.to_string())),
            }
        });
    }

    /// Starts reading a board's serial output.
    pub(super) fn start_board_monitor(&mut self, port: String, baud: u32) {
        let labels = self
            .run
            .as_ref()
            .map(|run| run.record.labels.clone())
            .unwrap_or_default();
        self.spawn_job(format!("board output on {port}"), move |ctx| {
            monitor_job(ctx, &port, baud, labels)
        });
    }
}

fn monitor_job(
    ctx: &JobContext<JobOutput>,
    port: &str,
    baud: u32,
    labels: Vec<String>,
) -> Result<JobOutput, JobError> {
    let stop = || ctx.is_cancelled();
    // The virtual board in inference mode lives as long as the job watches it.
    let board = if port == VIRTUAL_INFERENCE_PORT {
        let board = VirtualBoard::start(BoardConfig {
            inference: true,
            ..BoardConfig::default()
        })
        .map_err(|e| JobError::Failed(e.to_string()))?;
        ctx.progress(
            0.5,
            format!("virtual board printing inferences on {}", board.path()),
        );
        Some(board)
    } else {
        None
    };
    let port = board.as_ref().map_or(port, VirtualBoard::path);
    let end = board_monitor::monitor(
        port,
        baud,
        labels,
        &stop,
        &mut |line| ctx.progress(0.5, line),
        &mut |result| ctx.partial(JobOutput::BoardOutput(result)),
    )
    .map_err(JobError::Failed)?;
    match end {
        MonitorEnd::Stopped => Err(JobError::Cancelled),
        MonitorEnd::Lost(reason) => Ok(JobOutput::Done(format!("{port} closed: {reason}"))),
    }
}
