//! Users, login sessions, grants, API keys and shared links in DuckDB (`users`,
//! `login_sessions`, `site_grants`, `api_keys`, `shared_links`). No key constraints, as with
//! definitions: the single writer keeps emails, hashes and ids unique inside transactions.

use duckdb::{params, Connection, OptionalExt};

use super::transaction::transaction;
use crate::{ApiKey, LoginSession, SharedLink, StoreError, User};

/// Creates or replaces a user. A new password ends the user's sessions: resetting a
/// compromised account must lock out whoever signed in with the old one.
pub fn save_user(conn: &Connection, user: &User) -> Result<bool, StoreError> {
    transaction(conn, |c| {
        let old_hash: Option<String> = c
            .query_row(
                "SELECT password_hash FROM users WHERE email = ?",
                [&user.email],
                |r| r.get(0),
            )
            .optional()?;
        if old_hash.as_ref().is_some_and(|h| *h != user.password_hash) {
            c.execute("DELETE FROM login_sessions WHERE email = ?", [&user.email])?;
        }
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
        c.execute("DELETE FROM site_grants WHERE email = ?", [email])?;
        c.execute("DELETE FROM api_keys WHERE email = ?", [email])?;
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

pub(super) const KEY_COLUMNS: &str =
    "id, email, name, prefix, key_hash, scopes, created_ms, last_used_ms FROM api_keys";
pub(super) const LINK_COLUMNS: &str =
    "id, site_id, name, token, password_hash, created_by, created_ms FROM shared_links";

pub(super) fn key_row(r: &duckdb::Row<'_>) -> duckdb::Result<ApiKey> {
    let scopes: String = r.get(5)?;
    Ok(ApiKey {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        prefix: r.get(3)?,
        key_hash: r.get(4)?,
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        created_ms: r.get(6)?,
        last_used_ms: r.get(7)?,
    })
}

pub(super) fn link_row(r: &duckdb::Row<'_>) -> duckdb::Result<SharedLink> {
    Ok(SharedLink {
        id: r.get(0)?,
        site: r.get(1)?,
        name: r.get(2)?,
        token: r.get(3)?,
        password_hash: r.get(4)?,
        created_by: r.get(5)?,
        created_ms: r.get(6)?,
    })
}

pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Drops the grants and shared links of a site; part of `remove_site`'s transaction.
pub(super) fn delete_site_access(c: &Connection, site: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM site_grants WHERE site_id = ?", [site])?;
    c.execute("DELETE FROM shared_links WHERE site_id = ?", [site])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duck::DuckStore;
    use crate::{ConfigStore, Store};

    #[test]
    fn a_new_password_ends_the_users_sessions() {
        let store = DuckStore::in_memory().unwrap();
        let user = |hash: &str, admin| User {
            email: "a@x".into(),
            password_hash: hash.into(),
            admin,
            created_ms: 1,
        };
        let session = |id: &str| LoginSession {
            id_hash: id.into(),
            email: "a@x".into(),
            created_ms: 1,
            expires_ms: i64::MAX,
        };
        assert!(store.save_user(&user("h1", true)).unwrap());
        store.create_session(&session("s1")).unwrap();
        // Same password, new role: the session stays (roles apply on the next request).
        assert!(!store.save_user(&user("h1", false)).unwrap());
        assert!(store.session("s1").unwrap().is_some());
        // A new password: every session of the user ends.
        assert!(!store.save_user(&user("h2", false)).unwrap());
        assert!(store.session("s1").unwrap().is_none());
    }

    #[test]
    fn grants_keys_and_links_round_trip() {
        let store = DuckStore::in_memory().unwrap();
        assert!(store.grant("a@x", "one.example").unwrap());
        assert!(!store.grant("a@x", "one.example").unwrap());
        store
            .set_grants("b@x", &["two.example".into(), "two.example".into()])
            .unwrap();
        assert_eq!(
            store.grants().unwrap(),
            vec![
                ("a@x".to_string(), "one.example".to_string()),
                ("b@x".to_string(), "two.example".to_string())
            ]
        );
        assert_eq!(store.grants_of("b@x").unwrap(), vec!["two.example"]);
        assert!(store.revoke("a@x", "one.example").unwrap());
        assert!(!store.revoke("a@x", "one.example").unwrap());

        let key = ApiKey {
            id: "k1".into(),
            email: "b@x".into(),
            name: "ci".into(),
            prefix: "wm_12345678".into(),
            key_hash: "digest".into(),
            scopes: vec!["stats:read".into(), "sites:admin".into()],
            created_ms: 1,
            last_used_ms: None,
        };
        store.save_api_key(&key).unwrap();
        store.touch_api_key("k1", 99).unwrap();
        let found = store.api_key_by_hash("digest").unwrap().unwrap();
        assert_eq!(found.scopes, key.scopes);
        assert_eq!(found.last_used_ms, Some(99));
        assert!(store.api_key_by_hash("other").unwrap().is_none());

        let link = SharedLink {
            id: "l1".into(),
            site: "two.example".into(),
            name: "board".into(),
            token: "tok".into(),
            password_hash: None,
            created_by: "b@x".into(),
            created_ms: 1,
        };
        store.save_shared_link(&link).unwrap();
        assert_eq!(store.shared_link_by_token("tok").unwrap(), Some(link));
        assert_eq!(store.shared_links("two.example").unwrap().len(), 1);

        // Removing the user drops their grants and keys; removing the site drops its links.
        store.remove_user("b@x").unwrap();
        assert!(store.grants_of("b@x").unwrap().is_empty());
        assert!(store.api_keys().unwrap().is_empty());
        store.remove_site("two.example").unwrap();
        assert!(store.shared_links("two.example").unwrap().is_empty());
        assert!(!store.delete_shared_link("two.example", "l1").unwrap());
    }
}
