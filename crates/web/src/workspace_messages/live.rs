//! Live updates for staff (issue 4 item 6): Server-Sent Events at
//! `/k/{clinic}/ansatt/strom`. An event names a thread and nothing else (no content, no
//! patient), and goes only to a member of staff who may open that thread, decided
//! quietly by the inbox's rule (`Clinic::may_see_thread`: no audit entry per event;
//! opening the thread is audited as usual). `/static/innboks.js` fetches the page again
//! and swaps in the fresh list or messages; every page also works without it.
//!
//! The stream does not keep a session alive: it checks every half minute, without
//! touching the session, that the session is still open and not idle, and otherwise
//! says `slutt` (the script then stops listening) and ends. It also ends when the
//! server is asked to shut down, so that a graceful shutdown is not held up.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fortrolig_domain::ThreadId;
use fortrolig_service::{Clinic, Session, StaffActor, ThreadEvent};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval};

use super::inbox_session;
use crate::error::WebError;
use crate::i18n::{Lang, tr};
use crate::live::{session_checks, session_open, shutdown};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::actor;

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long a decision about one thread is reused. Access that ends stops the events
/// (thread ids only) within this time; opening the thread is decided afresh anyway.
const REACH_TTL: Duration = Duration::from_secs(30);
/// Decisions remembered per stream at most.
const REACH_CACHE: usize = 4096;

/// `GET /static/innboks.js`.
pub(super) async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/innboks.js"),
    )
        .into_response()
}

/// One member of staff's stream.
struct Live {
    clinic: Arc<Clinic>,
    who: StaffActor,
    session: Session,
    events: tokio::sync::broadcast::Receiver<ThreadEvent>,
    check: Interval,
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    reach: HashMap<ThreadId, (bool, Instant)>,
    ended: bool,
}

impl Live {
    /// The next event to send, or `None` to end the stream.
    async fn next(&mut self) -> Option<Event> {
        if self.ended {
            return None;
        }
        loop {
            tokio::select! {
                received = self.events.recv() => match received {
                    Ok(event) => {
                        if self.may_see(event.thread).await {
                            return Some(Event::default().event("samtale").data(event.thread.to_string()));
                        }
                    }
                    // Some events were missed: the page should look again.
                    Err(RecvError::Lagged(_)) => return Some(Event::default().event("oppdater").data("")),
                    Err(RecvError::Closed) => return None,
                },
                _ = self.check.tick() => {
                    if !session_open(&self.clinic, &self.session).await {
                        self.ended = true;
                        return Some(Event::default().event("slutt").data(""));
                    }
                }
                () = &mut self.stop => {
                    self.ended = true;
                    return None;
                }
            }
        }
    }

    /// Whether this member of staff may open `thread`, remembered for a while.
    async fn may_see(&mut self, thread: ThreadId) -> bool {
        let now = Instant::now();
        if let Some((yes, at)) = self.reach.get(&thread)
            && now.duration_since(*at) < REACH_TTL
        {
            return *yes;
        }
        let yes = match self.clinic.may_see_thread(&self.who, thread).await {
            Ok(yes) => yes,
            Err(e) => {
                tracing::warn!(error = %e, "live updates: could not decide access to a thread");
                false
            }
        };
        if self.reach.len() >= REACH_CACHE {
            self.reach.clear();
        }
        self.reach.insert(thread, (yes, now));
        yes
    }
}

/// `GET /k/{clinic}/ansatt/strom`: the live channel of a member of staff who may use the
/// inbox.
pub(super) async fn stream(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    // Listening first, so nothing between the check and the stream is missed.
    let events = clinic.subscribe();
    let here = format!("/k/{org}/ansatt/innboks");
    let (staff, session) = match inbox_session(
        &clinic,
        &headers,
        &here,
        state.app.now(),
        lang,
        tr(lang, "Innboksen er for behandlere og sekretærer."),
    )
    .await?
    {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let live = Live {
        who: actor(staff, &session, &source),
        clinic,
        session,
        events,
        check: session_checks(),
        stop: shutdown(),
        reach: HashMap::new(),
        ended: false,
    };
    let events = futures_util::stream::unfold(live, |mut live| async move {
        live.next()
            .await
            .map(|event| (Ok::<_, Infallible>(event), live))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}
