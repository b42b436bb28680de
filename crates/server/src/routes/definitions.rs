//! Conversion and funnel definitions over JSON: list, create or update by name, delete;
//! business templates; trigger checks. The rules are insight's ([`waymark_insight::manage`]).
//!
//! Access (see `docs/access.md`): reading a site's lists needs Read on that site (a session, a
//! key with `stats:read`, or the site's shared link); changing definitions needs Write (an
//! admin, or an admin's key with `definitions:write`). Templates and trigger checks hold no
//! data and stay public.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use waymark_core::{
    Change, Conversion, ConversionKind, ConversionValue, Funnel, FunnelStep, IdentityMode,
    StepOrder, Trigger, Window,
};
use waymark_insight::{manage, InsightError};

use crate::access::Need;
use crate::error::{json_body, ApiError};
use crate::state::AppState;

/// The identity mode definitions are checked against (consented mode is a later issue).
pub(super) const MODE: IdentityMode = IdentityMode::Cookieless;

/// The routes, merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/templates", get(list_templates))
        .route("/api/triggers/check", post(check_trigger))
        .route(
            "/api/sites/{site}/conversions",
            get(list_conversions).post(create_conversion),
        )
        .route(
            "/api/sites/{site}/conversions/{name}",
            put(put_conversion).delete(delete_conversion),
        )
        .route(
            "/api/sites/{site}/templates/{template}",
            post(apply_template),
        )
        .route(
            "/api/sites/{site}/funnels",
            get(list_funnels).post(create_funnel),
        )
        .route(
            "/api/sites/{site}/funnels/{name}",
            put(put_funnel).delete(delete_funnel),
        )
}

// ---- plumbing ----------------------------------------------------------------------------

/// Runs blocking insight work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, InsightError> + Send + 'static,
) -> Result<T, ApiError> {
    crate::error::off_thread(f).await
}

/// Every route naming a site checks the caller's access to it ([`crate::access::authorize`]).
pub(super) async fn authorize(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    site: &str,
    need: Need,
) -> Result<(), ApiError> {
    crate::access::authorize(state, headers, Some(site), need)
        .await
        .map(|_| ())
}

fn saved(change: Change, body: serde_json::Value) -> Response {
    let status = if change == Change::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(json!({ "change": change, "definition": body })),
    )
        .into_response()
}

// ---- conversions --------------------------------------------------------------------------

/// A conversion as posted: the trigger is parsed separately so its error names the field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversionBody {
    #[serde(default)]
    name: Option<String>,
    kind: ConversionKind,
    trigger: String,
    #[serde(default)]
    value: ConversionValue,
    #[serde(default)]
    description: String,
}

fn conversion_from(body: &Bytes, name: Option<String>) -> Result<Conversion, ApiError> {
    let raw: ConversionBody = json_body(body)?;
    let name = match (name, raw.name) {
        (Some(path), Some(body)) if path != body => {
            return Err(ApiError::bad_field(
                "name",
                format!("the body names {body:?} but the URL names {path:?}; rename by deleting and creating"),
            ))
        }
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => return Err(ApiError::bad_field("name", "a name is required")),
    };
    let trigger: Trigger = raw.trigger.parse()?;
    Ok(Conversion {
        name,
        kind: raw.kind,
        trigger,
        value: raw.value,
        description: raw.description,
    })
}

async fn list_conversions(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Read).await?;
    let st = state.clone();
    let list = blocking(move || {
        let site = waymark_insight::site(st.store.as_ref(), &site)?;
        Ok(st.store.conversions(&site.domain)?)
    })
    .await?;
    Ok(Json(json!({ "conversions": list })).into_response())
}

async fn save_conversion(
    state: Arc<AppState>,
    site: String,
    c: Conversion,
) -> Result<Response, ApiError> {
    let body = serde_json::to_value(&c).unwrap_or_default();
    let change = blocking(move || manage::save_conversion(state.store.as_ref(), &site, &c)).await?;
    Ok(saved(change, body))
}

async fn create_conversion(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    let c = conversion_from(&body, None)?;
    save_conversion(state, site, c).await
}

