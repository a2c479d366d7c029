//! The board-output parser against every inference line format of book-labs.md §1.4: each
//! block as the book prints it, with the result written out by hand from the book's text (not
//! from the parser), then all blocks at once split at random byte boundaries and mixed with
//! garbage lines and invalid UTF-8 — the results must not change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use tinylab::devices::board_output::{
    BoardBox, BoardOutputParser, BoardResult, BoardTiming, ClassScore, OutputFormat,
};
use tinylab::rng::Rng;

fn class(label: &str, score: f32) -> ClassScore {
    ClassScore {
        label: label.to_owned(),
        score,
    }
}

fn bbox(label: &str, score: f32, xywh: [f32; 4]) -> BoardBox {
    let [x_px, y_px, width_px, height_px] = xywh;
    BoardBox {
        label: label.to_owned(),
        score,
        x_px,
        y_px,
        width_px,
        height_px,
    }
}

fn timing(
    dsp: Option<f64>,
    nn: Option<f64>,
    anomaly: Option<f64>,
    post: Option<f64>,
) -> BoardTiming {
    BoardTiming {
        dsp_ms: dsp,
        classification_ms: nn,
        anomaly_ms: anomaly,
        postprocess_ms: post,
    }
}

fn result(format: OutputFormat) -> BoardResult {
    BoardResult {
        format: Some(format),
        ..BoardResult::default()
    }
}

/// Every block the book shows, each followed by a line that ends it (what the board prints next).
fn cases() -> Vec<(&'static str, BoardResult)> {
    use OutputFormat::*;
    vec![
        (
            // Edge Impulse classification with the anomaly build (Nicla motion).
            "Predictions (DSP: 22 ms., Classification: 5 ms., Anomaly: 0 ms.): \r\n    idle: 0.996094\r\n    lift: 0.000000\r\n    maritime: 0.003906\r\n    terrestrial: 0.000000\r\n    anomaly score: -0.135\r\n",
            BoardResult {
                classes: vec![
                    class("idle", 0.996094),
                    class("lift", 0.0),
                    class("maritime", 0.003906),
                    class("terrestrial", 0.0),
                ],
                anomaly: Some(-0.135),
                timing: timing(Some(22.0), Some(5.0), Some(0.0), None),
                ..result(EdgeImpulse)
            },
        ),
        (
            // KWS continuous.
            "Predictions (DSP: 22 ms., Classification: 5 ms., Anomaly: 0 ms.):\n    no: 0.00000\n    noise: 0.00391\n    unknown: 0.00000\n    yes: 0.99609\n  PREDICTION: ==> yes with probability 0.99\n",
            BoardResult {
                classes: vec![
                    class("no", 0.0),
                    class("noise", 0.00391),
                    class("unknown", 0.0),
                    class("yes", 0.99609),
                ],
                prediction: Some("yes".to_owned()),
                timing: timing(Some(22.0), Some(5.0), Some(0.0), None),
                ..result(EdgeImpulse)
            },
        ),
        (
            // FOMO on Arduino (XIAO), with the newer SDK's section header.
            "Predictions (DSP: 4 ms., Classification: 143 ms., Anomaly: 0 ms.):\n#Object detection results:\n    fruit (0.582031) [ x: 48, y: 32, width: 8, height: 8 ]\n    bug (0.9) [ x: 16, y: 64, width: 16, height: 8 ]\n",
            BoardResult {
                boxes: vec![
                    bbox("fruit", 0.582031, [48.0, 32.0, 8.0, 8.0]),
                    bbox("bug", 0.9, [16.0, 64.0, 16.0, 8.0]),
                ],
                detection: true,
                timing: timing(Some(4.0), Some(143.0), Some(0.0), None),
                ..result(EdgeImpulse)
            },
        ),
        (
            "Predictions (DSP: 4 ms., Classification: 143 ms., Anomaly: 0 ms.):\n    No objects found\n",
            BoardResult {
                detection: true,
                timing: timing(Some(4.0), Some(143.0), Some(0.0), None),
                ..result(EdgeImpulse)
            },
        ),
        (
            // XIAOML Kit motion inference.
            "Predictions (DSP: 11 ms, Classification: 0 ms, Anomaly: 0 ms):\n    idle: 0.93359\n    lift: 0.02344\n    maritime: 0.03906\n    terrestrial: 0.00391\nAnomaly score: 1.356\n🎯 PREDICTION: idle (93.4% confidence)\n⚠️ ANOMALY DETECTED! Score: 1.356\n",
            BoardResult {
                classes: vec![
                    class("idle", 0.93359),
                    class("lift", 0.02344),
                    class("maritime", 0.03906),
                    class("terrestrial", 0.00391),
                ],
                anomaly: Some(1.356),
                prediction: Some("idle".to_owned()),
                timing: timing(Some(11.0), Some(0.0), Some(0.0), None),
                ..result(EdgeImpulse)
            },
        ),
        (
            "Predictions (DSP: 11 ms, Classification: 0 ms, Anomaly: 0 ms):\n    idle: 0.45\n    lift: 0.40\n    maritime: 0.10\n    terrestrial: 0.05\nAnomaly score: -0.2\n❓ UNCERTAIN: Highest confidence is idle (45.0%)\n",
            BoardResult {
                classes: vec![
                    class("idle", 0.45),
                    class("lift", 0.40),
                    class("maritime", 0.10),
                    class("terrestrial", 0.05),
                ],
                anomaly: Some(-0.2),
                prediction: Some("uncertain".to_owned()),
                timing: timing(Some(11.0), Some(0.0), Some(0.0), None),
                ..result(EdgeImpulse)
            },
        ),
        (
            // SenseCraft detection (labels: background, box, wheel → class 0 = background).
            "perf:{\"preprocess\":80,\"inference\":205,\"postprocess\":0}\nboxes: [[245,292,449,392,89,0]]\n",
            BoardResult {
                boxes: vec![bbox("background", 0.89, [245.0, 292.0, 449.0, 392.0])],
                detection: true,
                timing: timing(Some(80.0), Some(205.0), None, Some(0.0)),
                ..result(SenseCraft)
            },
        ),
        (
            // SenseCraft classification.
            "perf:{\"preprocess\":1,\"inference\":5,\"postprocess\":0}\n[99, 1]\n",
            BoardResult {
                classes: vec![class("box", 0.99)],
                timing: timing(Some(1.0), Some(5.0), None, Some(0.0)),
                ..result(SenseCraft)
            },
        ),
        (
            // SSCMA on a XIAO host (the example's misspellings).
            "invoke success\nperf: prepocess=2, inference=5, postpocess=0\nClass[0] target=periquito, score=98\n",
            BoardResult {
                classes: vec![class("periquito", 0.98)],
                timing: timing(Some(2.0), Some(5.0), None, Some(0.0)),
                ..result(Sscma)
            },
        ),
        (
            // OpenMV classification, label on the Prediction line.
            "**********\nPrediction: robot with a prob of 0.97\nFPS: 7.35 fps ==> latency: 136 ms\n",
            BoardResult {
                classes: vec![class("robot", 0.97)],
                prediction: Some("robot".to_owned()),
                timing: timing(None, Some(136.0), None, None),
                ..result(OpenMv)
            },
        ),
        (
            // OpenMV classification below the threshold, label on its own line.
            "**********\nPrediction:\nuncertain with a prob of 0.41\nFPS: 7.30 fps ==> latency: 137 ms\n",
            BoardResult {
                prediction: Some("uncertain".to_owned()),
                timing: timing(None, Some(137.0), None, None),
                ..result(OpenMv)
            },
        ),
        (
            // OpenMV FOMO: one section per class, then the frame rate.
            "********** box **********\nx 120\ty 88\tscore 0.93\nx 40\ty 200\tscore 0.85\n********** wheel **********\nx 60\ty 60\tscore 0.81\n8 fps\n",
            BoardResult {
                boxes: vec![
                    bbox("box", 0.93, [120.0, 88.0, 0.0, 0.0]),
                    bbox("box", 0.85, [40.0, 200.0, 0.0, 0.0]),
                    bbox("wheel", 0.81, [60.0, 60.0, 0.0, 0.0]),
                ],
                detection: true,
                timing: timing(None, Some(125.0), None, None),
                ..result(OpenMv)
            },
        ),
    ]
}

