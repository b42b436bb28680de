//! `waymark sql` against a real data directory: the table on standard output, and a reader
//! that stops early (`waymark sql … | head`) ends the command quietly and successfully, as
//! ripgrep does, instead of a panic.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{bin, waymark};

#[test]
fn a_closed_pipe_is_success() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, _, err) = waymark(&["site", "add", "a.example", "--data-dir", d]);
    assert!(ok, "{err}");
    // Far more than a pipe holds, so the command is still writing when the reader goes.
    let mut child = Command::new(bin())
        .args([
            "sql",
            "SELECT range AS n FROM range(200000)",
            "--data-dir",
            d,
        ])
        .env_remove("WAYMARK_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run waymark sql");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let header = lines.next().unwrap().unwrap();
    assert!(header.contains('n'), "{header}");
    // `head -1`: read one line, then close the pipe.
    drop(lines);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");

    // Read to the end, the same command prints every row and counts them on stderr.
    let (ok, table, err) = waymark(&["sql", "SELECT 1 AS one", "--data-dir", d]);
    assert!(ok, "{err}");
    assert!(table.contains("one") && table.contains('1'), "{table}");
    assert!(err.contains("(1 row)"), "{err}");
}
