//! Funnels in DuckDB SQL: the one implementation of the semantics in `docs/funnels.md`.
//!
//! 1. `m`: scoped events matching at least one step, with a bit mask of the steps they match.
//! 2. `att`: attempts, each with the level it reaches and its step times `t1..tn`:
//!    - `strict`: from every step-1 event (in session windows only the visit's first), each next
//!      step is the earliest matching event at or after the previous one (strictly after when
//!      it repeats the previous step's trigger), by ASOF joins; earliest is optimal, so the
//!      attempt reaches the longest prefix possible from its start.
//!    - `sequence`: events are grouped per timestamp; step i+1 must match at the very next
//!      timestamp that has any funnel-step event (`lead`), so each step is strictly later.
//!    - `any`: the steps present within the window anchored at each event (session windows: the
//!      whole visit), in any order; no step times.
//!
//!    The level is the longest prefix of steps whose last step lies within the window.
//! 3. `best`: each visitor's best attempt (highest level, then earliest start), overall and per
//!    segment; per step, the visitors at or beyond it and nearest-rank median/p75 of `t_i - t_{i-1}`.

use duckdb::{params_from_iter, Connection};
use waymark_core::{FunnelCounts, FunnelQuery, FunnelRow, StepCount, StepOrder, Window};

use super::matching::{condition, scoped_events, Binds, Scope};
use crate::StoreError;

pub fn counts(conn: &Connection, q: &FunnelQuery) -> Result<FunnelCounts, StoreError> {
    let n = q.steps.len();
    if !(2..=waymark_core::funnel::MAX_STEPS).contains(&n) {
        return Err(StoreError::Invalid(format!(
            "a funnel has 2 to {} steps, not {n}",
            waymark_core::funnel::MAX_STEPS
        )));
    }
    let (sql, binds) = compile(q)?;
    tracing::debug!(%sql, params = binds.values.len(), "funnel query");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(binds.values.iter()))?;
    let mut overall = FunnelRow::default();
    let mut segments = Vec::new();
    while let Some(r) = rows.next()? {
        let total: bool = r.get(0)?;
        let segment: String = r.get(1)?;
        let mut steps = Vec::with_capacity(n);
        for i in 0..n {
            let visitors: i64 = r.get(2 + i)?;
            let (median_ms, p75_ms) = if i == 0 {
                (None, None)
            } else {
                let base = 2 + n + 2 * (i - 1);
                (
                    r.get::<_, Option<i64>>(base)?,
                    r.get::<_, Option<i64>>(base + 1)?,
                )
            };
            steps.push(StepCount {
                visitors: visitors as u64,
                median_ms,
                p75_ms,
            });
        }
        let row = FunnelRow { segment, steps };
        if total {
            overall = row;
        } else {
            segments.push(row);
        }
    }
    if overall.steps.is_empty() {
        overall.steps = vec![StepCount::default(); n];
    }
    segments.sort_by(|a, b| {
        b.steps[0]
            .visitors
            .cmp(&a.steps[0].visitors)
            .then_with(|| a.segment.cmp(&b.segment))
    });
    Ok(FunnelCounts { overall, segments })
}