async fn put_conversion(
    State(state): State<Arc<AppState>>,
    Path((site, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    let c = conversion_from(&body, Some(name))?;
    save_conversion(state, site, c).await
}

async fn delete_conversion(
    State(state): State<Arc<AppState>>,
    Path((site, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    blocking(move || manage::delete_conversion(state.store.as_ref(), &site, &name)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_templates() -> Response {
    Json(json!({ "templates": waymark_insight::templates() })).into_response()
}

async fn apply_template(
    State(state): State<Arc<AppState>>,
    Path((site, template)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    let applied =
        blocking(move || manage::apply_template(state.store.as_ref(), &site, &template)).await?;
    Ok(Json(json!({ "applied": applied })).into_response())
}

#[derive(Deserialize)]
struct CheckBody {
    trigger: String,
}

async fn check_trigger(body: Bytes) -> Result<Response, ApiError> {
    let b: CheckBody = json_body(&body)?;
    let t: Trigger = b.trigger.parse()?;
    Ok(Json(json!({
        "trigger": t.to_string(),
        "needs_engagement": t.needs_engagement(),
    }))
    .into_response())
}

// ---- funnels ------------------------------------------------------------------------------

/// A funnel as posted. Each top-level field is read on its own, so a refusal names the field
/// it is in (a bad inline trigger is in `steps`).
pub(super) fn funnel_from(body: &Bytes, name: Option<String>) -> Result<Funnel, ApiError> {
    let value: serde_json::Value = json_body(body)?;
    let Some(obj) = value.as_object() else {
        return Err(ApiError::bad_field(
            "body",
            "invalid funnel: expected a JSON object",
        ));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["name", "steps", "window", "order"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_field(
            "body",
            format!("invalid funnel: unknown field {k:?}: use name, steps, window, order"),
        ));
    }
    fn part<T: for<'de> Deserialize<'de>>(
        obj: &serde_json::Map<String, serde_json::Value>,
        field: &'static str,
    ) -> Result<Option<T>, ApiError> {
        obj.get(field)
            .map(|v| {
                T::deserialize(v).map_err(|e| {
                    ApiError::bad_field(field, format!("invalid funnel: {field}: {e}"))
                })
            })
            .transpose()
    }
    let named: Option<String> = part(obj, "name")?;
    let name = match (name, named) {
        (Some(path), Some(body)) if path != body => {
            return Err(ApiError::bad_field(
                "name",
                format!("the body names {body:?} but the URL names {path:?}"),
            ))
        }
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => {
            return Err(ApiError::bad_field(
                "name",
                "invalid funnel: name is required",
            ))
        }
    };
    let steps: Vec<FunnelStep> = part(obj, "steps")?
        .ok_or_else(|| ApiError::bad_field("steps", "invalid funnel: steps are required"))?;
    Ok(Funnel {
        name,
        steps,
        window: part::<Window>(obj, "window")?.unwrap_or_default(),
        order: part::<StepOrder>(obj, "order")?.unwrap_or_default(),
    })
}

async fn list_funnels(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Read).await?;
    let list = blocking(move || {
        let site = waymark_insight::site(state.store.as_ref(), &site)?;
        Ok(state.store.funnels(&site.domain)?)
    })
    .await?;
    Ok(Json(json!({ "funnels": list })).into_response())
}

async fn save_funnel(state: Arc<AppState>, site: String, f: Funnel) -> Result<Response, ApiError> {
    let body = serde_json::to_value(&f).unwrap_or_default();
    let change =
        blocking(move || manage::save_funnel(state.store.as_ref(), &site, &f, MODE)).await?;
    Ok(saved(change, body))
}

async fn create_funnel(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    let f = funnel_from(&body, None)?;
    save_funnel(state, site, f).await
}

async fn put_funnel(
    State(state): State<Arc<AppState>>,
    Path((site, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    let f = funnel_from(&body, Some(name))?;
    save_funnel(state, site, f).await
}

async fn delete_funnel(
    State(state): State<Arc<AppState>>,
    Path((site, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    blocking(move || manage::delete_funnel(state.store.as_ref(), &site, &name)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
