//! What a board itself predicts, read from the lines its inference program prints: a pure,
//! incremental parser of every inference format in the book's labs (book-labs.md §1.4).
//!
//! Formats, each a block of lines that becomes one [`BoardResult`]:
//! - **Edge Impulse Arduino examples** (all boards): `Predictions (DSP: 22 ms., Classification:
//!   5 ms., Anomaly: 0 ms.):` then `    <label>: 0.999252` per class, optionally `    anomaly
//!   score: -0.135` and, in the KWS continuous example, `  PREDICTION: ==> yes with probability
//!   0.99`. FOMO builds print `    fruit (0.582031) [ x: 48, y: 32, width: 8, height: 8 ]` per
//!   object or `    No objects found`; newer SDKs add `#Object detection results:` headers.
//! - **XIAOML Kit motion sketch**: the same header without the dots (`DSP: 11 ms,`), `Anomaly
//!   score: 1.356`, `🎯 PREDICTION: idle (93.4% confidence)`, `❓ UNCERTAIN: Highest confidence
//!   is idle (45.0%)`, `⚠️ ANOMALY DETECTED! Score: 1.356`.
//! - **SenseCraft device logger**: `perf:{"preprocess":80,"inference":205,"postprocess":0}` then
//!   `boxes: [[x,y,w,h,score,class],…]` (detection) or `classes: [[score,class],…]` / a bare
//!   `[99, 1]` (classification); scores in percent, classes by index.
//! - **SSCMA on a XIAO host**: `invoke success`, `perf: prepocess=2, inference=5, postpocess=0`
//!   (the example's spelling; the right one is accepted too), `Class[0] target=periquito,
//!   score=98`, and `Box[0] target=0, score=90, x=…, y=…, w=…, h=…`.
//! - **OpenMV (Nicla Vision)**: classification `**********` / `Prediction: robot with a prob of
//!   0.99` (or `Prediction:` alone and the label on the next line) / `FPS: 7.35 fps ==> latency:
//!   136 ms`; FOMO `********** wheel **********` then `x 120\ty 88\tscore 0.93` per centroid, then
//!   `8.16685 fps`.
//!
//! Bytes may arrive split anywhere (USB packets, a slow pty): [`BoardOutputParser::push`] keeps
//! the unfinished line. Invalid UTF-8 is replaced, `\r` and NULs are dropped, lines longer than
//! [`MAX_LINE_BYTES`] are discarded, and lines that belong to no format (banners, debug prints,
//! noise at the wrong baud rate) are skipped; such a line also ends a block, as does the next
//! block's first line. A block that the board ends by falling silent is handed out by
//! [`BoardOutputParser::flush`], which the reader calls when no byte came for a moment; the
//! parser itself knows no time.

use serde::Serialize;

/// Longest line kept, in bytes; longer ones are noise (a board at the wrong baud rate).
pub const MAX_LINE_BYTES: usize = 4096;

/// Which program printed a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    /// An Edge Impulse Arduino example or a sketch built on it (the XIAOML Kit's).
    EdgeImpulse,
    /// SenseCraft AI's device logger.
    SenseCraft,
    /// The SSCMA Arduino library on a host board.
    Sscma,
    /// An OpenMV MicroPython script.
    OpenMv,
}

/// One class's score, 0–1.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassScore {
    /// The label the board printed (or `class N` when it prints indices and no labels are known).
    pub label: String,
    /// Its score, 0–1.
    pub score: f32,
}

/// One detected object: a box, or a FOMO centroid (`width_px` and `height_px` 0 on OpenMV).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoardBox {
    /// The label (or `class N`).
    pub label: String,
    /// Confidence, 0–1.
    pub score: f32,
    /// Left edge (Edge Impulse, SSCMA) or centre (SenseCraft, OpenMV centroids), pixels.
    pub x_px: f32,
    /// Top edge or centre, pixels.
    pub y_px: f32,
    /// Width, pixels.
    pub width_px: f32,
    /// Height, pixels.
    pub height_px: f32,
}

/// The board's own timing of one inference, milliseconds, as printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct BoardTiming {
    /// Feature extraction (Edge Impulse "DSP", SenseCraft/SSCMA "preprocess").
    pub dsp_ms: Option<f64>,
    /// The model (Edge Impulse "Classification", SenseCraft/SSCMA "inference"; OpenMV prints
    /// only the whole frame's latency, kept here).
    pub classification_ms: Option<f64>,
    /// The anomaly detector (Edge Impulse).
    pub anomaly_ms: Option<f64>,
    /// Post-processing (SenseCraft/SSCMA).
    pub postprocess_ms: Option<f64>,
}