/// The SQL and its parameters.
fn compile(q: &FunnelQuery) -> Result<(String, Binds), StoreError> {
    let n = q.steps.len();
    let mut b = Binds::default();
    let ev = scoped_events(
        &Scope {
            site: &q.site,
            bounds: q.bounds,
            filter: q.filter.as_ref(),
            goals: &q.goals,
            breakdown: q.breakdown.as_ref(),
            engagement: q.steps.iter().filter(|t| t.needs_engagement()).collect(),
            rescan: true,
        },
        &mut b,
    )?;
    let mask = q
        .steps
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "(CASE WHEN {} THEN {} ELSE 0 END)",
                condition(t, &mut b),
                1u64 << i
            )
        })
        .collect::<Vec<_>>()
        .join(" + ");
    let mut ctes = vec![
        ev,
        format!(
            "m0 AS (SELECT visitor_id, session_id, epoch_ms(timestamp) AS t, seg, ({mask})::BIGINT AS mask FROM ev)"
        ),
        "m AS (SELECT * FROM m0 WHERE mask <> 0)".to_string(),
    ];
    let session = q.window == Window::Session;
    // The unit a funnel attempt lives in.
    let unit = if session {
        "visitor_id, session_id"
    } else {
        "visitor_id"
    };
    let within = |last: &str| match q.window {
        Window::Session => "true".to_string(),
        Window::Duration(ms) => format!("{last} - t1 <= {ms}"),
    };
    let bit = |i: usize| 1u64 << i;
    let times = !matches!(q.order, StepOrder::Any);

    match q.order {
        StepOrder::Strict => {
            ctes.push(if session {
                "s1 AS (SELECT visitor_id, session_id, arg_min(seg, t) AS seg, min(t) AS t1 \
                 FROM m WHERE mask & 1 <> 0 GROUP BY visitor_id, session_id)"
                    .to_string()
            } else {
                "s1 AS (SELECT visitor_id, session_id, seg, t AS t1 FROM m WHERE mask & 1 <> 0)"
                    .to_string()
            });
            let on_unit = if session {
                "a.visitor_id = b.visitor_id AND a.session_id = b.session_id"
            } else {
                "a.visitor_id = b.visitor_id"
            };
            for i in 1..n {
                ctes.push(format!(
                    "s{k} AS (SELECT {unit}, t FROM m WHERE mask & {bit} <> 0)",
                    k = i + 1,
                    bit = bit(i)
                ));
                let from = if i == 1 {
                    "s1".to_string()
                } else {
                    format!("j{i}")
                };
                // A step may share the previous step's moment (even its event) unless it
                // repeats the previous step's trigger.
                let after = if q.steps[i] == q.steps[i - 1] {
                    ">"
                } else {
                    ">="
                };
                ctes.push(format!(
                    "j{k} AS (SELECT a.*, b.t AS t{k} FROM {from} a ASOF LEFT JOIN s{k} b \
                     ON {on_unit} AND b.t {after} a.t{i})",
                    k = i + 1,
                ));
            }
            ctes.push(format!(
                "att AS (SELECT *, {} AS level FROM j{n})",
                level_case(
                    n,
                    |k| { format!("t{k} IS NOT NULL AND {}", within(&format!("t{k}"))) },
                    "1"
                )
            ));
        }
        StepOrder::Sequence => {
            ctes.push(format!(
                "r AS (SELECT {unit}, t, bit_or(mask) AS mask, \
                 min(seg) FILTER (WHERE mask & 1 <> 0) AS seg FROM m GROUP BY {unit}, t)"
            ));
            let leads: Vec<String> = (1..n)
                .map(|j| {
                    format!(
                        "lead(t, {j}) OVER w AS t{k}, lead(mask, {j}) OVER w AS k{k}",
                        k = j + 1
                    )
                })
                .collect();
            ctes.push(format!(
                "q AS (SELECT *, t AS t1, {} FROM r WINDOW w AS (PARTITION BY {unit} ORDER BY t))",
                leads.join(", ")
            ));
            ctes.push(format!(
                "att AS (SELECT *, {} AS level FROM q WHERE mask & 1 <> 0)",
                level_case(
                    n,
                    |k| {
                        let steps: Vec<String> = (2..=k)
                            .map(|j| format!("k{j} & {} <> 0", bit(j - 1)))
                            .collect();
                        format!("{} AND {}", steps.join(" AND "), within(&format!("t{k}")))
                    },
                    "1"
                )
            ));
        }
        StepOrder::Any => {
            if session {
                let has: Vec<String> = (0..n)
                    .map(|i| format!("bool_or(mask & {} <> 0) AS h{}", bit(i), i + 1))
                    .collect();
                ctes.push(format!(
                    "h AS (SELECT visitor_id, session_id, arg_min(seg, t) AS seg, min(t) AS t1, {} \
                     FROM m GROUP BY visitor_id, session_id)",
                    has.join(", ")
                ));
            } else {
                let ms = match q.window {
                    Window::Duration(ms) => ms,
                    Window::Session => 0,
                };
                let has: Vec<String> = (0..n)
                    .map(|i| {
                        format!(
                            "count(*) FILTER (WHERE mask & {} <> 0) OVER w > 0 AS h{}",
                            bit(i),
                            i + 1
                        )
                    })
                    .collect();
                ctes.push(format!(
                    "h AS (SELECT visitor_id, session_id, seg, t AS t1, {} FROM m \
                     WINDOW w AS (PARTITION BY visitor_id ORDER BY t RANGE BETWEEN CURRENT ROW AND {ms} FOLLOWING))",
                    has.join(", ")
                ));
            }
            ctes.push(format!(
                "att AS (SELECT *, {} AS level FROM h)",
                level_case(
                    n,
                    |k| (1..=k)
                        .map(|j| format!("h{j}"))
                        .collect::<Vec<_>>()
                        .join(" AND "),
                    "0"
                )
            ));
        }
    }

    let tcols: Vec<String> = if times {
        (1..=n).map(|k| format!("t{k}")).collect()
    } else {
        vec!["t1".to_string()]
    };
    let cols = format!("visitor_id, level, {}", tcols.join(", "));
    let mut best = format!(
        "SELECT true AS total, '' AS seg, {cols} FROM att WHERE level > 0 \
         QUALIFY row_number() OVER (PARTITION BY visitor_id ORDER BY level DESC, t1) = 1"
    );
    if q.breakdown.is_some() {
        best.push_str(&format!(
            " UNION ALL SELECT false AS total, seg, {cols} FROM att WHERE level > 0 \
             QUALIFY row_number() OVER (PARTITION BY visitor_id, seg ORDER BY level DESC, t1) = 1"
        ));
    }
    ctes.push(format!("best AS ({best})"));

    let mut out = vec!["total".to_string(), "seg".to_string()];
    for k in 1..=n {
        out.push(format!("count(*) FILTER (WHERE level >= {k})"));
    }
    for k in 2..=n {
        if times {
            for q in ["0.5", "0.75"] {
                out.push(format!(
                    "quantile_disc(t{k} - t{}, {q}) FILTER (WHERE level >= {k})",
                    k - 1
                ));
            }
        } else {
            out.push("NULL::BIGINT".into());
            out.push("NULL::BIGINT".into());
        }
    }
    let sql = format!(
        "WITH {}\nSELECT {} FROM best GROUP BY total, seg",
        ctes.join(",\n"),
        out.join(", ")
    );
    Ok((sql, b))
}

/// `CASE WHEN cond(n) THEN n ... WHEN cond(2) THEN 2 ELSE base END`.
fn level_case(n: usize, cond: impl Fn(usize) -> String, base: &str) -> String {
    let mut s = String::from("CASE");
    for k in (2..=n).rev() {
        s.push_str(&format!(" WHEN {} THEN {k}", cond(k)));
    }
    if base == "0" {
        s.push_str(" WHEN h1 THEN 1");
    }
    s.push_str(&format!(" ELSE {base} END"));
    s
}
