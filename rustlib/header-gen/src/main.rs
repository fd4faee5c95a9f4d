//! Regenerates the C header and the cffi declarations from the capi crate with
//! a pinned cbindgen (see Cargo.toml), so every machine produces the same bytes.
//!
//! `cargo run -p ferrokit-header-gen`            writes both files
//! `cargo run -p ferrokit-header-gen -- --verify` fails if either is stale

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn generate(config: cbindgen::Config) -> Result<String, String> {
    let capi = repo_root().join("rustlib/capi");
    let bindings = cbindgen::Builder::new()
        .with_crate(&capi)
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen failed: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// The public header for C and C++ users.
fn c_header() -> Result<String, String> {
    let path = repo_root().join("rustlib/capi/cbindgen.toml");
    let config =
        cbindgen::Config::from_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    generate(config)
}

/// The same declarations in the subset of C that cffi's `cdef` parses: no
/// preprocessor guards, includes or C++ blocks.
fn cffi_cdef() -> Result<String, String> {
    let path = repo_root().join("rustlib/capi/cbindgen.toml");
    let mut config =
        cbindgen::Config::from_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    config.header = Some(
        "/* cffi declarations of ferrokit, generated with include/ferrokit.h; do not edit. */"
            .into(),
    );
    config.autogen_warning = None;
    config.include_guard = None;
    config.cpp_compat = false;
    config.sys_includes = Vec::new();
    config.documentation = false;
    generate(config)
}

fn main() -> ExitCode {
    let verify = std::env::args().any(|a| a == "--verify");
    let targets = [
        ("include/ferrokit.h", c_header()),
        ("pybind/ferrokit/_cdef.h", cffi_cdef()),
    ];
    let mut failed = false;
    for (rel, generated) in targets {
        let path = repo_root().join(rel);
        let generated = match generated {
            Ok(g) => g,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if verify {
            if current != generated {
                eprintln!("{rel} is stale: run `make header` and commit the result");
                failed = true;
            }
        } else if current != generated {
            if let Err(e) = std::fs::write(&path, generated) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            println!("wrote {rel}");
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
