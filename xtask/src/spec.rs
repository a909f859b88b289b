//! `cargo xtask spec diff|pull`, and the change report `cargo xtask generate`
//! prints: getting two versions of the vendor document (files, the git `HEAD`,
//! the vendor's server), preparing them with the overlay, and printing the
//! [`changes`] report as text (stderr) and Markdown (a file).
//!
//! What does not belong here: comparing documents (`changes/`), generating
//! code (`codegen.rs`).
//!
//! `spec pull` fetches `/openapi.json` with the API key as a sensitive
//! `x-api-key` header, follows no redirect (a 3xx is an error naming its
//! `Location`, so the key never leaves the origin), stops at a size limit
//! while reading, and writes the body byte for byte as served. The key is in
//! no output and no error.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::changes::{self, ChangeReport};
use crate::codegen::workspace_root;

const SPEC: &str = "spec/linkt-v1.openapi.json";
const OVERLAY: &str = "spec/overlay.yaml";
/// Where `spec pull` fetches from without `--from` or `LINKT_BASE_URL`.
pub(crate) const DEFAULT_URL: &str = "https://api.linkt.ai/openapi.json";
/// The largest document `spec pull` accepts.
pub(crate) const MAX_BYTES: usize = 32 * 1024 * 1024;
/// How long `spec pull` waits for the whole response.
const TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// `cargo xtask spec <args>`.
pub(crate) fn run(args: &[&str]) -> Result<()> {
    match args {
        ["diff", rest @ ..] => {
            let flags = Flags::parse(rest, &["--overlay", "--report"])?;
            let [old, new] = flags.positional[..] else {
                bail!("usage: cargo xtask spec diff OLD NEW [--overlay FILE|none] [--report FILE]");
            };
            let overlay = flags.overlay();
            let report = compare_files(Path::new(old), Path::new(new), overlay.as_deref())?;
            publish(&report, flags.get("--report").map(Path::new))
        }
        ["pull", rest @ ..] => {
            let flags = Flags::parse(rest, &["--from", "--out", "--overlay", "--report"])?;
            if !flags.positional.is_empty() {
                bail!(
                    "usage: cargo xtask spec pull [--from URL] [--out FILE] [--overlay FILE|none] \
                     [--report FILE]"
                );
            }
            let url = match flags.get("--from") {
                Some(url) => url.to_owned(),
                None => match std::env::var("LINKT_BASE_URL") {
                    Ok(base) if !base.trim().is_empty() => {
                        format!("{}/openapi.json", base.trim().trim_end_matches('/'))
                    }
                    _ => DEFAULT_URL.to_owned(),
                },
            };
            let key = std::env::var("LINKT_API_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty());
            let pull = Pull {
                url,
                key,
                out: flags
                    .get("--out")
                    .map_or_else(|| workspace_root().join(SPEC), PathBuf::from),
                overlay: flags.overlay(),
                report: flags.get("--report").map(PathBuf::from),
                limit: MAX_BYTES,
                timeout: TIMEOUT,
            };
            pull.run().map(|_| ())
        }
        _ => bail!("usage: cargo xtask spec diff OLD NEW [...] | cargo xtask spec pull [...]"),
    }
}

/// `--flag value` pairs and positional arguments.
struct Flags<'a> {
    values: Vec<(&'a str, &'a str)>,
    positional: Vec<&'a str>,
}

