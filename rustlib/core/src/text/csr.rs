//! The sparse result of the vectorizers.

/// A CSR matrix: row `r` has the entries `indptr[r]..indptr[r + 1]` of
/// `indices` (columns) and `data`, in the order scikit-learn produces them.
#[derive(Debug, Clone, PartialEq)]
pub struct Csr<T> {
    /// Number of rows (documents).
    pub n_rows: usize,
    /// Number of columns (features).
    pub n_cols: usize,
    /// `n_rows + 1` row starts.
    pub indptr: Vec<u64>,
    /// Column of each entry.
    pub indices: Vec<u32>,
    /// Value of each entry.
    pub data: Vec<T>,
}

impl<T> Csr<T> {
    /// An empty matrix of `n_cols` columns and no rows.
    pub fn empty(n_cols: usize) -> Self {
        Csr {
            n_rows: 0,
            n_cols,
            indptr: vec![0],
            indices: Vec::new(),
            data: Vec::new(),
        }
    }

    /// Removes every row (keeps the allocated capacity).
    pub fn clear(&mut self) {
        self.n_rows = 0;
        self.indptr.clear();
        self.indptr.push(0);
        self.indices.clear();
        self.data.clear();
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Appends the rows of `other` (same column count).
    pub fn append(&mut self, other: Csr<T>) {
        let base = *self.indptr.last().unwrap_or(&0);
        self.indptr
            .extend(other.indptr.iter().skip(1).map(|p| p + base));
        self.indices.extend(other.indices);
        self.data.extend(other.data);
        self.n_rows += other.n_rows;
    }

    /// Concatenates row blocks in order.
    pub(crate) fn concat(n_cols: usize, parts: Vec<Csr<T>>) -> Self {
        let nnz = parts.iter().map(|p| p.nnz()).sum();
        let rows = parts.iter().map(|p| p.n_rows).sum::<usize>();
        let mut out = Csr {
            n_rows: 0,
            n_cols,
            indptr: Vec::with_capacity(rows + 1),
            indices: Vec::with_capacity(nnz),
            data: Vec::with_capacity(nnz),
        };
        out.indptr.push(0);
        for p in parts {
            out.append(p);
        }
        out
    }
}
