use clap::Parser;

/// mimalloc: under load glibc malloc's consolidation cost a third of the
/// server's CPU on the search path (`just bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    platsen::init_logging();
    let cli = platsen::Cli::parse();
    match platsen::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "platsen failed");
            eprintln!("Fel: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
