/// mimalloc returns large freed blocks to the OS; with glibc malloc the 19 MiB argon2
/// buffers stayed resident per arena and RSS grew to hundreds of MiB under login load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    levee::install_crypto_provider();
    levee::cli::run()
}
