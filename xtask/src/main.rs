//! Workspace automation, run through the `cargo xtask` alias.
//!
//! ```text
//! cargo xtask generate [--check]   regenerate the client crates from spec/
//! cargo xtask spec diff|pull       the API change report; fetch the vendor's document
//! cargo xtask normalize [--out F]  write the normalized OpenAPI 3.0 document
//! cargo xtask conformance          the conformance coverage gate
//! cargo xtask bench [--smoke]      the client against plain reqwest
//! cargo xtask semver [...]         the library crates' public API against the baseline
//! cargo xtask mutants [...]        mutation testing of the hand-written crates
//! ```
//!
//! Everything that turns `spec/` into Rust lives in [`codegen`]; this file only
//! parses arguments.

use std::path::PathBuf;
use std::process::ExitCode;

mod bench;
mod changes;
mod codegen;
mod conformance;
mod mutants;
mod open_types;
mod request_path;
mod semver;
mod send_call;
mod spec;
mod tools;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  generate [--check] [--report F]
                        regenerate crates/linkt, linkt-httpmock and linkt-cli from spec/
                        (--check writes nothing and fails when the committed code is stale);
                        first prints the API changes since spec/ at git HEAD (--report F:
                        also as Markdown)
  spec diff OLD NEW [--overlay F|none] [--report F]
                        the API change report between two vendor documents, each prepared
                        with the overlay (default spec/overlay.yaml)
  spec pull [--from URL] [--out F] [--overlay F|none] [--report F]
                        fetch the vendor's /openapi.json (default LINKT_BASE_URL/openapi.json,
                        else https://api.linkt.ai/openapi.json; LINKT_API_KEY is sent as
                        x-api-key), write it as served to spec/linkt-v1.openapi.json (or F)
                        and print the change report against the file it replaces
  normalize [--out F]   write the normalized OpenAPI 3.0 document (default: stdout)
  conformance           print the conformance coverage table; fails on anything uncovered
  conformance --live [--write [--i-know]] [--plan free|pro] [--report F] [--mock]
                        check the live API (LINKT_API_KEY, LINKT_BASE_URL or LINKT_ENVIRONMENT)
                        against the spec: `linkt doctor` with these arguments; exits 0 for no
                        or additive drift, 1 for breaking drift, 2 for an incomplete tour
  bench [--smoke]       benchmark the client against plain reqwest (see BENCHMARKS.md)
  semver [--baseline R] check the library crates' public API with cargo-semver-checks against
                        the baseline revision (semver-baseline.toml unless R is given)
  semver --agreement    a spec field removal must be breaking for cargo-semver-checks and
                        for the spec change report
  mutants [--crate NAME]... [--in-diff REV] [--file GLOB]... [--jobs N]
                        mutation testing with the pinned cargo-mutants (installed when missing)
                        of linkt-auth, linkt-backoff, linkt-error and linkt's hand-written
                        modules, each by its own tests; --in-diff mutates only the lines
                        changed since REV; prints the score table (see CONTRIBUTING.md)
";

/// `generate [--check] [--report FILE]`: the change report since `HEAD`
/// (informational), then generation.
fn generate(args: &[&str]) -> anyhow::Result<()> {
    let (mut mode, mut report) = (codegen::Mode::Write, None);
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        match (arg, args.as_slice().first()) {
            ("--check", _) => mode = codegen::Mode::Check,
            ("--report", Some(&path)) => {
                report = Some(PathBuf::from(path));
                args.next();
            }
            _ => anyhow::bail!("unrecognized arguments: generate {arg}\n\n{USAGE}"),
        }
    }
    spec::report_against_head(report.as_deref());
    codegen::generate(mode).map(|_| ())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["generate", rest @ ..] => generate(rest),
        ["spec", rest @ ..] => spec::run(rest),
        ["normalize"] => codegen::normalize(None),
        ["normalize", "--out", path] => codegen::normalize(Some(PathBuf::from(path))),
        ["conformance"] => conformance::run(),
        ["conformance", "--live", rest @ ..] => conformance::live(rest),
        ["bench", rest @ ..] => bench::run(rest),
        ["semver", rest @ ..] => semver::run(rest),
        ["mutants", rest @ ..] => mutants::run(rest),
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
