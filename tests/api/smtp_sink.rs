//! A local SMTP server for tests: speaks just enough SMTP for lettre (greeting, EHLO, MAIL,
//! RCPT, DATA, RSET, NOOP, QUIT), keeps every accepted message, and can answer DATA with a
//! chosen refusal to exercise retries and permanent failures.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One accepted message.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// Headers and body as sent, dot-unstuffed, lines joined with `\r\n`.
    pub data: String,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// A sink that accepts every message.
    pub async fn start() -> SmtpSink {
        SmtpSink::answering_data_with(None).await
    }

    /// A sink that answers DATA with `refusal` (e.g. `"451 4.3.0 try later"`) when given.
    pub async fn answering_data_with(refusal: Option<&'static str>) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let addr = listener.local_addr().expect("sink addr");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, sink.clone(), refusal));
            }
        });
        SmtpSink {
            addr,
            messages,
            task,
        }
    }

    /// `smtp://127.0.0.1:port`: plain SMTP, no TLS (lettre's URL without `?tls=`).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().expect("sink messages").clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(
    stream: TcpStream,
    messages: Arc<Mutex<Vec<Received>>>,
    refusal: Option<&'static str>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut current = Received::default();
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &str = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250 sink"
        } else if let Some(from) = upper.strip_prefix("MAIL FROM:") {
            current = Received {
                mail_from: line[line.len() - from.len()..].to_string(),
                ..Received::default()
            };
            "250 2.1.0 ok"
        } else if upper.starts_with("RCPT TO:") {
            current.rcpt_to.push(line["RCPT TO:".len()..].to_string());
            "250 2.1.5 ok"
        } else if upper == "DATA" {
            if let Some(refusal) = refusal {
                refusal
            } else {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = Vec::new();
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    data.push(line.strip_prefix('.').map_or(line.clone(), str::to_string));
                }
                current.data = data.join("\r\n");
                messages
                    .lock()
                    .expect("sink messages")
                    .push(std::mem::take(&mut current));
                "250 2.0.0 queued"
            }
        } else if upper == "RSET" || upper == "NOOP" {
            "250 2.0.0 ok"
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 command not recognized"
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
    Ok(())
}
