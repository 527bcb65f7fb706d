//! Seeds the load harness's gateway database (see `benches::seed`).
//!
//! `load_seed DATABASE_URL LINE` prints `ORDINARY_SESSION=…`, `LINE_SESSION=…`,
//! `EMAIL=…`, `PASSWORD=…` lines for the shell to read.

use gateway::store::Store;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(line)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: load_seed DATABASE_URL LINE");
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let s = rt.block_on(async {
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        benches::seed::seed(&store, &line).await
    })?;
    println!("ORDINARY_SESSION={}", s.ordinary_session);
    println!("LINE_SESSION={}", s.line_session);
    println!("EMAIL={}", s.email);
    println!("PASSWORD={}", s.password);
    Ok(())
}
