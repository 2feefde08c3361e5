use clap::Parser;

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
