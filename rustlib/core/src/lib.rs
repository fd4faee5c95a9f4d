//! ferrokit-core: safe numeric kernels over slices.
//!
//! This crate knows nothing about C or Python. Every kernel takes Rust slices,
//! returns `Result<_, Error>` and is deterministic: the result does not depend on
//! the number of threads (fixed-size blocks, reductions combined in a fixed tree).

pub mod blocks;
pub(crate) mod byte_reader;
pub mod checksum;
pub mod dot;
pub mod error;
pub mod float;
pub mod matrix;
pub mod minmax;
pub mod neighbors;
pub mod normalize;
pub mod pool;
pub mod scalar;
pub mod sched;
pub mod simd;
pub mod stats;
#[cfg(test)]
mod test_data;
pub mod text;
pub mod threads_env;

pub use error::{Error, Result};
pub mod model;
pub mod nn;
