//! Choices of shape, made in one place: where a query finds its visits (the pre-computed table,
//! or rebuilt from events over a window the table bounds), and how a backend without window
//! functions counts pages of rows (a second query, see [`super::aggregate`]). Funnels never need
//! a choice: their semantics are evaluated in Rust on every backend.

use waymark_core::TimeBounds;

use super::expr::{Agg, Expr, Func, Ident, Ty};
use super::rel::{From, Query, Select, Table};
use super::{Cell, Engine, VisitSource};
use crate::StoreError;

/// Whether a backend keeps visits and page engagement pre-computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precomputed {
    /// Visits table and stored page engagement (the embedded store after compaction).
    Yes,
    /// Everything from raw events (the oracle the differential tests compare with).
    No,
}

fn scalar(rel: Select) -> Expr {
    Expr::Scalar(Box::new(rel.rel()))
}

/// The visit source for a query on `site` over `bounds` that reads visit properties when
/// `props`.
pub fn visit_source(
    engine: &dyn Engine,
    precomputed: Precomputed,
    site: &str,
    bounds: TimeBounds,
    props: bool,
) -> Result<VisitSource, StoreError> {
    if precomputed == Precomputed::No {
        return Ok(VisitSource::ALL_EVENTS);
    }
    let of_site = || Expr::col("site_id").eq(Expr::text(site));
    let touched_ids = Select::from(From::table(Table::EventsRecent, "r"))
        .pass("session_id")
        .filter(of_site());
    let touched = || of_site().and(Expr::col("session_id").in_rel(touched_ids.clone().rel()));
    let active = || {
        of_site()
            .and(Expr::col("start_ms").lt(Expr::int(bounds.to_ms)))
            .and(Expr::col("end_ms").ge(Expr::int(bounds.from_ms)))
    };
    let visits = |agg: Agg, col: &'static str, filter: Expr| {
        scalar(
            Select::from(From::table(Table::Visits, "v"))
                .col(Expr::agg(agg, vec![Expr::col(col)]), Ident::of("x"))
                .filter(filter),
        )
    };
    let recent = |agg: Agg| {
        scalar(
            Select::from(From::table(Table::EventsRecent, "r"))
                .col(
                    Expr::agg(
                        agg,
                        vec![Expr::f(Func::Millis, vec![Expr::col("timestamp")])],
                    ),
                    Ident::of("x"),
                )
                .filter(of_site()),
        )
    };
    let sel = Select::from(From::Nothing)
        .col(visits(Agg::Min, "first_ms", touched()), Ident::of("t_lo"))
        .col(visits(Agg::Max, "last_ms", touched()), Ident::of("t_hi"))
        .col(visits(Agg::Min, "first_ms", active()), Ident::of("o_lo"))
        .col(visits(Agg::Max, "last_ms", active()), Ident::of("o_hi"))
        .col(recent(Agg::Min), Ident::of("r_lo"))
        .col(recent(Agg::Max), Ident::of("r_hi"));
    let rows = engine.rows(&Query::new(sel.rel()), &[Ty::Int; 6])?;
    let get = |i: usize| -> Option<i64> {
        rows.first().and_then(|r| match r.get(i) {
            Some(Cell::Int(v)) => Some(*v),
            _ => None,
        })
    };
    let touched = get(0).zip(get(1));
    if !props {
        return Ok(VisitSource::Stored { touched });
    }
    // Visit properties are not stored: rebuild the active visits from every event they have.
    let lo = [get(0), get(2), get(4), Some(bounds.from_ms)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(bounds.from_ms);
    let hi = [get(1), get(3), get(5), Some(bounds.to_ms)]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(bounds.to_ms);
    Ok(VisitSource::Raw { window: (lo, hi) })
}
