//! What this binary is: the crate version and the git revision it was built from (set by
//! build.rs), as `levee --version` prints them: `0.1.0 (rev 1a2b3c4d5e6f)`.

pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (rev ",
    env!("LEVEE_GIT_REVISION"),
    ")"
);
