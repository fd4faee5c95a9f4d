//! Character tables that decide tokens: word characters, whitespace, lowercase.
//!
//! scikit-learn tokenizes with Python's `re` and lowercases with `str.lower`,
//! whose character classes come from the running Python's Unicode database
//! (Python's `\w` is categories L* and N* plus `_`; `\s` includes U+001C-U+001F).
//! Rust's own Unicode tables follow another Unicode version and other
//! definitions (UTS#18 `\w` includes combining marks), so exact results need
//! the tables of the Python that the results must match: the Python package
//! builds them at import from `re`/`str.lower` and passes them in
//! ([`CharTables::from_parts`]). [`CharTables::ascii_std`] is a Rust-only
//! approximation for callers without a Python (exact on ASCII text).

/// A set of code points as a bitmap over U+0000..U+10FFFF.
#[derive(Clone)]
pub struct CharSet {
    bits: Vec<u64>,
}

const N_CP: usize = 0x11_0000;

impl CharSet {
    /// The empty set.
    pub fn empty() -> Self {
        CharSet {
            bits: vec![0; N_CP / 64],
        }
    }

    /// A set from inclusive `(first, last)` code point ranges; ranges beyond
    /// U+10FFFF are clipped.
    pub fn from_ranges(ranges: &[(u32, u32)]) -> Self {
        let mut s = Self::empty();
        for &(a, b) in ranges {
            let b = b.min(N_CP as u32 - 1);
            for cp in a..=b {
                s.bits[(cp >> 6) as usize] |= 1 << (cp & 63);
            }
        }
        s
    }

    /// A set of the code points for which `f` is true.
    pub fn from_fn(f: impl Fn(char) -> bool) -> Self {
        let mut s = Self::empty();
        for cp in 0..N_CP as u32 {
            if char::from_u32(cp).is_some_and(&f) {
                s.bits[(cp >> 6) as usize] |= 1 << (cp & 63);
            }
        }
        s
    }

    /// Membership test.
    #[inline(always)]
    pub fn contains(&self, c: char) -> bool {
        let cp = c as u32;
        (self.bits[(cp >> 6) as usize] >> (cp & 63)) & 1 != 0
    }
}

/// Everything the analyzers need to know about characters.
#[derive(Clone)]
pub struct CharTables {
    /// Python's `\w` (with `(?u)`).
    pub(crate) word: CharSet,
    /// Python's `\s` / `str.isspace`.
    pub(crate) space: CharSet,
    /// Case_Ignorable (for the final sigma rule of `str.lower`).
    pub(crate) case_ignorable: CharSet,
    /// Cased and not Case_Ignorable (for the final sigma rule).
    pub(crate) cased: CharSet,
    /// `c.lower()` for every non-ASCII `c` (other than U+03A3) where it differs, sorted by `c`.
    lower: Vec<(u32, Box<str>)>,
    /// Single-character lowercase of the Basic Multilingual Plane: 0 = unchanged,
    /// u32::MAX = several characters (look up `lower`).
    lower_bmp: Vec<u32>,
    /// ASCII word-character flags.
    ascii_word: [bool; 128],
    ascii_space: [bool; 128],
    /// Per byte of UTF-8: [`BYTE_WORD`] for an ASCII word character,
    /// [`BYTE_OTHER`] for another ASCII character, [`BYTE_MULTI`] for a byte
    /// of a multi-byte character (decode to classify).
    pub(crate) byte_class: [u8; 256],
    /// Per code point of the Basic Multilingual Plane: its one-character
    /// lowercase (bits 0..21, the character itself when unchanged) and the
    /// flags [`CP_WORD`], [`CP_SPACE`], [`CP_COMPLEX`]. One load classifies
    /// and lowercases a character (see [`CharTables::cp_info`]).
    cp_bmp: Vec<u32>,
    /// The ASCII word characters are exactly `[0-9A-Za-z_]` (as in every
    /// Python): the tokenizer may classify ASCII bytes arithmetically.
    pub(crate) std_ascii_word: bool,
}

/// [`CharTables::cp_info`]: the character is a word character (`\w`).
pub(crate) const CP_WORD: u32 = 1 << 21;
/// [`CharTables::cp_info`]: the character is whitespace (`\s`).
pub(crate) const CP_SPACE: u32 = 1 << 22;
/// [`CharTables::cp_info`]: lowercasing the character is not a one-character
/// map to a character of the same word/space classes and UTF-8 length (e.g.
/// U+0130 becomes two characters, U+03A3 depends on its context, U+212A
/// becomes one byte), so text containing it must be lowercased as a whole
/// before it is split.
pub(crate) const CP_COMPLEX: u32 = 1 << 23;
/// [`CharTables::cp_info`]: the bits of the lowercase character.
pub(crate) const CP_LOWER: u32 = (1 << 21) - 1;

