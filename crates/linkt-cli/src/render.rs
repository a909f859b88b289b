//! Readable text for `--output table`: lists as aligned tables, single
//! objects as field lists. Only presentation lives here; values are never
//! changed, only shortened for display.

use comfy_table::{Table, presets};
use serde_json::{Map, Value};

/// Longest cell shown, in characters.
const CELL_LIMIT: usize = 48;

/// Columns shown for the items of each list response, by the list's field
/// name. A dotted name reaches into nested objects (`data.name`).
const COLUMNS: &[(&str, &[&str])] = &[
    ("icps", &["id", "name", "description", "created_at"]),
    ("sheets", &["id", "name", "entity_type", "icp_id"]),
    (
        "entities",
        &["id", "entity_type", "data.name", "status", "sheet_name"],
    ),
    ("tasks", &["id", "name", "flow_name", "icp_id"]),
    ("signals", &["id", "signal_type", "strength", "summary"]),
    ("runs", &["id", "status", "task_type", "created_at"]),
    ("schedules", &["id", "name", "cron_expression", "status"]),
    ("files", &["file_id", "name", "size_bytes"]),
];

/// A response as text: a table for a list response (with its page
/// position), a field list for an object, JSON for anything else.
pub(crate) fn value(value: &Value) -> String {
    match value {
        Value::Object(object) => match list_field(object) {
            Some((key, items)) => {
                let columns = COLUMNS
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(_, columns)| columns.to_vec());
                let mut text = table(items, columns.as_deref());
                if let Some(footer) = footer(object, items.len()) {
                    text.push('\n');
                    text.push_str(&footer);
                }
                text
            }
            None => fields(object),
        },
        Value::Array(items) => table(items, None),
        other => other.to_string(),
    }
}

/// The field of a list response that holds its items.
fn list_field(object: &Map<String, Value>) -> Option<(&str, &[Value])> {
    let paged = object.contains_key("total");
    object.iter().find_map(|(key, value)| match value {
        Value::Array(items)
            if paged && (items.is_empty() || items.iter().all(Value::is_object)) =>
        {
            Some((key.as_str(), items.as_slice()))
        }
        _ => None,
    })
}

fn footer(object: &Map<String, Value>, shown: usize) -> Option<String> {
    let total = object.get("total")?.as_u64()?;
    match (
        object.get("page").and_then(Value::as_u64),
        object.get("page_size").and_then(Value::as_u64),
    ) {
        (Some(page), Some(size)) if size > 0 => {
            let pages = total.div_ceil(size).max(1);
            Some(format!(
                "page {page} of {pages}, {shown} shown, {total} in total"
            ))
        }
        _ => Some(format!("{shown} shown, {total} in total")),
    }
}

/// A table of objects, with `columns` or the first scalar fields of the items.
pub(crate) fn table(items: &[Value], columns: Option<&[&str]>) -> String {
    if items.is_empty() {
        return "(none)".to_owned();
    }
    let columns: Vec<String> = match columns {
        Some(columns) => columns.iter().map(|c| (*c).to_owned()).collect(),
        None => default_columns(items),
    };
    let header: Vec<String> = columns
        .iter()
        .map(|c| c.rsplit('.').next().unwrap_or(c).to_uppercase())
        .collect();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|c| cell(lookup(item, c))).collect())
        .collect();
    aligned(&header, &rows)
}

/// Rows under a header, in columns two spaces apart, without borders (a
/// `comfy-table` table with no border characters); lines carry no trailing
/// spaces.
pub(crate) fn aligned(header: &[String], rows: &[Vec<String>]) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_header(header)
        .add_rows(rows);
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn default_columns(items: &[Value]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for item in items {
        let Some(object) = item.as_object() else {
            continue;
        };
        for (key, value) in object {
            let scalar = !matches!(value, Value::Object(_) | Value::Array(_));
            if scalar && !columns.contains(key) && columns.len() < 6 {
                columns.push(key.clone());
            }
        }
    }
    if let Some(i) = columns.iter().position(|c| c == "id") {
        let id = columns.remove(i);
        columns.insert(0, id);
    }
    if columns.is_empty() {
        columns.push("value".to_owned());
    }
    columns
}

/// `object.a.b` for a dotted `path`.
fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |value, key| value.get(key))
}

/// A field list: one `name  value` line per field.
fn fields(object: &Map<String, Value>) -> String {
    let header = ["FIELD".to_owned(), "VALUE".to_owned()];
    let rows: Vec<Vec<String>> = object
        .iter()
        .map(|(key, value)| vec![key.clone(), cell(Some(value))])
        .collect();
    aligned(&header, &rows)
}

/// A value as one short line. Entity attributes (`{"value": …, "references":
/// …}`) show their value.
pub(crate) fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Object(object)) if object.contains_key("value") => {
            return cell(object.get("value"));
        }
        Some(Value::Array(items)) if items.iter().all(|v| !v.is_object() && !v.is_array()) => items
            .iter()
            .map(|v| cell(Some(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    };
    shorten(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= CELL_LIMIT {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(CELL_LIMIT - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_list_response_is_a_table_with_its_position() {
        let text = value(&json!({
            "icps": [
                {"id": "a1", "name": "First", "description": "one", "created_at": "2025-01-06T09:00:00Z"},
                {"id": "b2", "name": "Second ICP", "description": "two\nlines", "created_at": "2025-01-06T09:00:00Z"}
            ],
            "page": 1, "page_size": 2, "total": 3
        }));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID  NAME        DESCRIPTION  CREATED_AT");
        assert_eq!(
            lines[1],
            "a1  First       one          2025-01-06T09:00:00Z"
        );
        assert_eq!(
            lines[2],
            "b2  Second ICP  two lines    2025-01-06T09:00:00Z"
        );
        assert_eq!(lines[3], "page 1 of 2, 2 shown, 3 in total");
    }

    #[test]
    fn entity_attributes_show_their_value() {
        let text = value(&json!({
            "entities": [{
                "id": "e1", "entity_type": "company", "status": "new", "sheet_name": "Companies",
                "data": {"name": {"value": "Acme", "references": ["https://acme.example.com"]}}
            }],
            "page": 1, "page_size": 20, "total": 1
        }));
        assert!(
            text.lines().nth(1).is_some_and(|l| l.contains("Acme")),
            "{text}"
        );
    }

    #[test]
    fn an_object_is_a_field_list_and_long_values_are_cut() {
        let long = "x".repeat(100);
        let text = value(&json!({"id": "a1", "note": long}));
        let note = text
            .lines()
            .find(|l| l.starts_with("note"))
            .expect("note line");
        assert!(note.ends_with('…'));
        assert_eq!(note.chars().count(), "FIELD  ".len() + CELL_LIMIT);
    }

    #[test]
    fn an_empty_list_says_so() {
        let text = value(&json!({"tasks": [], "page": 1, "page_size": 20, "total": 0}));
        assert!(text.starts_with("(none)"), "{text}");
    }
}
