//! `waymark user add|list|remove|grant|revoke`: dashboard users and the sites viewers may read.
//! Passwords are read from standard input (`--password-stdin`) or `WAYMARK_PASSWORD`, never
//! from the command line, and stored only as argon2id hashes. The rules (emails, passwords,
//! the last admin, a new password ending the sessions) are the server's `access::accounts`.

use std::io::BufRead;

use anyhow::{bail, Context, Result};
use waymark_server::access::accounts::{
    check_password, checked_email, normalize_email, remove_user, role_name, save_user, Saved,
};
use waymark_server::access::Clock;

use crate::cli::{Common, UserCommand};

fn read_password(from_stdin: bool) -> Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        match std::env::var("WAYMARK_PASSWORD") {
            Ok(p) => p,
            Err(_) => {
                bail!("no password given: pipe it with --password-stdin or set WAYMARK_PASSWORD")
            }
        }
    };
    check_password(&password)?;
    Ok(password)
}

/// A grant's user and site as stored (normalised), and the store holding them.
fn grant_target(
    email: &str,
    site: &str,
    common: &Common,
) -> Result<(String, String, std::sync::Arc<dyn waymark_store::Store>)> {
    let email = normalize_email(email);
    let site = waymark_core::site::normalize_domain(site);
    Ok((email, site, super::open_store(common)?))
}

pub fn run(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add {
            email,
            admin,
            password_stdin,
            common,
        } => {
            let email = checked_email(&email)?;
            let password = read_password(password_stdin)?;
            let store = super::open_store(&common)?;
            let role = role_name(admin);
            match save_user(store.as_ref(), &email, &password, admin, Clock::System)? {
                Saved::Created => println!("user {email} added ({role})"),
                Saved::Updated => {
                    println!("user {email} updated ({role}, new password; their sessions ended)")
                }
            }
        }
        UserCommand::List { common } => {
            let store = super::open_store(&common)?;
            let users = store.users()?;
            let grants = store.grants()?;
            if users.is_empty() {
                println!("no users yet: waymark user add you@example.com --admin");
            }
            for u in users {
                let created = chrono::DateTime::from_timestamp_millis(u.created_ms)
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                // Admins read every site; a viewer reads the sites granted to them.
                let sites = if u.admin {
                    "all sites".to_string()
                } else {
                    let mine: Vec<&str> = grants
                        .iter()
                        .filter(|(e, _)| *e == u.email)
                        .map(|(_, s)| s.as_str())
                        .collect();
                    if mine.is_empty() {
                        "no sites".to_string()
                    } else {
                        mine.join(",")
                    }
                };
                println!("{}\t{}\t{created}\t{sites}", u.email, role_name(u.admin));
            }
        }
        UserCommand::Remove { email, common } => {
            let email = normalize_email(&email);
            let store = super::open_store(&common)?;
            remove_user(store.as_ref(), &email)?;
            println!("removed {email} and ended their sessions");
        }
        UserCommand::Grant {
            email,
            site,
            common,
        } => {
            let (email, site, store) = grant_target(&email, &site, &common)?;
            let user = store
                .user(&email)?
                .with_context(|| format!("no user {email:?}"))?;
            anyhow::ensure!(
                store.site(&site)?.is_some(),
                "no site {site:?}: waymark site add {site}"
            );
            if store.grant(&email, &site)? {
                println!("{email} may now read {site}");
            } else {
                println!("{email} already reads {site}");
            }
            if user.admin {
                println!("note: {email} is an admin and reads every site anyway");
            }
        }
        UserCommand::Revoke {
            email,
            site,
            common,
        } => {
            let (email, site, store) = grant_target(&email, &site, &common)?;
            anyhow::ensure!(
                store.revoke(&email, &site)?,
                "{email} has no grant for {site}"
            );
            println!("{email} may no longer read {site}");
        }
    }
    Ok(())
}