/// Lines boards print between results, and noise.
const GARBAGE: [&[u8]; 8] = [
    b"Starting inferencing in 2 seconds...\r\n",
    b"Sampling...\r\n",
    b"Edge Impulse standalone inferencing (Arduino)\n",
    b"\xff\xfe\x80garbage \xc3\x28 at the wrong baud\n",
    b"\x00\x00\r\n",
    b"ets Jun  8 2016 00:22:57 rst:0x1 (POWERON_RESET)\n",
    b"   \t \n",
    b"MicroPython v1.23 OpenMV v4.5.9\n",
];

fn labels() -> Vec<String> {
    ["background", "box", "wheel"].map(str::to_owned).to_vec()
}

fn parse_all(chunks: &[&[u8]]) -> Vec<BoardResult> {
    let mut parser = BoardOutputParser::new(labels());
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(parser.push(chunk));
    }
    out.extend(parser.flush());
    out
}

#[test]
fn each_format_parses_to_what_the_book_shows() {
    for (text, expected) in cases() {
        let got = parse_all(&[text.as_bytes()]);
        assert_eq!(got, vec![expected], "for:\n{text}");
    }
}

#[test]
fn split_anywhere_and_mixed_with_garbage_gives_the_same_results() {
    let expected: Vec<BoardResult> = cases().into_iter().map(|(_, r)| r).collect();
    for seed in 0..200 {
        let mut rng = Rng::new(seed);
        let mut stream: Vec<u8> = Vec::new();
        for (text, _) in cases() {
            // Garbage before the block, sometimes several lines.
            for _ in 0..rng.below(3) {
                stream.extend_from_slice(GARBAGE[rng.below(GARBAGE.len())]);
            }
            stream.extend_from_slice(text.as_bytes());
        }
        // Cut the stream at random places (some chunks empty, some one byte, inside UTF-8).
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut rest = stream.as_slice();
        while !rest.is_empty() {
            let size = rng.below(rest.len().min(40) + 1);
            let (chunk, tail) = rest.split_at(size);
            chunks.push(chunk);
            rest = tail;
        }
        assert_eq!(parse_all(&chunks), expected, "seed {seed}");
    }
}

#[test]
fn a_block_the_board_ends_by_silence_comes_out_on_flush() {
    let mut parser = BoardOutputParser::default();
    let text = "Predictions (DSP: 1 ms., Classification: 2 ms., Anomaly: 0 ms.):\n    a: 0.1\n    b: 0.9\n";
    assert!(parser.push(text.as_bytes()).is_empty());
    let flushed = parser.flush().expect("the open block");
    assert_eq!(flushed.classes.len(), 2);
    assert_eq!(parser.flush(), None, "handed out once");
}

#[test]
fn garbage_alone_gives_nothing() {
    let mut rng = Rng::new(7);
    let bytes: Vec<u8> = (0..20_000).map(|_| rng.below(256) as u8).collect();
    let mut parser = BoardOutputParser::default();
    let results = parser.push(&bytes);
    assert!(
        results.is_empty(),
        "random bytes should not look like results: {results:?}"
    );
}
