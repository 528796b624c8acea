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

/// A listener on 127.0.0.1:`port` (0: any port) and its URL.
pub async fn bind(port: u16) -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// The request's `X-Amz-Target` (the JSON protocols' operation), or "".
pub fn amz_target(req: &http::Request<Incoming>) -> String {
    req.headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// STS GetCallerIdentity in the query protocol's XML, as `account`
/// (None: access denied), for the endpoints that must say who calls.
pub fn sts_caller(account: Option<&str>) -> Answer {
    let (status, body) = match account {
        Some(a) => (
            200,
            format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <GetCallerIdentityResult><Arn>arn:aws:iam::{a}:user/auditor</Arn>\
                 <UserId>AIDATEST</UserId><Account>{a}</Account></GetCallerIdentityResult>\
                 <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>\
                 </GetCallerIdentityResponse>"
            ),
        ),
        None => (
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
             <Message>denied</Message></Error><RequestId>1</RequestId></ErrorResponse>"
                .to_string(),
        ),
    };
    http::Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap()
}
