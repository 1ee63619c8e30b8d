//! The library as an embedder meets it: tests written from a user's side, against the public
//! API only, with real processes. One module per topic.

mod failure_rule;
mod merge_stderr;
