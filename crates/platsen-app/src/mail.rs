//! Outgoing e-mail: through an SMTP server when `PLATSEN_SMTP_URL` is set
//! (`smtp://host:port`, a relay on the local network that takes mail
//! without TLS and forwards it), otherwise written to the log, which is what
//! development wants. Messages are built with `lettre`.

use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where mail goes.
#[derive(Clone, Default)]
pub enum Mailer {
    /// No SMTP server configured: each mail is logged (development).
    #[default]
    Log,
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Log => f.write_str("Mailer::Log"),
            Mailer::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from})"),
        }
    }
}

impl Mailer {
    /// An SMTP mailer for `smtp://host:port` sending as `from`.
    pub fn smtp(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("PLATSEN_MAIL_FROM {from:?}: {e}"))?;
        let bad = || anyhow::anyhow!("PLATSEN_SMTP_URL {url:?}: expected smtp://host:port");
        let rest = url.strip_prefix("smtp://").ok_or_else(bad)?.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (rest, 25),
        };
        if host.is_empty() || host.contains(['/', '@']) {
            return Err(bad());
        }
        // Plain SMTP to a relay the operator runs; no credentials travel.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.trim_matches(['[', ']']))
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        Ok(Mailer::Smtp { transport, from })
    }

    /// Sends a plain-text mail. Failures are logged and returned; the
    /// recipient's address is not logged.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        self.send_with_headers(to, subject, body, &[]).await
    }

    /// Sends a plain-text mail with extra headers (such as RFC 8058's
    /// `List-Unsubscribe` and `List-Unsubscribe-Post`).
    pub async fn send_with_headers(
        &self,
        to: &str,
        subject: &str,
        body: String,
        headers: &[(&'static str, String)],
    ) -> anyhow::Result<()> {
        match self {
            Mailer::Log => {
                tracing::info!(subject, body = %body, "mail (no PLATSEN_SMTP_URL set, so it is only logged)");
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let sent = async {
                    let mut builder = Message::builder().from(from.clone()).to(to.parse()?).subject(subject);
                    for (name, value) in headers {
                        builder =
                            builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(name), value.clone()));
                    }
                    let message = builder
                        .header(ContentType::TEXT_PLAIN)
                        // lettre picks 7bit, quoted-printable or base64 so
                        // that no line is too long (links are).
                        .body(body)?;
                    transport.send(message).await?;
                    anyhow::Ok(())
                }
                .await;
                match &sent {
                    Ok(()) => tracing::info!(subject, "mail sent"),
                    Err(e) => tracing::error!(subject, error = %e, "sending mail failed"),
                }
                sent
            }
        }
    }
}
