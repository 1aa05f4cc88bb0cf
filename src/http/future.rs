//! The response future: polls the inner service's future inside the
//! request's span, catches a panic in it (answered with an empty 500),
//! records an `Err` at once, and hands an `Ok` response on with its body
//! wrapped, so that the record is made when that body ends.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderValue, Response, StatusCode};
use http_body::Body;
use pin_project_lite::pin_project;

use super::body::{Capture, ResponseBody};
use super::capture::Shape;
use super::exchange::Finish;
use super::headers::HeaderTexts;
use super::request_id;
use crate::unwind;

pin_project! {
    /// The future of [`Audit`](super::Audit): the inner service's response
    /// with its body wrapped in a [`ResponseBody`]. Dropped before the
    /// response is ready (the client went away, a timeout outside the
    /// layer), it records the request as aborted, with no status.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Option<F>,
        state: State,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            match std::mem::replace(this.state, State::Done) {
                State::Audited { exchange, .. } => {
                    // The inner future first, in the request's span: what
                    // it logs while dropped belongs to the request, before
                    // the record. A panic in its drop (a guard insisting
                    // on being finished) is recorded, then handed on.
                    let dropped = {
                        let _entered = exchange.exchange.span.enter();
                        std::panic::catch_unwind(AssertUnwindSafe(|| drop_inner(this.inner)))
                    };
                    let error = dropped.as_ref().err().map(|p| unwind::describe(&**p));
                    no_response(exchange, None, error, HeaderTexts::default()).emit(true);
                    if let Err(payload) = dropped {
                        std::panic::resume_unwind(payload);
                    }
                }
                State::Panicked { exchange: Some(exchange), message, .. } => {
                    no_response(exchange, None, Some(message), HeaderTexts::default()).emit(true);
                }
                _ => {}
            }
        }
    }
}

fn drop_inner<F>(mut inner: Pin<&mut Option<F>>) {
    inner.set(None);
}

/// The record of a request that got no response body: an `Err`, a panic,
/// or a future dropped before it was ready.
fn no_response(
    mut finish: Box<Finish>,
    status: Option<StatusCode>,
    error: Option<String>,
    headers: HeaderTexts,
) -> Box<Finish> {
    finish.status = status;
    finish.headers = headers;
    finish.response_shape = Shape::Binary;
    finish.error = error;
    finish
}

/// What the future still has to do.
enum State {
    /// An audited request: the record is made from this.
    Audited {
        exchange: Box<Finish>,
        request_id: HeaderValue,
        body_limit: usize,
    },
    /// A request on an excluded path: nothing recorded.
    Passthrough,
    /// `call` panicked: answer 500 at the first poll.
    Panicked {
        exchange: Option<Box<Finish>>,
        request_id: Option<HeaderValue>,
        message: String,
    },
    Done,
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn audited(
        inner: F,
        exchange: Box<Finish>,
        request_id: HeaderValue,
        body_limit: usize,
    ) -> Self {
        ResponseFuture {
            inner: Some(inner),
            state: State::Audited {
                exchange,
                request_id,
                body_limit,
            },
        }
    }

    pub(crate) fn passthrough(inner: F) -> Self {
        ResponseFuture {
            inner: Some(inner),
            state: State::Passthrough,
        }
    }

    pub(crate) fn panicked(
        exchange: Option<Box<Finish>>,
        request_id: Option<HeaderValue>,
        message: String,
    ) -> Self {
        ResponseFuture {
            inner: None,
            state: State::Panicked {
                exchange,
                request_id,
                message,
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
    E: fmt::Display,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if matches!(this.state, State::Panicked { .. }) {
            if let State::Panicked {
                exchange,
                request_id,
                message,
            } = std::mem::replace(this.state, State::Done)
            {
                return Poll::Ready(Ok(answer_panic(exchange, request_id, message)));
            }
        }
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            // Polled after completion.
            return Poll::Pending;
        };
        let polled = match &this.state {
            State::Audited { exchange, .. } => {
                let _entered = exchange.exchange.span.enter();
                unwind::catch(|| inner.poll(cx))
            }
            _ => unwind::catch(|| inner.poll(cx)),
        };
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            Err(message) => {
                this.inner.set(None);
                let (exchange, request_id) = match std::mem::replace(this.state, State::Done) {
                    State::Audited {
                        exchange,
                        request_id,
                        ..
                    } => (Some(exchange), Some(request_id)),
                    _ => (None, None),
                };
                return Poll::Ready(Ok(answer_panic(exchange, request_id, message)));
            }
        };
        this.inner.set(None);
        let State::Audited {
            exchange,
            request_id,
            body_limit,
        } = std::mem::replace(this.state, State::Done)
        else {
            return Poll::Ready(result.map(|r| r.map(|b| ResponseBody::new(Some(b), None))));
        };
        match result {
            Err(e) => {
                let mut text = String::new();
                crate::json::display_into(&mut text, &e);
                no_response(exchange, None, Some(text), HeaderTexts::default()).emit(false);
                Poll::Ready(Err(e))
            }
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                // The handler's own `x-request-id`, if it set one, is
                // left as it is: the layer changes nothing the handler
                // wrote (the record has it among the response headers).
                // (One lookup: the entry.)
                parts
                    .headers
                    .entry(request_id::HEADER)
                    .or_insert(request_id);
                let mut finish = exchange;
                let headers = HeaderTexts::new(&parts.headers);
                let response_shape = headers.shape(finish.exchange.grpc);
                // Binary bodies are recorded by their size: nothing to copy.
                let limit = if finish.exchange.keep_bodies && response_shape != Shape::Binary {
                    body_limit
                } else {
                    0
                };
                finish.status = Some(parts.status);
                finish.headers = headers;
                finish.response_shape = response_shape;
                finish.response = Capture::new(limit);
                Poll::Ready(Ok(Response::from_parts(
                    parts,
                    ResponseBody::new(Some(body), Some(finish)),
                )))
            }
        }
    }
}

/// The empty 500 that answers a panic, recorded at once with the panic's
/// message.
fn answer_panic<B: Body>(
    exchange: Option<Box<Finish>>,
    request_id: Option<HeaderValue>,
    message: String,
) -> Response<ResponseBody<B>> {
    let mut response = Response::new(ResponseBody::new(None, None));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    if let Some(id) = request_id {
        response.headers_mut().insert(request_id::HEADER, id);
    }
    if let Some(exchange) = exchange {
        no_response(
            exchange,
            Some(StatusCode::INTERNAL_SERVER_ERROR),
            Some(message),
            HeaderTexts::new(response.headers()),
        )
        .emit(false);
    }
    response
}
