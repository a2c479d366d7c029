//! Speed of TinyLab's TensorFlow Lite side (README, "Quantization and export"): one inference
//! with the reference kernels (one thread) on TFLM's person detector (int8, 96×96×1, read from
//! `../shared/reference/tflm-models/`) and on the MobileNetV2 96×96 α 0.1 preset lowered to
//! float32 and quantized to int8; the quantization itself (calibration on 50 windows); writing
//! and reading the `.tflite`. Best of runs over 2 s each under `cargo bench --bench quant`; one
//! run each otherwise (a smoke test).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a bench may panic

#[path = "common/mod.rs"]
mod common;

use common::{best_of, mode};
use std::path::Path;
use tinylab::nn::Model;
use tinylab::quant::interpreter::{Runner, TensorData};
use tinylab::quant::ptq::{PtqOptions, quantize};
use tinylab::quant::{lower, stats::graph_stats};
use tinylab::rng::Rng;

fn main() {
    let (_, budget) = mode();
    let report = |what: &str, d: std::time::Duration| {
        println!("{what:<58} {:>10.3} ms", d.as_secs_f64() * 1e3);
    };
    let person = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/tflm-models/person_detect.tflite");
    let graph = tinylab::export::tflite::read(&std::fs::read(person).unwrap()).unwrap();
    let runner = Runner::new(&graph).unwrap();
    let input = [TensorData::I8(vec![0; 96 * 96])];
    let macs = graph_stats(&graph).unwrap().macs;
    report(
        &format!(
            "person_detect int8 inference ({:.1} M MACs)",
            macs as f64 / 1e6
        ),
        best_of(budget, || {
            runner.invoke(&input).unwrap();
        }),
    );

    let preset = tinylab::models::preset("mobilenetv2-0.1").unwrap();
    let model = Model::classifier(&[96, 96, 3], &preset.layers, 3, 1).unwrap();
    let float = lower::lower_float(&model, "bench").unwrap();
    let mut rng = Rng::new(5);
    let windows: Vec<Vec<f32>> = (0..50)
        .map(|_| {
            (0..96 * 96 * 3)
                .map(|_| rng.range((0.0, 1.0)) as f32)
                .collect()
        })
        .collect();
    let options = PtqOptions {
        per_channel: true,
        percentile: None,
    };
    let int8 = quantize(&float, &windows, options).unwrap();
    let macs = graph_stats(&float).unwrap().macs;
    let float_runner = Runner::new(&float).unwrap();
    let float_input = [TensorData::F32(windows[0].clone())];
    report(
        &format!(
            "MobileNetV2 96x96 a0.1 float32 inference ({:.1} M MACs)",
            macs as f64 / 1e6
        ),
        best_of(budget, || {
            float_runner.invoke(&float_input).unwrap();
        }),
    );
    let int8_runner = Runner::new(&int8).unwrap();
    let int8_input = [TensorData::I8(vec![0; 96 * 96 * 3])];
    report(
        "MobileNetV2 96x96 a0.1 int8 inference",
        best_of(budget, || {
            int8_runner.invoke(&int8_input).unwrap();
        }),
    );
    report(
        "MobileNetV2 quantization, 50 calibration windows",
        best_of(budget, || {
            quantize(&float, &windows, options).unwrap();
        }),
    );
    let bytes = tinylab::export::tflite::write(&int8).unwrap();
    report(
        &format!("MobileNetV2 int8 .tflite write ({} bytes)", bytes.len()),
        best_of(budget, || {
            tinylab::export::tflite::write(&int8).unwrap();
        }),
    );
    report(
        "MobileNetV2 int8 .tflite read",
        best_of(budget, || {
            tinylab::export::tflite::read(&bytes).unwrap();
        }),
    );
}
