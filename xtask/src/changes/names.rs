//! Rust names of schema items, as typify derives them: component names in
//! UpperCamelCase, property names in snake_case with keywords suffixed by `_`.
//!
//! Only naming belongs here. The names are for reading a report; the generated
//! code is the authority.

/// `IcpResponse` → `IcpResponse`; `HTTPValidationError` → `HttpValidationError`;
/// `Body_upload_file_v1_files_upload_post` → `BodyUploadFileV1FilesUploadPost`.
pub(crate) fn type_name(schema: &str) -> String {
    words(schema)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// `entity_type` → `entity_type`; `type` → `type_`; `$defs` → `defs`;
/// `createdAt` → `created_at`.
pub(crate) fn field_name(property: &str) -> String {
    let name = words(property)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Splits at non-alphanumeric characters, at lower→upper transitions, and
/// before the last capital of an acronym followed by a lower-case letter.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for segment in text.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = segment.chars().collect();
        let mut current = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let boundary = c.is_uppercase()
                && match prev {
                    Some(p) if p.is_lowercase() || p.is_numeric() => true,
                    Some(p) if p.is_uppercase() => next.is_some_and(char::is_lowercase),
                    _ => false,
                };
            if boundary && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            current.push(c);
        }
        if !current.is_empty() {
            words.push(current);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_follow_typify() {
        assert_eq!(type_name("IcpResponse"), "IcpResponse");
        assert_eq!(type_name("HTTPValidationError"), "HttpValidationError");
        assert_eq!(
            type_name("Body_upload_file_v1_files_upload_post"),
            "BodyUploadFileV1FilesUploadPost"
        );
        assert_eq!(type_name("CreateIcpRequest"), "CreateIcpRequest");
    }

    #[test]
    fn field_names_follow_typify() {
        assert_eq!(field_name("entity_type"), "entity_type");
        assert_eq!(field_name("type"), "type_");
        assert_eq!(field_name("$defs"), "defs");
        assert_eq!(field_name("createdAt"), "created_at");
    }
}
