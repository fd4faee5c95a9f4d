//! Borrowed 2-D views over flat slices, in row-major (C) or column-major (F) order.

use crate::{Error, Result};

/// Memory order of a 2-D array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// C order: rows are contiguous (`a[i, j]` at `i * cols + j`).
    RowMajor,
    /// Fortran order: columns are contiguous (`a[i, j]` at `j * rows + i`).
    ColMajor,
}

/// A read-only `rows x cols` matrix over a slice.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub layout: Layout,
}

/// A mutable `rows x cols` matrix over a slice.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    pub data: &'a mut [T],
    pub rows: usize,
    pub cols: usize,
    pub layout: Layout,
}

fn check_len(len: usize, rows: usize, cols: usize, what: &str) -> Result<()> {
    match rows.checked_mul(cols) {
        Some(n) if n == len => Ok(()),
        _ => Err(Error::LengthMismatch(format!(
            "{what}: shape ({rows}, {cols}) does not match a buffer of {len} elements"
        ))),
    }
}

impl<'a, T> MatRef<'a, T> {
    /// Wraps `data` as a `rows x cols` matrix; the length must be `rows * cols`.
    pub fn new(data: &'a [T], rows: usize, cols: usize, layout: Layout) -> Result<Self> {
        check_len(data.len(), rows, cols, "matrix")?;
        Ok(MatRef {
            data,
            rows,
            cols,
            layout,
        })
    }

    /// Row `i` as a slice (row-major only).
    pub fn row(&self, i: usize) -> &'a [T] {
        debug_assert_eq!(self.layout, Layout::RowMajor);
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Column `j` as a slice (column-major only).
    pub fn col(&self, j: usize) -> &'a [T] {
        debug_assert_eq!(self.layout, Layout::ColMajor);
        &self.data[j * self.rows..(j + 1) * self.rows]
    }
}

impl<'a, T> MatMut<'a, T> {
    /// Wraps `data` as a mutable `rows x cols` matrix; the length must be `rows * cols`.
    pub fn new(data: &'a mut [T], rows: usize, cols: usize, layout: Layout) -> Result<Self> {
        check_len(data.len(), rows, cols, "matrix")?;
        Ok(MatMut {
            data,
            rows,
            cols,
            layout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_must_match_length() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let m = MatRef::new(&v, 2, 3, Layout::RowMajor).unwrap();
        assert_eq!(m.row(1), &[4.0, 5.0, 6.0]);
        let f = MatRef::new(&v, 2, 3, Layout::ColMajor).unwrap();
        assert_eq!(f.col(2), &[5.0, 6.0]);
        assert!(MatRef::new(&v, 4, 2, Layout::RowMajor).is_err());
        assert!(MatRef::new(&v, usize::MAX, 2, Layout::RowMajor).is_err());
    }
}
