//! A stand-in AWS endpoint that answers every request with one error, to see how the functions
//! behave when a dependency throttles.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A local endpoint that answers every request with HTTP `status` and an AWS JSON error of type
/// `error_type`. It serves until the test process ends.
pub struct FailingEndpoint {
    url: String,
}

impl FailingEndpoint {
    /// Starts the endpoint.
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(status: u16, error_type: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 8192];
                    // Read the head, then as much body as Content-Length says.
                    loop {
                        let Ok(read) = socket.read(&mut buffer).await else {
                            return;
                        };
                        if read == 0 {
                            return;
                        }
                        request.extend_from_slice(&buffer[..read]);
                        if let Some(end) = find(&request, b"\r\n\r\n") {
                            let head =
                                String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                            let length = head
                                .lines()
                                .find_map(|line| line.strip_prefix("content-length:"))
                                .and_then(|value| value.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            if request.len() >= end + 4 + length {
                                break;
                            }
                        }
                    }
                    let body = format!(r#"{{"__type":"{error_type}","message":"Rate exceeded"}}"#);
                    let response = format!(
                        "HTTP/1.1 {status} Error\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-errortype: {error_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { url }
    }

    /// The endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