impl BoardTiming {
    /// The sum of the parts printed, or `None` when none was.
    pub fn total_ms(&self) -> Option<f64> {
        let parts = [
            self.dsp_ms,
            self.classification_ms,
            self.anomaly_ms,
            self.postprocess_ms,
        ];
        parts
            .iter()
            .flatten()
            .copied()
            .reduce(|sum, part| sum + part)
    }
}

/// One inference as the board reported it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BoardResult {
    /// Which program printed it (`None` only in [`Default`]).
    pub format: Option<OutputFormat>,
    /// Per-class scores, in the order printed.
    pub classes: Vec<ClassScore>,
    /// Detected objects (detection models); empty with `detection` set means "no objects".
    pub boxes: Vec<BoardBox>,
    /// Whether this is a detection result (boxes), even with no box.
    pub detection: bool,
    /// The anomaly score, when printed.
    pub anomaly: Option<f32>,
    /// What the board's program decided (KWS `PREDICTION`, OpenMV `Prediction:`, XIAOML `🎯`);
    /// `uncertain` when it said so.
    pub prediction: Option<String>,
    /// The board's timing.
    pub timing: BoardTiming,
}

impl BoardResult {
    fn new(format: OutputFormat) -> Self {
        Self {
            format: Some(format),
            ..Self::default()
        }
    }

    /// The top class, when there are class scores.
    pub fn top_class(&self) -> Option<&ClassScore> {
        self.classes
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score))
    }
}

/// The block being read.
#[derive(Debug)]
enum Block {
    /// Nothing open.
    None,
    /// An Edge Impulse `Predictions (…):` block.
    EdgeImpulse(BoardResult),
    /// A SenseCraft `perf:` line waiting for its `boxes:`/`classes:` line.
    SenseCraft(BoardResult),
    /// SSCMA lines after `invoke success` or `perf:`.
    Sscma(BoardResult),
    /// OpenMV classification after `**********`; `true` once `Prediction:` alone was seen.
    OpenMvClass(BoardResult, bool),
    /// OpenMV FOMO after `********** <label> **********`, with the current label.
    OpenMvFomo(BoardResult, String),
}

/// The incremental parser. Feed it bytes with [`push`](Self::push); it returns each result as
/// soon as its block is complete.
#[derive(Debug)]
pub struct BoardOutputParser {
    line: Vec<u8>,
    /// The current line grew past [`MAX_LINE_BYTES`]: drop it up to the next newline.
    overlong: bool,
    block: Block,
    /// Labels for boards that print class indices (SenseCraft, SSCMA), in class order.
    labels: Vec<String>,
}

impl Default for BoardOutputParser {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl BoardOutputParser {
    /// A parser; `labels` (the model's `labels.txt`, may be empty) name the class indices that
    /// SenseCraft and SSCMA print.
    pub fn new(labels: Vec<String>) -> Self {
        Self {
            line: Vec::new(),
            overlong: false,
            block: Block::None,
            labels,
        }
    }

    /// Takes the next bytes from the board; returns the results they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<BoardResult> {
        let mut out = Vec::new();
        for &byte in bytes {
            match byte {
                b'\n' => {
                    if !self.overlong {
                        let line = std::mem::take(&mut self.line);
                        self.line_done(&String::from_utf8_lossy(&line), &mut out);
                    }
                    self.line.clear();
                    self.overlong = false;
                }
                b'\r' | 0 => {}
                _ if self.overlong => {}
                _ if self.line.len() >= MAX_LINE_BYTES => {
                    self.overlong = true;
                    self.line.clear();
                }
                _ => self.line.push(byte),
            }
        }
        out
    }

    /// Takes one whole line (without its newline), as [`crate::devices::serial_reader`] hands
    /// them out; returns the results it completes.
    pub fn push_line(&mut self, line: &str) -> Vec<BoardResult> {
        let mut out = Vec::new();
        self.line_done(line, &mut out);
        out
    }

    /// The board fell silent: hands out the open block, if it holds a result. The unfinished
    /// line is kept (its end may still come).
    pub fn flush(&mut self) -> Option<BoardResult> {
        match std::mem::replace(&mut self.block, Block::None) {
            Block::None => None,
            Block::EdgeImpulse(result)
            | Block::SenseCraft(result)
            | Block::Sscma(result)
            | Block::OpenMvClass(result, _)
            | Block::OpenMvFomo(result, _) => has_content(&result).then_some(result),
        }
    }

