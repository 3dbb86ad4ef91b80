//! Live updates (issue 4 item 6): Server-Sent Events for the logged-in patient, and the
//! one small script that listens. An event names a thread of the patient's own and
//! nothing else; the script fetches the page again (`no-store`) and replaces its list, so
//! content only ever travels in pages that check the session. Pages work without it.
//!
//! Decisions:
//! - The session is checked when the stream opens, and every half minute after without
//!   touching it (a logout in another tab ends the stream too). The stream does not keep
//!   the session alive and ends when the session would have run out if the patient did
//!   nothing more, or at its absolute limit; it then sends `slutt`, and the script
//!   closes instead of reconnecting, so an idle browser is not kept logged in.
//! - A stream ends at shutdown (SIGTERM or Ctrl-C), so a graceful shutdown does not wait
//!   for long-lived streams.
//! - A listener that falls behind gets `alle` (refresh whatever is open), never a gap.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fortrolig_domain::PatientId;
use fortrolig_service::{Clinic, IDLE_LIMIT_MICROS, Session, SessionSubject, ThreadEvent};
use futures_util::Stream;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::error::WebError;
use crate::live::{session_checks, session_open, shutdown};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::session::current;

/// The script element every messaging page ends with.
pub(super) const SCRIPT_TAG: &str = "<script src=\"/static/meldinger.js\" defer></script>";

/// `GET /static/meldinger.js`.
pub(super) async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/meldinger.js"),
    )
        .into_response()
}

/// `GET /k/{clinic}/meldinger/strom`: the patient's live events. Without a patient session
/// the answer is 204, which tells `EventSource` not to try again.
pub(super) async fn stream(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let Some(session) = current(&clinic, &headers).await? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let SessionSubject::Patient(patient) = session.subject else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let ends = session
        .expires_at
        .0
        .min(session.last_seen.0.saturating_add(IDLE_LIMIT_MICROS));
    let left = u64::try_from(ends.saturating_sub(state.app.now().0)).unwrap_or(0);
    let listening = Listening {
        events: clinic.subscribe(),
        patient,
        until: Box::pin(tokio::time::sleep(Duration::from_micros(left))),
        check: session_checks(),
        stop: shutdown(),
        clinic,
        session,
        ended: false,
    };
    Ok(Sse::new(events_of(listening))
        .keep_alive(KeepAlive::default())
        .into_response())
}

struct Listening {
    events: Receiver<ThreadEvent>,
    patient: PatientId,
    until: Pin<Box<tokio::time::Sleep>>,
    check: tokio::time::Interval,
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    clinic: Arc<Clinic>,
    session: Session,
    ended: bool,
}

fn events_of(listening: Listening) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(listening, |mut l| async move {
        if l.ended {
            return None;
        }
        loop {
            let event = tokio::select! {
                () = &mut l.until => {
                    l.ended = true;
                    Event::default().event("slutt").data("slutt")
                }
                _ = l.check.tick() => {
                    if session_open(&l.clinic, &l.session).await {
                        continue;
                    }
                    l.ended = true;
                    Event::default().event("slutt").data("slutt")
                }
                () = &mut l.stop => return None,
                received = l.events.recv() => match received {
                    Ok(e) if e.patient == l.patient => {
                        Event::default().event("samtale").data(e.thread.to_string())
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => Event::default().event("samtale").data("alle"),
                    Err(RecvError::Closed) => return None,
                },
            };
            return Some((Ok(event), l));
        }
    })
}
