//! Dashboard accounts: users (with argon2 PHC password hashes, never plain text), login
//! sessions (stored by a hash of the session id, never the id itself), per-site grants,
//! personal API keys (stored by digest) and shared links. Plain data, no backend types: the
//! server hashes passwords, ids and keys before they reach a store ([`crate::ConfigStore`]).

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

/// A personal API key. The key itself is never stored: only a digest of it (for lookup) and
/// its first characters (so people can tell their keys apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Random identifier used to list and delete the key.
    pub id: String,
    /// The owner's email; the key acts with the owner's rights, narrowed by `scopes`.
    pub email: String,
    /// A label chosen by the owner.
    pub name: String,
    /// The key's first characters, for display.
    pub prefix: String,
    /// Hex digest of the full key.
    pub key_hash: String,
    /// Scope names, e.g. `stats:read`.
    pub scopes: Vec<String>,
    /// Creation time, UTC milliseconds.
    pub created_ms: i64,
    /// Last time the key authenticated a request, UTC milliseconds.
    pub last_used_ms: Option<i64>,
}

/// A read-only link to one site's dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLink {
    /// Random identifier used to list and delete the link.
    pub id: String,
    /// The site it shows.
    pub site: String,
    /// A label chosen by its creator.
    pub name: String,
    /// The random token in the link's URL (`/share/{token}`).
    pub token: String,
    /// Argon2 PHC hash of the link's password, when it has one.
    pub password_hash: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// Creation time, UTC milliseconds.
    pub created_ms: i64,
}
