//! Reports over JSON: the conversion report (per-conversion numbers and rates) and funnel
//! reports (steps, drop-off, weakest step, opportunities, breakdown), saved or ad hoc, each
//! optionally compared with another period. The arithmetic and the comparison periods are
//! insight's; this file reads the query parameters and serialises the answer.
//!
//! Access: Read on the site (see `docs/access.md`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use waymark_core::{Condition, ErrorKind, Field, Funnel};
use waymark_insight::{manage, FunnelOptions, InsightError};

use super::definitions::{authorize, blocking, funnel_from, MODE};
use crate::access::Need;
use crate::error::ApiError;
use crate::state::AppState;

/// The routes, merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/sites/{site}/reports/conversions",
            get(conversion_report),
        )
        .route(
            "/api/sites/{site}/reports/funnels/{name}",
            get(saved_funnel_report),
        )
        .route(
            "/api/sites/{site}/reports/funnel",
            post(adhoc_funnel_report),
        )
}

/// `range`, `compare`, `by`, `limit` and repeated `filter` query parameters.
struct ReportParams {
    range: String,
    compare: Option<String>,
    by: Option<Field>,
    limit: usize,
    filters: Vec<Condition>,
}

fn report_params(pairs: &[(String, String)]) -> Result<ReportParams, ApiError> {
    let mut p = ReportParams {
        range: "30d".into(),
        compare: None,
        by: None,
        limit: 10,
        filters: Vec::new(),
    };
    for (k, v) in pairs {
        match k.as_str() {
            "range" | "period" => p.range = v.clone(),
            "compare" => p.compare = Some(v.clone()).filter(|c| !c.is_empty()),
            "by" | "breakdown" => {
                p.by = Some(Field::parse_breakdown(v).map_err(|e| ApiError::bad_field("by", e.0))?)
            }
            "limit" => {
                p.limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_field("limit", "limit is a number from 1 to 1000")
                    })?
            }
            "filter" | "filters" => p
                .filters
                .push(Condition::parse(v).map_err(|e| ApiError::bad_field("filter", e.0))?),
            other => {
                return Err(ApiError::new(
                    ErrorKind::BadInput { field: None },
                    format!(
                        "unknown query parameter {other:?}: use range, compare, by, limit, filter"
                    ),
                ))
            }
        }
    }
    Ok(p)
}

async fn conversion_report(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Read).await?;
    let p = report_params(&pairs)?;
    let report = blocking(move || {
        let store = state.store.as_ref();
        let site = waymark_insight::site(store, &site)?;
        let (period, compare) = waymark_insight::resolve_range(
            &site,
            &p.range,
            p.compare.as_deref(),
            chrono::Utc::now(),
        )?;
        let opts = waymark_insight::ConversionOptions {
            bounds: period.bounds,
            compare: compare.map(|c| c.bounds),
            filters: p.filters,
        };
        waymark_insight::conversion_report_with(store, &site.domain, &opts, None)
    })
    .await?;
    Ok(Json(report).into_response())
}

fn run_funnel_report(
    state: &AppState,
    site: &str,
    funnel: Option<Funnel>,
    name: &str,
    p: ReportParams,
) -> Result<waymark_insight::FunnelReport, InsightError> {
    let store = state.store.as_ref();
    let site = waymark_insight::site(store, site)?;
    let funnel = match funnel {
        Some(f) => {
            f.validate(MODE)?;
            f
        }
        None => manage::find_funnel(store, &site.domain, name)?,
    };
    let (period, compare) =
        waymark_insight::resolve_range(&site, &p.range, p.compare.as_deref(), chrono::Utc::now())?;
    let opts = FunnelOptions {
        bounds: period.bounds,
        compare: compare.map(|c| c.bounds),
        filters: p.filters,
        breakdown: p.by,
        limit: p.limit,
    };
    waymark_insight::funnel_report(store, &site.domain, &funnel, &opts)
}

async fn saved_funnel_report(
    State(state): State<Arc<AppState>>,
    Path((site, name)): Path<(String, String)>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Read).await?;
    let p = report_params(&pairs)?;
    let report = blocking(move || run_funnel_report(&state, &site, None, &name, p)).await?;
    Ok(Json(report).into_response())
}

/// A funnel given in the body (not saved), with the report options as query parameters.
async fn adhoc_funnel_report(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Read).await?;
    let p = report_params(&pairs)?;
    let f = funnel_from(&body, None)?;
    let report = blocking(move || run_funnel_report(&state, &site, Some(f), "", p)).await?;
    Ok(Json(report).into_response())
}
