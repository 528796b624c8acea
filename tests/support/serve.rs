//! Serving a test endpoint: each connection on its own task, each request
//! answered by one function (the AWS-protocol endpoints, the time-stamp
//! authority, and the examples that run them as processes).

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// A test endpoint's answer.
pub type Answer = http::Response<http_body_util::Full<bytes::Bytes>>;

/// Serves every connection `listener` accepts, each request answered by
/// `answer` (the AWS-protocol endpoints and the time-stamp authority).
pub fn serve_each<F, Fut>(listener: tokio::net::TcpListener, answer: F)
where
    F: Fn(http::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Answer> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let answer = answer.clone();
            let svc = service_fn(move |req: http::Request<Incoming>| {
                let answering = answer(req);
                async move { Ok::<_, std::convert::Infallible>(answering.await) }
            });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), svc)
                    .await;
            });
        }
    });
}
