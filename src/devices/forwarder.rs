//! Decoder for Edge Impulse's *data-forwarder* serial format: one reading per line, values
//! separated by `,` or TAB (`-1.14\t0.40\t10.20`), optionally preceded by a header line of axis
//! names (`accX,accY,accZ`) and by banner lines such as `Starting data collection in 3 seconds...`.
//!
//! The decoder is pure (no IO, no threads, no clock): it is fed one line at a time together with
//! the time the line arrived, so it can be tested with synthetic timestamps and reused for any
//! transport. It detects two things on its own:
//!
//! * **the axes**: the number of values per line is the most common width among the numeric lines
//!   seen during detection, so a partial first line (the port was opened mid-line), banners and
//!   garbage cannot shift the columns; names come from a header line of the same width, otherwise
//!   from [`default_axis_names`];
//! * **the sampling rate**: arrival time is fitted against line index by least squares over at
//!   least [`MIN_FIT_SPAN_S`] seconds and [`MIN_FIT_LINES`] lines. The fit uses every line, so it
//!   is not fooled by the operating system delivering lines in bursts (Edge Impulse's own
//!   forwarder is known to fail on 50 Hz boards or report them 1 Hz off). The first
//!   [`STALE_WINDOW_S`] seconds are left out because lines that waited in a buffer arrive all at
//!   once just after the port opens. The result is snapped to a common rate by [`snap_rate_hz`].
//!   What is measured is lines received per second: a link that loses many lines reads slower.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Lines arriving this soon after the first numeric line are not used to measure the rate: they
/// may have waited in the port's buffer and arrive together in one burst.
pub const STALE_WINDOW_S: f64 = 0.25;

/// The rate fit needs lines spread over at least this many seconds.
pub const MIN_FIT_SPAN_S: f64 = 1.5;

/// The rate fit needs at least this many lines of the detected width.
pub const MIN_FIT_LINES: u64 = 20;

/// A silence longer than this during detection means the board restarted (or was paused):
/// detection starts over so the gap does not bias the rate. Rates below 0.5 Hz are therefore
/// never detected; give such streams an explicit format with [`Decoder::with_format`].
pub const DETECTION_GAP_S: f64 = 2.0;

/// A measured rate within this fraction of a common rate is snapped to it (1.5 %).
pub const SNAP_TOLERANCE: f64 = 0.015;

/// At most this many readings are kept while detection is running; older ones are dropped (and
/// counted as skipped) so a stream that never satisfies detection cannot grow memory forever.
pub const MAX_BUFFERED_READINGS: usize = 20_000;

/// Rates that boards and IMUs commonly produce, in hertz: round firmware rates and the output data
/// rates of the accelerometers on the book's boards (LSM6DSx: 12.5, 26, 52, 104, 208, 416, 833;
/// LSM9DS1 on the Nano 33 BLE Sense: 119, 238, 476; BMI270 and others: 12.5, 25, 50, 100, 200...).
pub const COMMON_RATES_HZ: [f64; 32] = [
    0.5, 1.0, 2.0, 5.0, 10.0, 12.5, 15.0, 20.0, 25.0, 26.0, 30.0, 31.25, 40.0, 50.0, 52.0, 60.0,
    62.5, 100.0, 104.0, 119.0, 125.0, 200.0, 208.0, 238.0, 250.0, 400.0, 416.0, 476.0, 500.0,
    833.0, 952.0, 1000.0,
];

/// What a stream carries: the name of each value in a line and how many lines arrive per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamFormat {
    /// One name per value in a line, in order (e.g. `accX`, `accY`, `accZ`).
    pub axes: Vec<String>,
    /// Readings per second.
    pub rate_hz: f64,
}

impl StreamFormat {
    /// A format with the default axis names for `axis_count` axes (see [`default_axis_names`]).
    pub fn with_default_axes(axis_count: usize, rate_hz: f64) -> Self {
        Self {
            axes: default_axis_names(axis_count),
            rate_hz,
        }
    }

    /// How many values each reading has.
    pub fn axis_count(&self) -> usize {
        self.axes.len()
    }
}

/// What one line turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// The line carries no reading; the reason says why.
    Skipped(SkipReason),
    /// A numeric line kept while the format is still being detected; it becomes available through
    /// [`Decoder::take_buffered`] once detection completes (if its width is the detected one).
    Detecting,
    /// Detection completed with this line (which is itself among the buffered readings): the
    /// caller should now call [`Decoder::take_buffered`] to keep the readings seen so far.
    FormatDetected(StreamFormat),
    /// One reading, one value per axis of the format.
    Reading(Vec<f32>),
}

