//! SQL per backend: the [`Dialect`] seam, the one renderer, and DuckDB's spelling. A plan
//! becomes text and parameters here and nowhere else.

pub mod dialect;
pub mod duckdb;
pub mod render;

pub use dialect::{Caps, Dialect};
pub use render::{render, RenderError, Writer};
