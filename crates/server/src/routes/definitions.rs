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
use waymark_store::Store;

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
            get(list::<Conversion>).post(create::<Conversion>),
        )
        .route(
            "/api/sites/{site}/conversions/{name}",
            put(replace::<Conversion>).delete(remove::<Conversion>),
        )
        .route(
            "/api/sites/{site}/templates/{template}",
            post(apply_template),
        )
        .route(
            "/api/sites/{site}/funnels",
            get(list::<Funnel>).post(create::<Funnel>),
        )
        .route(
            "/api/sites/{site}/funnels/{name}",
            put(replace::<Funnel>).delete(remove::<Funnel>),
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

// ---- conversions and funnels, by name ----------------------------------------------------

/// A definition the API keeps by name: a conversion or a funnel. The handlers below serve both.
trait Definition: serde::Serialize + Send + Sized + 'static {
    /// The list's key in answers.
    const LIST: &'static str;
    /// The definition in a request body; `name` is the URL's, when it names one.
    fn from_body(body: &Bytes, name: Option<String>) -> Result<Self, ApiError>;
    fn list(store: &dyn Store, site: &str) -> Result<Vec<Self>, InsightError>;
    fn save(&self, store: &dyn Store, site: &str) -> Result<Change, InsightError>;
    fn delete(store: &dyn Store, site: &str, name: &str) -> Result<(), InsightError>;
}

impl Definition for Conversion {
    const LIST: &'static str = "conversions";
    fn from_body(body: &Bytes, name: Option<String>) -> Result<Self, ApiError> {
        conversion_from(body, name)
    }
    fn list(store: &dyn Store, site: &str) -> Result<Vec<Self>, InsightError> {
        let site = waymark_insight::site(store, site)?;
        Ok(store.conversions(&site.domain)?)
    }
    fn save(&self, store: &dyn Store, site: &str) -> Result<Change, InsightError> {
        manage::save_conversion(store, site, self)
    }
    fn delete(store: &dyn Store, site: &str, name: &str) -> Result<(), InsightError> {
        manage::delete_conversion(store, site, name)
    }
}

impl Definition for Funnel {
    const LIST: &'static str = "funnels";
    fn from_body(body: &Bytes, name: Option<String>) -> Result<Self, ApiError> {
        funnel_from(body, name)
    }
    fn list(store: &dyn Store, site: &str) -> Result<Vec<Self>, InsightError> {
        let site = waymark_insight::site(store, site)?;
        Ok(store.funnels(&site.domain)?)
    }
    fn save(&self, store: &dyn Store, site: &str) -> Result<Change, InsightError> {
        manage::save_funnel(store, site, self, MODE)
    }
    fn delete(store: &dyn Store, site: &str, name: &str) -> Result<(), InsightError> {
        manage::delete_funnel(store, site, name)
    }
}

async fn list<D: Definition>(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Read).await?;
    let list = blocking(move || D::list(state.store.as_ref(), &site)).await?;
    let mut body = serde_json::Map::new();
    body.insert(
        D::LIST.into(),
        serde_json::to_value(list).unwrap_or_default(),
    );
    Ok(Json(body).into_response())
}

async fn save<D: Definition>(
    state: Arc<AppState>,
    site: String,
    d: D,
) -> Result<Response, ApiError> {
    let body = serde_json::to_value(&d).unwrap_or_default();
    let change = blocking(move || d.save(state.store.as_ref(), &site)).await?;
    Ok(saved(change, body))
}

async fn create<D: Definition>(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    let d = D::from_body(&body, None)?;
    save(state, site, d).await
}

async fn replace<D: Definition>(
    State(state): State<Arc<AppState>>,
    Path((site, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    let d = D::from_body(&body, Some(name))?;
    save(state, site, d).await
}

async fn remove<D: Definition>(
    State(state): State<Arc<AppState>>,
    Path((site, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &site, Need::Write).await?;
    blocking(move || D::delete(state.store.as_ref(), &site, &name)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- templates and trigger checks ------------------------------------------------------

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
