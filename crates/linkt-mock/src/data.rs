//! Fixed data of the simulated world: default sheet schemas, field
//! definitions, deterministic fake entity data, and the small text formats
//! the server reads and writes (CSV, cron).
//!
//! Everything here is a pure function of its arguments: the same run on
//! the same clock produces the same entities, byte for byte.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// Entity types that have a default schema returned by
/// `GET /v1/sheet/schema/default`.
pub(crate) const DEFAULT_SCHEMA_TYPES: [&str; 4] =
    ["company", "person", "job_board", "school_district"];

fn location_def() -> Value {
    json!({
        "title": "Location",
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City"},
            "state": {"type": "string", "description": "State or region"},
            "country": {"type": "string", "description": "Country"}
        }
    })
}

fn social_def() -> Value {
    json!({
        "title": "SocialMediaProfile",
        "type": "object",
        "properties": {
            "platform": {"type": "string", "description": "Network, e.g. linkedin"},
            "url": {"type": "string", "description": "Profile URL"}
        },
        "required": ["url"]
    })
}

/// Reference models a custom field of type `reference` may name.
pub(crate) fn reference_models() -> Vec<(&'static str, Value)> {
    vec![
        ("Location", location_def()),
        ("SocialMediaProfile", social_def()),
    ]
}

