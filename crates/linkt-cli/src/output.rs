//! How the generated subcommands print and what their hooks add: JSON or a
//! table on stdout, nothing on stderr (failures are reported once, by
//! `main`), and the file for `files-upload`.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use clap::ArgMatches;
use linkt::{Client, FilePart, ResponseValue, builder};

use crate::generated::CliConfig;
use crate::render;

/// Output format of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Pretty-printed JSON, exactly as the API returned it.
    Json,
    /// A readable table (lists) or field list (single objects).
    Table,
}

impl Format {
    /// `table` or anything else (`json`).
    pub(crate) fn parse(name: &str) -> Format {
        if name == "table" {
            Format::Table
        } else {
            Format::Json
        }
    }
}

/// The generated CLI's configuration: printing, and per-operation hooks.
#[derive(Debug)]
pub(crate) struct Output {
    format: Format,
    client: &'static Client,
}

impl Output {
    pub(crate) fn new(format: Format, client: &'static Client) -> Self {
        Self { format, client }
    }

    fn print_value(&self, value: &serde_json::Value) {
        let text = match self.format {
            Format::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
            Format::Table => render::value(value),
        };
        print_line(&text);
    }
}

/// Writes a line to stdout; a closed pipe (`linkt ... | head`) is not an error.
pub(crate) fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.trim_end_matches('\n'));
}

impl CliConfig for Output {
    fn success_item<T>(&self, value: &ResponseValue<T>)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
        match serde_json::to_value(&**value) {
            Ok(json) => self.print_value(&json),
            Err(err) => print_line(&format!("{value:?} ({err})")),
        }
    }

    /// Operations without a response body print nothing; the exit code says
    /// they succeeded.
    fn success_no_item(&self, _value: &ResponseValue<()>) {}

    /// Failures are printed once, as one line, by `main`.
    fn error(&self, _value: &linkt::Error) {}

    fn list_start<T>(&self)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
    }

    fn list_item<T>(&self, value: &T)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
        if let Ok(json) = serde_json::to_value(value) {
            self.print_value(&json);
        }
    }

    fn list_end_success<T>(&self)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
    }

    fn list_end_error<T>(&self, _value: &linkt::Error)
    where
        T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug,
    {
    }

    /// `files-upload --file PATH`: the file becomes the multipart body.
    fn execute_files_upload(
        &self,
        matches: &ArgMatches,
        request: &mut builder::FilesUpload<'_>,
    ) -> anyhow::Result<()> {
        let path = matches
            .get_one::<std::path::PathBuf>("file")
            .context("--file is required")?;
        let part = file_part(path)?;
        let pending = std::mem::replace(request, self.client.files_upload());
        *request = pending.body(part);
        Ok(())
    }
}

/// Reads a file to upload; the media type follows the extension.
pub(crate) fn file_part(path: &Path) -> anyhow::Result<FilePart> {
    let contents =
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .map_or_else(|| "upload".into(), |n| n.to_string_lossy().into_owned());
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    Ok(match extension.as_deref() {
        Some("csv") => FilePart::csv(name, contents),
        Some("xlsx") => FilePart::xlsx(name, contents),
        Some("xls") => FilePart::new(name, "application/vnd.ms-excel", contents),
        _ => FilePart::new(name, "application/octet-stream", contents),
    })
}
