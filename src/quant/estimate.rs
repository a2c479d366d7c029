//! What a model costs on each of the book's kits: latency from multiply-accumulates, RAM from the
//! tensor arena and the DSP's buffers, flash from the weights and the code — estimates, stated as
//! such, with where each figure comes from.
//!
//! Method. Latency = MACs × nanoseconds per MAC of the target + a fixed cost per operator. The
//! int8 figure per target is fitted to the one measurement the book makes of the same model on
//! several boards (§1.3 of `shared/reference/book-labs.md`: MobileNetV2 96×96 α 0.1 as an Arduino
//! library, 86 ms on the Nicla Vision's Cortex-M7 at 480 MHz, 142 ms on the XIAO ESP32S3's LX7 at
//! 240 MHz, 11 ms on a Raspberry Pi Zero 2 W) with that model's MAC count as TinyLab computes it.
//! Targets the book never timed are scaled from a timed one by clock and a stated per-MHz factor.
//! Float32 is a multiple of int8 per target, from the kernels each runs (CMSIS-NN / ESP-NN int8
//! SIMD against scalar FPU code). README compares these estimates with the book's other measured
//! latencies (KWS, motion, FOMO) and with the instructions TinyLab's own C library executes per
//! inference on an emulated Cortex-M4F/M7 (`tests/cortex_m.rs`); `METHOD` states that cross-check.
//!
//! RAM = tensor arena (peak of live activations) + the DSP block's working buffers + a fixed
//! interpreter overhead; flash = weights and biases + the code of the kernels used + a fixed
//! runtime. Both are compared with each kit's memory to say whether the model fits.

use serde::{Deserialize, Serialize};

/// MACs per inference of MobileNetV2 96×96×3 α 0.1 with the Nicla lab's head (dense 12, three
/// classes), as `Model::summary` counts them (`tests/quant_estimate.rs` checks this constant
/// against the preset, so a change in the preset or the counting shows up).
pub const MOBILENETV2_01_MACS: u64 = 4_676_964;

/// TFLite operators of that model once lowered (convolutions, depthwise convolutions, adds,
/// mean, fully connected layers, softmax; batch norms folded, activations fused).
pub const MOBILENETV2_01_OPERATORS: usize = 67;

/// A kit the book's labs run on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Short id (`nicla`, `xiao`, `nano33`, `pi-zero2`, `pi4`).
    pub id: String,
    /// The board's name.
    pub name: String,
    /// Its processor.
    pub cpu: String,
    /// Clock of the core that runs the model.
    pub clock_mhz: f64,
    /// RAM available to the application.
    pub ram_bytes: u64,
    /// Flash available to the application.
    pub flash_bytes: u64,
    /// int8 inference: nanoseconds per multiply-accumulate.
    pub int8_ns_per_mac: f64,
    /// float32 inference is this many times slower than int8.
    pub float_slowdown: f64,
    /// Fixed cost per operator (dispatch, requantization set-up), microseconds.
    pub per_op_us: f64,
    /// Where `int8_ns_per_mac` comes from, in words.
    pub basis: String,
    /// The book's measured latency of MobileNetV2 96×96 α 0.1 on this kit, if it has one.
    pub book_mobilenet_ms: Option<f64>,
}

/// One model on one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetEstimate {
    /// The target's id.
    pub target: String,
    /// The target's name.
    pub name: String,
    /// Estimated float32 inference time.
    pub float_ms: f64,
    /// Estimated int8 inference time.
    pub int8_ms: f64,
    /// Estimated RAM of the int8 model (arena + DSP + runtime).
    pub ram_bytes: u64,
    /// Estimated flash of the int8 model (weights + code + runtime).
    pub flash_bytes: u64,
    /// Whether both fit the kit's memory.
    pub fits: bool,
}

