//! Page engagement, written once: for each event, the engaged time (summed) and deepest scroll
//! (maxed) of the engagement events of the same visit and path after the latest pageview of
//! that path at or before the event — "the page view the event belongs to". Compaction stores
//! it with each event (`page_engaged_ms`, `page_scroll`); queries compute it only for visits
//! whose events are not all compacted, and the raw path for every visit.

use super::expr::{Agg, Expr, Ident};
use super::rel::{From, JoinKind, Query, Select};

/// Adds to `q` the relations `{prefix}_pv` and `{prefix}_pages` over the events relation
/// `events` (whole visits; it must have the `carry` columns and `session_id`, `pathname`,
/// `timestamp`, `name`, `engagement_ms`, `scroll_depth`), and returns the select of `carry`
/// plus `page_engaged_ms` and `page_scroll` (0 without engagement).
pub fn page_engagement(
    q: &mut Query,
    names: (&'static str, &'static str),
    events: &'static str,
    carry: &[&'static str],
) -> Select {
    let (pv, pages) = names;
    let mut numbered = Select::from(From::cte(events, "e"));
    for c in carry {
        numbered = numbered.pass(c);
    }
    for c in [
        "session_id",
        "pathname",
        "name",
        "engagement_ms",
        "scroll_depth",
    ] {
        if !carry.contains(&c) {
            numbered = numbered.pass(c);
        }
    }
    numbered = numbered.col(
        Expr::RunningCount {
            filter: Box::new(Expr::col("name").eq(Expr::Str("pageview"))),
            partition: vec![Expr::col("session_id"), Expr::col("pathname")],
            order: Box::new(Expr::col("timestamp")),
        },
        Ident::of("page_view_no"),
    );
    q.with(pv, numbered.rel());
    let per_view = Select::from(From::cte(pv, "v"))
        .pass("session_id")
        .pass("pathname")
        .pass("page_view_no")
        .col(
            Expr::agg(
                Agg::Sum,
                vec![Expr::col("engagement_ms").coalesce(Expr::Int(0))],
            ),
            Ident::of("engaged_ms"),
        )
        .col(
            Expr::agg(
                Agg::Max,
                vec![Expr::col("scroll_depth").coalesce(Expr::Int(0))],
            ),
            Ident::of("scroll"),
        )
        .filter(
            Expr::col("name")
                .eq(Expr::Str("engagement"))
                .and(Expr::col("page_view_no").gt(Expr::Int(0))),
        )
        .group(Expr::col("session_id"))
        .group(Expr::col("pathname"))
        .group(Expr::col("page_view_no"));
    q.with(pages, per_view.rel());
    let mut out = Select::from(From::cte(pv, "e"));
    for c in carry {
        out = out.col(Expr::of("e", c), Ident::of(c));
    }
    out.col(
        Expr::of("p", "engaged_ms")
            .coalesce(Expr::Int(0))
            .cast(super::expr::Ty::Int),
        Ident::of("page_engaged_ms"),
    )
    .col(
        Expr::of("p", "scroll")
            .coalesce(Expr::Int(0))
            .cast(super::expr::Ty::Int),
        Ident::of("page_scroll"),
    )
    .join(
        JoinKind::Left,
        From::cte(pages, "p"),
        Expr::all(vec![
            Expr::of("p", "session_id").eq(Expr::of("e", "session_id")),
            Expr::of("p", "pathname").eq(Expr::of("e", "pathname")),
            Expr::of("p", "page_view_no").eq(Expr::of("e", "page_view_no")),
        ]),
    )
}
