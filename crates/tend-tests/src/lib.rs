//! Shared helpers for tend's end-to-end tests live in `tests/e2e`; this crate's real content is
//! the `tend-fixture` binary, and [`timeline`], the file format its `serve` mode records events
//! in, shared by the fixture (which writes it) and the tests (which read it).

pub mod timeline;