    /// The label of class `index`.
    fn label_of(&self, index: usize) -> String {
        self.labels
            .get(index)
            .cloned()
            .unwrap_or_else(|| format!("class {index}"))
    }

    /// Ends the open block (if it holds anything) into `out`.
    fn close(&mut self, out: &mut Vec<BoardResult>) {
        if let Some(result) = self.flush() {
            out.push(result);
        }
    }

    fn line_done(&mut self, raw: &str, out: &mut Vec<BoardResult>) {
        let line: String = raw.chars().filter(|c| *c != '\r' && *c != '\0').collect();
        let text = line.trim();
        if text.is_empty() {
            return;
        }
        // Lines that start a block, whatever is open.
        if let Some(timing) = parse_ei_header(text) {
            self.close(out);
            let mut result = BoardResult::new(OutputFormat::EdgeImpulse);
            result.timing = timing;
            self.block = Block::EdgeImpulse(result);
            return;
        }
        if let Some(timing) = parse_sensecraft_perf(text) {
            self.close(out);
            let mut result = BoardResult::new(OutputFormat::SenseCraft);
            result.timing = timing;
            self.block = Block::SenseCraft(result);
            return;
        }
        if text == "invoke success" {
            self.close(out);
            self.block = Block::Sscma(BoardResult::new(OutputFormat::Sscma));
            return;
        }
        if let Some(timing) = parse_sscma_perf(text) {
            match &mut self.block {
                Block::Sscma(result) if result.timing == BoardTiming::default() => {
                    result.timing = timing;
                }
                _ => {
                    self.close(out);
                    let mut result = BoardResult::new(OutputFormat::Sscma);
                    result.timing = timing;
                    self.block = Block::Sscma(result);
                }
            }
            return;
        }
        if let Some(stars) = parse_openmv_stars(text) {
            // The FOMO script prints one `***** label *****` section per class in one frame.
            if let (Block::OpenMvFomo(_, current), Some(label)) = (&mut self.block, &stars) {
                current.clone_from(label);
                return;
            }
            self.close(out);
            self.block = match stars {
                None => Block::OpenMvClass(BoardResult::new(OutputFormat::OpenMv), false),
                Some(label) => {
                    let mut result = BoardResult::new(OutputFormat::OpenMv);
                    result.detection = true;
                    Block::OpenMvFomo(result, label)
                }
            };
            return;
        }
        // A SenseCraft result line may come without a perf line before it.
        if let Some(parsed) = self.parse_sensecraft_result(text) {
            let mut result = match std::mem::replace(&mut self.block, Block::None) {
                Block::SenseCraft(result) => result,
                other => {
                    self.block = other;
                    self.close(out);
                    BoardResult::new(OutputFormat::SenseCraft)
                }
            };
            match parsed {
                SenseCraftLine::Boxes(boxes) => {
                    result.detection = true;
                    result.boxes = boxes;
                }
                SenseCraftLine::Classes(classes) => result.classes = classes,
            }
            out.push(result);
            return;
        }
        // Lines inside a block.
        let consumed = match &mut self.block {
            Block::None => false,
            Block::EdgeImpulse(result) => ei_line(result, text),
            Block::SenseCraft(_) => false,
            Block::Sscma(result) => {
                let labels = &self.labels;
                sscma_line(result, text, |i| {
                    labels
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("class {i}"))
                })
            }
            Block::OpenMvClass(result, waiting) => match openmv_class_line(result, waiting, text) {
                OpenMvStep::Consumed => true,
                OpenMvStep::Done => {
                    self.close(out);
                    return;
                }
                OpenMvStep::Foreign => false,
            },
            Block::OpenMvFomo(result, label) => {
                if let Some((x, y, score)) = parse_openmv_centroid(text) {
                    result.boxes.push(BoardBox {
                        label: label.clone(),
                        score,
                        x_px: x,
                        y_px: y,
                        width_px: 0.0,
                        height_px: 0.0,
                    });
                    true
                } else if let Some(fps) = parse_openmv_fps(text) {
                    if fps > 0.0 {
                        result.timing.classification_ms = Some(1000.0 / fps);
                    }
                    self.close(out);
                    return;
                } else {
                    false
                }
            }
        };
        if !consumed {
            // A line of no format ends the block; the line itself is skipped.
            self.close(out);
        }
    }

    fn parse_sensecraft_result(&self, text: &str) -> Option<SenseCraftLine> {
        if let Some(rest) = text.strip_prefix("boxes:") {
            let rows = parse_number_rows(rest.trim())?;
            let boxes = rows
                .iter()
                .map(|row| match row.as_slice() {
                    [x, y, w, h, score, class, ..] => Some(BoardBox {
                        label: self.label_of(index_of(*class)?),
                        score: (*score / 100.0) as f32,
                        x_px: *x as f32,
                        y_px: *y as f32,
                        width_px: *w as f32,
                        height_px: *h as f32,
                    }),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            return Some(SenseCraftLine::Boxes(boxes));
        }
        let rest = text
            .strip_prefix("classes:")
            .or_else(|| text.strip_prefix("scores:"))
            .map_or(text, str::trim);
        if !rest.starts_with('[') {
            return None;
        }
        let rows = parse_number_rows(rest)?;
        let classes = rows
            .iter()
            .map(|row| match row.as_slice() {
                [score, class] => Some(ClassScore {
                    label: self.label_of(index_of(*class)?),
                    score: (*score / 100.0) as f32,
                }),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        (!classes.is_empty()).then_some(SenseCraftLine::Classes(classes))
    }
}

/// Whether a block yielded anything worth showing.
fn has_content(result: &BoardResult) -> bool {
    !result.classes.is_empty()
        || result.detection
        || result.anomaly.is_some()
        || result.prediction.is_some()
        || result.timing != BoardTiming::default()
}

enum SenseCraftLine {
    Boxes(Vec<BoardBox>),
    Classes(Vec<ClassScore>),
}

/// A class index printed as a number.
fn index_of(value: f64) -> Option<usize> {
    (value >= 0.0 && value.fract() == 0.0 && value < 1e6).then_some(value as usize)
}

/// `[[1,2,3],[4,5,6]]` or `[99, 1]` → rows of numbers.
fn parse_number_rows(text: &str) -> Option<Vec<Vec<f64>>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let array = value.as_array()?;
    let row = |value: &serde_json::Value| -> Option<Vec<f64>> {
        value
            .as_array()?
            .iter()
            .map(serde_json::Value::as_f64)
            .collect()
    };
    if array.iter().all(serde_json::Value::is_number) && !array.is_empty() {
        return Some(vec![row(&value)?]);
    }
    array.iter().map(row).collect()
}

/// A number at the start of `text` (after spaces), and the rest.
fn leading_number(text: &str) -> Option<(f64, &str)> {
    let text = text.trim_start();
    let end = text
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || ((*c == '-' || *c == '+') && *i == 0)))
        .map_or(text.len(), |(i, _)| i);
    let (number, rest) = text.split_at(end);
    Some((number.parse().ok()?, rest))
}

