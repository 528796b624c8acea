//! One bound on requests in flight for a whole run: every chain of an
//! estate shares the same store, so thousands of small chains cannot open
//! thousands of connections, and one big chain cannot starve the rest.

use super::{Body, ListPage, Object, ObjectStore, ReadPin, StoreError};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::io::Read;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Wraps a store; a GET keeps its permit until its body is dropped.
pub(crate) struct Limited {
    inner: Arc<dyn ObjectStore>,
    permits: Arc<Semaphore>,
    /// The version of every object read (bucket, key): what the run
    /// verified, held against what the retention watch listed.
    pub(crate) pins: Arc<ReadPins>,
}

/// The versions a run read.
pub(crate) type ReadPins = std::sync::Mutex<std::collections::HashMap<(String, String), ReadPin>>;

impl Limited {
    pub fn new(inner: Arc<dyn ObjectStore>, in_flight: usize) -> Limited {
        Limited {
            inner,
            permits: Arc::new(Semaphore::new(in_flight.max(1))),
            pins: Arc::default(),
        }
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, StoreError> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Io(e.to_string()))
    }
}

struct HeldRead<R> {
    inner: R,
    _permit: OwnedSemaphorePermit,
}

impl<R: Read> Read for HeldRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for HeldRead<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl ObjectStore for Limited {
    fn list_page<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
        start_after: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        async move {
            let _permit = self.permit().await?;
            self.inner.list_page(bucket, prefix, start_after).await
        }
        .boxed()
    }

    fn list_folders<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        async move {
            let _permit = self.permit().await?;
            self.inner.list_folders(bucket, prefix).await
        }
        .boxed()
    }

    fn list_level<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<super::Level, StoreError>> {
        async move {
            let _permit = self.permit().await?;
            self.inner.list_level(bucket, prefix).await
        }
        .boxed()
    }

    fn versions<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<crate::verify::recovery::Listed>>, StoreError>> {
        async move {
            let _permit = self.permit().await?;
            self.inner.versions(bucket, key).await
        }
        .boxed()
    }

    /// Not pinned: the pins are the versions a run read as current.
    fn get_version<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        version_id: &'a str,
    ) -> BoxFuture<'a, Result<Object, StoreError>> {
        async move {
            let _permit = self.permit().await?;
            self.inner.get_version(bucket, key, version_id).await
        }
        .boxed()
    }

    fn get<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Object, StoreError>> {
        async move {
            let permit = self.permit().await?;
            let obj = self.inner.get(bucket, key).await?;
            let read = (bucket.to_string(), key.to_string());
            self.pins
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(read, obj.pin.clone());
            let body = match obj.body {
                Body::Blocking(r) => Body::Blocking(Box::new(HeldRead {
                    inner: r,
                    _permit: permit,
                })),
                Body::Async(r) => Body::Async(Box::pin(HeldRead {
                    inner: r,
                    _permit: permit,
                })),
            };
            Ok(Object {
                metadata: obj.metadata,
                pin: obj.pin,
                len: obj.len,
                body,
            })
        }
        .boxed()
    }
}