/// Why a line carries no reading.
#[derive(Debug, Clone, PartialEq)]
pub enum SkipReason {
    /// Nothing but whitespace.
    Empty,
    /// Some field is not a finite number (banners, debug prints, garbage, `nan`).
    NotNumeric,
    /// All numbers, but not as many as the format has axes.
    WrongWidth {
        /// Values per line in the format.
        expected: usize,
        /// Values in this line.
        got: usize,
    },
    /// A line of axis names, e.g. `accX,accY,accZ`.
    Header(Vec<String>),
}

/// Statistics of the numeric lines of one width seen during detection.
#[derive(Debug, Clone, Default)]
struct WidthStats {
    /// Lines of this width seen (the width vote).
    count: u64,
    /// Line number (over all lines fed) of the latest one, to break ties towards the recent.
    last_line: u64,
    /// Least-squares fit of arrival time against index, over lines past the stale window.
    fit: LineFit,
}

/// Running sums for the least-squares line `t = a + b·i` (arrival time `t` against line index
/// `i`). The index is exact and the time is the noisy one, so time is the dependent variable;
/// `1 / b` is the rate. Times are relative to the first numeric line, for precision.
#[derive(Debug, Clone, Default)]
struct LineFit {
    n: u64,
    sum_i: f64,
    sum_t: f64,
    sum_ii: f64,
    sum_it: f64,
    first_t: Option<f64>,
    last_t: f64,
}

impl LineFit {
    fn add(&mut self, index: f64, t: f64) {
        self.n += 1;
        self.sum_i += index;
        self.sum_t += t;
        self.sum_ii += index * index;
        self.sum_it += index * t;
        self.first_t.get_or_insert(t);
        self.last_t = t;
    }

    fn span_s(&self) -> f64 {
        self.first_t.map_or(0.0, |first| self.last_t - first)
    }

    /// Lines per second, if the fit is well defined and positive.
    fn rate_hz(&self) -> Option<f64> {
        let n = self.n as f64;
        let denominator = n * self.sum_ii - self.sum_i * self.sum_i;
        if denominator <= 0.0 {
            return None;
        }
        let seconds_per_line = (n * self.sum_it - self.sum_i * self.sum_t) / denominator;
        let rate_hz = 1.0 / seconds_per_line;
        (rate_hz.is_finite() && rate_hz > 0.0).then_some(rate_hz)
    }
}

/// Detection state: everything learnt from the numeric lines so far.
#[derive(Debug, Clone, Default)]
struct Detection {
    widths: BTreeMap<usize, WidthStats>,
    /// Numeric lines kept for [`Decoder::take_buffered`], of every width until one wins.
    buffered: VecDeque<Vec<f32>>,
    /// Arrival time of the first numeric line (origin of all fit times).
    first_numeric_s: Option<f64>,
    /// Arrival time of the latest numeric line (to notice a restart).
    last_numeric_s: f64,
}

