//! The responses the local server sends and the request the bench posts:
//! realistic Linkt values built with the generated `linkt::types`, serialized
//! once, and checked to decode back (into the generated types and into the
//! floor's plain structs) before anything is measured.
//!
//! The data is deterministic: the same run of the bench always serves the
//! same bytes.

use std::num::NonZeroU64;

use chrono::{DateTime, TimeZone as _, Utc};
use linkt::types;
use serde_json::{Map, Value, json};

use crate::BenchResult;
use crate::floor;

/// The ICP that `GET /v1/icp/{id}` returns.
pub(crate) const ICP_ID: &str = "507f1f77bcf86cd799439011";
/// Entities on the page that `GET /v1/entity?page_size=100` returns.
pub(crate) const PAGE_SIZE: u64 = 100;

/// Serialized bodies and the values they came from.
#[derive(Debug)]
pub(crate) struct Fixtures {
    /// `IcpResponse` JSON for `GET /v1/icp/{id}`.
    pub(crate) icp_body: Vec<u8>,
    /// `EntityListResponse` JSON for `GET /v1/entity?page_size=100`.
    pub(crate) entity_page_body: Vec<u8>,
    /// `IcpResponse` JSON for `POST /v1/icp` (the created ICP).
    pub(crate) created_body: Vec<u8>,
    /// The value behind `icp_body`.
    pub(crate) icp: types::IcpResponse,
    /// The value behind `entity_page_body`.
    pub(crate) entity_page: types::EntityListResponse,
    /// The value behind `created_body`.
    pub(crate) created: types::IcpResponse,
    /// The body posted by `icp_create`, as the client's type.
    pub(crate) create_request: types::CreateIcpRequest,
    /// The same body as the floor's plain struct.
    pub(crate) create_request_plain: floor::CreateIcp,
    /// Smallest and largest serialized entity on the page, in bytes.
    pub(crate) entity_bytes: (usize, usize),
}

impl Fixtures {
    /// Builds every fixture and checks that each body decodes back, into the
    /// generated types (equal to what was serialized) and into the floor's
    /// plain structs.
    pub(crate) fn build() -> BenchResult<Self> {
        let create_request = create_request()?;
        let create_request_plain: floor::CreateIcp =
            serde_json::from_value(serde_json::to_value(&create_request)?)?;
        let icp = icp();
        let created = created_icp(&create_request);
        let entity_page = entity_page();

        let icp_body = serde_json::to_vec(&icp)?;
        let created_body = serde_json::to_vec(&created)?;
        let entity_page_body = serde_json::to_vec(&entity_page)?;

        let mut sizes = Vec::with_capacity(entity_page.entities.len());
        for entity in &entity_page.entities {
            sizes.push(serde_json::to_vec(entity)?.len());
        }
        let entity_bytes = (
            sizes.iter().copied().min().unwrap_or(0),
            sizes.iter().copied().max().unwrap_or(0),
        );
        if entity_bytes.0 < 1000 || entity_bytes.1 > 2048 {
            return Err(format!(
                "fixture entities should be 1-2 KB of JSON each, are {}..{} bytes",
                entity_bytes.0, entity_bytes.1
            )
            .into());
        }

        let fixtures = Self {
            icp_body,
            entity_page_body,
            created_body,
            icp,
            entity_page,
            created,
            create_request,
            create_request_plain,
            entity_bytes,
        };
        fixtures.check_decoding()?;
        Ok(fixtures)
    }

    fn check_decoding(&self) -> BenchResult<()> {
        let icp: types::IcpResponse = serde_json::from_slice(&self.icp_body)?;
        let created: types::IcpResponse = serde_json::from_slice(&self.created_body)?;
        let page: types::EntityListResponse = serde_json::from_slice(&self.entity_page_body)?;
        if icp != self.icp || created != self.created || page != self.entity_page {
            return Err("a fixture does not decode back to the value it was built from".into());
        }
        let plain_icp: floor::Icp = serde_json::from_slice(&self.icp_body)?;
        floor::check_icp(&plain_icp, &self.icp)?;
        let plain_created: floor::Icp = serde_json::from_slice(&self.created_body)?;
        floor::check_icp(&plain_created, &self.created)?;
        let plain_page: floor::EntityPage = serde_json::from_slice(&self.entity_page_body)?;
        floor::check_entity_page(&plain_page, &self.entity_page)?;
        if serde_json::to_value(&self.create_request_plain)?
            != serde_json::to_value(&self.create_request)?
        {
            return Err("the floor's create request does not encode like the client's".into());
        }
        Ok(())
    }
}

