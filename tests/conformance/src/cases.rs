//! The operation cases: one entry per operation of the spec, as data.
//!
//! A case names an operation (its client method name, the overlay's
//! `x-linkt-name`), its path and query parameters with the Rust types the
//! generated builder takes, what it sends and what it gets back. The values
//! sent are not here: the tests derive them from the spec's examples (see
//! [`crate::spec::parameter_value`] and [`crate::spec::Content::examples`]).
//!
//! The table is written once, in [`for_each_case!`](crate::for_each_case),
//! and expanded twice: here into the plain data of [`CASES`] (which the
//! coverage check compares with the spec, parameter by parameter), and in
//! the test binary into the typed builder calls. A case whose parameters, body or response disagree
//! with the spec fails the coverage check, naming the difference.

/// What an operation sends as its request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    None,
    /// A JSON body of the named generated type (`CreateIcpRequest`).
    Json(&'static str),
    /// A `multipart/form-data` body with one file part of this name.
    Multipart(&'static str),
}

/// What a successful response of an operation carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// A JSON body of the named generated type (`IcpResponse`).
    Json(&'static str),
    /// No content (204).
    Empty,
    /// Raw bytes (the CSV export), handed to the caller as a stream.
    Bytes,
}

/// One operation case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// The client method name, e.g. `icp_create`.
    pub operation: &'static str,
    /// Path parameters, by name.
    pub path: &'static [&'static str],
    /// Query parameters, by name.
    pub query: &'static [&'static str],
    /// The request body.
    pub body: BodyKind,
    /// The successful response.
    pub response: ResponseKind,
}

impl Case {
    /// The case for an operation, if there is one.
    pub fn find(operation: &str) -> Option<&'static Case> {
        CASES.iter().find(|case| case.operation == operation)
    }
}