impl<'a> Flags<'a> {
    fn parse(args: &[&'a str], known: &[&str]) -> Result<Self> {
        let mut flags = Flags {
            values: Vec::new(),
            positional: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(&arg) = args.next() {
            if arg.starts_with("--") {
                if !known.contains(&arg) {
                    bail!("unknown option {arg}");
                }
                let value = args
                    .next()
                    .with_context(|| format!("{arg} needs a value"))?;
                flags.values.push((arg, value));
            } else {
                flags.positional.push(arg);
            }
        }
        Ok(flags)
    }

    fn get(&self, flag: &str) -> Option<&'a str> {
        self.values
            .iter()
            .rev()
            .find(|(f, _)| *f == flag)
            .map(|(_, v)| *v)
    }

    /// `--overlay FILE`, `--overlay none`, or the workspace's overlay.
    fn overlay(&self) -> Option<PathBuf> {
        match self.get("--overlay") {
            Some("none") => None,
            Some(path) => Some(PathBuf::from(path)),
            None => Some(workspace_root().join(OVERLAY)),
        }
    }
}

/// Prepares a vendor document as generation does: overlay, then normalization.
pub(crate) fn prepare(spec: &Path, overlay: Option<&Path>) -> Result<Value> {
    let prepared = linkt_spec::prepare(spec, overlay)
        .with_context(|| format!("preparing {}", spec.display()))?;
    Ok(prepared.document)
}

/// The change report between two vendor documents, each prepared with `overlay`.
pub(crate) fn compare_files(
    old: &Path,
    new: &Path,
    overlay: Option<&Path>,
) -> Result<ChangeReport> {
    Ok(changes::compare(
        &prepare(old, overlay)?,
        &prepare(new, overlay)?,
    ))
}

/// Prints the text report to stderr and writes the Markdown to `markdown`.
fn publish(report: &ChangeReport, markdown: Option<&Path>) -> Result<()> {
    eprint!("{}", changes::text(report));
    if let Some(path) = markdown {
        fs::write(path, changes::markdown(report))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote the Markdown report to {}", path.display());
    }
    Ok(())
}

/// A directory of its own under `target/`, for documents that must be files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(purpose: &str) -> Result<Self> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = workspace_root().join("target/xtask-spec").join(format!(
            "{purpose}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch(dir))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.0.join(name);
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// For `cargo xtask generate`: the report from the spec and overlay committed at
/// `HEAD` to the working tree's, printed to stderr and, with `markdown`,
/// written there. Informational: when git, the `HEAD` copy or a preparation
/// fails, it says so in one line and returns.
pub(crate) fn report_against_head(markdown: Option<&Path>) {
    match head_report() {
        Ok(report) => {
            eprint!("change report (HEAD → working tree): ");
            if let Err(err) = publish(&report, markdown) {
                eprintln!("change report: {err:#}");
            }
        }
        Err(err) => eprintln!("change report skipped: {err:#}"),
    }
}

fn head_report() -> Result<ChangeReport> {
    let root = workspace_root();
    let scratch = Scratch::new("head")?;
    let spec = scratch.write("linkt-v1.openapi.json", &git_show(&root, SPEC)?)?;
    let overlay = scratch.write("overlay.yaml", &git_show(&root, OVERLAY)?)?;
    let old = prepare(&spec, Some(&overlay)).context("the HEAD copy")?;
    let new = prepare(&root.join(SPEC), Some(&root.join(OVERLAY))).context("the working tree")?;
    Ok(changes::compare(&old, &new))
}

/// `git show HEAD:<path>` in the workspace.
fn git_show(root: &Path, path: &str) -> Result<Vec<u8>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["show", &format!("HEAD:./{path}")])
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!(
            "git has no HEAD copy of {path}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output.stdout)
}

/// `cargo xtask spec pull`: where from, with what, and where to.
pub(crate) struct Pull {
    /// The document's URL.
    pub(crate) url: String,
    /// Sent as `x-api-key` when set.
    pub(crate) key: Option<String>,
    /// The file the document replaces.
    pub(crate) out: PathBuf,
    /// The overlay both versions are prepared with.
    pub(crate) overlay: Option<PathBuf>,
    /// Where the Markdown report goes.
    pub(crate) report: Option<PathBuf>,
    /// The largest body accepted, in bytes.
    pub(crate) limit: usize,
    /// How long the whole exchange may take.
    pub(crate) timeout: Duration,
}

