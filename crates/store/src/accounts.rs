//! Dashboard accounts: users (with argon2 PHC password hashes, never plain text) and login
//! sessions (stored by a hash of the session id, never the id itself). Plain data, no backend
//! types: the server hashes passwords and ids before they reach a store.

/// A dashboard user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Lower-cased email address; the login name.
    pub email: String,
    /// Password hash as a PHC string (`$argon2id$...`).
    pub password_hash: String,
    /// Whether the user may manage sites and users.
    pub admin: bool,
    /// Creation time, UTC milliseconds.
    pub created_ms: i64,
}

/// A login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    /// Hex digest of the random session id the browser holds in its cookie.
    pub id_hash: String,
    /// The user's email.
    pub email: String,
    /// Creation time, UTC milliseconds.
    pub created_ms: i64,
    /// Expiry, UTC milliseconds.
    pub expires_ms: i64,
}