/// Calls `$callback! { ... }` with the table of operation cases.
///
/// Each entry reads
///
/// ```text
/// name { path { p: Type, .. } query { q: Type, .. } body kind(Arg?) response kind(Arg?) }
/// ```
///
/// where the body is `none()`, `json(Type)` or `multipart(part)`, and the
/// response is `json(Type)`, `empty()` or `bytes()`. Types are spelled as the
/// generated builder takes them, relative to `linkt::types`, `NonZeroU64` and
/// `chrono::{DateTime, Utc}`.
///
/// To add an operation to the spec: regenerate the client, add its line here
/// (`cargo xtask conformance` names what is missing), then create its request
/// snapshot with `INSTA_UPDATE=always cargo test -p linkt-conformance` and
/// review it.
#[macro_export]
macro_rules! for_each_case {
    ($callback:ident) => {
        $callback! {
            icp_create { path {} query {} body json(CreateIcpRequest) response json(IcpResponse) }
            icp_list { path {} query { mode: IcpListMode, page: NonZeroU64, page_size: NonZeroU64, sort_by: String, order: i64 } body none() response json(IcpListResponse) }
            icp_retrieve { path { icp_id: String } query {} body none() response json(IcpResponse) }
            icp_update { path { icp_id: String } query {} body json(UpdateIcpRequest) response json(IcpResponse) }
            icp_delete { path { icp_id: String } query {} body none() response empty() }
            icp_get_active_runs { path { icp_id: String } query {} body none() response json(IcpGetActiveRunsResponse) }
            sheet_create { path {} query {} body json(CreateSheetRequest) response json(Sheet) }
            sheet_list { path {} query { icp_id: String, entity_type: String, page: i64, page_size: i64, sort_by: String, order: i64 } body none() response json(SheetListResponse) }
            sheet_retrieve { path { sheet_id: String } query {} body none() response json(Sheet) }
            sheet_update { path { sheet_id: String } query {} body json(UpdateSheetRequest) response empty() }
            sheet_delete { path { sheet_id: String } query {} body none() response empty() }
            sheet_schema_get_default { path {} query {} body none() response json(SchemaGetDefaultResponse) }
            sheet_schema_get_field_definitions { path {} query {} body none() response json(SchemaGetFieldDefinitionsResponse) }
            sheet_schema_get { path { sheet_id: SheetSchemaGetSheetId } query {} body none() response json(SchemaGetResponse) }
            sheet_schema_add_fields { path { sheet_id: SheetSchemaAddFieldsSheetId } query {} body json(AddCustomFieldsRequest) response empty() }
            sheet_schema_delete_fields { path { sheet_id: SheetSchemaDeleteFieldsSheetId } query {} body json(DeleteCustomFieldsRequest) response empty() }
            entity_list { path {} query { icp_id: Vec<String>, sheet_id: String, entity_type: EntityType, status: Vec<String>, hide_duplicates: bool, fields: String, external_id: String, external_source: String, page: NonZeroU64, page_size: NonZeroU64 } body none() response json(EntityListResponse) }
            entity_bulk_update_status { path {} query {} body json(BulkUpdateStatusRequest) response json(EntityBulkUpdateStatusResponse) }
            entity_export { path {} query { icp_id: Vec<String>, sheet_id: String, entity_type: EntityType, status: Vec<String>, entity_ids: Vec<String>, format: EntityExportFormat, hide_duplicates: bool } body none() response bytes() }
            entity_get_counts { path {} query { icp_id: Vec<String>, status: Vec<String>, hide_duplicates: bool } body none() response json(EntityGetCountsResponse) }
            entity_search { path {} query { q: EntitySearchQ, sheet_id: String, icp_id: Vec<String>, entity_type: EntityType, status: Vec<String>, hide_duplicates: bool, page: NonZeroU64, page_size: NonZeroU64 } body none() response json(EntitySearchResponse) }
            entity_retrieve { path { entity_id: String } query {} body none() response json(EntityResponse) }
            entity_update { path { entity_id: String } query {} body json(UpdateEntityRequest) response json(EntityResponse) }
            entity_delete { path { entity_id: String } query {} body none() response empty() }
            task_create { path {} query {} body json(CreateTaskRequest) response json(TaskResponse) }
            task_list { path {} query { flow_name: String, page: NonZeroU64, page_size: NonZeroU64, sort_by: String, order: i64 } body none() response json(TaskListResponse) }
            task_retrieve { path { task_id: TaskRetrieveTaskId } query {} body none() response json(TaskResponse) }
            task_update { path { task_id: TaskUpdateTaskId } query {} body json(UpdateTaskRequest) response empty() }
            task_delete { path { task_id: TaskDeleteTaskId } query {} body none() response empty() }
            task_execute { path { task_id: TaskExecuteTaskId } query {} body json(ExecuteTaskRequest) response json(TaskExecuteResponse) }
            signal_list { path {} query { icp_id: String, entity_id: String, external_id: String, external_source: String, signal_type: String, strength: String, search_term: String, days: NonZeroU64, page: NonZeroU64, page_size: NonZeroU64, sort_by: String, order: i64 } body none() response json(SignalListResponse) }
            signal_retrieve { path { signal_id: String } query {} body none() response json(SignalResponse) }
            run_create { path {} query {} body json(CreateRunRequest) response json(RunCreateResponse) }
            run_list { path {} query { task_id: String, icp_id: String, agent_id: String, agent_type: String, task_type: String, status: RunListStatus, created_after: DateTime<Utc>, created_before: DateTime<Utc>, updated_after: DateTime<Utc>, updated_before: DateTime<Utc>, page: NonZeroU64, page_size: NonZeroU64, sort_by: String, order: i64 } body none() response json(RunListResponse) }
            run_retrieve { path { run_id: RunRetrieveRunId } query {} body none() response json(RunRetrieveResponse) }
            run_delete { path { run_id: RunDeleteRunId } query {} body none() response empty() }
            run_cancel { path { run_id: RunCancelRunId } query {} body none() response empty() }
            run_get_queue { path { run_id: RunGetQueueRunId } query { state: String, include_history: bool, offset: i64, limit: NonZeroU64 } body none() response json(RunGetQueueResponse) }
            schedule_create { path {} query {} body json(CreateScheduleRequest) response json(ScheduleResponse) }
            schedule_list { path {} query { task_id: ScheduleListTaskId, icp_id: ScheduleListIcpId, status: ScheduleListStatus, page: NonZeroU64, page_size: NonZeroU64, sort_by: String, order: i64 } body none() response json(ScheduleListResponse) }
            schedule_retrieve { path { schedule_id: ScheduleRetrieveScheduleId } query {} body none() response json(ScheduleResponse) }
            schedule_update { path { schedule_id: ScheduleUpdateScheduleId } query {} body json(UpdateScheduleRequest) response json(ScheduleResponse) }
            schedule_delete { path { schedule_id: ScheduleDeleteScheduleId } query {} body none() response empty() }
            files_upload { path {} query {} body multipart(file) response json(FileUploadResponse) }
            files_list { path {} query { page: NonZeroU64, page_size: NonZeroU64 } body none() response json(FileListResponse) }
            files_retrieve { path { file_id: FilesRetrieveFileId } query {} body none() response json(FileRetrieveResponse) }
        }
    };
}

macro_rules! body_kind {
    (none()) => {
        BodyKind::None
    };
    (json($t:ident)) => {
        BodyKind::Json(stringify!($t))
    };
    (multipart($part:ident)) => {
        BodyKind::Multipart(stringify!($part))
    };
}

macro_rules! response_kind {
    (json($t:ident)) => {
        ResponseKind::Json(stringify!($t))
    };
    (empty()) => {
        ResponseKind::Empty
    };
    (bytes()) => {
        ResponseKind::Bytes
    };
}

macro_rules! case_table {
    ($(
        $op:ident {
            path { $($p:ident: $pt:ty),* $(,)? }
            query { $($q:ident: $qt:ty),* $(,)? }
            body $body:ident ( $($bt:ident)? )
            response $resp:ident ( $($rt:ident)? )
        }
    )*) => {
        /// Every operation case, in the order of the spec.
        pub const CASES: &[Case] = &[$(
            Case {
                operation: stringify!($op),
                path: &[$(stringify!($p)),*],
                query: &[$(stringify!($q)),*],
                body: body_kind!($body($($bt)?)),
                response: response_kind!($resp($($rt)?)),
            }
        ),*];
    };
}

crate::for_each_case!(case_table);
