//! Tests of the storage crate: the shared conformance suite, and the
//! integrity and durability tests of the fjall store.

mod conformance;
mod integrity;
mod support;
