//! The built-in virtual kit: simulated boards that behave like the book's hardware, so every panel
//! works with no hardware, for demos and for tests.

pub mod board;
pub mod motion;
