//! `waymark key add|list|remove`: personal API keys. The key is printed once at creation and
//! stored only as a digest; its prefix is kept so people can tell keys apart.

use anyhow::{Context, Result};
use waymark_server::access::accounts::{check_key_request, make_key, normalize_email};
use waymark_server::access::Clock;

use crate::cli::KeyCommand;

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

pub fn run(cmd: KeyCommand) -> Result<()> {
    match cmd {
        KeyCommand::Add {
            email,
            name,
            scopes,
            common,
        } => {
            let email = normalize_email(&email);
            let store = super::open_store(&common)?;
            let owner = store
                .user(&email)?
                .with_context(|| format!("no user {email:?}"))?;
            let requested: Vec<String> = scopes
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let (name, scopes) = check_key_request(&name, &requested, owner.admin)?;
            let (key, plain) = make_key(&email, name, &scopes, Clock::System);
            store.save_api_key(&key)?;
            println!("{plain}");
            eprintln!(
                "key {} ({}) for {email} with {}: shown only now, store it safely",
                key.id,
                key.prefix,
                key.scopes.join(",")
            );
        }
        KeyCommand::List { email, common } => {
            let store = super::open_store(&common)?;
            let only = email.map(|e| normalize_email(&e));
            let keys: Vec<_> = store
                .api_keys()?
                .into_iter()
                .filter(|k| only.as_ref().is_none_or(|e| *e == k.email))
                .collect();
            if keys.is_empty() {
                println!(
                    "no API keys: waymark key add you@example.com --name ci --scopes stats:read"
                );
            }
            for k in keys {
                let used = k.last_used_ms.map(day).unwrap_or_else(|| "never".into());
                println!(
                    "{}\t{}…\t{}\t{}\t{}\tcreated {}\tlast used {used}",
                    k.id,
                    k.prefix,
                    k.email,
                    k.name,
                    k.scopes.join(","),
                    day(k.created_ms)
                );
            }
        }
        KeyCommand::Remove { id, common } => {
            let store = super::open_store(&common)?;
            anyhow::ensure!(store.delete_api_key(&id)?, "no API key {id:?}");
            println!("removed API key {id}");
        }
    }
    Ok(())
}
