//! A lab's guided steps and their check marks, computed from the project's real state.
//!
//! Each `labs/<id>/lab.toml` lists `[[steps]]`: what to do and why, the panel where it happens,
//! and an optional typed [`Check`] (`check = { kind = "samples_per_class", split = "train",
//! at_least = 10 }`). Checks are evaluated on a [`LabState`] — a snapshot of the dataset, the
//! features, the latest run and its int8 comparison — which the window builds from what the
//! engine told it and `tinylab check` builds from the files, so both show the same marks.
//! Pure: no IO.

use crate::project::{DatasetSummary, SplitCounts};
use serde::{Deserialize, Serialize};

/// The panel a step happens in (the window maps it to its tab).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Panel {
    /// The Lab panel.
    Lab,
    /// Capture.
    Capture,
    /// Dataset.
    Dataset,
    /// Features.
    Features,
    /// Train.
    Train,
    /// Evaluate.
    Evaluate,
    /// Optimize.
    Optimize,
    /// Deploy.
    Deploy,
}

/// Which split a count looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SplitScope {
    /// The train split.
    #[default]
    Train,
    /// The test split.
    Test,
    /// Both.
    Any,
}

/// Something the project must satisfy for a step to be done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Every one of the lab's classes has at least `at_least` samples in `split`.
    SamplesPerClass {
        /// Where to count.
        #[serde(default)]
        split: SplitScope,
        /// Samples wanted per class.
        at_least: usize,
    },
    /// Every one of the lab's classes has at least `at_least_s` seconds in `split`.
    SecondsPerClass {
        /// Where to count.
        #[serde(default)]
        split: SplitScope,
        /// Seconds wanted per class.
        at_least_s: f64,
    },
    /// The test split holds at least this share of all samples (and at least one per class).
    TestSplit {
        /// Share of the samples, 0–1.
        at_least_share: f64,
    },
    /// Features were generated with the project's current block and window settings.
    FeaturesCurrent,
    /// A model was trained.
    Trained,
    /// The latest run's validation accuracy (0–1) reaches `at_least`.
    ValidationAccuracy {
        /// Accuracy wanted, 0–1.
        at_least: f64,
    },
    /// The latest run's test accuracy (0–1) reaches `at_least`.
    TestAccuracy {
        /// Accuracy wanted, 0–1.
        at_least: f64,
    },
    /// The latest run was quantized and int8 loses at most `points` percentage points.
    Int8Within {
        /// Allowed accuracy loss in percentage points.
        points: f64,
    },
    /// The latest run's model was deployed to a board (`tinylab deploy` or the Deploy panel).
    Deployed,
}

/// One step of a lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Short imperative title ("Record 10 samples of each motion").
    pub title: String,
    /// What to do and why, in a few sentences.
    pub text: String,
    /// Where it happens.
    pub panel: Panel,
    /// When it counts as done; `None`: a step to read, always done.
    #[serde(default)]
    pub check: Option<Check>,
}

/// What the checks look at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabState {
    /// The lab's classes.
    pub labels: Vec<String>,
    /// Samples and seconds per label and split.
    pub dataset: DatasetSummary,
    /// Features exist for the current settings.
    pub features_current: bool,
    /// The latest run, if any.
    pub run: Option<RunState>,
}

/// The latest run's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunState {
    /// Its id.
    pub id: String,
    /// Validation accuracy of the last epoch, 0–1.
    pub validation_accuracy: Option<f64>,
    /// Test accuracy at the confidence threshold, 0–1.
    pub test_accuracy: Option<f64>,
    /// float32 and int8 accuracy (0–1) of its quantization, if quantized.
    pub quantized: Option<(f64, f64)>,
    /// Where its model was deployed, oldest first.
    pub deployed_to: Vec<String>,
}

/// A check's verdict and a line saying where the project stands.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    /// Done.
    pub passed: bool,
    /// E.g. "idle 12, lift 8 of 10".
    pub detail: String,
}

