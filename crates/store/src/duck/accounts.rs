//! Users and login sessions in DuckDB (`users`, `login_sessions`). No key constraints, as with
//! definitions: the single writer keeps emails and session hashes unique inside transactions.

use duckdb::{params, Connection, OptionalExt};

use super::transaction::transaction;
use crate::{LoginSession, StoreError, User};

pub fn save_user(conn: &Connection, user: &User) -> Result<bool, StoreError> {
    transaction(conn, |c| {
        let existed = c.execute("DELETE FROM users WHERE email = ?", [&user.email])? > 0;
        c.execute(
            "INSERT INTO users (email, password_hash, admin, created_ms) VALUES (?, ?, ?, ?)",
            params![user.email, user.password_hash, user.admin, user.created_ms],
        )?;
        Ok(!existed)
    })
}

pub fn users(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT email, password_hash, admin, created_ms FROM users ORDER BY email")?;
    let rows = stmt.query_map([], |r| {
        Ok(User {
            email: r.get(0)?,
            password_hash: r.get(1)?,
            admin: r.get(2)?,
            created_ms: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn remove_user(conn: &Connection, email: &str) -> Result<bool, StoreError> {
    transaction(conn, |c| {
        c.execute("DELETE FROM login_sessions WHERE email = ?", [email])?;
        Ok(c.execute("DELETE FROM users WHERE email = ?", [email])? > 0)
    })
}

pub fn create_session(conn: &Connection, s: &LoginSession) -> Result<(), StoreError> {
    transaction(conn, |c| {
        c.execute(
            "DELETE FROM login_sessions WHERE expires_ms < ?",
            [s.created_ms],
        )?;
        c.execute(
            "INSERT INTO login_sessions (id_hash, email, created_ms, expires_ms) VALUES (?, ?, ?, ?)",
            params![s.id_hash, s.email, s.created_ms, s.expires_ms],
        )?;
        Ok(())
    })
}

pub fn session(conn: &Connection, id_hash: &str) -> Result<Option<LoginSession>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id_hash, email, created_ms, expires_ms FROM login_sessions WHERE id_hash = ?",
            [id_hash],
            |r| {
                Ok(LoginSession {
                    id_hash: r.get(0)?,
                    email: r.get(1)?,
                    created_ms: r.get(2)?,
                    expires_ms: r.get(3)?,
                })
            },
        )
        .optional()?)
}

pub fn delete_session(conn: &Connection, id_hash: &str) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM login_sessions WHERE id_hash = ?", [id_hash])? > 0)
}
