//! `waymark serve`.

use anyhow::Result;

use crate::cli::ServeArgs;

pub fn run(args: ServeArgs) -> Result<()> {
    let config = crate::settings::server_config(&args.common, &args.server)?;
    super::conversions::apply_config(&args.common)?; // conversions and funnels as code
    println!(
        "Waymark on http://{} (data: {})",
        config.listen,
        config.data_dir.display()
    );
    super::runtime()?.block_on(waymark_server::run(config))?;
    Ok(())
}