fn string_field(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn reference(model: &str, description: &str) -> Value {
    json!({"$ref": format!("#/$defs/{model}"), "description": description})
}

/// The default fields of an entity type, in schema order.
pub(crate) fn default_fields(entity_type: &str) -> Vec<(&'static str, Value)> {
    match entity_type {
        "company" => vec![
            ("name", string_field("Company name")),
            ("website", string_field("Company website")),
            ("linkedin", reference("SocialMediaProfile", "LinkedIn page")),
            (
                "headquarters",
                reference("Location", "Headquarters address"),
            ),
            ("industry", string_field("Industry")),
            (
                "employees",
                string_field("Employee count range, e.g. 50-100"),
            ),
            ("revenue", string_field("Annual revenue range")),
        ],
        "person" => vec![
            ("name", string_field("Full name")),
            ("email", string_field("Work email")),
            (
                "linkedin",
                reference("SocialMediaProfile", "LinkedIn profile"),
            ),
            ("title", string_field("Job title")),
            ("company", string_field("Employer")),
            (
                "location",
                reference("Location", "Where the person is based"),
            ),
            ("mobile_phone", string_field("Mobile phone number")),
        ],
        "job_board" => vec![
            ("name", string_field("Job board name")),
            ("website", string_field("Job board website")),
            ("focus", string_field("Industries or roles covered")),
        ],
        "school_district" => vec![
            ("name", string_field("District name")),
            ("website", string_field("District website")),
            ("location", reference("Location", "District office")),
            ("enrollment", string_field("Number of students")),
        ],
        _ => vec![
            ("name", string_field("Name")),
            ("website", string_field("Website")),
            ("description", string_field("Short description")),
        ],
    }
}

fn title_case(entity_type: &str) -> String {
    entity_type
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A custom field as stored on a sheet.
#[derive(Clone, Debug)]
pub(crate) struct CustomField {
    pub(crate) name: String,
    pub(crate) field_type: String,
    pub(crate) schema: Value,
    pub(crate) enum_values: Vec<Value>,
    pub(crate) reference_model: Option<String>,
}

/// The JSON Schema of a sheet: the defaults of its type plus custom fields.
pub(crate) fn sheet_schema(entity_type: &str, custom: &[CustomField]) -> Value {
    let mut properties = Map::new();
    for (name, schema) in default_fields(entity_type) {
        properties.insert(name.to_owned(), schema);
    }
    for field in custom {
        properties.insert(field.name.clone(), field.schema.clone());
    }
    let mut defs = Map::new();
    for (name, def) in reference_models() {
        defs.insert(name.to_owned(), def);
    }
    json!({
        "title": title_case(entity_type),
        "type": "object",
        "properties": properties,
        "required": ["name"],
        "$defs": defs,
    })
}

/// The property schema of a custom field definition (already validated
/// against `CustomFieldDefinition`).
pub(crate) fn custom_field(definition: &Value) -> Result<CustomField, String> {
    let name = definition
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let field_type = definition
        .get("field_type")
        .and_then(Value::as_str)
        .unwrap_or("string")
        .to_owned();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "invalid field name `{name}`: use letters, digits and underscores (snake_case)"
        ));
    }
    let mut schema = Map::new();
    if let Some(d) = definition.get("description").and_then(Value::as_str) {
        schema.insert("description".into(), json!(d));
    }
    let mut enum_values = Vec::new();
    let mut reference_model = None;
    match field_type.as_str() {
        "string" | "number" | "integer" | "boolean" => {
            schema.insert("type".into(), json!(field_type));
        }
        "array" => {
            schema.insert("type".into(), json!("array"));
            let items = definition
                .get("array_items")
                .filter(|v| v.is_object())
                .cloned();
            schema.insert(
                "items".into(),
                items.unwrap_or_else(|| json!({"type": "string"})),
            );
        }
        "object" => {
            schema.insert("type".into(), json!("object"));
            if let Some(p) = definition.get("properties").filter(|v| v.is_object()) {
                schema.insert("properties".into(), p.clone());
            }
        }
        "reference" => {
            let model = definition
                .get("reference_model")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    format!("field `{name}` of type reference needs a reference_model")
                })?;
            if !reference_models().iter().any(|(m, _)| *m == model) {
                let known: Vec<&str> = reference_models().iter().map(|(m, _)| *m).collect();
                return Err(format!(
                    "unknown reference_model `{model}` for field `{name}`; known models: {}",
                    known.join(", ")
                ));
            }
            schema.insert("$ref".into(), json!(format!("#/$defs/{model}")));
            reference_model = Some(model.to_owned());
        }
        "enum" => {
            enum_values = definition
                .get("enum_values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if enum_values.is_empty() {
                return Err(format!(
                    "field `{name}` of type enum needs at least one enum_values entry"
                ));
            }
            schema.insert("enum".into(), Value::Array(enum_values.clone()));
        }
        other => return Err(format!("unknown field_type `{other}`")),
    }
    if let Some(extra) = definition
        .get("additional_props")
        .and_then(Value::as_object)
    {
        for (k, v) in extra {
            schema.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Ok(CustomField {
        name,
        field_type,
        schema: Value::Object(schema),
        enum_values,
        reference_model,
    })
}

/// `GET /v1/sheet/schema/field`: one schema per field type and reference model.
pub(crate) fn field_definitions() -> Map<String, Value> {
    let mut out = Map::new();
    for ty in [
        "string",
        "number",
        "integer",
        "boolean",
        "array",
        "object",
        "enum",
        "reference",
    ] {
        let json_type = match ty {
            "enum" => "string",
            "reference" => "object",
            other => other,
        };
        out.insert(ty.into(), json!({"title": ty, "type": json_type}));
    }
    for (name, def) in reference_models() {
        out.insert(name.into(), def);
    }
    out.insert(
        "EntityAttribute".into(),
        json!({
            "title": "EntityAttribute",
            "type": "object",
            "properties": {
                "value": {"description": "The researched value"},
                "references": {"type": "array", "items": {"type": "string"}},
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"}
            },
            "required": ["value"]
        }),
    );
    out
}

const COMPANIES: [&str; 24] = [
    "Acme Analytics",
    "Brightwave Labs",
    "Cobalt Systems",
    "Driftwood Software",
    "Emberline Health",
    "Foxglove Robotics",
    "Granite Cloud",
    "Harbor Metrics",
    "Ironleaf Security",
    "Juniper Logistics",
    "Kestrel Payments",
    "Lumen Grid",
    "Meridian Bio",
    "Northstar Data",
    "Orchid Commerce",
    "Pinecone Learning",
    "Quarry Finance",
    "Redwood Devices",
    "Saltmarsh Media",
    "Tidewater Energy",
    "Upland Insights",
    "Vantage Freight",
    "Willow Care",
    "Zephyr Networks",
];
const FIRST: [&str; 12] = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Liam",
];
const LAST: [&str; 10] = [
    "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Silva", "Tanaka", "Umar", "Varga", "Weber",
];
const TITLES: [&str; 6] = [
    "VP of Sales",
    "Chief Revenue Officer",
    "Head of Growth",
    "Director of Sales",
    "VP of Marketing",
    "Head of Partnerships",
];
const INDUSTRIES: [&str; 6] = [
    "Software",
    "Financial Services",
    "Healthcare",
    "Logistics",
    "Energy",
    "Education",
];
const CITIES: [(&str, &str); 6] = [
    ("Austin", "TX"),
    ("Boston", "MA"),
    ("Denver", "CO"),
    ("Seattle", "WA"),
    ("Chicago", "IL"),
    ("Atlanta", "GA"),
];

