//! `waymark site add|list|remove`.

use anyhow::{Context, Result};
use waymark_core::Site;

use crate::cli::SiteCommand;

pub fn run(cmd: SiteCommand) -> Result<()> {
    match cmd {
        SiteCommand::Add {
            domain,
            timezone,
            common,
        } => {
            let site = Site::new(&domain, &timezone)?;
            let store = super::open_store(&common)?;
            store.add_site(&site)?;
            println!("site {} ({})", site.domain, site.timezone);
        }
        SiteCommand::List { common } => {
            let store = super::open_store(&common)?;
            let sites = store.sites()?;
            if sites.is_empty() {
                println!("no sites yet: waymark site add example.com --timezone Europe/Berlin");
            }
            for s in sites {
                println!("{}\t{}", s.domain, s.timezone);
            }
        }
        SiteCommand::Remove { domain, common } => {
            let store = super::open_store(&common)?;
            let domain = waymark_core::site::normalize_domain(&domain);
            let existed = store
                .remove_site(&domain)
                .with_context(|| format!("removing {domain}"))?;
            anyhow::ensure!(existed, "no site {domain:?}");
            println!("removed {domain} and its events");
        }
    }
    Ok(())
}
