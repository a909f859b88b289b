//! `/v1/files`: upload a file (`POST /v1/files/upload`), list files and get
//! one.

use linkt::types;
use serde_json::Value;

use super::{Call, Failure, Outcome, find, json, sort_and_page};
use crate::data;
use crate::spec::Issue;
use crate::store::{self, File, Parsed, Store, Time};

fn processing_status(file: &File, now: Time) -> types::CsvProcessingStatus {
    match file.status_at(now) {
        "pending" => types::CsvProcessingStatus::Pending,
        "processing" => types::CsvProcessingStatus::Processing,
        "failed" => types::CsvProcessingStatus::Failed,
        _ => types::CsvProcessingStatus::Completed,
    }
}

fn s3_uri(file: &File) -> String {
    format!("s3://linkt-mock/org-{}/{}/{}", file.org, file.id, file.name)
}

pub(super) fn files_upload(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let Some(upload) = call.upload.take() else {
        return Err(Failure::Invalid(vec![Issue::new(
            &["body".into(), "file".into()],
            "missing",
            "Field required",
            &Value::Null,
            None,
        )]));
    };
    let lower = upload.file_name.to_lowercase();
    let is_excel = lower.ends_with(".xlsx")
        || lower.ends_with(".xls")
        || upload
            .content_type
            .as_deref()
            .is_some_and(|c| c.contains("spreadsheet") || c.contains("ms-excel"));
    let (parsed, original_file_type) = if is_excel {
        let kind = if lower.ends_with(".xls") {
            "xls"
        } else {
            "xlsx"
        };
        (
            Parsed::Failed("linkt-mock cannot convert Excel workbooks; upload a CSV file".into()),
            Some(kind.to_owned()),
        )
    } else {
        match data::parse_csv(&upload.bytes) {
            Ok(csv) => (Parsed::Csv(csv), None),
            Err(reason) => (Parsed::Failed(reason), None),
        }
    };
    let timing = &call.settings.timing;
    let processing_at = store::add(call.now, timing.file_pending);
    let id = store.new_id(call.now);
    let file = File {
        org: call.org,
        id: id.clone(),
        name: upload.file_name,
        content_type: if is_excel {
            "text/csv".into()
        } else {
            upload.content_type.unwrap_or_else(|| "text/csv".into())
        },
        size: upload.bytes.len() as u64,
        original_file_type,
        parsed,
        processing_at,
        done_at: store::add(processing_at, timing.file_processing),
    };
    let view = built!(types::FileUploadResponse {
        file_id: file.id.clone(),
        name: file.name.clone(),
        s3_uri: s3_uri(&file),
        content_type: file.content_type.clone(),
        size_bytes: i64::try_from(file.size).unwrap_or(i64::MAX),
        csv_metadata: file.metadata_at(call.now),
        processing_status: processing_status(&file, call.now),
        original_file_type: file.original_file_type.clone(),
    });
    store.files.insert(id, file);
    json(&view)
}

pub(super) fn files_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let file = find(&store.files, call.org, call.path("file_id"), "file")?;
    json(&built!(types::FileRetrieveResponse {
        file_id: file.id.clone(),
        name: file.name.clone(),
        s3_uri: s3_uri(file),
        content_type: file.content_type.clone(),
        size_bytes: i64::try_from(file.size).unwrap_or(i64::MAX),
        csv_metadata: file.metadata_at(call.now),
        processing_status: Some(processing_status(file, call.now)),
        original_file_type: file.original_file_type.clone(),
    }))
}

pub(super) fn files_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let items: Vec<&File> = store.files.values().filter(|f| f.org == call.org).collect();
    let (page_items, total, page, size) = sort_and_page(items, call, &[], |f| f.id.as_str())?;
    json(&built!(types::FileListResponse {
        files: page_items
            .into_iter()
            .map(|f| built!(types::FileSummary {
                file_id: f.id.clone(),
                name: f.name.clone(),
                size_bytes: i64::try_from(f.size).unwrap_or(i64::MAX),
            }))
            .collect::<Vec<_>>(),
        page,
        page_size: size,
        total,
    }))
}
