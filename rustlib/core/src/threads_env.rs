//! The thread count the environment asks for: `FERROKIT_NUM_THREADS`, else
//! `OMP_NUM_THREADS`, validated and clamped.
//!
//! A value must be a positive integer (for `OMP_NUM_THREADS` the first entry of
//! a list such as `4,2`). Values above [`MAX_THREADS`] are clamped to it (a
//! pool of 999999 threads never finished starting); anything else (`0`, `-1`,
//! `abc`, `1.5`) is ignored and the next source is used. Either case produces a
//! message ([`EnvThreads::warning`]) that bindings show to the user once.

/// The largest thread count: the bound of `set_num_threads` and the clamp for
/// the environment variables.
pub const MAX_THREADS: usize = 1024;

/// The variables read, in order of precedence.
pub const VARIABLES: [&str; 2] = ["FERROKIT_NUM_THREADS", "OMP_NUM_THREADS"];

/// What one variable's text means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// Not set, or empty / only spaces.
    Unset,
    /// A positive integer no larger than [`MAX_THREADS`].
    Valid(usize),
    /// A positive integer above [`MAX_THREADS`]; [`MAX_THREADS`] is used.
    Clamped,
    /// Not a positive integer: ignored.
    Invalid,
}

/// Parses one variable's text (see the module doc).
///
/// ```
/// use ferrokit_core::threads_env::{parse, Parsed, MAX_THREADS};
/// assert_eq!(parse(" 4 "), Parsed::Valid(4));
/// assert_eq!(parse("4,2"), Parsed::Valid(4));
/// assert_eq!(parse("999999"), Parsed::Clamped);
/// assert_eq!(parse("1.5"), Parsed::Invalid);
/// assert_eq!(parse(""), Parsed::Unset);
/// ```
pub fn parse(text: &str) -> Parsed {
    if text.trim().is_empty() {
        return Parsed::Unset;
    }
    let first = text.split(',').next().unwrap_or("").trim();
    let digits = first.strip_prefix('+').unwrap_or(first);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Parsed::Invalid;
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Parsed::Invalid; // zero
    }
    match significant.parse::<usize>() {
        Ok(n) if n <= MAX_THREADS => Parsed::Valid(n),
        _ => Parsed::Clamped, // larger than the maximum (or than usize)
    }
}

/// The outcome of reading the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvThreads {
    /// The thread count from the first usable variable, if any.
    pub threads: Option<usize>,
    /// Why a variable was clamped or ignored, and what is used instead; `None`
    /// when every set variable was valid.
    pub warning: Option<String>,
}

/// Reads the variables through `get` (`std::env::var` in [`from_env`]).
/// `fallback` describes the value used when no variable is usable.
pub fn resolve(get: impl Fn(&str) -> Option<String>, fallback: &str) -> EnvThreads {
    let mut notes = Vec::new();
    let mut threads = None;
    let mut source = String::new();
    for name in VARIABLES {
        let Some(text) = get(name) else { continue };
        match parse(&text) {
            Parsed::Unset => {}
            Parsed::Valid(n) => {
                threads = Some(n);
                source = format!("{name}={n}");
            }
            Parsed::Clamped => {
                notes.push(format!(
                    "{name}={text:?} is above the maximum of {MAX_THREADS} threads"
                ));
                threads = Some(MAX_THREADS);
                source = format!("the maximum, {MAX_THREADS}");
            }
            Parsed::Invalid => notes.push(format!(
                "{name}={text:?} is not a positive integer (1..={MAX_THREADS}): ignored"
            )),
        }
        if threads.is_some() {
            break;
        }
    }
    let warning = (!notes.is_empty()).then(|| {
        let used = if threads.is_some() {
            source
        } else {
            fallback.to_string()
        };
        format!("ferrokit: {}; using {used}", notes.join("; "))
    });
    EnvThreads { threads, warning }
}

/// The usable CPUs of this process (affinity / cgroup aware), at least 1.
pub fn usable_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Reads `FERROKIT_NUM_THREADS` / `OMP_NUM_THREADS` from the process
/// environment.
pub fn from_env() -> EnvThreads {
    resolve(
        |name| std::env::var(name).ok(),
        &format!("the {} usable CPUs", usable_cpus()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn parses_positive_integers_and_rejects_the_rest() {
        for (t, want) in [
            ("1", Parsed::Valid(1)),
            ("007", Parsed::Valid(7)),
            ("+3", Parsed::Valid(3)),
            ("1024", Parsed::Valid(1024)),
            ("1025", Parsed::Clamped),
            ("999999", Parsed::Clamped),
            ("99999999999999999999999999", Parsed::Clamped),
            ("0", Parsed::Invalid),
            ("000", Parsed::Invalid),
            ("-1", Parsed::Invalid),
            ("abc", Parsed::Invalid),
            ("1.5", Parsed::Invalid),
            ("2e3", Parsed::Invalid),
            ("+", Parsed::Invalid),
            (",4", Parsed::Invalid),
            ("", Parsed::Unset),
            ("  ", Parsed::Unset),
            ("8,4,2", Parsed::Valid(8)),
        ] {
            assert_eq!(parse(t), want, "{t:?}");
        }
    }

    #[test]
    fn precedence_fallback_and_messages() {
        let r = resolve(
            env(&[("FERROKIT_NUM_THREADS", "3"), ("OMP_NUM_THREADS", "5")]),
            "cpus",
        );
        assert_eq!(
            r,
            EnvThreads {
                threads: Some(3),
                warning: None
            }
        );
        let r = resolve(env(&[("OMP_NUM_THREADS", "5")]), "cpus");
        assert_eq!(r.threads, Some(5));
        let r = resolve(env(&[("FERROKIT_NUM_THREADS", "999999")]), "cpus");
        assert_eq!(r.threads, Some(MAX_THREADS));
        let w = r.warning.unwrap();
        assert!(
            w.contains("FERROKIT_NUM_THREADS=\"999999\" is above the maximum of 1024"),
            "{w}"
        );
        assert!(w.ends_with("using the maximum, 1024"), "{w}");
        let r = resolve(env(&[("OMP_NUM_THREADS", "3000")]), "cpus");
        assert_eq!(r.threads, Some(MAX_THREADS));
        let r = resolve(
            env(&[("FERROKIT_NUM_THREADS", "abc"), ("OMP_NUM_THREADS", "2")]),
            "cpus",
        );
        assert_eq!(r.threads, Some(2));
        let w = r.warning.unwrap();
        assert!(
            w.contains("FERROKIT_NUM_THREADS=\"abc\" is not a positive integer"),
            "{w}"
        );
        assert!(w.ends_with("using OMP_NUM_THREADS=2"), "{w}");
        let r = resolve(
            env(&[("FERROKIT_NUM_THREADS", "0"), ("OMP_NUM_THREADS", "-1")]),
            "the 2 usable CPUs",
        );
        assert_eq!(r.threads, None);
        let w = r.warning.unwrap();
        assert!(w.contains("OMP_NUM_THREADS=\"-1\""), "{w}");
        assert!(w.ends_with("using the 2 usable CPUs"), "{w}");
        assert_eq!(
            resolve(env(&[("FERROKIT_NUM_THREADS", " ")]), "c"),
            EnvThreads {
                threads: None,
                warning: None
            }
        );
    }
}
