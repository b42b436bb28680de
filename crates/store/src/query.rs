//! Results shared by every backend that are not query answers: `waymark sql`'s table.

/// A generic result table (`waymark sql`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}
