//! Speed of the foundation's hot paths: decoding serial lines, reading and writing sample CSVs,
//! saving samples into a project, and simulating the motion board.
//!
//! `cargo bench --bench foundation` prints one line per measurement (the README quotes them).
//! Run without the `--bench` argument (the binary in `target/*/deps/`), each case runs once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a bench may panic

#[path = "common/mod.rs"]
mod common;

use common::best_of;
use std::hint::black_box;
use std::time::Duration;
use tinylab::devices::forwarder::{Decoder, StreamFormat};
use tinylab::project::formats::csv;
use tinylab::project::sample::{Series, Split};
use tinylab::project::{NewSample, Project};
use tinylab::sim::motion::{Motion, synthesize};

fn main() {
    let (_, budget) = common::mode();

    // Serial decoding: one second of a 50 Hz board is 50 lines; this is 100,000 lines.
    let lines: Vec<String> = synthesize(Motion::Maritime, 50.0, 2000.0, 1)
        .chunks(3)
        .map(|r| format!("{:.2}\t{:.2}\t{:.2}", r[0], r[1], r[2]))
        .collect();
    let format = StreamFormat {
        axes: vec!["accX".into(), "accY".into(), "accZ".into()],
        rate_hz: 50.0,
    };
    let t = best_of(budget, || {
        let mut decoder = Decoder::with_format(format.clone());
        for (i, line) in lines.iter().enumerate() {
            black_box(decoder.feed(line, i as f64 / 50.0));
        }
    });
    report(
        "decode data-forwarder lines",
        lines.len() as f64 / t.as_secs_f64(),
        "lines/s",
        t,
    );

    // Sample files: a 10 s, 50 Hz sample (the motion lab's) written and read back.
    let tmp = std::env::temp_dir().join(format!("tinylab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let series = Series {
        axes: format.axes.clone(),
        rate_hz: 50.0,
        values: synthesize(Motion::Lift, 50.0, 10.0, 2),
    };
    let path = tmp.join("s.csv");
    let t = best_of(budget, || csv::write_series(&path, &series).unwrap());
    report(
        "write a 10 s sample CSV (atomic, fsync)",
        1.0 / t.as_secs_f64(),
        "files/s",
        t,
    );
    let t = best_of(budget, || {
        black_box(csv::read_series(&path, None).unwrap());
    });
    report(
        "read a 10 s sample CSV",
        1.0 / t.as_secs_f64(),
        "files/s",
        t,
    );

    // Project: add 100 samples at once (what an import does), index written once.
    let mut round = 0;
    let t = best_of(budget, || {
        round += 1;
        let dir = tmp.join(format!("p{round}"));
        let mut project = Project::create(&dir, &tinylab::labs::lab("motion").unwrap()).unwrap();
        let samples = (0..100)
            .map(|_| NewSample {
                series: series.clone(),
                label: "lift".into(),
                split: Split::Train,
                source: "bench".into(),
                image: None,
                boxes: Vec::new(),
            })
            .collect();
        project.add_many(samples).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    });
    report(
        "add 100 samples to a project",
        100.0 / t.as_secs_f64(),
        "samples/s",
        t,
    );

    // Simulation: readings per second of simulated board time.
    let t = best_of(budget, || {
        black_box(synthesize(Motion::Terrestrial, 50.0, 600.0, 3));
    });
    report(
        "simulate 10 min of the 50 Hz motion board",
        30_000.0 / t.as_secs_f64(),
        "readings/s",
        t,
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

fn report(what: &str, rate: f64, unit: &str, best: Duration) {
    println!(
        "{what:<45} {rate:>14.0} {unit:<11} (best run {:.3} ms)",
        best.as_secs_f64() * 1e3
    );
}
