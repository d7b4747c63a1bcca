//! Embeds the git revision the binary was built from, for `levee --version` and the admin
//! console. `LEVEE_GIT_REVISION` overrides it (builds from a source tarball have no .git);
//! without either it is "unknown".

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=LEVEE_GIT_REVISION");
    // Rebuild when the checked-out commit moves (HEAD, or the branch it points at).
    // Only files that exist: cargo reruns the script (and rebuilds the crate) on every build
    // while a watched path is missing, e.g. `packed-refs` in a fresh clone.
    let mut watched: Vec<String> = ["HEAD", "packed-refs"]
        .iter()
        .filter_map(|path| git(&["rev-parse", "--git-path", path]))
        .collect();
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(&["rev-parse", "--git-path", &branch]));
    }
    for path in watched.iter().filter(|p| std::path::Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
    let revision = std::env::var("LEVEE_GIT_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LEVEE_GIT_REVISION={revision}");
}