/// The name of the `index`-th (0-based) generated entity of a type.
pub(crate) fn generated_name(entity_type: &str, index: usize) -> String {
    let round = index / COMPANIES.len();
    let suffix = if round == 0 {
        String::new()
    } else {
        format!(" {}", round + 1)
    };
    match entity_type {
        "person" => {
            let first = FIRST[index % FIRST.len()];
            let last = LAST[(index / FIRST.len() + index) % LAST.len()];
            let round = index / (FIRST.len() * LAST.len());
            if round == 0 {
                format!("{first} {last}")
            } else {
                format!("{first} {last} {}", round + 1)
            }
        }
        "job_board" => format!("{} Jobs{suffix}", COMPANIES[index % COMPANIES.len()]),
        "school_district" => {
            let (city, _) = CITIES[index % CITIES.len()];
            format!("{city} Unified School District {}", index + 1)
        }
        "product" => format!("{} Platform{suffix}", COMPANIES[index % COMPANIES.len()]),
        _ => format!("{}{suffix}", COMPANIES[index % COMPANIES.len()]),
    }
}

/// A domain-like slug: `Acme Analytics 2` → `acme-analytics-2`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// An attribute object: `{value, references, created_at, updated_at}`.
pub(crate) fn attribute(value: Value, source: &str, at: DateTime<Utc>) -> Value {
    json!({
        "value": value,
        "references": [source],
        "created_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "updated_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

/// What the generator knows about the entity it fills in.
#[derive(Debug)]
pub(crate) struct Subject<'a> {
    pub(crate) entity_type: &'a str,
    pub(crate) name: &'a str,
    pub(crate) index: usize,
    /// The parent's name (a person's company).
    pub(crate) parent: Option<&'a str>,
}

/// A deterministic value for a default field, or `None` for an unknown one.
fn default_value(subject: &Subject<'_>, field: &str) -> Option<Value> {
    let i = subject.index;
    let (city, state) = CITIES[i % CITIES.len()];
    let domain_owner = subject.parent.unwrap_or(subject.name);
    let domain = format!("{}.example.com", slug(domain_owner));
    Some(match field {
        "name" => json!(subject.name),
        "website" => json!(format!("https://{domain}")),
        "linkedin" => {
            let kind = if subject.entity_type == "person" {
                "in"
            } else {
                "company"
            };
            json!({"platform": "linkedin", "url": format!("https://www.linkedin.com/{kind}/{}", slug(subject.name))})
        }
        "headquarters" | "location" => {
            json!({"city": city, "state": state, "country": "United States"})
        }
        "industry" => json!(INDUSTRIES[i % INDUSTRIES.len()]),
        "employees" => json!(["11-50", "51-200", "201-500", "501-1000"][i % 4]),
        "revenue" => json!(["$1M-$10M", "$10M-$50M", "$50M-$100M"][i % 3]),
        "email" => {
            let local = slug(subject.name).replace('-', ".");
            json!(format!("{local}@{domain}"))
        }
        "title" => json!(TITLES[i % TITLES.len()]),
        "company" => json!(subject.parent.unwrap_or("Independent")),
        "mobile_phone" => json!(format!("+1-555-01{:02}", i % 100)),
        "focus" => json!(INDUSTRIES[i % INDUSTRIES.len()]),
        "enrollment" => json!(format!("{}", 5_000 + 750 * (i % 20))),
        "description" => json!(format!(
            "{} for {} teams",
            subject.name,
            INDUSTRIES[i % INDUSTRIES.len()]
        )),
        _ => return None,
    })
}

/// A deterministic value for a custom field.
fn custom_value(subject: &Subject<'_>, field: &CustomField) -> Value {
    let i = subject.index;
    match field.field_type.as_str() {
        "number" => json!(1.5 + i as f64),
        "integer" => json!(10 * (i as i64 + 1)),
        "boolean" => json!(i.is_multiple_of(2)),
        "array" => json!([format!("{} A", field.name), format!("{} B", field.name)]),
        "object" => json!({}),
        "reference" => match field.reference_model.as_deref() {
            Some("SocialMediaProfile") => {
                json!({"platform": "web", "url": format!("https://{}.example.com", slug(subject.name))})
            }
            _ => {
                let (city, state) = CITIES[i % CITIES.len()];
                json!({"city": city, "state": state, "country": "United States"})
            }
        },
        "enum" => field
            .enum_values
            .get(i % field.enum_values.len().max(1))
            .cloned()
            .unwrap_or(Value::Null),
        _ => json!(format!(
            "{} of {}",
            field.name.replace('_', " "),
            subject.name
        )),
    }
}

/// The data of a generated entity: every default field of its type and
/// every custom field of its sheet, as attribute objects.
pub(crate) fn entity_data(
    subject: &Subject<'_>,
    custom: &[CustomField],
    at: DateTime<Utc>,
) -> Map<String, Value> {
    let source = format!(
        "https://{}.example.com/about",
        slug(subject.parent.unwrap_or(subject.name))
    );
    let mut data = Map::new();
    for (field, _) in default_fields(subject.entity_type) {
        if let Some(v) = default_value(subject, field) {
            data.insert(field.to_owned(), attribute(v, &source, at));
        }
    }
    for field in custom {
        data.insert(
            field.name.clone(),
            attribute(custom_value(subject, field), &source, at),
        );
    }
    data
}

/// Fills custom fields that have no value yet (an enrichment pass).
pub(crate) fn enrich(
    data: &mut Map<String, Value>,
    subject: &Subject<'_>,
    custom: &[CustomField],
    at: DateTime<Utc>,
) -> bool {
    let source = format!("https://{}.example.com/about", slug(subject.name));
    let mut changed = false;
    for field in custom {
        if !data.contains_key(&field.name) {
            data.insert(
                field.name.clone(),
                attribute(custom_value(subject, field), &source, at),
            );
            changed = true;
        }
    }
    changed
}

/// A parsed CSV file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Csv {
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
    pub(crate) encoding: &'static str,
}

/// Parses CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF).
pub(crate) fn parse_csv(bytes: &[u8]) -> Result<Csv, String> {
    let (text, encoding) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (
            String::from_utf8(rest.to_vec())
                .map_err(|_| "the file is not valid UTF-8".to_owned())?,
            "utf-8-sig",
        ),
        None => match String::from_utf8(bytes.to_vec()) {
            Ok(s) => (s, "utf-8"),
            // Latin-1 maps every byte to the code point of the same value.
            Err(_) => (bytes.iter().map(|&b| char::from(b)).collect(), "latin-1"),
        },
    };
    let mut records: Vec<Vec<String>> = Vec::new();
    let mut field = String::new();
    let mut record = Vec::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                any = false;
            }
            other => field.push(other),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    if any {
        record.push(field);
        records.push(record);
    }
    records.retain(|r| !(r.len() == 1 && r[0].trim().is_empty()));
    let mut records = records.into_iter();
    let columns: Vec<String> = records
        .next()
        .ok_or_else(|| "the file is empty".to_owned())?
        .into_iter()
        .map(|c| c.trim().to_owned())
        .collect();
    if columns.iter().all(String::is_empty) {
        return Err("the header row is empty".into());
    }
    Ok(Csv {
        columns,
        rows: records.collect(),
        encoding,
    })
}

