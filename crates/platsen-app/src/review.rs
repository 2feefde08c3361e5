//! Mail about review, so nobody has to keep looking: operators hear when an
//! ad waits for review; an employer's users hear when their ad is approved,
//! sent back with a reason, or taken down with a reason.
//!
//! Mails go out after the change has committed, from a task of their own:
//! the answer to the request does not wait for SMTP, and a failed mail
//! (logged by the mailer) never undoes a review.

use platsen_jobs::Lifecycle;
use platsen_jobs::model::{JobAd, JobStatus};

use crate::App;

impl App {
    /// Tells who needs to know what after `step` left `ad` as it is now.
    pub fn after_step(&self, step: &Lifecycle, ad: &JobAd) {
        notify(self, step, ad);
    }
}

fn notify(app: &App, step: &Lifecycle, ad: &JobAd) {
    let base = app.public_url.clone();
    let mail: Option<(Audience, String, String)> = match (step, ad.status) {
        (Lifecycle::Publish | Lifecycle::Reopen, JobStatus::PendingReview) => Some((
            Audience::Operators,
            format!("Annons att granska: {}", ad.title),
            format!(
                "Hej!\n\n{} vill publicera en annons som ska granskas först:\n\n{}\n\n\
                 Granska den här (godkänn, eller avvisa med en förklaring):\n{base}/konto/granskning\n\n/Platsen\n",
                ad.employer_name, ad.title
            ),
        )),
        (Lifecycle::Approve, JobStatus::Published) => Some((
            Audience::Employer(ad.employer_id),
            format!("Annonsen är publicerad: {}", ad.title),
            format!(
                "Hej!\n\nAnnonsen \"{}\" är granskad och godkänd. Den syns nu på Platsen:\n{base}/jobb/{}\n\n/Platsen\n",
                ad.title, ad.slug
            ),
        )),
        (Lifecycle::Reject { reason }, JobStatus::Draft) => Some((
            Audience::Employer(ad.employer_id),
            format!("Annonsen behöver ändras: {}", ad.title),
            format!(
                "Hej!\n\nAnnonsen \"{}\" har granskats och är inte publicerad. Granskarens förklaring:\n\n{}\n\n\
                 Ändra annonsen och skicka den för granskning igen här:\n{base}/konto/annonser/{}\n\n/Platsen\n",
                ad.title,
                reason.trim(),
                ad.id
            ),
        )),
        (Lifecycle::TakeDown { reason }, JobStatus::Closed) => Some((
            Audience::Employer(ad.employer_id),
            format!("Annonsen är borttagen från Platsen: {}", ad.title),
            format!(
                "Hej!\n\nPlatsen har stängt annonsen \"{}\", så den syns inte längre. Förklaringen:\n\n{}\n\n\
                 Annonsen finns kvar bland era annonser:\n{base}/konto/annonser/{}\n\n\
                 Hör av er till oss om ni har frågor.\n\n/Platsen\n",
                ad.title,
                reason.trim(),
                ad.id
            ),
        )),
        _ => None,
    };
    let Some((audience, subject, body)) = mail else { return };
    let app = app.clone();
    let job_id = ad.id;
    tokio::spawn(async move {
        let users = match audience {
            Audience::Operators => app.store.users(None).await.map(|u| u.into_iter().filter(|u| u.is_admin).collect()),
            Audience::Employer(id) => app.store.users(Some(id)).await,
        };
        let users: Vec<platsen_jobs::store::User> = match users {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(job_id, error = %e, "reading who to tell about a review failed");
                return;
            }
        };
        for user in users {
            // Each failure is logged by the mailer; the others still go out.
            let _ = app.mailer.send(&user.email, &subject, body.clone()).await;
        }
        tracing::info!(job_id, subject = %subject, "review mail sent");
    });
}

enum Audience {
    /// Every administrator's account.
    Operators,
    /// Every account of this employer.
    Employer(i64),
}
