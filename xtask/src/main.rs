//! Workspace automation, run through the `cargo xtask` alias.
//!
//! ```text
//! cargo xtask generate [--check]   regenerate the client crates from spec/
//! cargo xtask normalize [--out F]  write the normalized OpenAPI 3.0 document
//! cargo xtask conformance          the conformance coverage gate
//! cargo xtask bench [--smoke]      the client against plain reqwest
//! cargo xtask semver [...]         the library crates' public API against the baseline
//! ```
//!
//! Everything that turns `spec/` into Rust lives in [`codegen`]; this file only
//! parses arguments.

use std::path::PathBuf;
use std::process::ExitCode;

mod bench;
mod codegen;
mod conformance;
mod open_types;
mod request_path;
mod semver;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  generate [--check]    regenerate crates/linkt, linkt-httpmock and linkt-cli from spec/
                        (--check writes nothing and fails when the committed code is stale)
  normalize [--out F]   write the normalized OpenAPI 3.0 document (default: stdout)
  conformance           print the conformance coverage table; fails on anything uncovered
  bench [--smoke]       benchmark the client against plain reqwest (see BENCHMARKS.md)
  semver [--baseline R] check the library crates' public API with cargo-semver-checks against
                        the baseline revision (semver-baseline.toml unless R is given)
  semver --agreement    a spec field removal must be breaking for cargo-semver-checks and
                        for the spec change report
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["generate"] => codegen::generate(codegen::Mode::Write).map(|_| ()),
        ["generate", "--check"] => codegen::generate(codegen::Mode::Check).map(|_| ()),
        ["normalize"] => codegen::normalize(None),
        ["normalize", "--out", path] => codegen::normalize(Some(PathBuf::from(path))),
        ["conformance"] => conformance::run(),
        ["bench", rest @ ..] => bench::run(rest),
        ["semver", rest @ ..] => semver::run(rest),
        ["help" | "--help" | "-h"] | [] => {
            eprint!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("unrecognized arguments: {}\n\n{USAGE}", args.join(" "));
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
