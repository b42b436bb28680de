//! What a query reads: one site's events in a range (`ev`), with page engagement where a
//! trigger needs it, and the visits active in the range (`vs`), from the pre-computed `visits`
//! table or rebuilt from events. Both paths follow the same rules ([`super::visits`],
//! [`super::engagement`]); the stored path rebuilds only the visits that still have events in
//! `events_recent`, so answers are identical to the raw path's (a differential test holds them
//! equal).
//!
//! A visit is active in `[from, to)` when its non-engagement events span overlaps it
//! (`start_ms < to` and `end_ms >= from`), as Plausible counts sessions; its numbers cover the
//! whole visit.

use waymark_core::query::VisitField;
use waymark_core::TimeBounds;

use super::engagement::page_engagement;
use super::expr::{Expr, Func, Ident};
use super::rel::{From, Query, Rel, Select, Table};
use super::visits::{prop_column, visit_rows};
use crate::schema::{visit_column, VISIT_COLUMNS};

/// How a query finds visits and page engagement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitSource {
    /// Rebuilt from the site's events in `window` (inclusive milliseconds), which must hold
    /// every event of every visit active in the range: the oracle, and the path for what the
    /// `visits` table does not hold (a visit's custom properties).
    Raw { window: (i64, i64) },
    /// The `visits` table and the events' stored page engagement, with the visits that have
    /// events in `events_recent` rebuilt from their events; `touched` is the span of those
    /// visits' compacted events (`None` when they have none).
    Stored { touched: Option<(i64, i64)> },
}

impl VisitSource {
    /// Every event of the site.
    pub const ALL_EVENTS: VisitSource = VisitSource::Raw {
        window: (i64::MIN / 4, i64::MAX / 4),
    };
}

/// One site, one range, one way to find visits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub site: String,
    pub bounds: TimeBounds,
    pub source: VisitSource,
}

/// The name a visit field has in `vs` (beside event columns of the same name).
pub fn visit_alias(f: VisitField) -> &'static str {
    match f {
        VisitField::Source => "v_source",
        VisitField::Channel => "v_channel",
        VisitField::Referrer => "v_referrer",
        VisitField::UtmSource => "v_utm_source",
        VisitField::UtmMedium => "v_utm_medium",
        VisitField::UtmCampaign => "v_utm_campaign",
        VisitField::UtmContent => "v_utm_content",
        VisitField::UtmTerm => "v_utm_term",
        VisitField::Country => "v_country",
        VisitField::Region => "v_region",
        VisitField::City => "v_city",
        VisitField::Device => "v_device",
        VisitField::Browser => "v_browser",
        VisitField::BrowserVersion => "v_browser_version",
        VisitField::Os => "v_os",
        VisitField::OsVersion => "v_os_version",
        VisitField::EntryPage => "v_entry_page",
        VisitField::ExitPage => "v_exit_page",
        VisitField::EntryPageHostname => "v_entry_page_hostname",
        VisitField::ExitPageHostname => "v_exit_page_hostname",
    }
}

/// The visit columns `vs` has besides the attributes.
pub const VISIT_FACTS: [&str; 10] = [
    "visitor_id",
    "first_ms",
    "last_ms",
    "start_ms",
    "end_ms",
    "duration_ms",
    "events",
    "pageviews",
    "interactions",
    "session_id",
];

fn at_ms(v: i64) -> Expr {
    Expr::f(Func::FromMillis, vec![Expr::int(v)])
}

impl Scope {
    fn of_site(&self) -> Expr {
        Expr::col("site_id").eq(Expr::text(self.site.clone()))
    }

    /// `timestamp` within the range.
    pub fn in_range(&self) -> Expr {
        let ts = Expr::col("timestamp");
        ts.clone()
            .ge(at_ms(self.bounds.from_ms))
            .and(ts.lt(at_ms(self.bounds.to_ms)))
    }

    fn in_window(&self, w: (i64, i64)) -> Expr {
        let ts = Expr::col("timestamp");
        ts.clone().ge(at_ms(w.0)).and(ts.le(at_ms(w.1)))
    }

    /// The visit active in the range.
    fn active(&self) -> Expr {
        Expr::col("start_ms")
            .lt(Expr::int(self.bounds.to_ms))
            .and(Expr::col("end_ms").ge(Expr::int(self.bounds.from_ms)))
    }