/// Turns timestamped lines into readings, detecting the format first unless it was given.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// The format, once known.
    format: Option<StreamFormat>,
    /// Present while detecting.
    detection: Option<Detection>,
    /// Readings handed over by [`Decoder::take_buffered`] after detection.
    ready: Vec<Vec<f32>>,
    /// The latest header line seen.
    header: Option<Vec<String>>,
    /// Lines fed so far.
    lines_fed: u64,
    /// Lines that did not become readings.
    skipped: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder that detects both the axes and the rate from the stream itself.
    pub fn new() -> Self {
        Self {
            format: None,
            detection: Some(Detection::default()),
            ready: Vec::new(),
            header: None,
            lines_fed: 0,
            skipped: 0,
        }
    }

    /// A decoder for a format the user set: no detection, readings of `format.axes.len()` values
    /// flow at once and `format.rate_hz` is taken as given.
    pub fn with_format(format: StreamFormat) -> Self {
        Self {
            format: Some(format),
            detection: None,
            ready: Vec::new(),
            header: None,
            lines_fed: 0,
            skipped: 0,
        }
    }

    /// Feeds one line (without its newline) that arrived at `at_s` seconds on a monotonic clock
    /// of any origin, and says what it was.
    ///
    /// While detecting, numeric lines are kept and answered with [`Decoded::Detecting`]; the line
    /// that completes detection is answered with [`Decoded::FormatDetected`], after which
    /// [`Decoder::take_buffered`] hands over the kept readings of the detected width. The very
    /// first line fed votes for the width but is never kept as a reading: the port may have been
    /// opened in the middle of it.
    pub fn feed(&mut self, line: &str, at_s: f64) -> Decoded {
        self.lines_fed += 1;
        let decoded = self.decode(line, at_s);
        if matches!(decoded, Decoded::Skipped(_)) {
            self.skipped += 1;
        }
        decoded
    }

    fn decode(&mut self, line: &str, at_s: f64) -> Decoded {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return Decoded::Skipped(SkipReason::Empty);
        }
        let Some(values) = parse_values(trimmed) else {
            if let Some(names) = parse_header(trimmed) {
                self.header = Some(names.clone());
                return Decoded::Skipped(SkipReason::Header(names));
            }
            return Decoded::Skipped(SkipReason::NotNumeric);
        };
        if let Some(format) = &self.format {
            let expected = format.axes.len();
            return if values.len() == expected {
                Decoded::Reading(values)
            } else {
                Decoded::Skipped(SkipReason::WrongWidth {
                    expected,
                    got: values.len(),
                })
            };
        }
        self.detect(values, at_s)
    }

    /// Records one numeric line during detection and completes detection when it can.
    fn detect(&mut self, values: Vec<f32>, at_s: f64) -> Decoded {
        let lines_fed = self.lines_fed;
        let detection = self.detection.get_or_insert_with(Detection::default);
        if at_s.is_finite() {
            if detection.first_numeric_s.is_some()
                && at_s - detection.last_numeric_s > DETECTION_GAP_S
            {
                // The board went quiet (reset, paused): start over so the gap does not bias the
                // rate. What was kept is lost, as it belongs to a stream that ended.
                self.skipped += detection.buffered.len() as u64;
                *detection = Detection::default();
            }
            detection.last_numeric_s = at_s;
        }
        let first_s = *detection.first_numeric_s.get_or_insert(at_s);
        let width = values.len();
        let stats = detection.widths.entry(width).or_default();
        let index = stats.count as f64;
        stats.count += 1;
        stats.last_line = lines_fed;
        let t = at_s - first_s;
        if t.is_finite() && t >= STALE_WINDOW_S {
            stats.fit.add(index, t);
        }
        if lines_fed > 1 {
            detection.buffered.push_back(values);
            if detection.buffered.len() > MAX_BUFFERED_READINGS {
                detection.buffered.pop_front();
                self.skipped += 1;
            }
        } else {
            // The first line fed may be the tail of a line sent before the port was opened.
            self.skipped += 1;
        }

        let Some((&width, stats)) = detection
            .widths
            .iter()
            .max_by_key(|(_, stats)| (stats.count, stats.last_line))
        else {
            return Decoded::Detecting;
        };
        if stats.fit.n < MIN_FIT_LINES || stats.fit.span_s() < MIN_FIT_SPAN_S {
            return Decoded::Detecting;
        }
        let Some(measured_hz) = stats.fit.rate_hz() else {
            return Decoded::Detecting;
        };

        let axes = match &self.header {
            Some(names) if names.len() == width => names.clone(),
            _ => default_axis_names(width),
        };
        let format = StreamFormat {
            axes,
            rate_hz: snap_rate_hz(measured_hz),
        };
        let buffered = std::mem::take(&mut detection.buffered);
        let (kept, other): (Vec<_>, Vec<_>) = buffered
            .into_iter()
            .partition(|reading| reading.len() == width);
        self.skipped += other.len() as u64;
        self.ready = kept;
        self.detection = None;
        self.format = Some(format.clone());
        Decoded::FormatDetected(format)
    }

    /// Hands over the readings kept during detection (of the detected width, in arrival order);
    /// empty before detection completes and after the first call.
    pub fn take_buffered(&mut self) -> Vec<Vec<f32>> {
        std::mem::take(&mut self.ready)
    }

    /// The format, once detected or if it was given.
    pub fn format(&self) -> Option<&StreamFormat> {
        self.format.as_ref()
    }

    /// Lines that did not become readings so far: every [`Decoded::Skipped`], plus lines kept
    /// during detection whose width turned out not to be the stream's, plus the first line fed
    /// when detecting.
    pub fn skipped_lines(&self) -> u64 {
        self.skipped
    }

    /// Lines fed so far, readings or not.
    pub fn lines_fed(&self) -> u64 {
        self.lines_fed
    }

    /// The latest header line seen, if any (its names are used when its width matches).
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }
}

