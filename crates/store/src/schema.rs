//! The one catalogue of stored columns: events (as the collector enriches them, plus the
//! arrival order and the page engagement compaction attaches) and visits (one row per
//! session, built by compaction). Backends derive their DDL and appenders from it, and plans
//! name columns through it, so a column is spelled once.
//!
//! Visits: one row per `(site_id, session_id)`, built from every compacted event of the
//! session. `first_ms`/`last_ms` span all its events (where its events are found again);
//! `start_ms`/`end_ms` are its first and last non-engagement event (`NULL` when it has none: an
//! engagement ping makes no visit) — a visit is *active* in a range that span overlaps, as
//! Plausible counts sessions — and `duration_ms` their distance (engagement pings do not
//! lengthen a visit). The attributes come from its first event by the deterministic tie-break
//! (earliest, then pageview before custom before engagement, then arrival order); entry and exit
//! from its first and last pageview.

use waymark_core::query::VisitField;

/// Column types, as every backend can store them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Text,
    TextList,
    U64,
    I64,
    U32,
    U8,
    F64,
    Bool,
    /// UTC milliseconds (a timestamp type where the backend has one).
    Time,
}

/// A stored column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
}

const fn col(name: &'static str, ty: ColType) -> Column {
    Column {
        name,
        ty,
        nullable: false,
    }
}

const fn opt(name: &'static str, ty: ColType) -> Column {
    Column {
        name,
        ty,
        nullable: true,
    }
}

/// Event columns in storage order. The last three are the store's own: `seq` (arrival order,
/// assigned at append), and the engagement of the page view each event belongs to, attached
/// by compaction (`NULL` until then).
pub const EVENT_COLUMNS: &[Column] = &[
    col("site_id", ColType::Text),
    col("timestamp", ColType::Time),
    col("visitor_id", ColType::U64),
    col("session_id", ColType::U64),
    col("name", ColType::Text),
    col("hostname", ColType::Text),
    col("pathname", ColType::Text),
    col("referrer_domain", ColType::Text),
    col("source", ColType::Text),
    col("channel", ColType::Text),
    col("utm_source", ColType::Text),
    col("utm_medium", ColType::Text),
    col("utm_campaign", ColType::Text),
    col("utm_content", ColType::Text),
    col("utm_term", ColType::Text),
    col("country", ColType::Text),
    col("region", ColType::Text),
    col("city", ColType::Text),
    col("device", ColType::Text),
    col("browser", ColType::Text),
    col("browser_version", ColType::Text),
    col("os", ColType::Text),
    col("os_version", ColType::Text),
    col("prop_keys", ColType::TextList),
    col("prop_values", ColType::TextList),
    opt("revenue_amount", ColType::F64),
    col("revenue_currency", ColType::Text),
    opt("engagement_ms", ColType::U32),
    opt("scroll_depth", ColType::U8),
    col("interactive", ColType::Bool),
    col("idempotency_key", ColType::Text),
    col("seq", ColType::U64),
    opt("page_engaged_ms", ColType::I64),
    opt("page_scroll", ColType::I64),
];

/// The event columns a user sees in the `events` view (`waymark sql`), without page engagement.
pub fn user_event_columns() -> impl Iterator<Item = &'static Column> {
    EVENT_COLUMNS
        .iter()
        .filter(|c| !c.name.starts_with("page_"))
}

/// Visit columns in storage order: keys, extent and counts, then one per [`VisitField`].
pub const VISIT_COLUMNS: &[Column] = &[
    col("site_id", ColType::Text),
    col("visitor_id", ColType::U64),
    col("session_id", ColType::U64),
    col("first_ms", ColType::I64),
    col("last_ms", ColType::I64),
    opt("start_ms", ColType::I64),
    opt("end_ms", ColType::I64),
    opt("duration_ms", ColType::I64),
    col("events", ColType::I64),
    col("pageviews", ColType::I64),
    col("interactions", ColType::I64),
    col("source", ColType::Text),
    col("channel", ColType::Text),
    col("referrer_domain", ColType::Text),
    col("utm_source", ColType::Text),
    col("utm_medium", ColType::Text),
    col("utm_campaign", ColType::Text),
    col("utm_content", ColType::Text),
    col("utm_term", ColType::Text),
    col("country", ColType::Text),
    col("region", ColType::Text),
    col("city", ColType::Text),
    col("device", ColType::Text),
    col("browser", ColType::Text),
    col("browser_version", ColType::Text),
    col("os", ColType::Text),
    col("os_version", ColType::Text),
    col("entry_page", ColType::Text),
    col("exit_page", ColType::Text),
    col("entry_page_hostname", ColType::Text),
    col("exit_page_hostname", ColType::Text),
];

/// The visits column holding a visit field.
pub fn visit_column(f: VisitField) -> &'static str {
    match f {
        VisitField::Referrer => "referrer_domain",
        other => other.name(),
    }
}

/// The event column a visit field's value is read from.
pub fn event_column(f: VisitField) -> &'static str {
    match f {
        VisitField::EntryPage | VisitField::ExitPage => "pathname",
        VisitField::EntryPageHostname | VisitField::ExitPageHostname => "hostname",
        VisitField::Referrer => "referrer_domain",
        other => other.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visit_field_has_a_column() {
        for f in VisitField::ALL {
            assert!(
                VISIT_COLUMNS.iter().any(|c| c.name == visit_column(f)),
                "{f:?}"
            );
            assert!(
                EVENT_COLUMNS.iter().any(|c| c.name == event_column(f)),
                "{f:?}"
            );
        }
    }
}
