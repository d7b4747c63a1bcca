//! A TCP forwarder the tests can cut, to make a server vanish without stopping it, and
//! revive on the same port, as if the server came back.

use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::AbortHandle;

pub struct TcpProxy {
    port: u16,
    upstream: String,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl TcpProxy {
    /// Forwards 127.0.0.1:<random port> to `upstream` until killed.
    pub async fn start(upstream: &str) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let proxy = TcpProxy {
            port: listener.local_addr().expect("addr").port(),
            upstream: upstream.to_string(),
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops listening and drops every forwarded connection, like a crashed server.
    pub fn kill(&self) {
        for task in self.tasks.lock().expect("lock").drain(..) {
            task.abort();
        }
    }

    /// Listens on the same port again after `kill`, like a restarted server. The port
    /// is reused although the connections the kill cut still linger in TIME_WAIT.
    pub fn revive(&self) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(([127, 0, 0, 1], self.port).into())
            .expect("bind the proxy's old port");
        self.serve(socket.listen(128).expect("listen"));
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let registry = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                registry.lock().expect("lock").push(conn.abort_handle());
            }
        });
        self.tasks.lock().expect("lock").push(accept.abort_handle());
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.kill();
    }
}
