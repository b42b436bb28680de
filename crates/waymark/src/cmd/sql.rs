//! `waymark sql "..."`: ad-hoc SQL on a (stopped server's) embedded store, printed as a table.

use anyhow::Result;

use crate::cli::SqlArgs;

pub fn run(args: SqlArgs) -> Result<()> {
    let store = super::open_store(&args.common)?;
    let table = store.sql(&args.query)?;
    print!("{}", crate::table::render(&table.columns, &table.rows));
    // The row count goes to stderr so scripts can read the table alone.
    let n = table.rows.len();
    eprintln!("({n} row{})", if n == 1 { "" } else { "s" });
    Ok(())
}
