//! Ad-hoc SQL for operators (`waymark sql`): any statement, result rendered as text.

use duckdb::types::Value;
use duckdb::Connection;

use crate::query::Table;
use crate::StoreError;

/// Runs one statement and renders its rows.
pub fn run(conn: &Connection, query: &str) -> Result<Table, StoreError> {
    let mut stmt = conn.prepare(query)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    let mut columns: Option<Vec<String>> = None;
    while let Some(row) = rows.next()? {
        let names = columns.get_or_insert_with(|| {
            let s: &duckdb::Statement<'_> = row.as_ref();
            s.column_names()
        });
        let mut cells = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            let v: Value = row.get(i)?;
            cells.push(render(&v));
        }
        out.push(cells);
    }
    drop(rows);
    let columns = match columns {
        Some(c) => c,
        None => stmt.column_names(),
    };
    Ok(Table { columns, rows: out })
}

fn render(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Boolean(b) => b.to_string(),
        Value::TinyInt(x) => x.to_string(),
        Value::SmallInt(x) => x.to_string(),
        Value::Int(x) => x.to_string(),
        Value::BigInt(x) => x.to_string(),
        Value::HugeInt(x) => x.to_string(),
        Value::UTinyInt(x) => x.to_string(),
        Value::USmallInt(x) => x.to_string(),
        Value::UInt(x) => x.to_string(),
        Value::UBigInt(x) => x.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Double(x) => x.to_string(),
        Value::Text(s) => s.clone(),
        Value::Timestamp(unit, t) => {
            let micros = unit.to_micros(*t);
            chrono_like(micros)
        }
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}

fn chrono_like(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let ms = micros.rem_euclid(1_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{ms:03}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