/// Splits a line into fields on `,` and TAB, trimming spaces around each field. Surrounding
/// whitespace and one trailing `,` (sketches that print a separator after every value) are
/// tolerated.
fn fields(line: &str) -> impl Iterator<Item = &str> {
    let trimmed = line.trim();
    let trimmed = trimmed.strip_suffix(',').unwrap_or(trimmed);
    trimmed.split([',', '\t']).map(str::trim)
}

/// Parses one line of values: `Some(values)` if every field (split on `,` or TAB, trimmed) is a
/// finite number, `None` otherwise (including an empty line, `nan` and `inf`).
pub fn parse_values(line: &str) -> Option<Vec<f32>> {
    if line.trim().is_empty() {
        return None;
    }
    fields(line)
        .map(|field| field.parse::<f32>().ok().filter(|value| value.is_finite()))
        .collect()
}

/// Parses a header line: at least two fields, each identifier-like (a letter, then letters,
/// digits, `_` or `-`) and none a number word such as `nan` or `inf`.
fn parse_header(line: &str) -> Option<Vec<String>> {
    let names: Vec<String> = fields(line).map(str::to_owned).collect();
    let identifier_like = |name: &String| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && name.parse::<f32>().is_err()
    };
    (names.len() >= 2 && names.iter().all(identifier_like)).then_some(names)
}

/// The axis names used when the stream has no header: 3 axes are `accX, accY, accZ`; 6 are
/// `accX..accZ, gyrX..gyrZ`; any other count is `axis0..axis{count-1}`.
pub fn default_axis_names(count: usize) -> Vec<String> {
    const ACC: [&str; 3] = ["accX", "accY", "accZ"];
    const GYR: [&str; 3] = ["gyrX", "gyrY", "gyrZ"];
    match count {
        3 => ACC.iter().map(|name| (*name).to_owned()).collect(),
        6 => ACC
            .iter()
            .chain(GYR.iter())
            .map(|name| (*name).to_owned())
            .collect(),
        _ => (0..count).map(|i| format!("axis{i}")).collect(),
    }
}

