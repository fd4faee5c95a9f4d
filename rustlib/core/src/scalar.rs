//! Scalar seed functions.

use crate::{Error, Result};

/// Adds two 32-bit signed integers; overflow is an error, never a wrap.
///
/// ```
/// assert_eq!(ferrokit_core::scalar::add_numbers(5, 7), Ok(12));
/// assert!(ferrokit_core::scalar::add_numbers(i32::MAX, 1).is_err());
/// ```
pub fn add_numbers(a: i32, b: i32) -> Result<i32> {
    a.checked_add(b).ok_or_else(|| {
        Error::Overflow(format!(
            "add_numbers: {a} + {b} overflows a 32-bit signed integer"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_detects_overflow() {
        assert_eq!(add_numbers(5, 7), Ok(12));
        assert_eq!(add_numbers(-5, 7), Ok(2));
        assert_eq!(add_numbers(i32::MIN, i32::MAX), Ok(-1));
        assert!(matches!(add_numbers(i32::MAX, 1), Err(Error::Overflow(_))));
        assert!(matches!(add_numbers(i32::MIN, -1), Err(Error::Overflow(_))));
    }
}
