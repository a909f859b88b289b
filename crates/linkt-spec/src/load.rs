//! Reading spec and overlay files into [`serde_json::Value`].
//!
//! This module turns bytes into a JSON value and nothing more: it knows the
//! two syntaxes (JSON, YAML) and how YAML maps onto JSON, but nothing about
//! OpenAPI. Object key order is kept as written (`serde_json` is built with
//! `preserve_order`), so everything downstream is deterministic.

use std::path::Path;

use serde_json::{Map, Number, Value};

use crate::Error;

/// The syntax of a spec or overlay file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON (`.json`).
    Json,
    /// YAML 1.2 (`.yaml`, `.yml`).
    Yaml,
}

impl Format {
    /// The format a file name's extension names, if it names one.
    ///
    /// `.json` is JSON; `.yaml` and `.yml` are YAML; case is ignored.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        })
    }
}

/// Reads a JSON or YAML file, chosen by its extension (`.json`, `.yaml`,
/// `.yml`).
///
/// # Errors
///
/// [`Error::UnknownFormat`] for any other extension, [`Error::Read`] if the
/// file cannot be read and [`Error::Parse`] if it does not parse; each names
/// the file.
pub fn load(path: &Path) -> Result<Value, Error> {
    read(path).map(|(_, value)| value)
}

/// Reads a file, returning its raw bytes (for hashing) and its value.
pub(crate) fn read(path: &Path) -> Result<(Vec<u8>, Value), Error> {
    let format = Format::from_path(path).ok_or_else(|| Error::UnknownFormat {
        path: path.to_owned(),
    })?;
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let in_file = |mut err: Error| {
        if let Error::Parse { file, .. } = &mut err {
            *file = Some(path.to_owned());
        }
        err
    };
    let text = std::str::from_utf8(&bytes).map_err(|source| {
        in_file(Error::Parse {
            format,
            file: None,
            source: Box::new(source),
        })
    })?;
    let value = parse(text, format).map_err(in_file)?;
    Ok((bytes, value))
}

/// Parses JSON or YAML text.
///
/// YAML is read as YAML 1.2 with merge keys (`<<`) applied. Mapping keys
/// that are numbers or booleans (an unquoted `200:` under `responses`)
/// become strings; keys that are sequences or mappings, tagged values and
/// non-finite numbers have no JSON equivalent and are errors.
///
/// # Errors
///
/// [`Error::Parse`] with the parser's message (line and column included).
pub fn parse(text: &str, format: Format) -> Result<Value, Error> {
    let parse_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Parse {
        format,
        file: None,
        source,
    };
    match format {
        Format::Json => serde_json::from_str(text).map_err(|e| parse_error(Box::new(e))),
        Format::Yaml => {
            let mut yaml: serde_norway::Value =
                serde_norway::from_str(text).map_err(|e| parse_error(Box::new(e)))?;
            yaml.apply_merge().map_err(|e| parse_error(Box::new(e)))?;
            yaml_to_json(yaml, "").map_err(|msg| parse_error(msg.into()))
        }
    }
}

/// Converts a YAML value to JSON; the error names the pointer of the
/// offending node.
fn yaml_to_json(yaml: serde_norway::Value, pointer: &str) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => Value::Number(yaml_number(&n).ok_or_else(|| {
            format!(
                "number `{n}` has no json equivalent at {}",
                display(pointer)
            )
        })?),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    yaml_to_json(item, &crate::pointer::child(pointer, &i.to_string()))
                })
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(mapping) => {
            let mut map = Map::with_capacity(mapping.len());
            for (key, value) in mapping {
                let key = match key {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_owned(),
                    _ => {
                        return Err(format!(
                            "mapping key that is not a scalar at {}",
                            display(pointer)
                        ));
                    }
                };
                let value = yaml_to_json(value, &crate::pointer::child(pointer, &key))?;
                map.insert(key, value);
            }
            Value::Object(map)
        }
        Y::Tagged(tagged) => {
            return Err(format!(
                "tagged value `{}` has no json equivalent at {}",
                tagged.tag,
                display(pointer)
            ));
        }
    })
}

fn yaml_number(n: &serde_norway::Number) -> Option<Number> {
    if let Some(i) = n.as_i64() {
        Some(Number::from(i))
    } else if let Some(u) = n.as_u64() {
        Some(Number::from(u))
    } else {
        n.as_f64().and_then(Number::from_f64)
    }
}

fn display(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the document root"
    } else {
        pointer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_numeric_keys_become_strings() {
        let value = parse(
            "responses:\n  200: {description: ok}\n  default: {}\n",
            Format::Yaml,
        );
        assert_eq!(
            value.ok(),
            Some(json!({"responses": {"200": {"description": "ok"}, "default": {}}}))
        );
    }

    #[test]
    fn yaml_merge_keys_apply() {
        let text = "base: &b {type: string}\nderived:\n  <<: *b\n  title: T\n";
        let value = parse(text, Format::Yaml).ok();
        assert_eq!(
            value.and_then(|v| v.get("derived").cloned()),
            Some(json!({"type": "string", "title": "T"}))
        );
    }

    #[test]
    fn yaml_tags_are_errors() {
        let err = parse("a: !custom 1\n", Format::Yaml).err().map(|e| {
            std::error::Error::source(&e)
                .map(ToString::to_string)
                .unwrap_or_default()
        });
        assert_eq!(
            err.as_deref(),
            Some("tagged value `!custom` has no json equivalent at /a")
        );
    }

    #[test]
    fn yaml_infinity_is_an_error() {
        assert!(parse("a: .inf\n", Format::Yaml).is_err());
    }

    #[test]
    fn format_from_path() {
        assert_eq!(Format::from_path(Path::new("a.JSON")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("a.yml")), Some(Format::Yaml));
        assert_eq!(Format::from_path(Path::new("a.txt")), None);
        assert_eq!(Format::from_path(Path::new("a")), None);
    }
}
