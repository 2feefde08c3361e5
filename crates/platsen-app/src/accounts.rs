//! Accounts: invitations and password-reset mails.

use platsen_jobs::IdOrSlug;
use platsen_jobs::store::User;

use crate::App;

/// The reset page; with `valkommen=1` it greets a new user instead.
const RESET_PATH: &str = "/konto/aterstall";

impl App {
    /// Creates an employer's account without a password and mails the
    /// address a link to choose one (the reset page, with a token valid for
    /// [`platsen_jobs::store::INVITE_DAYS`] days). Returns the user and
    /// whether the mail went out; the account exists either way, and a
    /// password reset sends a new link.
    pub async fn invite(&self, employer_id: i64, email: &str) -> platsen_jobs::Result<(User, bool)> {
        let now = self.clock.now();
        let employer = self.store.employer(&IdOrSlug::Id(employer_id), now).await?;
        let (user, token) = self.store.invite_user(employer_id, email, now).await?;
        let sent = self.send_invitation(&employer.name, &user.email, &token).await;
        Ok((user, sent))
    }

    /// Mails one of an employer's users a new invitation (the earlier link
    /// stops working); returns whether the mail went out.
    pub async fn reinvite(&self, employer_id: i64, user_id: i64) -> platsen_jobs::Result<bool> {
        let now = self.clock.now();
        let employer = self.store.employer(&IdOrSlug::Id(employer_id), now).await?;
        let (user, token) = self.store.reinvite_user(employer_id, user_id, now).await?;
        Ok(self.send_invitation(&employer.name, &user.email, &token).await)
    }

    /// The invitation mail: a link to the page where the user chooses a
    /// password, worded as a welcome (`valkommen=1`), not as a reset.
    async fn send_invitation(&self, employer: &str, email: &str, token: &str) -> bool {
        let link = self.link(&format!("{RESET_PATH}?valkommen=1&token={token}"));
        let body = format!(
            "Hej!\r\n\r\nDu har fått ett konto på Platsen för {employer}. Där publicerar och\r\n\
             hanterar du arbetsgivarens platsannonser.\r\n\r\n\
             Välj ditt lösenord här inom {} dagar:\r\n\r\n{link}\r\n\r\n\
             Länken fungerar en gång. Logga sedan in på {} med\r\n{email}.\r\n",
            platsen_jobs::store::INVITE_DAYS,
            self.link("/konto"),
        );
        self.mailer.send(email, "Välkommen till Platsen", body).await.is_ok()
    }

    /// Starts a password reset for `email` and mails the link if the
    /// address has an account. The caller answers the same either way.
    pub async fn mail_password_reset(&self, email: &str) -> platsen_jobs::Result<()> {
        match self.store.start_password_reset(email, self.clock.now()).await? {
            Some((user, token)) => {
                let link = self.link(&format!("{RESET_PATH}?token={token}"));
                let body = format!(
                    "Hej!\r\n\r\nNågon (förhoppningsvis du) har bett om ett nytt lösenord till ditt konto på Platsen.\r\n\
                     Välj ett nytt lösenord här inom {} minuter:\r\n\r\n{link}\r\n\r\n\
                     Länken fungerar en gång. Har du inte bett om det här kan du strunta i mejlet.\r\n",
                    platsen_jobs::store::RESET_MINUTES
                );
                // Whether the mail went out does not change the answer.
                let _ = self.mailer.send(&user.email, "Nytt lösenord till Platsen", body).await;
            }
            None => tracing::info!("password reset asked for an unknown address"),
        }
        Ok(())
    }
}