/// `Predictions (DSP: 22 ms., Classification: 5 ms., Anomaly: 0 ms.):`, with or without the dots.
fn parse_ei_header(text: &str) -> Option<BoardTiming> {
    let inner = text.strip_prefix("Predictions (")?;
    let inner = inner.strip_suffix(':').unwrap_or(inner).trim_end();
    let inner = inner.strip_suffix(')')?;
    let mut timing = BoardTiming::default();
    for part in inner.split(',') {
        let (name, value) = part.split_once(':')?;
        let (ms, unit) = leading_number(value)?;
        if !unit.trim().trim_end_matches('.').eq("ms") {
            return None;
        }
        match name.trim() {
            "DSP" => timing.dsp_ms = Some(ms),
            "Classification" => timing.classification_ms = Some(ms),
            "Anomaly" => timing.anomaly_ms = Some(ms),
            _ => return None,
        }
    }
    Some(timing)
}

/// One line inside an Edge Impulse block; says whether it belonged there.
fn ei_line(result: &mut BoardResult, text: &str) -> bool {
    if text.starts_with('#') {
        // `#Classification results:`, `#Object detection results:` (newer SDKs).
        return true;
    }
    if text == "No objects found" {
        result.detection = true;
        return true;
    }
    let lower = text.to_lowercase();
    for prefix in ["anomaly score:", "⚠️ anomaly detected! score:"] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            return match rest.trim().parse::<f32>() {
                Ok(score) => {
                    result.anomaly = Some(score);
                    true
                }
                Err(_) => false,
            };
        }
    }
    if let Some(rest) = text.strip_prefix("PREDICTION: ==>") {
        // `yes with probability 0.99`
        let label = rest.split(" with probability").next().unwrap_or("").trim();
        if label.is_empty() {
            return false;
        }
        result.prediction = Some(label.to_owned());
        return true;
    }
    if let Some(rest) = text.strip_prefix("🎯 PREDICTION:") {
        // `idle (93.4% confidence)`
        let label = rest.split(" (").next().unwrap_or("").trim();
        if label.is_empty() {
            return false;
        }
        result.prediction = Some(label.to_owned());
        return true;
    }
    if text.starts_with("❓ UNCERTAIN") {
        result.prediction = Some("uncertain".to_owned());
        return true;
    }
    if let Some(object) = parse_ei_box(text) {
        result.detection = true;
        result.boxes.push(object);
        return true;
    }
    if let Some((label, score)) = text.rsplit_once(':') {
        let label = label.trim();
        if let Ok(score) = score.trim().parse::<f32>()
            && !label.is_empty()
            && score.is_finite()
        {
            result.classes.push(ClassScore {
                label: label.to_owned(),
                score,
            });
            return true;
        }
    }
    false
}

