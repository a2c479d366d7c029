//! The open device as the engine sees it: the serial reader thread, the virtual board behind it
//! (if it is the built-in one), and the decoder that turns its lines into readings; or a
//! microphone, whose format (one `audio` axis at the project's rate) is known from the start.

use crate::devices::audio_in::{AudioMsg, Microphone};
use crate::devices::forwarder::{Decoded, Decoder, StreamFormat};
use crate::devices::serial_reader::{ReaderMsg, SerialReader};
use crate::protocol::DeviceSpec;
use crate::sim::board::{BoardConfig, VirtualBoard};
use crossbeam_channel::Sender;
use std::time::Instant;

/// An open device.
pub struct Device {
    /// Shown in the status bar.
    pub name: String,
    /// Written into each recorded sample's `source`.
    pub source: String,
    /// Decodes lines into readings and detects the format.
    pub decoder: Decoder,
    // Field order matters: the reader must stop before the board closes the pty under it.
    reader: Option<SerialReader>,
    board: Option<VirtualBoard>,
    microphone: Option<Microphone>,
}

/// What a line turned into, for the engine to act on.
pub enum LineOutcome {
    /// Nothing to do (skipped, or still detecting).
    Nothing,
    /// The format became known; these readings arrived during detection.
    Detected(StreamFormat, Vec<Vec<f32>>),
    /// One reading.
    Reading(Vec<f32>),
}

impl Device {
    /// Opens the device `spec`, with the user's format or automatic detection.
    /// A microphone's samples go to `audio_tx`, resampled to `audio_rate_hz`.
    pub fn open(
        spec: &DeviceSpec,
        format: Option<StreamFormat>,
        epoch: Instant,
        tx: Sender<ReaderMsg>,
        audio_tx: Sender<AudioMsg>,
        audio_rate_hz: f64,
    ) -> Result<Self, String> {
        let decoder = format.map(Decoder::with_format).unwrap_or_default();
        match spec {
            DeviceSpec::Serial { path, baud } => {
                let reader =
                    SerialReader::open(path, *baud, epoch, tx).map_err(|e| e.to_string())?;
                Ok(Self {
                    name: path.clone(),
                    source: format!("serial:{path}"),
                    decoder,
                    reader: Some(reader),
                    board: None,
                    microphone: None,
                })
            }
            DeviceSpec::VirtualBoard { rate_hz, motion } => {
                let config = BoardConfig {
                    rate_hz: *rate_hz,
                    motion: *motion,
                    ..BoardConfig::default()
                };
                let board = VirtualBoard::start(config).map_err(|e| e.to_string())?;
                let reader = SerialReader::open(board.path(), 115_200, epoch, tx)
                    .map_err(|e| e.to_string())?;
                Ok(Self {
                    name: format!("virtual board ({})", board.path()),
                    source: "virtual-board".into(),
                    decoder,
                    reader: Some(reader),
                    board: Some(board),
                    microphone: None,
                })
            }
            DeviceSpec::Microphone { name } => {
                let rate_hz = audio_rate_hz.round();
                let microphone = Microphone::open(name.as_deref(), rate_hz as u32, audio_tx)
                    .map_err(|e| e.to_string())?;
                let format = StreamFormat {
                    axes: vec![crate::project::formats::wav::AUDIO_AXIS.to_owned()],
                    rate_hz,
                };
                Ok(Self {
                    name: format!(
                        "{} ({} Hz, {} ch)",
                        microphone.name, microphone.input_rate_hz, microphone.channels
                    ),
                    source: format!("microphone:{}", microphone.name),
                    decoder: Decoder::with_format(format),
                    reader: None,
                    board: None,
                    microphone: Some(microphone),
                })
            }
            DeviceSpec::Camera(_) => Err("a camera is opened by the engine's camera side".into()),
        }
    }

    /// The virtual board, if this is one.
    pub fn board(&self) -> Option<&VirtualBoard> {
        self.board.as_ref()
    }

    /// Stops the virtual board but keeps reading, as if its cable were pulled.
    pub fn unplug_board(&mut self) -> bool {
        self.board.as_mut().map(VirtualBoard::stop).is_some()
    }

    /// Lines the reader had to drop because the engine was behind.
    pub fn dropped_lines(&self) -> u64 {
        self.reader.as_ref().map_or(0, SerialReader::dropped_lines)
    }

    /// The microphone, if this is one.
    pub fn microphone(&self) -> Option<&Microphone> {
        self.microphone.as_ref()
    }

    /// Feeds one received line to the decoder.
    pub fn feed(&mut self, line: &str, at_s: f64) -> LineOutcome {
        match self.decoder.feed(line, at_s) {
            Decoded::FormatDetected(format) => {
                LineOutcome::Detected(format, self.decoder.take_buffered())
            }
            Decoded::Reading(values) => LineOutcome::Reading(values),
            Decoded::Skipped(_) | Decoded::Detecting => LineOutcome::Nothing,
        }
    }
}