impl Check {
    /// Evaluates the check on `state`.
    pub fn evaluate(&self, state: &LabState) -> CheckResult {
        match self {
            Check::SamplesPerClass { split, at_least } => per_class(state, *split, |c, s| {
                let n = count(c, s) as f64;
                (n >= *at_least as f64, format!("{n:.0}/{at_least}"))
            }),
            Check::SecondsPerClass { split, at_least_s } => per_class(state, *split, |c, s| {
                let seconds = seconds(c, s);
                (
                    seconds >= *at_least_s,
                    format!("{seconds:.0}/{at_least_s:.0} s"),
                )
            }),
            Check::TestSplit { at_least_share } => {
                let total = state.dataset.samples.max(1) as f64;
                let test: usize = state
                    .dataset
                    .by_label
                    .values()
                    .map(|c| c.test_samples)
                    .sum();
                let missing: Vec<&str> = state
                    .labels
                    .iter()
                    .filter(|l| {
                        state
                            .dataset
                            .by_label
                            .get(*l)
                            .is_none_or(|c| c.test_samples == 0)
                    })
                    .map(String::as_str)
                    .collect();
                let share = test as f64 / total;
                let mut detail = format!(
                    "{test} test samples, {:.0} % of {} (want {:.0} %)",
                    share * 100.0,
                    state.dataset.samples,
                    at_least_share * 100.0
                );
                if !missing.is_empty() {
                    detail.push_str(&format!("; none yet for {}", missing.join(", ")));
                }
                CheckResult {
                    passed: share >= *at_least_share && missing.is_empty(),
                    detail,
                }
            }
            Check::FeaturesCurrent => CheckResult {
                passed: state.features_current,
                detail: if state.features_current {
                    "generated with the current settings".into()
                } else {
                    "not generated for the current settings".into()
                },
            },
            Check::Trained => match &state.run {
                Some(run) => pass(format!("{} trained", run.id)),
                None => fail("no run yet"),
            },
            Check::ValidationAccuracy { at_least } => accuracy(
                state.run.as_ref().and_then(|r| r.validation_accuracy),
                *at_least,
                "validation",
            ),
            Check::TestAccuracy { at_least } => accuracy(
                state.run.as_ref().and_then(|r| r.test_accuracy),
                *at_least,
                "test",
            ),
            Check::Int8Within { points } => match state.run.as_ref().and_then(|r| r.quantized) {
                Some((float, int8)) => {
                    let lost = (float - int8) * 100.0;
                    CheckResult {
                        passed: lost <= *points,
                        detail: format!(
                            "int8 {:.1} % vs float32 {:.1} % ({:+.1} points, allowed −{points})",
                            int8 * 100.0,
                            float * 100.0,
                            -lost
                        ),
                    }
                }
                None => fail("not quantized yet"),
            },
            Check::Deployed => match state.run.as_ref().and_then(|r| r.deployed_to.last()) {
                Some(target) => pass(format!("deployed to {target}")),
                None => fail("not deployed yet"),
            },
        }
    }

    /// Checks the thresholds make sense; `Err` says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let fraction = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be between 0 and 1 (a share), got {v}"))
            }
        };
        match self {
            Check::SamplesPerClass { at_least, .. } if *at_least == 0 => {
                Err("at_least must be 1 or more".into())
            }
            Check::SecondsPerClass { at_least_s, .. }
                if at_least_s.is_nan() || *at_least_s <= 0.0 =>
            {
                Err("at_least_s must be positive".into())
            }
            Check::TestSplit { at_least_share } => fraction("at_least_share", *at_least_share),
            Check::ValidationAccuracy { at_least } | Check::TestAccuracy { at_least } => {
                fraction("at_least", *at_least)
            }
            Check::Int8Within { points } if points.is_nan() || *points < 0.0 => {
                Err("points must be 0 or more".into())
            }
            _ => Ok(()),
        }
    }
}

fn pass(detail: String) -> CheckResult {
    CheckResult {
        passed: true,
        detail,
    }
}

fn fail(detail: &str) -> CheckResult {
    CheckResult {
        passed: false,
        detail: detail.into(),
    }
}

fn count(counts: &SplitCounts, split: SplitScope) -> usize {
    match split {
        SplitScope::Train => counts.train_samples,
        SplitScope::Test => counts.test_samples,
        SplitScope::Any => counts.train_samples + counts.test_samples,
    }
}

fn seconds(counts: &SplitCounts, split: SplitScope) -> f64 {
    match split {
        SplitScope::Train => counts.train_seconds,
        SplitScope::Test => counts.test_seconds,
        SplitScope::Any => counts.train_seconds + counts.test_seconds,
    }
}

/// Every lab class must pass `test`; the detail lists each class's figure.
fn per_class(
    state: &LabState,
    split: SplitScope,
    test: impl Fn(&SplitCounts, SplitScope) -> (bool, String),
) -> CheckResult {
    let empty = SplitCounts::default();
    let mut passed = !state.labels.is_empty();
    let mut parts = Vec::new();
    for label in &state.labels {
        let counts = state.dataset.by_label.get(label).unwrap_or(&empty);
        let (ok, figure) = test(counts, split);
        passed &= ok;
        parts.push(format!("{label} {figure}"));
    }
    CheckResult {
        passed,
        detail: parts.join(", "),
    }
}

fn accuracy(value: Option<f64>, wanted: f64, what: &str) -> CheckResult {
    match value {
        Some(v) => CheckResult {
            passed: v >= wanted,
            detail: format!(
                "{what} accuracy {:.1} % (want {:.1} %)",
                v * 100.0,
                wanted * 100.0
            ),
        },
        None => fail(&format!("no {what} accuracy yet")),
    }
}

/// Each step with its verdict, and how many are done.
///
/// A step without a check (connecting the kit, exporting) is the student's to tick: it is never
/// shown as passed, and `done` and `total` count the checked steps only.
pub fn evaluate_steps(
    steps: &[Step],
    state: &LabState,
) -> (Vec<Option<CheckResult>>, usize, usize) {
    let results: Vec<Option<CheckResult>> = steps
        .iter()
        .map(|step| step.check.as_ref().map(|check| check.evaluate(state)))
        .collect();
    let done = results.iter().flatten().filter(|r| r.passed).count();
    let total = results.iter().flatten().count();
    (results, done, total)
}
