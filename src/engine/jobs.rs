//! The job runner: long work (import, export, feature generation, training, and later
//! quantization and flashing) runs on a named worker thread per job, reports progress and interim
//! results through a [`JobContext`], and stops early when its cancel flag is set. The runner never knows what a
//! job does; the engine turns job messages into [`Event`](crate::protocol::Event)s.

use crate::protocol::JobId;
use crossbeam_channel::Sender;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// What a job sends back to the engine.
#[derive(Debug)]
pub enum JobMsg<T> {
    /// Progress, 0–1, with what it is doing now.
    Progress {
        /// Job id.
        id: JobId,
        /// Done share.
        fraction: f32,
        /// What it is doing.
        message: String,
    },
    /// A result along the way (a finished training epoch), shown before the job ends.
    Partial {
        /// Job id.
        id: JobId,
        /// The interim result.
        output: T,
    },
    /// The job returned.
    Finished {
        /// Job id.
        id: JobId,
        /// Its result: `Err(None)` when cancelled, `Err(Some(why))` when failed.
        result: Result<T, Option<String>>,
    },
}

/// Handed to a running job: report progress, check for cancellation.
pub struct JobContext<T> {
    id: JobId,
    tx: Sender<JobMsg<T>>,
    cancel: Arc<AtomicBool>,
}

impl<T> JobContext<T> {
    /// Reports progress (0–1). Cheap; call it as often as is useful.
    pub fn progress(&self, fraction: f32, message: impl Into<String>) {
        let _ = self.tx.send(JobMsg::Progress {
            id: self.id,
            fraction: fraction.clamp(0.0, 1.0),
            message: message.into(),
        });
    }

    /// Sends an interim result (e.g. one epoch's figures) to the engine.
    pub fn partial(&self, output: T) {
        let _ = self.tx.send(JobMsg::Partial {
            id: self.id,
            output,
        });
    }

    /// True once the user asked the job to stop; the job should return [`JobError::Cancelled`].
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// `Err(JobError::Cancelled)` if cancelled: use with `?` in loops.
    pub fn check_cancelled(&self) -> Result<(), JobError> {
        if self.is_cancelled() {
            Err(JobError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// How a job ends early.
#[derive(Debug, Clone, PartialEq)]
pub enum JobError {
    /// The user cancelled it.
    Cancelled,
    /// It failed; the sentence says why.
    Failed(String),
}

/// Turns any error into a failed job with its message.
pub fn failed(e: impl std::fmt::Display) -> JobError {
    JobError::Failed(e.to_string())
}

struct Running {
    cancel: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// Starts jobs on named threads and keeps their cancel flags.
pub struct JobRunner<T> {
    next_id: JobId,
    tx: Sender<JobMsg<T>>,
    running: HashMap<JobId, Running>,
}

impl<T: Send + 'static> JobRunner<T> {
    /// A runner whose jobs report into `tx`.
    pub fn new(tx: Sender<JobMsg<T>>) -> Self {
        Self {
            next_id: 1,
            tx,
            running: HashMap::new(),
        }
    }

    /// Starts `work` on a thread named `job <name>`; returns its id.
    pub fn spawn(
        &mut self,
        name: &str,
        work: impl FnOnce(&JobContext<T>) -> Result<T, JobError> + Send + 'static,
    ) -> std::io::Result<JobId> {
        let id = self.next_id;
        self.next_id += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        let context = JobContext {
            id,
            tx: self.tx.clone(),
            cancel: Arc::clone(&cancel),
        };
        let thread = std::thread::Builder::new()
            .name(format!("job {name}"))
            .spawn(move || {
                let result = match work(&context) {
                    Ok(value) => Ok(value),
                    Err(JobError::Cancelled) => Err(None),
                    Err(JobError::Failed(why)) => Err(Some(why)),
                };
                let _ = context.tx.send(JobMsg::Finished { id, result });
            })?;
        self.running.insert(id, Running { cancel, thread });
        Ok(id)
    }

    /// Asks job `id` to stop; returns false if it is not running.
    pub fn cancel(&self, id: JobId) -> bool {
        self.running
            .get(&id)
            .map(|r| r.cancel.store(true, Ordering::Relaxed))
            .is_some()
    }

    /// Forgets a finished job and joins its thread (it has already sent `Finished`).
    pub fn finished(&mut self, id: JobId) {
        if let Some(running) = self.running.remove(&id) {
            let _ = running.thread.join();
        }
    }

    /// Number of jobs still running.
    pub fn running(&self) -> usize {
        self.running.len()
    }
}

impl<T> Drop for JobRunner<T> {
    fn drop(&mut self) {
        for running in self.running.values() {
            running.cancel.store(true, Ordering::Relaxed);
        }
        for (_, running) in self.running.drain() {
            let _ = running.thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn job_reports_progress_then_result() {
        let (tx, rx) = crossbeam_channel::bounded(64);
        let mut runner = JobRunner::new(tx);
        let id = runner
            .spawn("count", |ctx| {
                for i in 0..4 {
                    ctx.progress(i as f32 / 4.0, format!("step {i}"));
                }
                Ok(42)
            })
            .unwrap();
        let mut fractions = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
                JobMsg::Progress { fraction, .. } => fractions.push(fraction),
                JobMsg::Partial { .. } => panic!("this job sends no interim results"),
                JobMsg::Finished { id: done, result } => {
                    assert_eq!(done, id);
                    assert_eq!(result, Ok(42));
                    break;
                }
            }
        }
        assert_eq!(fractions, [0.0, 0.25, 0.5, 0.75]);
        runner.finished(id);
        assert_eq!(runner.running(), 0);
    }

    #[test]
    fn cancelled_job_stops_and_says_so() {
        let (tx, rx) = crossbeam_channel::bounded(1024);
        let mut runner = JobRunner::<()>::new(tx);
        let id = runner
            .spawn("forever", |ctx| {
                loop {
                    ctx.check_cancelled()?;
                    ctx.progress(0.5, "working");
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
            .unwrap();
        // Wait until it runs, then cancel.
        assert!(matches!(
            rx.recv_timeout(Duration::from_secs(10)).unwrap(),
            JobMsg::Progress { .. }
        ));
        assert!(runner.cancel(id));
        let result = loop {
            if let JobMsg::Finished { result, .. } =
                rx.recv_timeout(Duration::from_secs(10)).unwrap()
            {
                break result;
            }
        };
        assert_eq!(result, Err(None));
        runner.finished(id);
        assert!(
            !runner.cancel(id),
            "a finished job can no longer be cancelled"
        );
    }
}
