//! The pass-through bodies: every frame goes on untouched, and at most the
//! cap is copied aside for the record (the total is counted), so a 10 MB
//! upload or an endless stream costs the cap at most.

use std::io::IoSlice;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Buf;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::exchange::Finish;

/// The first bytes of a body (at most `limit`) and its size.
#[derive(Debug, Default)]
pub(crate) struct Capture {
    pub(crate) kept: Vec<u8>,
    pub(crate) total: u64,
    /// Whether bytes were seen that are not in `kept`.
    pub(crate) cut: bool,
    limit: usize,
    /// The trailers, when the body ended with some (gRPC's status).
    pub(crate) trailers: Option<HeaderMap>,
    /// Set (on a request's capture) when another [`AuditLayer`] inside
    /// this one records the same request: this layer then makes no record.
    ///
    /// [`AuditLayer`]: super::AuditLayer
    pub(crate) claimed: bool,
}

impl Capture {
    pub(crate) fn new(limit: usize) -> Capture {
        Capture {
            limit,
            ..Capture::default()
        }
    }

    /// Counts a data frame and copies what fits under the cap.
    pub(crate) fn data<D: Buf>(&mut self, data: &D) {
        let n = data.remaining();
        self.total += n as u64;
        let room = self.limit - self.kept.len();
        if n > room {
            self.cut = true;
        }
        if room == 0 || n == 0 {
            return;
        }
        let mut want = n.min(room);
        self.grow(want);
        let mut slices = [IoSlice::new(&[]); 32];
        let count = data.chunks_vectored(&mut slices);
        for slice in &slices[..count] {
            let take = slice.len().min(want);
            self.kept.extend_from_slice(&slice[..take]);
            want -= take;
            if want == 0 {
                break;
            }
        }
        // More pieces than slices: the rest is not kept.
        if want > 0 {
            self.cut = true;
        }
    }

    /// Room for `more` bytes, the buffer never larger than the cap: grown
    /// by doubling (few copies for many small frames) but not past `limit`,
    /// where `Vec::reserve` could double it to nearly twice the cap.
    fn grow(&mut self, more: usize) {
        let len = self.kept.len();
        if self.kept.capacity() - len >= more {
            return;
        }
        let doubled = self.kept.capacity().saturating_mul(2).min(self.limit);
        let target = (len + more).max(doubled);
        self.kept.reserve_exact(target - len);
    }

    pub(crate) fn frame<D: Buf>(&mut self, frame: &Frame<D>) {
        if let Some(data) = frame.data_ref() {
            self.data(data);
        } else if let Some(trailers) = frame.trailers_ref() {
            self.trailers = Some(trailers.clone());
        }
    }
}

/// The shared capture of a request body, read when the record is made.
pub(crate) type Shared = Arc<Mutex<Capture>>;

pin_project! {
    /// The request body handed to the inner service: the client's body,
    /// frame for frame, its first bytes (up to the layer's body limit)
    /// copied aside for the record.
    pub struct RequestBody<B> {
        #[pin]
        inner: B,
        capture: Option<Shared>,
    }
}

impl<B> RequestBody<B> {
    pub(crate) fn new(inner: B, capture: Option<Shared>) -> Self {
        RequestBody { inner, capture }
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RequestBody").field(&self.inner).finish()
    }
}

