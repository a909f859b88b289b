//! The component schemas covered by the property and drift tests, and how
//! their names become Rust type names.
//!
//! [`for_each_component!`](crate::for_each_component) lists the generated
//! types, one per component schema of the spec. The test binary expands it
//! into a table of decode, encode and `schemars` functions; here it becomes
//! [`COMPONENTS`], which the coverage check compares with the spec through
//! [`rust_type_name`].

/// Calls `$callback! { ... }` with the Rust names of the generated types of
/// every component schema, e.g. `HttpValidationError` for the spec's
/// `HTTPValidationError`.
#[macro_export]
macro_rules! for_each_component {
    ($callback:ident) => {
        $callback! {
            ActiveRun AddCustomFieldsRequest BodyUploadFileV1FilesUploadPost
            BulkUpdateStatusRequest CreateIcpRequest CreateRunRequest CreateScheduleRequest
            CreateSheetRequest CreateTaskRequest CsvProcessingStatus CustomFieldDefinition
            DeleteCustomFieldsRequest DuplicateIcp DuplicateInfo EntityBulkUpdateStatusResponse
            EntityGetCountsResponse EntityListResponse EntityResponse EntitySearchResponse
            EntityTargetConfig EntityType ExecuteTaskRequest FileListResponse
            FileRetrieveResponse FileSummary FileUploadResponse HttpValidationError
            IcpEntityStructure IcpEntityTarget IcpGetActiveRunsResponse IcpListResponse
            IcpResponse IngestPromptConfigResponse IngestTaskConfig IngestTaskConfigResponse
            OnDemandIngestTaskConfigRequest OnDemandIngestTaskConfigResponse ProfilePromptConfig
            ProfilePromptConfigResponse RunCreateResponse RunGetQueueResponse RunListResponse
            RunRetrieveResponse ScheduleListResponse ScheduleResponse SchemaGetDefaultResponse
            SchemaGetFieldDefinitionsResponse SchemaGetResponse SearchTaskConfig
            SearchTaskConfigResponse Sheet SheetListResponse SignalCsvConfig
            SignalCsvConfigResponse SignalListResponse SignalResponse SignalSheetConfig
            SignalSheetConfigResponse SignalTopicConfig SignalTopicConfigResponse
            SignalTypeConfig TaskExecuteResponse TaskListResponse TaskResponse
            UpdateEntityRequest UpdateIcpRequest UpdateScheduleRequest UpdateSheetRequest
            UpdateTaskRequest ValidationError
        }
    };
}

macro_rules! component_table {
    ($($t:ident)*) => {
        /// The Rust names of the generated types the property and drift tests
        /// cover.
        pub const COMPONENTS: &[&str] = &[$(stringify!($t)),*];
    };
}

crate::for_each_component!(component_table);

/// The Rust type name the generator gives a component schema: words split at
/// non-alphanumeric characters, at lower-to-upper case changes and before the
/// last capital of an acronym; each word capitalized, the rest lower case.
///
/// ```
/// use linkt_conformance::rust_type_name;
/// assert_eq!(rust_type_name("HTTPValidationError"), "HttpValidationError");
/// assert_eq!(
///     rust_type_name("Body_upload_file_v1_files_upload_post"),
///     "BodyUploadFileV1FilesUploadPost"
/// );
/// assert_eq!(rust_type_name("IcpResponse"), "IcpResponse");
/// ```
pub fn rust_type_name(spec_name: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for chunk in spec_name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = chunk.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p)) {
                let next = chars.get(i + 1).copied();
                let lower_to_upper = prev.is_ascii_lowercase() && c.is_ascii_uppercase();
                let acronym_end = prev.is_ascii_uppercase()
                    && c.is_ascii_uppercase()
                    && next.is_some_and(|n| n.is_ascii_lowercase());
                if lower_to_upper || acronym_end {
                    words.push(std::mem::take(&mut word));
                }
            }
            word.push(c);
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
        .iter()
        .map(|word| {
            let mut out = String::with_capacity(word.len());
            for (i, c) in word.chars().enumerate() {
                if i == 0 {
                    out.push(c.to_ascii_uppercase());
                } else {
                    out.push(c.to_ascii_lowercase());
                }
            }
            out
        })
        .collect()
}
