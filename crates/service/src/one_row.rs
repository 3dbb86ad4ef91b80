//! An audited change that must end exactly one open thing (a grant, a care relationship,
//! a team membership): when nothing is open, the whole transaction is rolled back, audit
//! entry and all, so the log never records an end that ended nothing, and the caller's
//! own refusal is returned.

use fortrolig_domain::{Action, PatientId};
use fortrolig_store::{ClinicTx, StoreError};

use crate::clinic::{ActContext, BoxFuture, Clinic};
use crate::error::ServiceError;

impl Clinic {
    /// Runs `change` (true when it ended something) with its audit entry; `nothing` is the
    /// refusal when it ended nothing.
    pub(crate) async fn end_open(
        &self,
        ctx: &ActContext,
        action: Action,
        patient: Option<PatientId>,
        object: &str,
        nothing: impl FnOnce() -> ServiceError,
        change: impl for<'t> FnOnce(&'t mut ClinicTx) -> BoxFuture<'t, Result<bool, StoreError>>
        + Send
        + 'static,
    ) -> Result<(), ServiceError> {
        let result = self
            .write(ctx, action, patient, object, move |tx| {
                let ended = change(tx);
                Box::pin(async move {
                    if ended.await? {
                        Ok(())
                    } else {
                        Err(StoreError::NotOpen)
                    }
                })
            })
            .await;
        match result {
            Err(ServiceError::Store(StoreError::NotOpen)) => Err(nothing()),
            other => other,
        }
    }
}
