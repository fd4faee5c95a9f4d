//! `ferrokit-serve PATH [--host 127.0.0.1] [--port 8080] ...` (see `--help`).

use clap::Parser;

fn main() {
    let cfg = ferrokit_serve::config::Config::parse();
    std::process::exit(ferrokit_serve::server::run(cfg));
}