/// One CSV field, quoted when needed.
pub(crate) fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// A CSV line of fields, terminated by CRLF.
pub(crate) fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The text of an attribute for a CSV cell.
pub(crate) fn cell(value: &Value) -> String {
    let inner = value.get("value").unwrap_or(value);
    match inner {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join("; "),
        Value::Object(o) if o.contains_key("url") => o.get("url").map(cell).unwrap_or_default(),
        Value::Object(o) if o.contains_key("city") => ["city", "state", "country"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// A header for the combined export: `person`, `email` → `Person Email`.
pub(crate) fn combined_header(entity_type: &str, field: &str) -> String {
    format!("{} {}", title_case(entity_type), title_case(field))
}

/// How often a valid schedule fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Frequency {
    Daily,
    Weekly,
    Monthly,
}

impl Frequency {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        }
    }
}

fn cron_number(field: &str, min: u32, max: u32) -> Option<u32> {
    field
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
}

const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Accepts the daily (`M H * * *`), weekly (`M H * * D`) and monthly
/// (`M H D * *`) patterns of a five-field cron expression.
pub(crate) fn cron_frequency(expression: &str) -> Result<Frequency, String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields.as_slice() else {
        return Err(format!(
            "cron expression must have 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        ));
    };
    if cron_number(minute, 0, 59).is_none() {
        return Err(format!(
            "cron minute must be a number from 0 to 59, found `{minute}`"
        ));
    }
    if cron_number(hour, 0, 23).is_none() {
        return Err(format!(
            "cron hour must be a number from 0 to 23, found `{hour}`"
        ));
    }
    if *month != "*" {
        return Err(
            "only daily, weekly or monthly schedules are supported: the month field must be `*`"
                .into(),
        );
    }
    let weekday =
        cron_number(dow, 0, 7).is_some() || DAYS.contains(&dow.to_ascii_uppercase().as_str());
    match (*dom, *dow) {
        ("*", "*") => Ok(Frequency::Daily),
        ("*", _) if weekday => Ok(Frequency::Weekly),
        (d, "*") if cron_number(d, 1, 31).is_some() => Ok(Frequency::Monthly),
        _ => Err(
            "only daily (`M H * * *`), weekly (`M H * * D`) or monthly (`M H D * *`) patterns are supported"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_patterns() {
        assert_eq!(cron_frequency("0 9 * * *"), Ok(Frequency::Daily));
        assert_eq!(cron_frequency("0 9 * * 1"), Ok(Frequency::Weekly));
        assert_eq!(cron_frequency("30 17 * * fri"), Ok(Frequency::Weekly));
        assert_eq!(cron_frequency("0 9 1 * *"), Ok(Frequency::Monthly));
        assert!(cron_frequency("*/5 * * * *").is_err());
        assert!(cron_frequency("0 9 * 1 *").is_err());
        assert!(cron_frequency("0 9 1 * 1").is_err());
        assert!(cron_frequency("0 24 * * *").is_err());
        assert!(cron_frequency("0 9 * *").is_err());
    }

    #[test]
    fn csv_round_trip() {
        let csv = parse_csv(b"name,website\r\n\"Acme, Inc\",acme.example\n\"Say \"\"hi\"\"\",\n")
            .expect("csv");
        assert_eq!(csv.columns, ["name", "website"]);
        assert_eq!(
            csv.rows,
            vec![
                vec!["Acme, Inc".to_owned(), "acme.example".to_owned()],
                vec!["Say \"hi\"".to_owned(), String::new()]
            ]
        );
        assert_eq!(csv.encoding, "utf-8");
        assert_eq!(csv_line(&["Acme, Inc", "x"]), "\"Acme, Inc\",x\r\n");
        assert_eq!(
            parse_csv(b"\xEF\xBB\xBFa\n1").expect("bom").encoding,
            "utf-8-sig"
        );
        assert_eq!(parse_csv(b"n\xE9\n1").expect("latin-1").columns, ["né"]);
        assert!(parse_csv(b"").is_err());
        assert!(parse_csv(b"\"open").is_err());
    }

    #[test]
    fn generated_names_are_distinct_for_a_while() {
        let names: std::collections::HashSet<_> =
            (0..100).map(|i| generated_name("company", i)).collect();
        assert_eq!(names.len(), 100);
        let people: std::collections::HashSet<_> =
            (0..200).map(|i| generated_name("person", i)).collect();
        assert_eq!(people.len(), 200);
    }

    #[test]
    fn custom_fields_become_schema_properties() {
        let field = custom_field(
            &json!({"name": "stage", "field_type": "enum", "enum_values": ["seed", "a"]}),
        )
        .expect("field");
        assert_eq!(field.schema, json!({"enum": ["seed", "a"]}));
        let schema = sheet_schema("company", &[field]);
        assert!(schema["properties"]["stage"].is_object());
        assert!(schema["properties"]["website"].is_object());
        assert!(custom_field(&json!({"name": "bad name", "field_type": "string"})).is_err());
        assert!(
            custom_field(
                &json!({"name": "hq", "field_type": "reference", "reference_model": "Planet"})
            )
            .is_err()
        );
    }
}
