//! The Optimize panel's estimates: the fitted figures reproduce the book's measurements they
//! were fitted to, and the MAC count they rest on is the preset's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests fail by panicking

use tinylab::models::preset;
use tinylab::nn::Model;
use tinylab::quant::estimate::{self, MOBILENETV2_01_MACS, MOBILENETV2_01_OPERATORS, ModelCost};

/// The Nicla lab's MobileNetV2 96×96 α 0.1 (three classes), as the book benchmarks it.
fn mobilenet() -> Model {
    let body = preset("mobilenetv2-0.1").unwrap().layers;
    Model::classifier(&[96, 96, 3], &body, 3, 0).unwrap()
}

#[test]
fn the_fitted_constant_is_the_presets_mac_count() {
    let macs: u64 = mobilenet().summary().unwrap().iter().map(|l| l.macs).sum();
    println!("MobileNetV2 96 α0.1: {macs} MACs");
    assert_eq!(macs, MOBILENETV2_01_MACS);
}

#[test]
fn estimates_reproduce_the_measurements_they_were_fitted_to() {
    let cost = ModelCost {
        macs: MOBILENETV2_01_MACS,
        operators: MOBILENETV2_01_OPERATORS,
        operator_kinds: 6,
        arena_bytes: 0,
        weights_bytes: 0,
        dsp_bytes: 0,
    };
    for target in estimate::targets() {
        let e = estimate::estimate_on(&cost, &target);
        if let Some(book) = target.book_mobilenet_ms {
            assert!(
                (e.int8_ms - book).abs() < 0.01 * book,
                "{}: {} vs {book}",
                target.id,
                e.int8_ms
            );
        }
        assert!(e.float_ms > e.int8_ms);
    }
}

/// The operator count the fit assumes is the lowered graph's, and the graph's MACs are the
/// layer model's.
#[test]
fn the_fit_rests_on_the_lowered_graph() {
    let graph = tinylab::quant::lower::lower_float(&mobilenet(), "mobilenet").unwrap();
    let stats = tinylab::quant::stats::graph_stats(&graph).unwrap();
    assert_eq!(stats.operators, MOBILENETV2_01_OPERATORS);
    assert_eq!(stats.macs, MOBILENETV2_01_MACS);
}