impl std::fmt::Debug for Pull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pull")
            .field("url", &self.url)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("out", &self.out)
            .field("overlay", &self.overlay)
            .field("report", &self.report)
            .field("limit", &self.limit)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Pull {
    /// Fetches, checks and writes the document, then reports the changes
    /// against the file it replaced. The report is `None` when there was no
    /// previous file or it no longer prepares (said on stderr).
    ///
    /// # Errors
    ///
    /// Fetching (transport, a redirect, a non-2xx status, the size limit), a
    /// body that is not an OpenAPI JSON document (nothing is written then),
    /// writing the file, or the overlay not applying to the new document (the
    /// file is written first, so the overlay can be fixed against it). No error
    /// contains the key.
    pub(crate) fn run(&self) -> Result<Option<ChangeReport>> {
        self.run_inner().map_err(|err| self.scrub(&err))
    }

    fn run_inner(&self) -> Result<Option<ChangeReport>> {
        let body = self.fetch()?;
        check_document(&body)
            .with_context(|| format!("{} did not serve an OpenAPI document", self.url))?;

        let previous = fs::read(&self.out).ok();
        let scratch = Scratch::new("pull")?;
        let previous = previous
            .map(|bytes| scratch.write("previous.openapi.json", &bytes))
            .transpose()?;
        write_atomically(&self.out, &body)?;
        eprintln!(
            "wrote {} ({} bytes from {}{})",
            self.out.display(),
            body.len(),
            self.url,
            if self.key.is_some() {
                ", sent with the x-api-key header"
            } else {
                ""
            }
        );

        let new = prepare(&self.out, self.overlay.as_deref()).context(
            "the new document does not prepare; if an overlay action no longer matches, fix \
             spec/overlay.yaml against the new document (spec/README.md)",
        )?;
        let Some(previous) = previous else {
            eprintln!(
                "no previous document at {}; no change report",
                self.out.display()
            );
            return Ok(None);
        };
        let old = match prepare(&previous, self.overlay.as_deref()) {
            Ok(old) => old,
            Err(err) => {
                eprintln!("no change report: the previous document does not prepare: {err:#}");
                return Ok(None);
            }
        };
        let report = changes::compare(&old, &new);
        publish(&report, self.report.as_deref())?;
        Ok(Some(report))
    }

    /// The error with every occurrence of the key replaced.
    fn scrub(&self, err: &anyhow::Error) -> anyhow::Error {
        let text = format!("{err:#}");
        match &self.key {
            Some(key) => anyhow!(text.replace(key.as_str(), "[redacted]")),
            None => anyhow!(text),
        }
    }

    fn fetch(&self) -> Result<Vec<u8>> {
        // rustls with the ring provider, as the client crate uses; one the
        // process already installed wins.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the HTTP runtime")?;
        runtime.block_on(self.fetch_async())
    }

    async fn fetch_async(&self) -> Result<Vec<u8>> {
        use reqwest::header::{ACCEPT, HeaderValue, LOCATION};

        let url = &self.url;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(self.timeout))
            .build()
            .context("building the HTTP client")?;
        let mut request = client.get(url).header(ACCEPT, "application/json");
        if let Some(key) = &self.key {
            let mut value = HeaderValue::from_str(key)
                .map_err(|_| anyhow!("LINKT_API_KEY is not a valid header value"))?;
            value.set_sensitive(true);
            request = request.header("x-api-key", value);
        }
        let mut response = request
            .send()
            .await
            .with_context(|| format!("fetching {url}"))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_else(|| "nowhere (no Location header)".to_owned());
            bail!(
                "{url} answered {status}, redirecting to {location}; redirects are not followed \
                 (the API key must not leave the origin): pass the final URL with --from"
            );
        }
        let limit = if status.is_success() { self.limit } else { 512 };
        if status.is_success()
            && let Some(length) = response.content_length()
            && length > limit as u64
        {
            bail!("{url} announced {length} bytes, over the limit of {limit} bytes");
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .with_context(|| format!("reading the body of {url}"))?
        {
            if body.len() + chunk.len() > limit {
                if !status.is_success() {
                    body.extend_from_slice(&chunk[..limit - body.len()]);
                    break;
                }
                bail!("the body of {url} is over the limit of {limit} bytes");
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let mut message = format!("{url} answered {status}");
            let text = String::from_utf8_lossy(&body);
            if !text.trim().is_empty() {
                let _ = write!(message, ": {}", text.trim());
            }
            bail!(message);
        }
        Ok(body)
    }
}

/// A JSON object with an `openapi` version string.
fn check_document(body: &[u8]) -> Result<()> {
    let value: Value = serde_json::from_slice(body).context("the body is not JSON")?;
    match value.get("openapi") {
        Some(Value::String(_)) => Ok(()),
        _ => bail!("the JSON has no `openapi` version field"),
    }
}

/// Writes through a sibling temporary file, so a failed write leaves the old file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(test)]
mod tests;