/// [`CharTables`]' byte class of an ASCII word character.
pub(crate) const BYTE_WORD: u8 = 1;
/// [`CharTables`]' byte class of an ASCII non-word character.
pub(crate) const BYTE_OTHER: u8 = 0;
/// [`CharTables`]' byte class of a byte >= 0x80.
pub(crate) const BYTE_MULTI: u8 = 2;

impl CharTables {
    /// Builds the tables from their parts (as produced from Python by
    /// `ferrokit.text`): word, space, case-ignorable and cased-not-ignorable
    /// code point ranges (inclusive), and the lowercase mapping `(cp, lower)`
    /// for every code point whose `str.lower()` differs (U+03A3 is handled by
    /// the final sigma rule and ignored here).
    ///
    /// ```
    /// use ferrokit_core::text::CharTables;
    /// let t = CharTables::from_parts(&[(0x30, 0x39), (0x41, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)],
    ///     &[(0x20, 0x20)], &[], &[(0x41, 0x5a), (0x61, 0x7a)], &[('A' as u32, "a".into())]);
    /// assert_eq!(t.lowercase("Ab"), "ab");
    /// ```
    pub fn from_parts(
        word: &[(u32, u32)],
        space: &[(u32, u32)],
        case_ignorable: &[(u32, u32)],
        cased: &[(u32, u32)],
        lower: &[(u32, String)],
    ) -> Self {
        let mut map: Vec<(u32, Box<str>)> = lower
            .iter()
            .filter(|(c, _)| *c != 0x3A3)
            .map(|(c, s)| (*c, s.clone().into_boxed_str()))
            .collect();
        map.sort_by_key(|e| e.0);
        map.dedup_by_key(|e| e.0);
        Self::assemble(
            CharSet::from_ranges(word),
            CharSet::from_ranges(space),
            CharSet::from_ranges(case_ignorable),
            CharSet::from_ranges(cased),
            map,
        )
    }

    /// Tables from Rust's own Unicode data: exact on ASCII text, an
    /// approximation of Python's elsewhere (`\w` = alphanumeric or `_`,
    /// lowercase = `char::to_lowercase`). For Rust callers without a Python.
    ///
    /// ```
    /// use ferrokit_core::text::CharTables;
    /// assert_eq!(CharTables::ascii_std().lowercase("HeLLo"), "hello");
    /// ```
    pub fn ascii_std() -> Self {
        let word = CharSet::from_fn(|c| c.is_alphanumeric() || c == '_');
        let space = CharSet::from_fn(|c| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
        let ci = CharSet::from_fn(|c| matches!(c, '\'' | '.' | ':' | '^' | '`' | '\u{AD}'));
        let cased = CharSet::from_fn(|c| c.is_lowercase() || c.is_uppercase());
        let mut map = Vec::new();
        for cp in 0x80..N_CP as u32 {
            if let Some(c) = char::from_u32(cp) {
                if cp == 0x3A3 {
                    continue;
                }
                let l: String = c.to_lowercase().collect();
                if l.len() != c.len_utf8() || !l.starts_with(c) {
                    map.push((cp, l.into_boxed_str()));
                }
            }
        }
        Self::assemble(word, space, ci, cased, map)
    }

    fn assemble(
        word: CharSet,
        space: CharSet,
        case_ignorable: CharSet,
        cased: CharSet,
        lower: Vec<(u32, Box<str>)>,
    ) -> Self {
        let mut lower_bmp = vec![0u32; 0x1_0000];
        for (cp, s) in &lower {
            if *cp < 0x1_0000 {
                let mut it = s.chars();
                lower_bmp[*cp as usize] = match (it.next(), it.next()) {
                    (Some(c), None) => c as u32,
                    _ => u32::MAX,
                };
            }
        }
        let mut ascii_word = [false; 128];
        let mut ascii_space = [false; 128];
        let mut byte_class = [BYTE_MULTI; 256];
        for b in 0..128u8 {
            ascii_word[b as usize] = word.contains(b as char);
            ascii_space[b as usize] = space.contains(b as char);
            byte_class[b as usize] = if ascii_word[b as usize] {
                BYTE_WORD
            } else {
                BYTE_OTHER
            };
        }
        let flags = |c: char| {
            (if word.contains(c) { CP_WORD } else { 0 })
                | (if space.contains(c) { CP_SPACE } else { 0 })
        };
        let cp_bmp = (0..0x1_0000u32)
            .map(|cp| {
                let Some(c) = char::from_u32(cp) else {
                    return 0; // a surrogate: never decoded from valid UTF-8
                };
                let f = flags(c);
                let low = match lower_bmp[cp as usize] {
                    0 => Some(c.to_ascii_lowercase()),
                    u32::MAX => None,
                    m => char::from_u32(m),
                };
                match low {
                    Some(l) if cp != 0x3A3 && flags(l) == f && l.len_utf8() == c.len_utf8() => {
                        f | l as u32
                    }
                    _ => f | CP_COMPLEX | cp,
                }
            })
            .collect();
        CharTables {
            word,
            space,
            case_ignorable,
            cased,
            lower,
            lower_bmp,
            ascii_word,
            ascii_space,
            byte_class,
            cp_bmp,
            std_ascii_word: (0..128u8)
                .all(|b| ascii_word[b as usize] == (b.is_ascii_alphanumeric() || b == b'_')),
        }
    }

    /// The class flags and one-character lowercase of `cp` (a valid scalar
    /// value): `CP_WORD`/`CP_SPACE`/`CP_COMPLEX` bits plus the lowercase in
    /// the `CP_LOWER` bits (the character itself when unchanged or complex).
    #[inline(always)]
    pub(crate) fn cp_info(&self, cp: u32) -> u32 {
        if cp < 0x1_0000 {
            return self.cp_bmp[cp as usize];
        }
        let c = char::from_u32(cp).unwrap_or('\0');
        let mut f = cp;
        if self.word.contains(c) {
            f |= CP_WORD;
        }
        if self.space.contains(c) {
            f |= CP_SPACE;
        }
        if self.lower_of(cp).is_some() {
            f |= CP_COMPLEX;
        }
        f
    }

    /// Python's `\w` for `c`.
    #[inline(always)]
    pub fn is_word(&self, c: char) -> bool {
        if (c as u32) < 128 {
            self.ascii_word[c as usize]
        } else {
            self.word.contains(c)
        }
    }

    /// Python's `\s` / `str.isspace()` for `c`.
    #[inline(always)]
    pub fn is_space(&self, c: char) -> bool {
        if (c as u32) < 128 {
            self.ascii_space[c as usize]
        } else {
            self.space.contains(c)
        }
    }

    /// Python's `s.lower()`.
    pub fn lowercase(&self, s: &str) -> String {
        let mut out = String::new();
        self.lowercase_into(s, &mut out);
        out
    }

    /// Python's `s.lower()`, written into `out` (cleared first).
    pub fn lowercase_into(&self, s: &str, out: &mut String) {
        out.clear();
        if s.is_ascii() {
            out.push_str(s);
            out.make_ascii_lowercase();
            return;
        }
        out.reserve(s.len());
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            // A run of ASCII characters: copied and lowercased in bulk.
            let run = b[i..]
                .iter()
                .position(|&c| c >= 0x80)
                .unwrap_or(b.len() - i);
            if run > 0 {
                let start = out.len();
                out.push_str(&s[i..i + run]);
                out.as_mut_str()[start..].make_ascii_lowercase();
                i += run;
                if i == b.len() {
                    break;
                }
            }
            let c = s[i..].chars().next().unwrap_or('\0');
            let cp = c as u32;
            if cp == 0x3A3 {
                out.push(if self.final_sigma(s, i) { 'ς' } else { 'σ' });
            } else if cp < 0x1_0000 {
                match self.lower_bmp[cp as usize] {
                    0 => out.push(c),
                    u32::MAX => out.push_str(self.lower_of(cp).unwrap_or("")),
                    m => out.push(char::from_u32(m).unwrap_or(c)),
                }
            } else {
                match self.lower_of(cp) {
                    Some(l) => out.push_str(l),
                    None => out.push(c),
                }
            }
            i += c.len_utf8();
        }
    }