/// Snaps a measured rate to the rate the board most likely runs at.
///
/// 1. The nearest of [`COMMON_RATES_HZ`] if it is within [`SNAP_TOLERANCE`] (1.5 %): 49.4 → 50,
///    62.2 → 62.5, 120 → 119, 103 → 104.
/// 2. Otherwise the nearest multiple of 0.5 Hz if within 1.5 % (always true above ~17 Hz):
///    73.8 → 74, 51 → 51.
/// 3. Otherwise the measurement itself, rounded to 0.01 Hz.
pub fn snap_rate_hz(measured_hz: f64) -> f64 {
    let within = |candidate: f64| (candidate - measured_hz).abs() <= SNAP_TOLERANCE * candidate;
    let nearest_common = COMMON_RATES_HZ
        .iter()
        .copied()
        .filter(|&rate| within(rate))
        .min_by(|a, b| (a - measured_hz).abs().total_cmp(&(b - measured_hz).abs()));
    if let Some(rate) = nearest_common {
        return rate;
    }
    let half_hz = (measured_hz * 2.0).round() / 2.0;
    if half_hz > 0.0 && within(half_hz) {
        return half_hz;
    }
    (measured_hz * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator for jitter, so tests need no dependency.
    struct Lcg(u64);

    impl Lcg {
        /// Uniform in [0, 1).
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A data line as a board prints it.
    fn data_line(n: usize, width: usize, sep: &str) -> String {
        (0..width)
            .map(|axis| {
                let value = if axis == 2 {
                    9.81
                } else {
                    ((n * 7 + axis * 3) % 200) as f64 / 100.0 - 1.0
                };
                format!("{value:.2}")
            })
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// How lines are timestamped on arrival.
    #[derive(Clone, Copy)]
    enum Arrival {
        /// Exactly on time.
        Exact,
        /// Uniform delay of up to this many seconds.
        Jitter(f64),
        /// Delivered in bursts: each line arrives at the next multiple of this period.
        Bursts(f64),
    }

    /// Feeds `prelude` lines at time 0, then data lines at `rate_hz` until detection completes
    /// (or 20 s of stream), and returns the format and the readings (buffered, then live).
    fn check(
        prelude: &[&str],
        width: usize,
        rate_hz: f64,
        arrival: Arrival,
    ) -> (StreamFormat, Vec<Vec<f32>>, Decoder) {
        let mut decoder = Decoder::new();
        let mut rng = Lcg(42);
        for line in prelude {
            assert!(
                matches!(decoder.feed(line, 0.0), Decoded::Skipped(_)),
                "{line:?}"
            );
        }
        let start_s = 100.0;
        let mut format = None;
        let mut readings = Vec::new();
        for n in 0..(rate_hz * 20.0) as usize {
            let sent_s = start_s + n as f64 / rate_hz;
            let at_s = match arrival {
                Arrival::Exact => sent_s,
                Arrival::Jitter(max_s) => sent_s + rng.next() * max_s,
                Arrival::Bursts(period_s) => (sent_s / period_s).ceil() * period_s,
            };
            match decoder.feed(&data_line(n, width, "\t"), at_s) {
                Decoded::FormatDetected(found) => {
                    readings.extend(decoder.take_buffered());
                    format = Some(found);
                }
                Decoded::Reading(values) => readings.push(values),
                Decoded::Detecting => assert!(format.is_none()),
                Decoded::Skipped(reason) => panic!("data line {n} skipped: {reason:?}"),
            }
            if format.is_some() && readings.len() > 200 {
                break;
            }
        }
        (
            format.expect("format detected within 20 s"),
            readings,
            decoder,
        )
    }

    #[test]
    fn parses_commas_tabs_and_spaces() {
        assert_eq!(
            parse_values("-1.14\t0.40\t10.20"),
            Some(vec![-1.14, 0.40, 10.20])
        );
        assert_eq!(parse_values(" 1, 2 ,3\r"), Some(vec![1.0, 2.0, 3.0]));
        assert_eq!(parse_values("1.5,2.5,"), Some(vec![1.5, 2.5]));
        assert_eq!(parse_values("1e-3\t+4"), Some(vec![0.001, 4.0]));
        assert_eq!(parse_values(""), None);
        assert_eq!(parse_values("1,,2"), None);
        assert_eq!(parse_values("nan,1,2"), None);
        assert_eq!(parse_values("1,inf,2"), None);
        assert_eq!(parse_values("1 2 3"), None);
        assert_eq!(parse_values("1;2;3"), None);
        assert_eq!(
            parse_values("Starting data collection in 3 seconds..."),
            None
        );
    }

    #[test]
    fn default_names() {
        assert_eq!(default_axis_names(3), ["accX", "accY", "accZ"]);
        assert_eq!(
            default_axis_names(6),
            ["accX", "accY", "accZ", "gyrX", "gyrY", "gyrZ"]
        );
        assert_eq!(default_axis_names(2), ["axis0", "axis1"]);
        assert!(default_axis_names(0).is_empty());
    }

    #[test]
    fn headers_are_identifier_lists() {
        assert_eq!(
            parse_header("accX,accY,accZ"),
            Some(vec!["accX".into(), "accY".into(), "accZ".into()])
        );
        assert_eq!(
            parse_header("ax\tay\taz"),
            Some(vec!["ax".into(), "ay".into(), "az".into()])
        );
        assert_eq!(parse_header("XIAOML Kit - Motion Data Collection"), None);
        assert_eq!(
            parse_header("Starting data collection in 3 seconds..."),
            None
        );
        assert_eq!(parse_header("accX"), None);
        assert_eq!(parse_header("nan,nan,nan"), None);
        assert_eq!(parse_header("1x,y"), None);
    }

    #[test]
    fn snapping() {
        assert_eq!(snap_rate_hz(49.4), 50.0);
        assert_eq!(snap_rate_hz(50.6), 50.0);
        assert_eq!(snap_rate_hz(62.2), 62.5);
        assert_eq!(snap_rate_hz(99.0), 100.0);
        assert_eq!(snap_rate_hz(203.0), 200.0);
        assert_eq!(snap_rate_hz(118.0), 119.0);
        assert_eq!(snap_rate_hz(31.1), 31.25);
        assert_eq!(snap_rate_hz(73.8), 74.0);
        assert_eq!(snap_rate_hz(51.2), 51.0);
        assert_eq!(snap_rate_hz(3.3), 3.3);
    }

    #[test]
    fn detects_50_hz_three_axes_exact() {
        let (format, readings, decoder) = check(&[], 3, 50.0, Arrival::Exact);
        assert_eq!(format, StreamFormat::with_default_axes(3, 50.0));
        assert!(readings.iter().all(|r| r.len() == 3));
        // Only the first (possibly partial) line is lost.
        assert_eq!(decoder.skipped_lines(), 1);
        assert_eq!(readings.len() as u64, decoder.lines_fed() - 1);
    }

    #[test]
    fn detects_common_rates_with_jitter() {
        for rate_hz in [12.5, 25.0, 50.0, 62.5, 100.0, 119.0, 200.0] {
            let (format, _, _) = check(&[], 3, rate_hz, Arrival::Jitter(0.008));
            assert_eq!(format.rate_hz, rate_hz, "jittered {rate_hz} Hz");
        }
    }

    #[test]
    fn detects_rates_delivered_in_bursts() {
        // The OS hands over whatever arrived every 40 ms (or 100 ms): lines come in clumps.
        for (rate_hz, period_s) in [
            (50.0, 0.04),
            (50.0, 0.1),
            (62.5, 0.1),
            (100.0, 0.1),
            (200.0, 0.064),
        ] {
            let (format, _, _) = check(&[], 3, rate_hz, Arrival::Bursts(period_s));
            assert_eq!(
                format.rate_hz, rate_hz,
                "{rate_hz} Hz in {period_s} s bursts"
            );
        }
    }

    #[test]
    fn odd_rate_is_reported_to_half_hertz() {
        let (format, _, _) = check(&[], 3, 73.0, Arrival::Jitter(0.004));
        assert_eq!(format.rate_hz, 73.0);
    }

    #[test]
    fn stale_burst_at_open_is_ignored() {
        // 60 stale lines arrive at once when the port opens, then the live 50 Hz stream.
        let mut decoder = Decoder::new();
        for n in 0..60 {
            assert_eq!(
                decoder.feed(&data_line(n, 3, ","), 10.0),
                Decoded::Detecting
            );
        }
        let mut detected = None;
        for n in 0..200 {
            if let Decoded::FormatDetected(format) =
                decoder.feed(&data_line(n, 3, ","), 10.02 + n as f64 / 50.0)
            {
                detected = Some(format);
                break;
            }
        }
        assert_eq!(detected.map(|f| f.rate_hz), Some(50.0));
    }

    #[test]
    fn six_axes_with_header_and_banners() {
        let prelude = [
            "XIAOML Kit - Motion Data Collection",
            "Starting data collection in 3 seconds...",
            "ax,ay,az,gx,gy,gz",
        ];
        let (format, readings, _) = check(&prelude, 6, 100.0, Arrival::Jitter(0.003));
        assert_eq!(format.axes, ["ax", "ay", "az", "gx", "gy", "gz"]);
        assert_eq!(format.rate_hz, 100.0);
        assert!(readings.iter().all(|r| r.len() == 6));
    }

    #[test]
    fn header_of_other_width_is_not_used() {
        let (format, _, _) = check(&["a,b"], 3, 50.0, Arrival::Exact);
        assert_eq!(format.axes, default_axis_names(3));
    }

    #[test]
    fn banners_are_not_headers() {
        let mut decoder = Decoder::new();
        assert_eq!(
            decoder.feed("XIAOML Kit - Motion Data Collection", 0.0),
            Decoded::Skipped(SkipReason::NotNumeric)
        );
        assert_eq!(
            decoder.feed("Starting data collection in 3 seconds...", 2.0),
            Decoded::Skipped(SkipReason::NotNumeric)
        );
        assert_eq!(
            decoder.feed("   ", 2.0),
            Decoded::Skipped(SkipReason::Empty)
        );
        assert_eq!(decoder.header(), None);
        assert_eq!(decoder.skipped_lines(), 3);
    }

    #[test]
    fn garbage_and_partial_first_line_keep_alignment() {
        let mut decoder = Decoder::new();
        let mut readings = Vec::new();
        let mut skipped = 0;
        // Opened mid-line: the first line is the tail "40\t9.81".
        assert_eq!(decoder.feed("40\t9.81", 0.0), Decoded::Detecting);
        // Garbage arrives between the readings (debug prints, line noise); no reading is lost.
        for n in 0..400 {
            let at_s = 0.01 + n as f64 / 50.0;
            let garbage = match n % 37 {
                5 => Some("#$%garbage".to_owned()),
                11 => Some("1.0,2.0".to_owned()),
                17 => Some("nan".to_owned()),
                23 => Some(String::new()),
                29 => Some("9".repeat(10_000)),
                31 => Some("0.1\t0.2\t9.81\t0.4".to_owned()),
                _ => None,
            };
            for line in garbage.into_iter().chain([data_line(n, 3, "\t")]) {
                match decoder.feed(&line, at_s) {
                    Decoded::FormatDetected(format) => {
                        assert_eq!(format, StreamFormat::with_default_axes(3, 50.0));
                        readings.extend(decoder.take_buffered());
                    }
                    Decoded::Reading(values) => readings.push(values),
                    Decoded::Detecting => {}
                    Decoded::Skipped(_) => skipped += 1,
                }
            }
        }
        assert!(decoder.format().is_some());
        assert_eq!(readings.len(), 400, "every data line became a reading");
        assert!(
            readings.iter().all(|r| r.len() == 3 && r[2] == 9.81),
            "columns shifted"
        );
        // Every non-data line, plus the first line and the lines of other widths during detection.
        assert!(skipped > 0 && decoder.skipped_lines() >= skipped);
        assert_eq!(
            readings.len() as u64 + decoder.skipped_lines(),
            decoder.lines_fed()
        );
    }

    #[test]
    fn partial_first_line_of_full_width_is_not_kept() {
        let mut decoder = Decoder::new();
        // "2.14\t..." cut to "14\t...": still three numbers, but wrong.
        decoder.feed("14\t0.40\t9.81", 0.0);
        let mut first = None;
        for n in 0..200 {
            if let Decoded::FormatDetected(_) =
                decoder.feed("-2.14\t0.40\t9.81", 0.02 + n as f64 / 50.0)
            {
                first = decoder.take_buffered().first().cloned();
                break;
            }
        }
        assert_eq!(first, Some(vec![-2.14, 0.40, 9.81]));
    }

    #[test]
    fn given_format_flows_at_once() {
        let format = StreamFormat::with_default_axes(3, 62.5);
        let mut decoder = Decoder::with_format(format.clone());
        assert_eq!(decoder.format(), Some(&format));
        assert_eq!(
            decoder.feed("1,2,3", 0.0),
            Decoded::Reading(vec![1.0, 2.0, 3.0])
        );
        assert_eq!(
            decoder.feed("1,2", 0.0),
            Decoded::Skipped(SkipReason::WrongWidth {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            decoder.feed("x,y,z", 0.0),
            Decoded::Skipped(SkipReason::Header(vec!["x".into(), "y".into(), "z".into()]))
        );
        assert_eq!(decoder.skipped_lines(), 2);
        assert!(decoder.take_buffered().is_empty());
    }

    #[test]
    fn after_detection_wrong_width_is_reported() {
        let (_, _, mut decoder) = check(&[], 3, 50.0, Arrival::Exact);
        assert_eq!(
            decoder.feed("1\t2", 1000.0),
            Decoded::Skipped(SkipReason::WrongWidth {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            decoder.feed("1\t2\t3", 1000.0),
            Decoded::Reading(vec![1.0, 2.0, 3.0])
        );
    }

    #[test]
    fn silence_restarts_detection() {
        let mut decoder = Decoder::new();
        // One second at 10 Hz, then a 5 s silence (board reset), then a steady 50 Hz stream.
        for n in 0..10 {
            decoder.feed("1,2,3", n as f64 / 10.0);
        }
        let mut rate_hz = None;
        for n in 0..500 {
            if let Decoded::FormatDetected(format) = decoder.feed("1,2,3", 6.0 + n as f64 / 50.0) {
                rate_hz = Some(format.rate_hz);
                break;
            }
        }
        assert_eq!(rate_hz, Some(50.0));
    }

    #[test]
    fn majority_width_wins() {
        let mut decoder = Decoder::new();
        let mut found = None;
        for n in 0..400 {
            let line = if n % 4 == 0 { "1,2" } else { "1,2,3" };
            if let Decoded::FormatDetected(format) = decoder.feed(line, n as f64 / 50.0) {
                found = Some(format);
                break;
            }
        }
        let format = found.expect("detected");
        assert_eq!(format.axes.len(), 3);
        // The 3-wide lines come at 3/4 of 50 Hz.
        assert_eq!(format.rate_hz, 37.5);
        assert!(decoder.take_buffered().iter().all(|r| r.len() == 3));
    }
}