/// `fruit (0.582031) [ x: 48, y: 32, width: 8, height: 8 ]`.
fn parse_ei_box(text: &str) -> Option<BoardBox> {
    let (label, rest) = text.split_once(" (")?;
    let (score, rest) = rest.split_once(')')?;
    let inner = rest.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut fields = [None; 4];
    for part in inner.split(',') {
        let (name, value) = part.split_once(':')?;
        let value: f32 = value.trim().parse().ok()?;
        let slot = match name.trim() {
            "x" => 0,
            "y" => 1,
            "width" => 2,
            "height" => 3,
            _ => return None,
        };
        *fields.get_mut(slot)? = Some(value);
    }
    let [Some(x), Some(y), Some(width), Some(height)] = fields else {
        return None;
    };
    Some(BoardBox {
        label: label.trim().to_owned(),
        score: score.trim().parse().ok()?,
        x_px: x,
        y_px: y,
        width_px: width,
        height_px: height,
    })
}

/// `perf:{"preprocess":80,"inference":205,"postprocess":0}`.
fn parse_sensecraft_perf(text: &str) -> Option<BoardTiming> {
    let rest = text.strip_prefix("perf:")?.trim();
    let value: serde_json::Value = serde_json::from_str(rest).ok()?;
    let object = value.as_object()?;
    let get = |key: &str| object.get(key).and_then(serde_json::Value::as_f64);
    Some(BoardTiming {
        dsp_ms: get("preprocess"),
        classification_ms: get("inference"),
        anomaly_ms: None,
        postprocess_ms: get("postprocess"),
    })
}

/// `perf: prepocess=2, inference=5, postpocess=0`.
fn parse_sscma_perf(text: &str) -> Option<BoardTiming> {
    let rest = text.strip_prefix("perf:")?.trim();
    let mut timing = BoardTiming::default();
    for part in rest.split(',') {
        let (name, value) = part.split_once('=')?;
        let value: f64 = value.trim().parse().ok()?;
        match name.trim() {
            "prepocess" | "preprocess" => timing.dsp_ms = Some(value),
            "inference" => timing.classification_ms = Some(value),
            "postpocess" | "postprocess" => timing.postprocess_ms = Some(value),
            _ => return None,
        }
    }
    Some(timing)
}

/// `key=value, key=value` pairs after a `Class[i]`/`Box[i]` prefix.
fn key_values(text: &str) -> Option<Vec<(&str, &str)>> {
    text.split(',')
        .map(|part| part.split_once('=').map(|(k, v)| (k.trim(), v.trim())))
        .collect()
}

/// One SSCMA line: `Class[0] target=periquito, score=98` or `Box[0] target=0, score=90, x=…`.
fn sscma_line(result: &mut BoardResult, text: &str, label_of: impl Fn(usize) -> String) -> bool {
    let (kind, rest) = match text.split_once(']') {
        Some((head, rest)) if head.starts_with("Class[") => ("class", rest),
        Some((head, rest)) if head.starts_with("Box[") => ("box", rest),
        _ => return false,
    };
    let Some(pairs) = key_values(rest) else {
        return false;
    };
    let find = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let Some(target) = find("target") else {
        return false;
    };
    let label = match target.parse::<usize>() {
        Ok(index) => label_of(index),
        Err(_) => target.to_owned(),
    };
    let Some(score) = find("score").and_then(|s| s.parse::<f32>().ok()) else {
        return false;
    };
    let score = score / 100.0;
    if kind == "class" {
        result.classes.push(ClassScore { label, score });
        return true;
    }
    let number = |key: &str| find(key).and_then(|v| v.parse::<f32>().ok());
    let (Some(x), Some(y), Some(w), Some(h)) = (number("x"), number("y"), number("w"), number("h"))
    else {
        return false;
    };
    result.detection = true;
    result.boxes.push(BoardBox {
        label,
        score,
        x_px: x,
        y_px: y,
        width_px: w,
        height_px: h,
    });
    true
}

