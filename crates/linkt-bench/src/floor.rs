//! The floor: the same requests made by hand with a plain `reqwest::Client`
//! with reqwest's own defaults (nothing configured: no timeouts, reqwest's
//! pool), the `x-api-key` header, and
//! `serde_json` into hand-written structs of the same shape as the generated
//! types (same field types: `String`, `chrono::DateTime<Utc>`, `Option`s, a
//! `serde_json::Map` for an entity's free-form `data`), not the generated
//! types themselves.
//!
//! This is what a careful user would write without the SDK; it is the
//! baseline the client is compared with, in time and in connections opened,
//! and it is never slowed down or reconfigured to make a ratio look better.

use std::num::NonZeroU64;

use chrono::{DateTime, Utc};
use linkt::types;
use reqwest::header::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::BenchResult;

/// Header that carries the key.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// Hand-rolled calls to the local server.
#[derive(Debug)]
pub(crate) struct Floor {
    http: reqwest::Client,
    base_url: String,
    key: HeaderValue,
}

impl Floor {
    /// A plain reqwest client with nothing configured: `Client::new()`,
    /// except that a failure to build is an error, not a panic.
    pub(crate) fn new(base_url: &str, key: &str) -> BenchResult<Self> {
        let http = reqwest::Client::builder().build()?;
        let mut key = HeaderValue::from_str(key)?;
        key.set_sensitive(true);
        Ok(Self {
            http,
            base_url: base_url.to_owned(),
            key,
        })
    }

    /// `GET /v1/icp/{id}`.
    pub(crate) async fn icp_retrieve(&self, id: &str) -> reqwest::Result<Icp> {
        self.http
            .get(format!("{}/v1/icp/{id}", self.base_url))
            .header(X_API_KEY, self.key.clone())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// `GET /v1/entity?page_size={page_size}`.
    pub(crate) async fn entity_list(&self, page_size: u64) -> reqwest::Result<EntityPage> {
        self.http
            .get(format!("{}/v1/entity?page_size={page_size}", self.base_url))
            .header(X_API_KEY, self.key.clone())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// `POST /v1/icp`.
    pub(crate) async fn icp_create(&self, body: &CreateIcp) -> reqwest::Result<Icp> {
        self.http
            .post(format!("{}/v1/icp", self.base_url))
            .header(X_API_KEY, self.key.clone())
            .json(body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

/// An ICP, as a user would declare it.
#[derive(Debug, Deserialize)]
pub(crate) struct Icp {
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) description: String,
    pub(crate) entity_structure: Option<Vec<IcpLevel>>,
    pub(crate) entity_targets: Vec<IcpTarget>,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) schema_version: Option<i64>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// One level of an ICP's entity hierarchy.
#[derive(Debug, Deserialize)]
pub(crate) struct IcpLevel {
    pub(crate) desired_count: Option<i64>,
    pub(crate) entity_type: String,
    pub(crate) root: bool,
}

/// An ICP's entity target.
#[derive(Debug, Deserialize)]
pub(crate) struct IcpTarget {
    pub(crate) description: String,
    pub(crate) desired_count: Option<i64>,
    pub(crate) entity_type: String,
    pub(crate) root: bool,
}

/// Body of `POST /v1/icp`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CreateIcp {
    pub(crate) description: String,
    pub(crate) entity_targets: Vec<TargetConfig>,
    pub(crate) name: String,
}

/// One entity target of a new ICP.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TargetConfig {
    pub(crate) description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) desired_count: Option<NonZeroU64>,
    pub(crate) entity_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) filters: Vec<String>,
    #[serde(default)]
    pub(crate) root: bool,
}

/// A page of entities.
#[derive(Debug, Deserialize)]
pub(crate) struct EntityPage {
    pub(crate) entities: Vec<Entity>,
    pub(crate) page: i64,
    pub(crate) page_size: i64,
    pub(crate) total: i64,
}

/// One entity.
#[derive(Debug, Deserialize)]
pub(crate) struct Entity {
    pub(crate) comments: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) data: Map<String, Value>,
    pub(crate) duplicate_info: Option<DuplicateInfo>,
    pub(crate) entity_type: String,
    pub(crate) external_id: Option<String>,
    pub(crate) external_source: Option<String>,
    pub(crate) icp_id: String,
    pub(crate) id: String,
    pub(crate) parent_id: Option<String>,
    pub(crate) sheet_id: String,
    pub(crate) sheet_name: String,
    pub(crate) status: Option<Status>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// Review status of an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    New,
    Reviewed,
    Passed,
    Contacted,
}

