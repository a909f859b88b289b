//! `/v1/signal`: list signals and get one.

use linkt::types;

use super::{Call, Key, Outcome, find, json, sort_and_page};
use crate::store::{self, Store};

fn signal_view(s: &store::Signal) -> types::SignalResponse {
    built!(types::SignalResponse {
        id: s.id.clone(),
        icp_id: s.icp_id.clone(),
        entity_ids: s.entity_ids.clone(),
        signal_type: Some(s.signal_type.clone()),
        signal_display_name: Some(s.display.clone()),
        summary: s.summary.clone(),
        strength: Some(s.strength.clone()),
        score: Some(s.score),
        references: s.references.clone(),
        metadata: Some(s.metadata.clone()),
        created_at: s.created_at,
    })
}

pub(super) fn signal_retrieve(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    json(&signal_view(find(
        &store.signals,
        call.org,
        call.path("signal_id"),
        "signal",
    )?))
}

pub(super) fn signal_list(store: &mut Store, call: &mut Call<'_>) -> Outcome {
    let external: Option<Vec<String>> = call.q_str("external_id").map(|id| {
        let source = call.q_str("external_source").unwrap_or("salesforce");
        store
            .entities
            .values()
            .filter(|e| e.org == call.org && e.external_id.as_deref() == Some(id))
            .filter(|e| e.external_source.as_deref().unwrap_or("salesforce") == source)
            .map(|e| e.id.clone())
            .collect()
    });
    let since = call
        .q_int("days")
        .map(|d| call.now - chrono::Duration::days(d));
    let term = call.q_str("search_term").map(str::to_lowercase);
    let items: Vec<&store::Signal> = store
        .signals
        .values()
        .filter(|s| s.org == call.org)
        .filter(|s| call.q_str("icp_id").is_none_or(|i| s.icp_id == i))
        .filter(|s| {
            call.q_str("entity_id")
                .is_none_or(|e| s.entity_ids.iter().any(|x| x == e))
        })
        .filter(|s| {
            external
                .as_ref()
                .is_none_or(|ids| s.entity_ids.iter().any(|x| ids.contains(x)))
        })
        .filter(|s| call.q_str("signal_type").is_none_or(|t| s.signal_type == t))
        .filter(|s| call.q_str("strength").is_none_or(|t| s.strength == t))
        .filter(|s| {
            term.as_ref().is_none_or(|t| {
                s.summary.to_lowercase().contains(t.as_str())
                    || s.signal_type.to_lowercase().contains(t.as_str())
            })
        })
        .filter(|s| since.is_none_or(|t| s.created_at >= t))
        .collect();
    let (page_items, total, page, size) = sort_and_page(
        items,
        call,
        &[
            ("created_at", |s, _| Key::Time(s.created_at)),
            ("updated_at", |s, _| Key::Time(s.created_at)),
            ("signal_type", |s, _| Key::Text(s.signal_type.clone())),
            ("strength", |s, _| Key::Text(s.strength.clone())),
            ("score", |s, _| Key::Num(s.score)),
        ],
        |s| s.id.as_str(),
    )?;
    json(&built!(types::SignalListResponse {
        signals: page_items.into_iter().map(signal_view).collect::<Vec<_>>(),
        page,
        page_size: size,
        total,
    }))
}