/// `**********` → `Some(None)`; `********** wheel **********` → `Some(Some("wheel"))`.
fn parse_openmv_stars(text: &str) -> Option<Option<String>> {
    if text.len() >= 5 && text.chars().all(|c| c == '*') {
        return Some(None);
    }
    let inner = text.strip_prefix("*****")?.trim_start_matches('*');
    let inner = inner.strip_suffix("*****")?.trim_end_matches('*').trim();
    (!inner.is_empty() && !inner.contains('*')).then(|| Some(inner.to_owned()))
}

enum OpenMvStep {
    Consumed,
    Done,
    Foreign,
}

/// One line of an OpenMV classification block.
fn openmv_class_line(result: &mut BoardResult, waiting: &mut bool, text: &str) -> OpenMvStep {
    if let Some(rest) = text.strip_prefix("FPS:") {
        // `FPS: 7.35 fps ==> latency: 136 ms`
        if let Some((_, latency)) = rest.split_once("latency:")
            && let Some((ms, _)) = leading_number(latency)
        {
            result.timing.classification_ms = Some(ms);
            return OpenMvStep::Done;
        }
        return OpenMvStep::Foreign;
    }
    let rest = match text.strip_prefix("Prediction:") {
        Some(rest) if rest.trim().is_empty() => {
            *waiting = true;
            return OpenMvStep::Consumed;
        }
        Some(rest) => rest.trim(),
        None if *waiting => text,
        None => return OpenMvStep::Foreign,
    };
    let Some((label, prob)) = rest.rsplit_once(" with a prob of ") else {
        return OpenMvStep::Foreign;
    };
    let Ok(prob) = prob.trim().parse::<f32>() else {
        return OpenMvStep::Foreign;
    };
    *waiting = false;
    let label = label.trim().to_owned();
    result.prediction = Some(label.clone());
    if label != "uncertain" {
        result.classes.push(ClassScore { label, score: prob });
    }
    OpenMvStep::Consumed
}

/// `x 120\ty 88\tscore 0.93`.
fn parse_openmv_centroid(text: &str) -> Option<(f32, f32, f32)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["x", x, "y", y, "score", score] => {
            Some((x.parse().ok()?, y.parse().ok()?, score.parse().ok()?))
        }
        _ => None,
    }
}

/// `8.16685 fps`.
fn parse_openmv_fps(text: &str) -> Option<f64> {
    let number = text.strip_suffix("fps")?.trim();
    number.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<BoardResult> {
        let mut parser = BoardOutputParser::default();
        let mut out = parser.push(text.as_bytes());
        out.extend(parser.flush());
        out
    }

    #[test]
    fn header_with_and_without_dots() {
        let dotted =
            parse_ei_header("Predictions (DSP: 22 ms., Classification: 5 ms., Anomaly: 0 ms.):");
        assert_eq!(dotted.and_then(|t| t.dsp_ms), Some(22.0));
        let plain =
            parse_ei_header("Predictions (DSP: 11 ms, Classification: 0 ms, Anomaly: 0 ms):");
        assert_eq!(plain.and_then(|t| t.dsp_ms), Some(11.0));
        assert!(parse_ei_header("Predictions (DSP: x ms.):").is_none());
    }

    #[test]
    fn a_line_of_no_format_ends_a_block() {
        let results = parse(
            "Predictions (DSP: 1 ms., Classification: 2 ms., Anomaly: 0 ms.):\n    a: 0.25\n    b: 0.75\nSampling...\n",
        );
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].top_class().map(|c| c.label.as_str()), Some("b"));
    }

    #[test]
    fn overlong_lines_are_dropped() {
        let mut text = "x".repeat(MAX_LINE_BYTES + 10);
        text.push_str("\nperf:{\"preprocess\":1,\"inference\":2,\"postprocess\":0}\nboxes: []\n");
        let results = parse(&text);
        assert_eq!(results.len(), 1);
        assert!(results[0].detection && results[0].boxes.is_empty());
    }
}
