fn main() -> std::process::ExitCode {
    levee::install_crypto_provider();
    levee::cli::run()
}