/// What the estimate needs to know about a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCost {
    /// Multiply-accumulates per inference.
    pub macs: u64,
    /// Operators per inference.
    pub operators: usize,
    /// Distinct operator kinds (each brings its kernel's code).
    pub operator_kinds: usize,
    /// Peak bytes of live activation tensors (int8).
    pub arena_bytes: u64,
    /// Bytes of int8 weights and int32 biases.
    pub weights_bytes: u64,
    /// Bytes the DSP block needs per window (input window, frames, FFT buffers, features).
    pub dsp_bytes: u64,
}

/// Interpreter bookkeeping beside the arena (TFLM's tensor and node structs, roughly 1 KB plus
/// ~100 bytes per tensor; a flat allowance keeps the estimate simple).
const RUNTIME_RAM_BYTES: u64 = 2 * 1024;
/// The runtime's own code (TFLM's interpreter core, ~10 KB on Cortex-M with -Os).
const RUNTIME_FLASH_BYTES: u64 = 10 * 1024;
/// Code per kernel kind (CMSIS-NN conv/depthwise/FC kernels are 2–6 KB each with -Os).
const KERNEL_FLASH_BYTES: u64 = 4 * 1024;

/// The book's kits, with the figures and their sources (see the module doc).
pub fn targets() -> Vec<Target> {
    let macs = MOBILENETV2_01_MACS.max(1) as f64;
    let operators = MOBILENETV2_01_OPERATORS as f64;
    // ns per MAC fitted to a book measurement: what the operators' fixed costs leave of the
    // measured milliseconds, per MAC.
    let fitted = |ms: f64, per_op_us: f64| (ms - operators * per_op_us / 1e3).max(0.0) * 1e6 / macs;
    let nicla = fitted(86.0, 20.0);
    vec![
        Target {
            id: "nicla".into(),
            name: "Arduino Nicla Vision".into(),
            cpu: "Cortex-M7 @ 480 MHz".into(),
            clock_mhz: 480.0,
            ram_bytes: 512 * 1024,
            flash_bytes: 2 * 1024 * 1024,
            int8_ns_per_mac: nicla,
            // CMSIS-NN int8 kernels retire two MACs per SMLAD; float32 runs one scalar FMA per MAC
            // plus loads, about 3× slower on the M7.
            float_slowdown: 3.0,
            per_op_us: 20.0,
            basis: "fitted to the book's 86 ms for MobileNetV2 96×96 α 0.1 (Arduino library)"
                .into(),
            book_mobilenet_ms: Some(86.0),
        },
        Target {
            id: "xiao".into(),
            name: "Seeed XIAO ESP32S3 (XIAOML Kit)".into(),
            cpu: "Xtensa LX7 @ 240 MHz".into(),
            clock_mhz: 240.0,
            ram_bytes: 512 * 1024,
            flash_bytes: 8 * 1024 * 1024,
            int8_ns_per_mac: fitted(142.0, 40.0),
            // ESP-NN's int8 kernels use the S3's 128-bit SIMD; float32 is scalar (single FPU).
            float_slowdown: 5.0,
            per_op_us: 40.0,
            basis: "fitted to the book's 142 ms for MobileNetV2 96×96 α 0.1 (Arduino library)"
                .into(),
            book_mobilenet_ms: Some(142.0),
        },
        Target {
            id: "nano33".into(),
            name: "Arduino Nano 33 BLE Sense".into(),
            cpu: "Cortex-M4F @ 64 MHz".into(),
            clock_mhz: 64.0,
            ram_bytes: 256 * 1024,
            flash_bytes: 1024 * 1024,
            // Not timed in the book: the Nicla's cycles per MAC, 1.6× for the M4's single-issue
            // pipeline (the M7 dual-issues loads with SMLADs), at 64 MHz.
            int8_ns_per_mac: nicla * (480.0 / 64.0) * 1.6,
            float_slowdown: 3.0,
            per_op_us: 150.0,
            basis: "scaled from the Nicla figure: × 480/64 MHz × 1.6 (M4 single issue)".into(),
            book_mobilenet_ms: None,
        },
        Target {
            id: "pi-zero2".into(),
            name: "Raspberry Pi Zero 2 W".into(),
            cpu: "4× Cortex-A53 @ 1 GHz".into(),
            clock_mhz: 1000.0,
            ram_bytes: 512 * 1024 * 1024,
            flash_bytes: 32 * 1024 * 1024 * 1024,
            int8_ns_per_mac: fitted(11.0, 5.0),
            // LiteRT on NEON (XNNPACK): float32 is about 1.5× int8 on the A53.
            float_slowdown: 1.5,
            per_op_us: 5.0,
            basis: "fitted to the book's 11 ms for MobileNetV2 96×96 α 0.1 (LiteRT)".into(),
            book_mobilenet_ms: Some(11.0),
        },
        Target {
            id: "pi4".into(),
            name: "Raspberry Pi 4".into(),
            cpu: "4× Cortex-A72 @ 1.5 GHz".into(),
            clock_mhz: 1500.0,
            ram_bytes: 2 * 1024 * 1024 * 1024,
            flash_bytes: 32 * 1024 * 1024 * 1024,
            // Not timed in the book on this model: the Zero 2 W's figure × 1000/1500 MHz, ÷ 2 for
            // the A72's wider out-of-order NEON pipeline.
            int8_ns_per_mac: fitted(11.0, 5.0) * (1000.0 / 1500.0) / 2.0,
            float_slowdown: 1.5,
            per_op_us: 3.0,
            basis: "scaled from the Pi Zero 2 W: × 1000/1500 MHz ÷ 2 (A72 vs A53 per clock)".into(),
            book_mobilenet_ms: None,
        },
    ]
}

