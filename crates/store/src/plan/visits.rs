//! The visit relation, written once: one row per session with its extent, counts and
//! attributes, aggregated from the session's events. Compaction stores it in the `visits`
//! table; queries read it from there, rebuilding only the visits whose events are not all
//! compacted; the raw path (the oracle) rebuilds every visit from events. The rules are those of
//! [`crate::schema`]: a visit's attributes come from its first event by the deterministic
//! tie-break, entry and exit from its first and last pageview.

use waymark_core::query::VisitField;

use super::expr::{Agg, Expr, Func, Ident};
use super::rel::{From, Select};
use super::trigger::{has_prop, prop_value};
use crate::schema::{event_column, visit_column};

/// A custom event sorts after a pageview and before an engagement event of the same
/// millisecond.
fn kind_rank() -> Expr {
    Expr::Case(
        vec![
            (Expr::col("name").eq(Expr::Str("pageview")), Expr::Int(0)),
            (Expr::col("name").eq(Expr::Str("engagement")), Expr::Int(2)),
        ],
        Box::new(Expr::Int(1)),
    )
}

/// The order "first event" follows: time, then kind, then arrival.
pub fn first_key() -> Expr {
    Expr::f(
        Func::Key,
        vec![Expr::col("timestamp"), kind_rank(), Expr::col("seq")],
    )
}

/// Among pageviews: time, then arrival.
fn pageview_key() -> Expr {
    Expr::f(Func::Key, vec![Expr::col("timestamp"), Expr::col("seq")])
}

fn is_pageview() -> Expr {
    Expr::col("name").eq(Expr::Str("pageview"))
}

fn not_engagement() -> Expr {
    Expr::col("name").ne(Expr::Str("engagement"))
}

/// The event columns [`visit_rows`] reads.
pub fn event_columns_read() -> Vec<&'static str> {
    let mut cols = vec![
        "site_id",
        "visitor_id",
        "session_id",
        "timestamp",
        "name",
        "seq",
        "interactive",
    ];
    for f in VisitField::ALL {
        let c = event_column(f);
        if !cols.contains(&c) {
            cols.push(c);
        }
    }
    cols
}

/// The value of a visit field aggregated over the session's events.
pub fn visit_value(f: VisitField) -> Expr {
    let col = Expr::col(event_column(f));
    let value = if f.from_exit() {
        Expr::agg_if(Agg::ArgMax, vec![col, pageview_key()], is_pageview())
    } else if f.from_pageview() {
        Expr::agg_if(Agg::ArgMin, vec![col, pageview_key()], is_pageview())
    } else {
        Expr::agg(Agg::ArgMin, vec![col, first_key()])
    };
    value.coalesce(Expr::Str(""))
}

/// A visit's property: its value on the session's first event carrying it (`''` without).
pub fn visit_prop(key: &str) -> Expr {
    Expr::agg_if(
        Agg::ArgMin,
        vec![prop_value(key), first_key()],
        has_prop(key),
    )
    .coalesce(Expr::Str(""))
}

/// The column a visit's property `props[i]` is read as.
pub fn prop_column(i: usize) -> Ident {
    Ident::numbered("vp", i)
}

/// Visit rows (the columns of [`crate::schema::VISIT_COLUMNS`], in order, then one `vp{i}`
/// column per property of `props`) from a relation of whole sessions' events, one row per
/// session (one with engagement events only has no start: it is never active). The visitor is
/// the one of the session's first event (a session carried over midnight has the new day's id
/// on its later events).
pub fn visit_rows(events: From, props: &[String]) -> Select {
    let ms = |e: Expr| Expr::f(Func::Millis, vec![e]);
    let ts = Expr::col("timestamp");
    let mut s =
        Select::from(events)
            .pass("site_id")
            .col(
                Expr::agg(Agg::ArgMin, vec![Expr::col("visitor_id"), first_key()]),
                Ident::of("visitor_id"),
            )
            .pass("session_id")
            .col(
                ms(Expr::agg(Agg::Min, vec![ts.clone()])),
                Ident::of("first_ms"),
            )
            .col(
                ms(Expr::agg(Agg::Max, vec![ts.clone()])),
                Ident::of("last_ms"),
            )
            .col(
                ms(Expr::agg_if(Agg::Min, vec![ts.clone()], not_engagement())),
                Ident::of("start_ms"),
            )
            .col(
                ms(Expr::agg_if(Agg::Max, vec![ts.clone()], not_engagement())),
                Ident::of("end_ms"),
            )
            .col(
                ms(Expr::agg_if(Agg::Max, vec![ts.clone()], not_engagement()))
                    .minus(ms(Expr::agg_if(Agg::Min, vec![ts], not_engagement()))),
                Ident::of("duration_ms"),
            )
            .col(Expr::count_if(not_engagement()), Ident::of("events"))
            .col(Expr::count_if(is_pageview()), Ident::of("pageviews"))
            .col(
                Expr::count_if(Expr::col("interactive").and(not_engagement())),
                Ident::of("interactions"),
            );
    for f in VisitField::ALL {
        s = s.col(visit_value(f), Ident::of(visit_column(f)));
    }
    for (i, k) in props.iter().enumerate() {
        s = s.col(visit_prop(k), prop_column(i));
    }
    s.group(Expr::col("site_id")).group(Expr::col("session_id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visit_rows_follow_the_catalogue() {
        let s = visit_rows(From::cte("e", "e"), &[]);
        let names: Vec<&str> = s.columns.iter().map(|(_, n)| n.as_str()).collect();
        let want: Vec<&str> = crate::schema::VISIT_COLUMNS
            .iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, want);
    }
}
