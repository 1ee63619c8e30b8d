//! Shared helpers for tend's end-to-end tests live in `tests/e2e`; this crate's real content is
//! the `tend-fixture` binary.
