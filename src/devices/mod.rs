//! Devices that stream sensor readings into a project: serial boards speaking Edge Impulse's
//! data-forwarder format (real ones, or the virtual board on a pseudo-terminal), microphones, and
//! cameras ([`camera`]: an HTTP camera, a USB webcam ([`webcam`]) or a folder of images, one
//! reader thread each).
//!
//! Layering: [`ports`] lists and recognises boards; [`serial_reader`] is the only code that
//! touches a port (one named thread per open port, pushing raw lines into a bounded channel);
//! [`forwarder`] is a pure decoder that turns timestamped lines into readings and detects the
//! axes and the sampling rate. The engine owns all three.

pub mod audio_in;
pub mod audio_out;
pub mod board_monitor;
pub mod board_output;
pub mod camera;
pub mod forwarder;
pub mod http;
pub mod http_camera;
pub mod image_folder;
pub mod mjpeg;
pub mod ports;
pub mod serial_reader;
pub mod webcam;
