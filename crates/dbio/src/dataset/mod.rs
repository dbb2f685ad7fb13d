//! The employees dataset: schema, generator, loader and verifier.
//!
//! `load` is idempotent: the metadata table `_dbio_meta` records the source,
//! scale, seed and generator version and a `status` that says `complete`
//! only after every table is loaded, analysed and checksummed. A load that
//! was interrupted leaves `loading`, and is never taken for a complete one.

pub mod generate;
pub mod loader;
pub mod schema;
pub mod test_db;
pub mod verify;

pub use generate::{Generator, Spec, TableData};
pub use loader::{LoadOutcome, load};
pub use verify::{TableCheck, verify};
