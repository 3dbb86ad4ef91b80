//! The clinic's information pages for patients (P3, P11): its own text where it set one,
//! the built-in plain-language default otherwise.

use fortrolig_domain::Action;
use fortrolig_domain::info_pages::{InfoPage, check_page_text};

use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;

/// A page as shown: title, text, and whether it is the clinic's own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownPage {
    pub page: InfoPage,
    pub title: String,
    pub body: String,
    pub own_text: bool,
}

impl Clinic {
    /// Public information: reading it needs no login and is not audited.
    pub async fn info_page(&self, page: InfoPage) -> Result<ShownPage, ServiceError> {
        Ok(match self.store.info_page(page.slug()).await? {
            Some((title, body)) => ShownPage {
                page,
                title,
                body,
                own_text: true,
            },
            None => ShownPage {
                page,
                title: page.default_title().to_owned(),
                body: page.default_body().to_owned(),
                own_text: false,
            },
        })
    }

    /// The clinic's administrator sets its own text (audited; the caller checked the role).
    pub async fn set_info_page(
        &self,
        ctx: &ActContext,
        page: InfoPage,
        title: &str,
        body: &str,
    ) -> Result<(), ServiceError> {
        let (title, body) =
            check_page_text(title, body).map_err(|e| ServiceError::Invalid(e.norwegian()))?;
        let now = self.clock.now().as_micros();
        let by = ctx.actor.id.clone();
        self.write(
            ctx,
            Action::SettingChanged,
            None,
            &format!("side:{}", page.slug()),
            move |tx| {
                Box::pin(
                    async move { tx.set_info_page(page.slug(), &title, &body, now, &by).await },
                )
            },
        )
        .await
    }
}
