//! A body that stops sending is not finished: without a bound, one stalled
//! connection would hang the run. The SDK's timeouts end at the response
//! head; this guards the body, byte by byte, so a stall becomes a read
//! error that is read again like a dropped connection.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::{Instant, Sleep};

/// How long a response may go without a byte, unless `--read-timeout` says.
pub(crate) const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Fails a read with `TimedOut` when the body kept the reader waiting for
/// `limit` (time the reader spent elsewhere does not count).
pub(crate) struct StallGuard<R> {
    inner: R,
    limit: Duration,
    timer: Pin<Box<Sleep>>,
    /// The timer runs from the first wait after the last data.
    armed: bool,
}

impl<R> StallGuard<R> {
    pub fn new(inner: R, limit: Duration) -> StallGuard<R> {
        StallGuard {
            inner,
            limit,
            timer: Box::pin(tokio::time::sleep(limit)),
            armed: false,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for StallGuard<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => {
                if !this.armed {
                    this.armed = true;
                    let deadline = Instant::now() + this.limit;
                    this.timer.as_mut().reset(deadline);
                }
                this.poll_timer(cx)
            }
        }
    }
}

impl<R> StallGuard<R> {
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no data for {} s", self.limit.as_secs_f64()),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}
