//! Who is asking ([`Principal`]: a signed-in person, an API key, a shared link) and what
//! they may do: [`Principal::permit`] checks a [`Need`] on a site against the role, the grants
//! and a key's [`Scope`]s, and names what is missing when it refuses. No HTTP here; rules and
//! the route table are in `docs/access.md`.

use serde::{Deserialize, Serialize};

use super::AccessError;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read a site's numbers, reports and definitions.
    Read,
    /// Change a site's definitions (conversions, funnels, templates).
    Write,
    /// Manage sites, users, shared links and settings.
    Admin,
}

/// What a personal API key may be used for. A key never exceeds its owner's rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Stats API, reports, conversion and funnel lists of the sites the owner may read.
    #[serde(rename = "stats:read")]
    StatsRead,
    /// Create, change and delete conversions and funnels, apply templates (admin owners).
    #[serde(rename = "definitions:write")]
    DefinitionsWrite,
    /// Manage sites, users, shared links and keys (admin owners).
    #[serde(rename = "sites:admin")]
    SitesAdmin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 3] = [Scope::StatsRead, Scope::DefinitionsWrite, Scope::SitesAdmin];

    /// The scope's name as written in the API and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Scope::StatsRead => "stats:read",
            Scope::DefinitionsWrite => "definitions:write",
            Scope::SitesAdmin => "sites:admin",
        }
    }

    /// Parses a scope name.
    pub fn parse(s: &str) -> Result<Scope, AccessError> {
        Scope::ALL
            .into_iter()
            .find(|x| x.name() == s.trim())
            .ok_or_else(|| {
                AccessError::invalid(
                    "scopes",
                    format!(
                        "unknown scope {s:?}: use stats:read, definitions:write or sites:admin"
                    ),
                )
            })
    }

    /// The scope a need calls for.
    pub fn for_need(need: Need) -> Scope {
        match need {
            Need::Read => Scope::StatsRead,
            Need::Write => Scope::DefinitionsWrite,
            Need::Admin => Scope::SitesAdmin,
        }
    }

    /// Whether a user with this role may hold the scope.
    pub fn allowed_for(self, admin: bool) -> bool {
        admin || self == Scope::StatsRead
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A signed-in person (session cookie).
    User {
        email: String,
        admin: bool,
        /// Sites granted to a viewer (admins read every site).
        sites: Vec<String>,
    },
    /// An API key: a server-wide key from the settings (`id` and `owner` are `None`; full
    /// access), or a personal key acting for its owner within its scopes.
    ApiKey {
        id: Option<String>,
        owner: Option<String>,
        admin: bool,
        sites: Vec<String>,
        scopes: Vec<Scope>,
    },
    /// A shared link: reads one site.
    Shared { site: String, link_id: String },
}

impl Principal {
    /// The person behind the request (a key's owner), if any.
    pub fn email(&self) -> Option<&str> {
        match self {
            Principal::User { email, .. } => Some(email),
            Principal::ApiKey { owner, .. } => owner.as_deref(),
            Principal::Shared { .. } => None,
        }
    }

    /// Whether this is a server-wide key from the settings.
    pub fn is_server_key(&self) -> bool {
        matches!(self, Principal::ApiKey { id: None, .. })
    }

    /// Whether the person behind the request has the admin role (server-wide keys count).
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::User { admin, .. } | Principal::ApiKey { admin, .. } => *admin,
            Principal::Shared { .. } => false,
        }
    }

    /// Whether the principal may read this site (scopes aside).
    pub fn reads_site(&self, site: &str) -> bool {
        match self {
            Principal::User { admin, sites, .. } | Principal::ApiKey { admin, sites, .. } => {
                *admin || sites.iter().any(|s| s == site)
            }
            Principal::Shared { site: own, .. } => own == site,
        }
    }

    /// Checks `need` on `site` (or server-wide when `None`); 403 naming what is missing.
    pub fn permit(&self, site: Option<&str>, need: Need) -> Result<(), AccessError> {
        match self {
            Principal::Shared { site: own, .. } => {
                if need != Need::Read {
                    return Err(AccessError::forbidden(
                        "forbidden: a shared link is read-only",
                    ));
                }
                match site {
                    Some(s) if s == own => Ok(()),
                    _ => Err(AccessError::forbidden(format!(
                        "forbidden: this shared link reads only site {own:?}"
                    ))),
                }
            }
            Principal::ApiKey { id: None, .. } => Ok(()),
            Principal::ApiKey {
                owner,
                admin,
                sites,
                scopes,
                ..
            } => {
                let scope = Scope::for_need(need);
                if !scopes.contains(&scope) {
                    let has: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
                    return Err(AccessError::forbidden(format!(
                        "forbidden: this API key lacks the scope {} (it has: {})",
                        scope.name(),
                        has.join(", ")
                    )));
                }
                let who = format!("the key's owner {}", owner.as_deref().unwrap_or("?"));
                person_permits(&who, *admin, sites, site, need)
            }
            Principal::User {
                email,
                admin,
                sites,
            } => person_permits(email, *admin, sites, site, need),
        }
    }
}

fn person_permits(
    who: &str,
    admin: bool,
    sites: &[String],
    site: Option<&str>,
    need: Need,
) -> Result<(), AccessError> {
    if admin {
        return Ok(());
    }
    if need != Need::Read {
        return Err(AccessError::forbidden(format!(
            "forbidden: needs the admin role ({who} is a viewer)"
        )));
    }
    match site {
        Some(s) if !sites.iter().any(|g| g == s) => Err(AccessError::forbidden(format!(
            "forbidden: {who} has no access to site {s:?}; an admin can grant it \
             (waymark user grant <email> {s})"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_core::{ErrorKind, HasKind};

    fn viewer() -> Principal {
        Principal::User {
            email: "v@x".into(),
            admin: false,
            sites: vec!["a.example".into()],
        }
    }

    #[test]
    fn viewers_read_granted_sites_only() {
        let v = viewer();
        assert!(v.permit(Some("a.example"), Need::Read).is_ok());
        assert!(v.permit(None, Need::Read).is_ok());
        let e = v.permit(Some("b.example"), Need::Read).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Forbidden);
        assert!(e.to_string().contains("b.example"), "{e}");
        let e = v.permit(Some("a.example"), Need::Write).unwrap_err();
        assert!(e.to_string().contains("admin role"), "{e}");
    }

    #[test]
    fn keys_are_narrowed_by_scopes_and_shared_links_by_site() {
        let key = Principal::ApiKey {
            id: Some("k".into()),
            owner: Some("a@x".into()),
            admin: true,
            sites: vec![],
            scopes: vec![Scope::StatsRead],
        };
        assert!(key.permit(Some("any.example"), Need::Read).is_ok());
        let e = key.permit(Some("any.example"), Need::Write).unwrap_err();
        assert!(e.to_string().contains("definitions:write"), "{e}");
        let shared = Principal::Shared {
            site: "a.example".into(),
            link_id: "l".into(),
        };
        assert!(shared.permit(Some("a.example"), Need::Read).is_ok());
        assert!(shared.permit(Some("b.example"), Need::Read).is_err());
        assert!(shared.permit(None, Need::Read).is_err());
        assert!(shared.permit(Some("a.example"), Need::Write).is_err());
        assert_eq!(Scope::parse("sites:admin").ok(), Some(Scope::SitesAdmin));
        assert_eq!(
            Scope::parse("everything").unwrap_err().kind().field(),
            Some("scopes")
        );
    }
}
