//! The response body handed back to the caller: reqwest's body frame for
//! frame, its first bytes (up to the cap) copied aside; the record is made
//! when it ends, fails, or is dropped.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::call::{error_kind, error_text, Call, Outcome};
use crate::http::body::Capture;
use crate::http::capture::Shape;
use crate::http::headers::HeaderTexts;

/// The record of a call waiting for its response body to end.
#[derive(Debug)]
struct Pending {
    call: Box<Call>,
    status: http::StatusCode,
    headers: HeaderTexts,
    shape: Shape,
    body: Capture,
}

impl Pending {
    fn emit(self: Box<Self>, error: Option<&reqwest::Error>, aborted: bool) {
        let Pending {
            call,
            status,
            headers,
            shape,
            body,
        } = *self;
        call.emit(Outcome {
            status: Some(status),
            headers,
            shape,
            body,
            error: error.map(error_text),
            error_kind: error.map(error_kind),
            aborted,
        });
    }
}

pin_project! {
    /// reqwest's response body with the call's record attached.
    pub(crate) struct TeeBody {
        #[pin]
        inner: reqwest::Body,
        pending: Option<Box<Pending>>,
    }

    impl PinnedDrop for TeeBody {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(pending) = this.pending.take() {
                let ended = this.inner.is_end_stream();
                pending.emit(None, !ended);
            }
        }
    }
}

/// `response` with its body wrapped so that the end of the body makes the
/// record of `call`; the caller's view (status, headers, URL, extensions,
/// every byte of the body) is unchanged.
pub(crate) fn wrap(call: Box<Call>, response: reqwest::Response) -> reqwest::Response {
    let url = response.url().clone();
    let response: http::Response<reqwest::Body> = response.into();
    let (mut parts, inner) = response.into_parts();
    let headers = HeaderTexts::new(&parts.headers);
    let shape = headers.shape(false);
    let limit = call.response_limit(shape);
    let pending = Box::new(Pending {
        call,
        status: parts.status,
        headers,
        shape,
        body: Capture::new(limit),
    });
    // The URL travels in an extension reqwest reads back.
    if let Ok(with_url) = reqwest::ResponseBuilderExt::url(http::Response::builder(), url).body(())
    {
        parts.extensions.extend(with_url.into_parts().0.extensions);
    }
    let body = TeeBody {
        inner,
        pending: Some(pending),
    };
    reqwest::Response::from(http::Response::from_parts(parts, reqwest::Body::wrap(body)))
}

impl Body for TeeBody {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let mut this = self.project();
        let polled = this.inner.as_mut().poll_frame(cx);
        match &polled {
            Poll::Pending => {}
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(pending) = this.pending.as_mut() {
                    pending.body.frame(frame);
                }
                if this.inner.is_end_stream() {
                    if let Some(pending) = this.pending.take() {
                        pending.emit(None, false);
                    }
                }
            }
            Poll::Ready(None) => {
                if let Some(pending) = this.pending.take() {
                    pending.emit(None, false);
                }
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(pending) = this.pending.take() {
                    pending.emit(Some(e), true);
                }
            }
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