/// Estimates `cost` on every target.
pub fn estimate(cost: &ModelCost) -> Vec<TargetEstimate> {
    targets()
        .iter()
        .map(|target| estimate_on(cost, target))
        .collect()
}

/// Estimates `cost` on one target.
pub fn estimate_on(cost: &ModelCost, target: &Target) -> TargetEstimate {
    let compute_ms = cost.macs as f64 * target.int8_ns_per_mac / 1e6;
    let overhead_ms = cost.operators as f64 * target.per_op_us / 1e3;
    let ram_bytes = cost.arena_bytes + cost.dsp_bytes + RUNTIME_RAM_BYTES;
    let flash_bytes =
        cost.weights_bytes + cost.operator_kinds as u64 * KERNEL_FLASH_BYTES + RUNTIME_FLASH_BYTES;
    TargetEstimate {
        target: target.id.clone(),
        name: target.name.clone(),
        float_ms: compute_ms * target.float_slowdown + overhead_ms,
        int8_ms: compute_ms + overhead_ms,
        ram_bytes,
        flash_bytes,
        fits: ram_bytes <= target.ram_bytes && flash_bytes <= target.flash_bytes,
    }
}

/// The method in one paragraph, for the Optimize panel and `tinylab quantize`.
pub const METHOD: &str = "Latency = MACs × a per-kit time per MAC + a fixed cost per operator. \
    The int8 time per MAC is fitted to the book's measured latency of MobileNetV2 96×96 α 0.1 on \
    the Nicla Vision (86 ms), the XIAO ESP32S3 (142 ms) and the Raspberry Pi Zero 2 W (11 ms); \
    the Nano 33 BLE and the Pi 4 are scaled from those by clock and pipeline. float32 is a per-kit \
    multiple of int8. RAM = tensor arena + DSP buffers + 2 KB runtime; flash = weights + 4 KB per \
    kernel kind + 10 KB runtime. Estimates, not measurements. Cross-checked with TinyLab's C \
    library under QEMU (instructions counted, 1 cycle per instruction assumed): the KWS demo's \
    int8 model (25,720 MACs) takes 463,000 instructions on a Cortex-M4F, 7.2 ms at the Nano's \
    64 MHz against 6.8 ms estimated; on the Nicla's M7 452,000, 0.94 ms against 0.63 ms.";