impl<B: Body> Body for RequestBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let (Poll::Ready(Some(Ok(frame))), Some(capture)) = (&polled, this.capture) {
            capture
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .frame(frame);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project! {
    /// The response body handed back to the server: the service's body,
    /// frame for frame (or nothing, for the 500 that answers a panic). The
    /// record is made when it ends, or when it is dropped before its end
    /// (`"aborted": true`: the client went away).
    pub struct ResponseBody<B>
    where
        B: Body,
    {
        #[pin]
        inner: Option<B>,
        finish: Option<Box<Finish>>,
    }

    impl<B> PinnedDrop for ResponseBody<B>
    where
        B: Body,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(finish) = this.finish.take() {
                let ended = this.inner.as_ref().get_ref().as_ref().is_none_or(Body::is_end_stream);
                // A server sends no body for these, so it drops the body
                // unread: that is the exchange's normal end.
                let bodiless = finish.exchange.method == http::Method::HEAD
                    || finish.status.is_some_and(|s| {
                        s == http::StatusCode::NO_CONTENT || s == http::StatusCode::NOT_MODIFIED
                    });
                // All the declared bytes went out: the server stops there
                // without polling the body for its end (looked up only
                // here, off the usual path).
                let done = ended || bodiless || finish.sent_declared();
                finish.emit(!done);
            }
        }
    }
}

impl<B: Body> ResponseBody<B> {
    /// `inner` (`None`: empty), whose end makes the record `finish` holds.
    pub(crate) fn new(inner: Option<B>, finish: Option<Box<Finish>>) -> Self {
        ResponseBody { inner, finish }
    }
}

impl<B: Body + std::fmt::Debug> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ResponseBody").field(&self.inner).finish()
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        // The body is the handler's code too (a stream that makes records
        // as it goes): polled inside the request's span, as the handler
        // was, until the exchange is recorded.
        let caught = {
            let _entered = this.finish.as_ref().map(|f| f.exchange.span.enter());
            std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll_frame(cx)))
        };
        let polled = match caught {
            Ok(polled) => polled,
            Err(payload) => {
                // The head is sent, so no 500 can answer it: the record
                // says what happened, then the panic goes on to the server
                // (which drops the connection, so the client sees a broken
                // body rather than a short one that looks whole).
                if let Some(mut finish) = this.finish.take() {
                    finish.error = Some(crate::unwind::describe(&*payload));
                    finish.emit(true);
                }
                std::panic::resume_unwind(payload);
            }
        };
        match &polled {
            Poll::Pending => {}
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(finish) = this.finish.as_mut() {
                    finish.response.frame(frame);
                }
                let ended = this
                    .inner
                    .as_ref()
                    .get_ref()
                    .as_ref()
                    .is_none_or(Body::is_end_stream);
                if ended {
                    if let Some(finish) = this.finish.take() {
                        finish.emit(false);
                    }
                }
            }
            Poll::Ready(None) => {
                if let Some(finish) = this.finish.take() {
                    finish.emit(false);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(mut finish) = this.finish.take() {
                    finish.error = Some("the response body failed".to_owned());
                    finish.emit(true);
                }
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Some(b) => b.size_hint(),
            None => SizeHint::with_exact(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a body of `frames` frames of `size` bytes leaves in memory
    /// under the cap `limit`.
    fn captured(limit: usize, size: usize, frames: usize) -> Capture {
        let mut capture = Capture::new(limit);
        let frame = vec![b'x'; size];
        for _ in 0..frames {
            capture.data(&&frame[..]);
        }
        capture
    }

    #[test]
    fn the_kept_bytes_never_take_more_memory_than_the_cap() {
        // Frames of every usual size, far past the cap: the buffer holds
        // the first `limit` bytes and is no larger than `limit`.
        for (limit, size) in [
            (64 * 1024, 10_000),
            (64 * 1024, 1),
            (40_000, 1),
            (40_000, 16_384),
            (1000, 3),
            (65_537, 8192),
        ] {
            let frames = (limit * 3) / size + 2;
            let c = captured(limit, size, frames);
            assert_eq!(c.kept.len(), limit, "{limit} {size}");
            assert!(
                c.kept.capacity() <= limit,
                "cap {limit}, frames of {size}: {} bytes held",
                c.kept.capacity()
            );
            assert!(c.cut);
            assert_eq!(c.total, (frames * size) as u64);
        }
        // A body under the cap is kept whole, not cut.
        let c = captured(1000, 10, 50);
        assert_eq!((c.kept.len(), c.cut), (500, false));
    }
}
