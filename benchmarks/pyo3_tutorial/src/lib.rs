//! Reference PyO3 build of three functions, written the way the classic PyO3
//! tutorial writes them (Vec-based signatures, `#[pyfunction]` +
//! `wrap_pyfunction!`). Built only for the ferrokit benchmark; not part of the
//! main Rust workspace.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Add two integers.
#[pyfunction]
fn add_numbers(a: i32, b: i32) -> i32 {
    // The tutorial writes `a + b`; in a release build that wraps on overflow,
    // so make the wrapping explicit (same behaviour, no debug-mode panic).
    a.wrapping_add(b)
}

/// Dot product of two equal-length vectors.
#[pyfunction]
fn dot_product(vec1: Vec<f64>, vec2: Vec<f64>) -> PyResult<f64> {
    if vec1.len() != vec2.len() {
        return Err(PyValueError::new_err("Vectors must be of the same length"));
    }
    Ok(vec1.iter().zip(vec2.iter()).map(|(a, b)| a * b).sum())
}

/// Min-max normalise to [0, 1].
#[pyfunction]
fn normalize(data: Vec<f64>) -> Vec<f64> {
    if data.is_empty() {
        return data;
    }
    let min = data.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    let max = data.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    if (max - min) < f64::EPSILON {
        return vec![0.0; data.len()];
    }
    data.iter().map(|&x| (x - min) / (max - min)).collect()
}

#[pymodule]
fn pyo3_tutorial(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add_numbers, m)?)?;
    m.add_function(wrap_pyfunction!(dot_product, m)?)?;
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    Ok(())
}
