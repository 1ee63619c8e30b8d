//! The library as an embedder meets it: tests written from a user's side, through the public
//! API only, spawning real processes. One module per topic.

mod process_lines;
mod ring;