    fn events_of(&self, table: Table, cols: &[&'static str], filter: Expr) -> Select {
        let mut s = Select::from(From::table(table, "t"));
        for c in cols {
            s = s.pass(c);
        }
        s.filter(self.of_site().and(filter))
    }

    /// `touched`: the sessions with events not compacted yet.
    fn touched(&self, q: &mut Query) {
        if !q.has("touched") {
            let s = Select::from(From::table(Table::EventsRecent, "r"))
                .pass("session_id")
                .filter(self.of_site());
            let mut s = s;
            s.distinct = true;
            q.with("touched", s.rel());
        }
    }

    fn touched_ids(&self) -> Rel {
        Select::from(From::cte("touched", "t"))
            .pass("session_id")
            .rel()
    }

    /// The whole visits of the touched sessions' events: their compacted events (in the
    /// touched span) and their recent ones.
    fn touched_events(&self, cols: &[&'static str], touched: Option<(i64, i64)>) -> Rel {
        let recent = self
            .events_of(Table::EventsRecent, cols, Expr::Bool(true))
            .rel();
        match touched {
            None => recent,
            Some(w) => Rel::UnionAll(vec![
                self.events_of(
                    Table::EventsSorted,
                    cols,
                    self.in_window(w)
                        .and(Expr::col("session_id").in_rel(self.touched_ids())),
                )
                .rel(),
                recent,
            ]),
        }
    }

    /// Adds `ev`: the site's events in the range with `cols`, plus `page_engaged_ms` and
    /// `page_scroll` when `engagement`. `inline` asks the backend to re-scan rather than
    /// materialise it (cheaper where several relations read few of its columns).
    pub fn events(&self, q: &mut Query, cols: &[&'static str], engagement: bool, inline: bool) {
        if !engagement {
            let s = self.events_of(Table::Events, cols, self.in_range()).rel();
            if inline {
                q.with_inline("ev", s);
            } else {
                q.with("ev", s);
            }
            return;
        }
        let mut need: Vec<&'static str> = cols.to_vec();
        for c in [
            "session_id",
            "pathname",
            "timestamp",
            "name",
            "engagement_ms",
            "scroll_depth",
        ] {
            if !need.contains(&c) {
                need.push(c);
            }
        }
        let mut out_cols: Vec<&'static str> = cols.to_vec();
        out_cols.extend(["page_engaged_ms", "page_scroll"]);
        let range_only = |inner: Select, alias: &'static str| {
            let mut s = Select::from(From::Sub(Box::new(inner.rel()), Ident::of(alias)));
            for c in &out_cols {
                s = s.pass(c);
            }
            s.filter(self.in_range())
        };
        match self.source {
            VisitSource::Raw { window } => {
                q.with(
                    "ev_all",
                    self.events_of(Table::Events, &need, self.in_window(window))
                        .rel(),
                );
                let engaged = page_engagement(q, ("ev_pv", "ev_pages"), "ev_all", &need);
                q.with("ev", range_only(engaged, "x").rel());
            }
            VisitSource::Stored { touched } => {
                self.touched(q);
                q.with("ev_touched", self.touched_events(&need, touched));
                let engaged = page_engagement(q, ("ev_pv", "ev_pages"), "ev_touched", &need);
                let stored = self.events_of(
                    Table::EventsSorted,
                    &out_cols,
                    self.in_range()
                        .and(Expr::col("session_id").in_rel(self.touched_ids()).not()),
                );
                q.with(
                    "ev",
                    Rel::UnionAll(vec![stored.rel(), range_only(engaged, "x").rel()]),
                );
            }
        }
    }

    /// Adds `vs`: one row per visit active in the range: [`VISIT_FACTS`], every visit field
    /// under its [`visit_alias`], and `vp{i}` for each of `props` (which needs the raw path).
    pub fn visits(&self, q: &mut Query, props: &[String]) {
        let rows_of = |events: &'static str| visit_rows(From::cte(events, "e"), props);
        let aliased = |inner: Rel| {
            let mut s = Select::from(From::Sub(Box::new(inner), Ident::of("v")));
            for c in VISIT_FACTS {
                s = s.pass(c);
            }
            for f in VisitField::ALL {
                s = s.col(Expr::col(visit_column(f)), Ident::of(visit_alias(f)));
            }
            for i in 0..props.len() {
                s = s.col(Expr::ident(prop_column(i)), prop_column(i));
            }
            s.filter(self.active())
        };
        let read = super::visits::event_columns_read();
        let with_props = |mut cols: Vec<&'static str>| {
            if !props.is_empty() {
                cols.extend(["prop_keys", "prop_values"]);
            }
            cols
        };
        match self.source {
            VisitSource::Stored { touched } if props.is_empty() => {
                self.touched(q);
                q.with("vs_touched", self.touched_events(&read, touched));
                let mut stored = Select::from(From::table(Table::Visits, "s"));
                for c in VISIT_COLUMNS {
                    stored = stored.pass(c.name);
                }
                let stored = stored.filter(
                    self.of_site()
                        .and(self.active())
                        .and(Expr::col("session_id").in_rel(self.touched_ids()).not()),
                );
                let rebuilt = rows_of("vs_touched");
                q.with(
                    "vs",
                    aliased(Rel::UnionAll(vec![stored.rel(), rebuilt.rel()])).rel(),
                );
            }
            VisitSource::Stored { .. } => {
                // Properties are not stored per visit: rebuild every active visit. The caller
                // passes a raw window instead (see `strategy`); this is the safe fallback.
                let raw = Scope {
                    source: VisitSource::ALL_EVENTS,
                    ..self.clone()
                };
                raw.visits(q, props);
            }
            VisitSource::Raw { window } => {
                q.with(
                    "vs_events",
                    self.events_of(Table::Events, &with_props(read), self.in_window(window))
                        .rel(),
                );
                q.with("vs", aliased(rows_of("vs_events").rel()).rel());
            }
        }
    }
}
