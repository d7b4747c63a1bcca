//! HTTPS with a test certificate, reloaded on SIGHUP without a restart.

use crate::helpers::LeveeProcess;
use std::time::Duration;

fn write_certificate(dir: &std::path::Path) -> Vec<u8> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("certificate");
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).expect("cert");
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).expect("key");
    cert.cert.der().to_vec()
}

async fn presented_certificate(url: &str) -> Vec<u8> {
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .tls_info(true)
        .build()
        .expect("client");
    let resp = client.get(url).send().await.expect("https request");
    assert_eq!(resp.status(), 200);
    let info = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .expect("tls info");
    info.peer_certificate().expect("peer certificate").to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_and_reloads_the_certificate_on_sighup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = write_certificate(dir.path());
    let tls = format!(
        "[server.tls]\ncert = \"{d}/cert.pem\"\nkey = \"{d}/key.pem\"\n",
        d = dir.path().display()
    );
    let levee = LeveeProcess::serve_sqlite(dir.path(), &tls);
    let url = levee.url("/health").replace("http://", "https://");
    assert_eq!(presented_certificate(&url).await, first);

    let second = write_certificate(dir.path());
    assert_ne!(first, second);
    levee.signal("HUP");
    let mut presented = Vec::new();
    for _ in 0..50 {
        presented = presented_certificate(&url).await;
        if presented == second {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        presented, second,
        "the new certificate is served after SIGHUP"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_does_not_match_the_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_certificate(dir.path());
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    std::fs::write(
        dir.path().join("key.pem"),
        other.signing_key.serialize_pem(),
    )
    .expect("key");
    let out = crate::helpers::levee_command(&["serve"])
        .env("LEVEE_SERVER__PORT", "0")
        .env(
            "LEVEE_DATABASE__URL",
            format!("sqlite:{}/levee.db", dir.path().display()),
        )
        .env("LEVEE_SERVER__TLS__CERT", dir.path().join("cert.pem"))
        .env("LEVEE_SERVER__TLS__KEY", dir.path().join("key.pem"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not match"), "{err}");
}
