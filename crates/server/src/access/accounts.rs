//! The rules for accounts, sessions, API keys and shared links, shared by the HTTP routes and
//! the `waymark user|key|demo` commands so both refuse the same things with the same words:
//!
//! - emails are trimmed and lower-cased, contain `@`, no whitespace, at most 254 bytes;
//! - passwords (users and shared links) have at least [`MIN_PASSWORD`] characters;
//! - names of keys and links are required, up to 100 characters;
//! - a key's scopes never exceed its owner's role (viewers: `stats:read` only);
//! - the last admin can neither be removed nor lose the role;
//! - **a new password ends the user's sessions**, so resetting a compromised account locks
//!   out whoever signed in with the old one. The store's `save_user` ends them in the same
//!   transaction as the change; [`save_user`] is the one way accounts are saved, and its test
//!   holds the store to the rule.

use std::time::Duration;

use waymark_store::{ApiKey, LoginSession, Store, User};

use super::credentials::{hash_password, key_hash, new_key, random_hex, session_hash, Clock};
use super::principal::Scope;
use super::{AccessError, KEY_PREFIX};

/// Shortest password accepted for users and shared links.
pub const MIN_PASSWORD: usize = 8;
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Normalises an email address for lookup.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The normalised email, or why it is not one.
pub fn checked_email(email: &str) -> Result<String, AccessError> {
    let email = normalize_email(email);
    if !email.contains('@') || email.chars().any(char::is_whitespace) || email.len() > 254 {
        return Err(AccessError::invalid(
            "email",
            format!("{email:?} is not an email address"),
        ));
    }
    Ok(email)
}

/// Refuses passwords shorter than [`MIN_PASSWORD`].
pub fn check_password(password: &str) -> Result<(), AccessError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AccessError::invalid(
            "password",
            format!("password: at least {MIN_PASSWORD} characters"),
        ));
    }
    Ok(())
}

/// Parses a role name: `admin` → true, `viewer` → false.
pub fn parse_role(role: &str) -> Result<bool, AccessError> {
    match role.trim() {
        "admin" => Ok(true),
        "viewer" => Ok(false),
        other => Err(AccessError::invalid(
            "role",
            format!("unknown role {other:?}: use admin or viewer"),
        )),
    }
}

/// A role's name.
pub fn role_name(admin: bool) -> &'static str {
    if admin {
        "admin"
    } else {
        "viewer"
    }
}

/// A key's or shared link's name, trimmed: required, up to 100 characters.
pub fn checked_name(name: &str) -> Result<String, AccessError> {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AccessError::invalid(
            "name",
            "name: required, up to 100 characters",
        ));
    }
    Ok(name)
}

/// Whether a user was created or an existing one changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Created,
    /// Updated: with a new password, which ended the user's sessions.
    Updated,
}

/// Creates a user, or updates their password and role (`waymark user add`, the demo). The
/// last admin keeps the role; a new password ends the user's sessions (module doc).
pub fn save_user(
    store: &dyn Store,
    email: &str,
    password: &str,
    admin: bool,
    clock: Clock,
) -> Result<Saved, AccessError> {
    let email = checked_email(email)?;
    check_password(password)?;
    let users = store.users()?;
    let admins = users.iter().filter(|u| u.admin).count();
    if !admin && admins == 1 && users.iter().any(|u| u.admin && u.email == email) {
        return Err(AccessError::Conflict(format!(
            "{email} is the only admin and would lose the role: keep it (--admin), or make another admin first"
        )));
    }
    let password_hash = hash_password(password)?;
    let created = store.save_user(&User {
        email,
        password_hash,
        admin,
        created_ms: clock.now_ms(),
    })?;
    Ok(if created {
        Saved::Created
    } else {
        Saved::Updated
    })
}

/// Creates a user who does not exist yet (the users API), with their grants.
pub fn create_user(store: &dyn Store, user: &User, grants: &[String]) -> Result<(), AccessError> {
    if store.user(&user.email)?.is_some() {
        return Err(AccessError::Conflict(format!(
            "user {:?} exists",
            user.email
        )));
    }
    store.save_user(user)?;
    store.set_grants(&user.email, grants)?;
    Ok(())
}

/// Removes a user with their sessions, grants and keys; never the last admin.
pub fn remove_user(store: &dyn Store, email: &str) -> Result<(), AccessError> {
    let email = normalize_email(email);
    let users = store.users()?;
    let Some(user) = users.iter().find(|u| u.email == email) else {
        return Err(AccessError::NotFound(format!("no user {email:?}")));
    };
    if user.admin && users.iter().filter(|u| u.admin).count() == 1 {
        return Err(AccessError::Conflict(format!(
            "{email:?} is the last admin; make someone else admin first"
        )));
    }
    store.remove_user(&email)?;
    Ok(())
}

