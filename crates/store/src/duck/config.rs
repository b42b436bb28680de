//! The configuration contract on the embedded store: sites, definitions and accounts live in
//! the same DuckDB file as the events, each write in its own transaction.

use duckdb::{params, OptionalExt};
use waymark_core::{Change, Conversion, Funnel, Site};

use super::accounts::{key_row, link_row, now_ms, KEY_COLUMNS, LINK_COLUMNS};
use super::transaction::transaction;
use super::{accounts, definitions, DuckStore};
use crate::{ApiKey, ConfigStore, LoginSession, SharedLink, StoreError, User};

impl ConfigStore for DuckStore {
    fn add_site(&self, site: &Site) -> Result<(), StoreError> {
        self.writer.lock().execute(
            "INSERT INTO sites (domain, timezone) VALUES (?, ?)
             ON CONFLICT (domain) DO UPDATE SET timezone = excluded.timezone",
            duckdb::params![site.domain, site.timezone],
        )?;
        Ok(())
    }

    fn delete_site_config(&self, domain: &str) -> Result<bool, StoreError> {
        let conn = self.writer.lock();
        let removed = transaction(&conn, |c| {
            definitions::delete_site_definitions(c, domain)?;
            accounts::delete_site_access(c, domain)?;
            Ok(c.execute("DELETE FROM sites WHERE domain = ?", [domain])?)
        })?;
        Ok(removed > 0)
    }

    fn sites(&self) -> Result<Vec<Site>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT domain, timezone FROM sites ORDER BY domain")?;
            let rows = stmt.query_map([], |r| {
                Ok(Site {
                    domain: r.get(0)?,
                    timezone: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn save_conversion(&self, site: &str, conversion: &Conversion) -> Result<Change, StoreError> {
        definitions::save_conversion(&self.writer.lock(), site, conversion)
    }

    fn conversions(&self, site: &str) -> Result<Vec<Conversion>, StoreError> {
        self.read(|c| definitions::conversions(c, site))
    }

    fn delete_conversion(&self, site: &str, name: &str) -> Result<bool, StoreError> {
        definitions::delete_conversion(&self.writer.lock(), site, name)
    }

    fn save_funnel(&self, site: &str, funnel: &Funnel) -> Result<Change, StoreError> {
        definitions::save_funnel(&self.writer.lock(), site, funnel)
    }

    fn funnels(&self, site: &str) -> Result<Vec<Funnel>, StoreError> {
        self.read(|c| definitions::funnels(c, site))
    }

    fn delete_funnel(&self, site: &str, name: &str) -> Result<bool, StoreError> {
        definitions::delete_funnel(&self.writer.lock(), site, name)
    }

    fn save_user(&self, user: &User) -> Result<bool, StoreError> {
        accounts::save_user(&self.writer.lock(), user)
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(accounts::users)
    }

    fn remove_user(&self, email: &str) -> Result<bool, StoreError> {
        accounts::remove_user(&self.writer.lock(), email)
    }

    fn create_session(&self, session: &LoginSession) -> Result<(), StoreError> {
        accounts::create_session(&self.writer.lock(), session)
    }

    fn session(&self, id_hash: &str) -> Result<Option<LoginSession>, StoreError> {
        self.read(|c| accounts::session(c, id_hash))
    }

    fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        accounts::delete_session(&self.writer.lock(), id_hash)
    }

    fn grants(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT email, site_id FROM site_grants ORDER BY email, site_id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn grant(&self, email: &str, site: &str) -> Result<bool, StoreError> {
        transaction(&self.writer.lock(), |c| {
            let existed: i64 = c.query_row(
                "SELECT count(*) FROM site_grants WHERE email = ? AND site_id = ?",
                [email, site],
                |r| r.get(0),
            )?;
            if existed > 0 {
                return Ok(false);
            }
            c.execute(
                "INSERT INTO site_grants (email, site_id, created_ms) VALUES (?, ?, ?)",
                params![email, site, now_ms()],
            )?;
            Ok(true)
        })
    }

    fn revoke(&self, email: &str, site: &str) -> Result<bool, StoreError> {
        Ok(self.writer.lock().execute(
            "DELETE FROM site_grants WHERE email = ? AND site_id = ?",
            [email, site],
        )? > 0)
    }

    fn set_grants(&self, email: &str, sites: &[String]) -> Result<(), StoreError> {
        transaction(&self.writer.lock(), |c| {
            c.execute("DELETE FROM site_grants WHERE email = ?", [email])?;
            let now = now_ms();
            let mut seen = std::collections::BTreeSet::new();
            for site in sites.iter().filter(|s| seen.insert(s.as_str())) {
                c.execute(
                    "INSERT INTO site_grants (email, site_id, created_ms) VALUES (?, ?, ?)",
                    params![email, site, now],
                )?;
            }
            Ok(())
        })
    }

    fn save_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        self.writer.lock().execute(
            "INSERT INTO api_keys (id, email, name, prefix, key_hash, scopes, created_ms, last_used_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                key.id,
                key.email,
                key.name,
                key.prefix,
                key.key_hash,
                key.scopes.join(" "),
                key.created_ms,
                key.last_used_ms
            ],
        )?;
        Ok(())
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {KEY_COLUMNS} ORDER BY created_ms, id"))?;
            let rows = stmt.query_map([], key_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {KEY_COLUMNS} WHERE key_hash = ?"),
                [key_hash],
                key_row,
            )
            .optional()?)
        })
    }

    fn delete_api_key(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .writer
            .lock()
            .execute("DELETE FROM api_keys WHERE id = ?", [id])?
            > 0)
    }

    fn touch_api_key(&self, id: &str, used_ms: i64) -> Result<(), StoreError> {
        self.writer.lock().execute(
            "UPDATE api_keys SET last_used_ms = ? WHERE id = ?",
            params![used_ms, id],
        )?;
        Ok(())
    }

    fn save_shared_link(&self, link: &SharedLink) -> Result<(), StoreError> {
        self.writer.lock().execute(
            "INSERT INTO shared_links (id, site_id, name, token, password_hash, created_by, created_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            params![
                link.id,
                link.site,
                link.name,
                link.token,
                link.password_hash,
                link.created_by,
                link.created_ms
            ],
        )?;
        Ok(())
    }

    fn shared_links(&self, site: &str) -> Result<Vec<SharedLink>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {LINK_COLUMNS} WHERE site_id = ? ORDER BY created_ms, id"
            ))?;
            let rows = stmt.query_map([site], link_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn shared_link_by_token(&self, token: &str) -> Result<Option<SharedLink>, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {LINK_COLUMNS} WHERE token = ?"),
                [token],
                link_row,
            )
            .optional()?)
        })
    }

    fn delete_shared_link(&self, site: &str, id: &str) -> Result<bool, StoreError> {
        Ok(self.writer.lock().execute(
            "DELETE FROM shared_links WHERE site_id = ? AND id = ?",
            [site, id],
        )? > 0)
    }
}
