//! A TCP proxy on 127.0.0.1 that adds latency to every request, so a local
//! S3 server behaves like a real bucket (tens of ms per GET).
//!
//! Each chunk the client sends after the server has answered (a new request
//! on a keep-alive connection), and the first chunk of a connection, waits
//! `--delay-ms` before being forwarded. It stops by itself after `--max-seconds`.
//!
//! Usage: latency_proxy --listen PORT --upstream PORT [--delay-ms 20] [--max-seconds 3600]
//!
//! With `LATENCY_PROXY_LOG=1` each request's first line goes to stderr with
//! the milliseconds since the proxy started: which requests wait on which.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn arg(name: &str, default: Option<u64>) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .or(default)
        .unwrap_or_else(|| {
            eprintln!("usage: latency_proxy --listen PORT --upstream PORT [--delay-ms 20] [--max-seconds 3600]");
            std::process::exit(2)
        })
}

fn started() -> &'static std::time::Instant {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now)
}

async fn pipe(client: TcpStream, upstream_port: u16, delay: Duration) -> std::io::Result<()> {
    let server = TcpStream::connect(("127.0.0.1", upstream_port)).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    // True when the next client chunk starts a new request.
    let fresh = Arc::new(AtomicBool::new(true));
    let f1 = fresh.clone();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = cr.read(&mut buf).await?;
            if n == 0 {
                return sw.shutdown().await;
            }
            if f1.swap(false, Ordering::SeqCst) {
                if std::env::var_os("LATENCY_PROXY_LOG").is_some() {
                    let line = buf[..n].split(|b| *b == b'\r').next().unwrap_or_default();
                    let ms = started().elapsed().as_millis();
                    eprintln!("{ms:>7} {}", String::from_utf8_lossy(line));
                }
                tokio::time::sleep(delay).await;
            }
            sw.write_all(&buf[..n]).await?;
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = sr.read(&mut buf).await?;
            if n == 0 {
                return cw.shutdown().await;
            }
            fresh.store(true, Ordering::SeqCst);
            cw.write_all(&buf[..n]).await?;
        }
    };
    let _ = tokio::try_join!(up, down);
    Ok(())
}

#[tokio::main]
async fn main() {
    let listen = arg("--listen", None) as u16;
    let upstream = arg("--upstream", None) as u16;
    let delay = Duration::from_millis(arg("--delay-ms", Some(20)));
    let max = Duration::from_secs(arg("--max-seconds", Some(3600)));
    let listener = TcpListener::bind(("127.0.0.1", listen))
        .await
        .expect("bind");
    eprintln!(
        "latency proxy 127.0.0.1:{listen} -> 127.0.0.1:{upstream}, {} ms per request",
        delay.as_millis()
    );
    let serve = async {
        loop {
            if let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(pipe(sock, upstream, delay));
            }
        }
    };
    let _ = tokio::time::timeout(max, serve).await;
}