/// A new session for `email`: the id the browser keeps (in its cookie) and the stored form,
/// which holds only a digest of it.
pub fn new_session(email: &str, clock: Clock) -> (String, LoginSession) {
    let id = random_hex(32);
    let now = clock.now_ms();
    let session = LoginSession {
        id_hash: session_hash(&id),
        email: email.to_string(),
        created_ms: now,
        expires_ms: now + SESSION_TTL.as_millis() as i64,
    };
    (id, session)
}

/// Checks a key request against the owner's role: the trimmed name and the scopes, each once.
pub fn check_key_request(
    name: &str,
    scopes: &[String],
    owner_admin: bool,
) -> Result<(String, Vec<Scope>), AccessError> {
    let name = checked_name(name)?;
    if scopes.is_empty() {
        return Err(AccessError::invalid(
            "scopes",
            "scopes: at least one of stats:read, definitions:write, sites:admin",
        ));
    }
    let mut parsed = Vec::new();
    for s in scopes {
        let scope = Scope::parse(s)?;
        if !scope.allowed_for(owner_admin) {
            return Err(AccessError::forbidden(format!(
                "forbidden: the scope {} needs the admin role (viewers' keys may only have stats:read)",
                scope.name()
            )));
        }
        if !parsed.contains(&scope) {
            parsed.push(scope);
        }
    }
    Ok((name, parsed))
}

/// The stored form of a new key for `email`, and the plain key (shown once, never stored).
pub fn make_key(email: &str, name: String, scopes: &[Scope], clock: Clock) -> (ApiKey, String) {
    let plain = new_key();
    let key = ApiKey {
        id: random_hex(8),
        email: email.to_string(),
        name,
        prefix: plain.chars().take(KEY_PREFIX.len() + 8).collect(),
        key_hash: key_hash(&plain),
        scopes: scopes.iter().map(|s| s.name().to_string()).collect(),
        created_ms: clock.now_ms(),
        last_used_ms: None,
    };
    (key, plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_core::{ErrorKind, HasKind};
    use waymark_store::duck::{DuckOptions, DuckStore};
    use waymark_store::ConfigStore;

    #[test]
    fn a_new_password_ends_the_users_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let store = DuckStore::open(dir.path(), DuckOptions::default()).unwrap();
        let clock = Clock::Fixed(1_800_000_000_000);
        let email = "Owner@Example.com";
        assert_eq!(
            save_user(&store, email, "first password", true, clock).unwrap(),
            Saved::Created
        );
        let (_, session) = new_session("owner@example.com", clock);
        store.create_session(&session).unwrap();
        // The same account saved again with a new password: the old session is gone.
        assert_eq!(
            save_user(&store, email, "second password", true, clock).unwrap(),
            Saved::Updated
        );
        assert_eq!(store.session(&session.id_hash).unwrap(), None);
        // The last admin neither loses the role nor goes.
        let e = save_user(&store, email, "second password", false, clock).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.to_string().contains("only admin"), "{e}");
        let e = remove_user(&store, email).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert_eq!(
            save_user(&store, "x", "long enough", false, clock)
                .unwrap_err()
                .kind()
                .field(),
            Some("email")
        );
        assert_eq!(
            save_user(&store, "v@example.com", "short", false, clock)
                .unwrap_err()
                .kind()
                .field(),
            Some("password")
        );
    }

    #[test]
    fn keys_follow_their_owners_role() {
        let all = ["stats:read".to_string(), "sites:admin".to_string()];
        let (name, scopes) = check_key_request(" ci ", &all, true).unwrap();
        assert_eq!((name.as_str(), scopes.len()), ("ci", 2));
        let e = check_key_request("ci", &all, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Forbidden);
        let e = check_key_request("", &all, true).unwrap_err();
        assert_eq!(e.kind().field(), Some("name"));
        let e = check_key_request("ci", &[], true).unwrap_err();
        assert_eq!(e.kind().field(), Some("scopes"));
        let (key, plain) = make_key("a@x", name, &scopes, Clock::Fixed(7));
        assert!(plain.starts_with(KEY_PREFIX) && key.prefix.len() == KEY_PREFIX.len() + 8);
        assert_eq!(key.key_hash, key_hash(&plain));
        assert_eq!(key.created_ms, 7);
    }
}