fn at(seconds_after_base: i64) -> DateTime<Utc> {
    // 2025-03-14T09:26:53Z plus an offset, with milliseconds, as the API sends.
    let base = 1_741_944_413_i64 + seconds_after_base;
    Utc.timestamp_opt(base, 589_000_000)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

const COMPANY_TARGET: &str = "## Criteria\n- B2B SaaS companies\n- 100-500 employees\n- Headquarters in the United States\n- Series A funding or later\n\n## Enrichment Fields\n- primary_product: Main product offering\n- funding_status: Latest round and amount";
const PERSON_TARGET: &str =
    "## Criteria\n- VP of Sales, CRO or Head of Revenue\n- Director level or above";

fn create_request() -> BenchResult<types::CreateIcpRequest> {
    Ok(linkt::build!(types::CreateIcpRequest {
        name: "Enterprise SaaS Companies",
        description: "Mid-market B2B SaaS companies and their revenue leaders",
        entity_targets: vec![
            linkt::build!(types::EntityTargetConfig {
                description: COMPANY_TARGET.to_owned(),
                desired_count: None,
                entity_type: "company".to_owned(),
                filters: Vec::new(),
                root: true,
            })
            .expect("every field is set"),
            linkt::build!(types::EntityTargetConfig {
                description: PERSON_TARGET.to_owned(),
                desired_count: NonZeroU64::new(2),
                entity_type: "person".to_owned(),
                filters: vec!["located in North America".to_owned()],
                root: false,
            })
            .expect("every field is set"),
        ],
    })
    .expect("every field is set"))
}

fn targets(person_count: i64) -> Vec<types::IcpEntityTarget> {
    vec![
        linkt::build!(types::IcpEntityTarget {
            description: COMPANY_TARGET.to_owned(),
            desired_count: None,
            entity_type: "company".to_owned(),
            root: true,
        })
        .expect("every field is set"),
        linkt::build!(types::IcpEntityTarget {
            description: PERSON_TARGET.to_owned(),
            desired_count: Some(person_count),
            entity_type: "person".to_owned(),
            root: false,
        })
        .expect("every field is set"),
    ]
}

fn structure(person_count: i64) -> Vec<types::IcpEntityStructure> {
    vec![
        linkt::build!(types::IcpEntityStructure {
            desired_count: None,
            entity_type: "company".to_owned(),
            root: true,
        })
        .expect("every field is set"),
        linkt::build!(types::IcpEntityStructure {
            desired_count: Some(person_count),
            entity_type: "person".to_owned(),
            root: false,
        })
        .expect("every field is set"),
    ]
}

fn icp() -> types::IcpResponse {
    linkt::build!(types::IcpResponse {
        created_at: at(0),
        description: "Mid-market B2B SaaS companies and their revenue leaders".to_owned(),
        entity_structure: Some(structure(2)),
        entity_targets: targets(2),
        id: ICP_ID.to_owned(),
        name: "Enterprise SaaS Companies".to_owned(),
        schema_version: Some(2),
        updated_at: at(86_400 * 3 + 1234),
    })
    .expect("every field is set")
}

fn created_icp(request: &types::CreateIcpRequest) -> types::IcpResponse {
    linkt::build!(types::IcpResponse {
        created_at: at(86_400 * 10),
        description: request.description.to_string(),
        entity_structure: Some(structure(2)),
        entity_targets: targets(2),
        id: "6612f0c4e4b0a1d2c3f40917".to_owned(),
        name: request.name.to_string(),
        schema_version: Some(2),
        updated_at: at(86_400 * 10),
    })
    .expect("every field is set")
}

const COMPANIES: [&str; 20] = [
    "Brightwave Analytics",
    "Cobalt Ledger",
    "Northwind Revenue Cloud",
    "Parallax Health Systems",
    "Quillstone Software",
    "Redpine Logistics",
    "Sable Security",
    "Tandem Payroll",
    "Umbra Observability",
    "Vantage Procurement",
    "Wavelet Data",
    "Xenith Commerce",
    "Yardarm Fleet",
    "Zephyr HR",
    "Aster Billing",
    "Bluefin Compliance",
    "Cinder CRM",
    "Driftwood Scheduling",
    "Ember Insights",
    "Foxglove Identity",
];
const INDUSTRIES: [&str; 5] = [
    "Computer Software",
    "Financial Services",
    "Information Technology and Services",
    "Hospital & Health Care",
    "Logistics and Supply Chain",
];
const CITIES: [(&str, &str); 6] = [
    ("Austin", "TX"),
    ("Boston", "MA"),
    ("Chicago", "IL"),
    ("Denver", "CO"),
    ("San Francisco", "CA"),
    ("New York", "NY"),
];
const FIRST: [&str; 8] = [
    "Avery", "Jordan", "Morgan", "Riley", "Casey", "Taylor", "Quinn", "Harper",
];
const LAST: [&str; 8] = [
    "Nakamura",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Castillo",
    "Brennan",
    "Haddad",
    "Novak",
];
const TITLES: [&str; 4] = [
    "VP of Sales",
    "Chief Revenue Officer",
    "Head of Revenue Operations",
    "Director of Sales, North America",
];

fn object_id(n: u64) -> String {
    format!("65f2a9c1e4b0{:012x}", 0x3d9a10 + n * 7919)
}

fn slug(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// One `EntityAttribute`: `{value, references[], created_at, updated_at}`.
fn attribute(value: Value, references: &[String], created: i64, updated: i64) -> Value {
    json!({
        "value": value,
        "references": references,
        "created_at": at(created).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "updated_at": at(updated).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

fn company_data(i: usize, t: i64) -> Map<String, Value> {
    let name = COMPANIES[i % COMPANIES.len()];
    let domain = format!("{}.com", slug(name));
    let (city, state) = CITIES[i % CITIES.len()];
    let site = vec![format!("https://{domain}/about")];
    let linkedin_url = format!("https://www.linkedin.com/company/{}", slug(name));
    let both = [site[0].clone(), linkedin_url.clone()];
    let news = vec![format!(
        "https://www.crunchbase.com/organization/{}",
        slug(name)
    )];
    let mut data = Map::new();
    data.insert("name".into(), attribute(json!(name), &site, t, t));
    data.insert(
        "linkedin".into(),
        attribute(
            json!({"platform": "linkedin", "url": linkedin_url}),
            &both[1..],
            t,
            t + 60,
        ),
    );
    data.insert(
        "headquarters".into(),
        attribute(
            json!({"city": city, "state": state, "country": "United States"}),
            &site,
            t,
            t + 60,
        ),
    );
    data.insert(
        "industry".into(),
        attribute(json!(INDUSTRIES[i % INDUSTRIES.len()]), &both[1..], t, t),
    );
    data.insert(
        "employees".into(),
        attribute(json!(["100-250", "250-500"][i % 2]), &both[1..], t, t),
    );
    data.insert(
        "primary_product".into(),
        attribute(
            json!(format!(
                "{name} platform: workflow automation and reporting"
            )),
            &site,
            t + 120,
            t + 120,
        ),
    );
    data.insert(
        "funding_status".into(),
        attribute(
            json!(format!("Series B, ${} million", 20 + i % 40)),
            &news,
            t + 180,
            t + 180,
        ),
    );
    data
}

fn person_data(i: usize, company: &str, t: i64) -> Map<String, Value> {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    let profile = format!(
        "https://www.linkedin.com/in/{}-{}-{i:03}",
        first.to_lowercase(),
        last.to_lowercase()
    );
    let team = vec![format!("https://{}.com/company/leadership", slug(company))];
    let both = [profile.clone(), team[0].clone()];
    let (city, state) = CITIES[(i + 2) % CITIES.len()];
    let mut data = Map::new();
    data.insert(
        "name".into(),
        attribute(json!(format!("{first} {last}")), &both, t, t),
    );
    data.insert(
        "email".into(),
        attribute(
            json!(format!(
                "{}.{}@{}.com",
                first.to_lowercase(),
                last.to_lowercase(),
                slug(company)
            )),
            &team,
            t + 30,
            t + 30,
        ),
    );
    data.insert(
        "linkedin".into(),
        attribute(
            json!({"platform": "linkedin", "url": profile}),
            std::slice::from_ref(&profile),
            t,
            t,
        ),
    );
    data.insert(
        "title".into(),
        attribute(json!(TITLES[i % TITLES.len()]), &both, t, t + 90),
    );
    data.insert("company".into(), attribute(json!(company), &team, t, t));
    data.insert(
        "location".into(),
        attribute(
            json!({"city": city, "state": state, "country": "United States"}),
            std::slice::from_ref(&profile),
            t,
            t,
        ),
    );
    data.insert(
        "mobile_phone".into(),
        attribute(
            json!(format!("+1 512 555 {:04}", 1000 + i * 37 % 9000)),
            &[],
            t + 45,
            t + 45,
        ),
    );
    data
}

fn entity_page() -> types::EntityListResponse {
    let companies_sheet = object_id(900);
    let people_sheet = object_id(901);
    let mut entities = Vec::with_capacity(PAGE_SIZE as usize);
    let mut last_company = (String::new(), "");
    for i in 0..PAGE_SIZE as usize {
        let id = object_id(i as u64);
        let t = 3600 * i as i64;
        let is_company = i % 5 < 3;
        let data = if is_company {
            last_company = (id.clone(), COMPANIES[i % COMPANIES.len()]);
            company_data(i, t)
        } else {
            person_data(i, last_company.1, t)
        };
        let duplicate_info = match i % 9 {
            0 => Some(
                linkt::build!(types::DuplicateInfo {
                    duplicate_count: Some(2),
                    duplicate_entity_ids: Some(vec![object_id(5000 + i as u64), object_id(6000)]),
                    duplicate_icps: Some(vec![
                        linkt::build!(types::DuplicateIcp {
                            icp_id: object_id(7000),
                            icp_name: "Fintech Expansion Q3".to_owned(),
                        })
                        .expect("every field is set")
                    ]),
                    is_duplicate: false,
                    is_primary: true,
                    primary_entity_id: None,
                    primary_icp_name: None,
                })
                .expect("every field is set"),
            ),
            4 => Some(
                linkt::build!(types::DuplicateInfo {
                    duplicate_count: None,
                    duplicate_entity_ids: None,
                    duplicate_icps: None,
                    is_duplicate: true,
                    is_primary: false,
                    primary_entity_id: Some(object_id(8000 + i as u64)),
                    primary_icp_name: Some("Healthcare Outbound".to_owned()),
                })
                .expect("every field is set"),
            ),
            _ => None,
        };
        let status = match i % 4 {
            0 => Some(types::EntityResponseStatus::New),
            1 => Some(types::EntityResponseStatus::Reviewed),
            2 => None,
            _ => Some(types::EntityResponseStatus::Contacted),
        };
        entities.push(
            linkt::build!(types::EntityResponse {
                comments: (i % 6 == 1).then(|| "Good fit; warm intro via partner".to_owned()),
                created_at: at(t),
                data,
                duplicate_info,
                entity_type: if is_company { "company" } else { "person" }.to_owned(),
                external_id: (is_company && i % 3 == 0).then(|| format!("001Dn00000{i:05}XYZ")),
                external_source: (is_company && i % 3 == 0).then(|| "salesforce".to_owned()),
                icp_id: ICP_ID.to_owned(),
                id,
                parent_id: (!is_company).then(|| last_company.0.clone()),
                sheet_id: if is_company {
                    companies_sheet.clone()
                } else {
                    people_sheet.clone()
                },
                sheet_name: if is_company {
                    "Discovered Companies"
                } else {
                    "Revenue Leaders"
                }
                .to_owned(),
                status,
                updated_at: at(t + 7200),
            })
            .expect("every field is set"),
        );
    }
    linkt::build!(types::EntityListResponse {
        entities,
        page: 1,
        page_size: PAGE_SIZE as i64,
        total: 1342,
    })
    .expect("every field is set")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_are_realistic_and_decode_on_both_sides() {
        let fixtures = Fixtures::build().expect("fixtures build and decode");
        assert_eq!(fixtures.entity_page.entities.len(), PAGE_SIZE as usize);
        let (smallest, largest) = fixtures.entity_bytes;
        assert!(smallest >= 1000 && largest <= 2048, "{smallest}..{largest}");
        let attribute = fixtures.entity_page.entities[0]
            .data
            .get("name")
            .and_then(Value::as_object)
            .expect("an attribute object");
        for key in ["value", "references", "created_at", "updated_at"] {
            assert!(attribute.contains_key(key), "{key}");
        }
        assert!(
            fixtures
                .entity_page
                .entities
                .iter()
                .any(|e| e.duplicate_info.is_some())
        );
    }
}
