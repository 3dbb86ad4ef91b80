//! What the patients' and the staff's live streams share (issue 4 item 6): the signal
//! that the server is stopping, and the periodic check that the session is still open.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use fortrolig_service::{Clinic, Session};
use tokio::time::{Instant, Interval};

/// How often a stream checks that its session is still open: a logout in another tab,
/// or the session ended by staff, stops the stream within this time.
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// The timer for session checks, the first one `SESSION_CHECK` from now.
pub(crate) fn session_checks() -> Interval {
    tokio::time::interval_at(Instant::now() + SESSION_CHECK, SESSION_CHECK)
}

/// Whether the session is still open and within its limits, without moving its idle
/// clock. A failure to check counts as closed: the stream ends.
pub(crate) async fn session_open(clinic: &Clinic, session: &Session) -> bool {
    clinic
        .session_still_open(session)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "live updates: could not check the session");
            false
        })
}

/// Completes when the process is asked to stop (SIGTERM or Ctrl-C): the server's graceful
/// shutdown waits for it, and every stream ends on it so that shutdown is not held up.
pub(crate) fn shutdown() -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
    })
}