    fn lower_of(&self, cp: u32) -> Option<&str> {
        self.lower
            .binary_search_by_key(&cp, |e| e.0)
            .ok()
            .map(|i| &*self.lower[i].1)
    }

    /// CPython's `handle_capital_sigma`: U+03A3 at byte `i` of `s` lowercases
    /// to final sigma when preceded by a cased letter (skipping case-ignorable
    /// ones) and not followed by one.
    fn final_sigma(&self, s: &str, i: usize) -> bool {
        let before = s[..i]
            .chars()
            .rev()
            .find(|&c| !self.case_ignorable.contains(c));
        if !before.is_some_and(|c| self.cased.contains(c)) {
            return false;
        }
        let after = s[i + 'Σ'.len_utf8()..]
            .chars()
            .find(|&c| !self.case_ignorable.contains(c));
        !after.is_some_and(|c| self.cased.contains(c))
    }
}

impl std::fmt::Debug for CharTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CharTables({} lowercase mappings)", self.lower.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_tables_lowercase_and_sigma() {
        let t = CharTables::ascii_std();
        assert_eq!(t.lowercase("ΟΔΟΣ ΣΑ"), "οδος σα");
        assert_eq!(t.lowercase("ΟΔΟΣ"), "οδος");
        assert_eq!(t.lowercase("Σ"), "σ");
        assert_eq!(t.lowercase("İx"), "i\u{307}x");
        assert!(t.is_word('_') && t.is_word('é') && !t.is_word('-'));
        assert!(t.is_space('\x1c') && t.is_space('\u{a0}') && !t.is_space('x'));
    }

    #[test]
    fn charset_ranges() {
        let s = CharSet::from_ranges(&[(10, 12), (0x10FFFF, 0x20_0000)]);
        assert!(s.contains('\u{b}') && !s.contains('\u{d}') && s.contains('\u{10FFFF}'));
    }
}
