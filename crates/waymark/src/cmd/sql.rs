//! `waymark sql "..."`: ad-hoc SQL on a (stopped server's) embedded store, printed as a table.
//! Written with `write_all`, not `print!`, so a reader that goes away (`waymark sql … | head`)
//! is an error `main` treats as success instead of a panic.

use std::io::Write;

use anyhow::Result;

use crate::cli::SqlArgs;

pub fn run(args: SqlArgs) -> Result<()> {
    let store = super::open_store(&args.common)?;
    let table = store.sql(&args.query)?;
    let text = crate::table::render(&table.columns, &table.rows);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    // The row count goes to stderr so scripts can read the table alone.
    let n = table.rows.len();
    eprintln!("({n} row{})", if n == 1 { "" } else { "s" });
    Ok(())
}