/// Cross-ICP duplicate information.
#[derive(Debug, Deserialize)]
pub(crate) struct DuplicateInfo {
    pub(crate) duplicate_count: Option<i64>,
    pub(crate) duplicate_entity_ids: Option<Vec<String>>,
    pub(crate) duplicate_icps: Option<Vec<DuplicateIcp>>,
    pub(crate) is_duplicate: bool,
    pub(crate) is_primary: bool,
    pub(crate) primary_entity_id: Option<String>,
    pub(crate) primary_icp_name: Option<String>,
}

/// An ICP that holds a duplicate.
#[derive(Debug, Deserialize)]
pub(crate) struct DuplicateIcp {
    pub(crate) icp_id: String,
    pub(crate) icp_name: String,
}

fn mismatch(what: &str) -> Box<dyn std::error::Error> {
    format!("the floor decoded a different {what} than the fixture").into()
}

/// Checks that a plain ICP carries the same values as a generated one.
pub(crate) fn check_icp(plain: &Icp, expected: &types::IcpResponse) -> BenchResult<()> {
    let levels_match = match (&plain.entity_structure, &expected.entity_structure) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.iter().zip(b).all(|(a, b)| {
                    a.desired_count == b.desired_count
                        && a.entity_type == b.entity_type
                        && a.root == b.root
                })
        }
        _ => false,
    };
    let targets_match = plain.entity_targets.len() == expected.entity_targets.len()
        && plain
            .entity_targets
            .iter()
            .zip(&expected.entity_targets)
            .all(|(a, b)| {
                a.description == b.description
                    && a.desired_count == b.desired_count
                    && a.entity_type == b.entity_type
                    && a.root == b.root
            });
    let ok = plain.created_at == expected.created_at
        && plain.description == expected.description
        && levels_match
        && targets_match
        && plain.id == expected.id
        && plain.name == expected.name
        && plain.schema_version == expected.schema_version
        && plain.updated_at == expected.updated_at;
    if ok { Ok(()) } else { Err(mismatch("ICP")) }
}

/// Checks that a plain page of entities carries the same values as a generated one.
pub(crate) fn check_entity_page(
    plain: &EntityPage,
    expected: &types::EntityListResponse,
) -> BenchResult<()> {
    if plain.page != expected.page
        || plain.page_size != expected.page_size
        || plain.total != expected.total
        || plain.entities.len() != expected.entities.len()
    {
        return Err(mismatch("page"));
    }
    for (a, b) in plain.entities.iter().zip(&expected.entities) {
        let duplicates_match = match (&a.duplicate_info, &b.duplicate_info) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                let icps = |icps: &Option<Vec<DuplicateIcp>>| {
                    icps.as_ref().map(|icps| {
                        icps.iter()
                            .map(|i| (i.icp_id.clone(), i.icp_name.clone()))
                            .collect::<Vec<_>>()
                    })
                };
                let expected_icps = b.duplicate_icps.as_ref().map(|icps| {
                    icps.iter()
                        .map(|i| (i.icp_id.clone(), i.icp_name.clone()))
                        .collect::<Vec<_>>()
                });
                a.duplicate_count == b.duplicate_count
                    && a.duplicate_entity_ids == b.duplicate_entity_ids
                    && icps(&a.duplicate_icps) == expected_icps
                    && a.is_duplicate == b.is_duplicate
                    && a.is_primary == b.is_primary
                    && a.primary_entity_id == b.primary_entity_id
                    && a.primary_icp_name == b.primary_icp_name
            }
            _ => false,
        };
        let status = match &b.status {
            None => None,
            Some(types::EntityResponseStatus::New) => Some(Status::New),
            Some(types::EntityResponseStatus::Reviewed) => Some(Status::Reviewed),
            Some(types::EntityResponseStatus::Passed) => Some(Status::Passed),
            Some(types::EntityResponseStatus::Contacted) => Some(Status::Contacted),
            Some(other) => return Err(mismatch(&format!("entity {} status {other}", b.id))),
        };
        let ok = a.comments == b.comments
            && a.created_at == b.created_at
            && a.data == b.data
            && duplicates_match
            && a.entity_type == b.entity_type
            && a.external_id == b.external_id
            && a.external_source == b.external_source
            && a.icp_id == b.icp_id
            && a.id == b.id
            && a.parent_id == b.parent_id
            && a.sheet_id == b.sheet_id
            && a.sheet_name == b.sheet_name
            && a.status == status
            && a.updated_at == b.updated_at;
        if !ok {
            return Err(mismatch(&format!("entity {}", b.id)));
        }
    }
    Ok(())
}
