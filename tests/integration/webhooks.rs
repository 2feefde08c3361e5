//! Webhooks: signed deliveries of the change stream to a real HTTP
//! receiver, retries with backoff when it fails, the delivery log, an
//! employer's webhooks kept to itself, and the refusal of URLs that point
//! into a private network.

use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use platsen_tests::{TestApp, eventually};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

platsen_tests::contract!(
    webhooks_deliver_signed_changes_and_retry_a_failing_receiver,
    webhook_registration_refuses_garbage,
);

/// A request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// An HTTP receiver on loopback: keeps every request and answers each
/// with the next status of `statuses`, then 200.
pub(crate) struct Receiver {
    pub(crate) url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) async fn start(statuses: Vec<u16>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/platsen/hook", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let statuses = Arc::new(Mutex::new(statuses.into_iter()));
        let kept = got.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let (kept, statuses) = (kept.clone(), statuses.clone());
                tokio::spawn(async move {
                    let mut raw = Vec::new();
                    let mut buf = [0u8; 8192];
                    let head_end = loop {
                        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => raw.extend_from_slice(&buf[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
                    let headers: Vec<(String, String)> = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                        .collect();
                    let len: usize =
                        headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
                    while raw.len() < head_end + len {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => raw.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = String::from_utf8(raw[head_end..head_end + len].to_vec()).unwrap();
                    kept.lock().unwrap().push(Received { headers, body });
                    let status = statuses.lock().unwrap().next().unwrap_or(200);
                    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                    let _ = sock.write_all(reply.as_bytes()).await;
                });
            }
        });
        Receiver { url, got }
    }

    pub(crate) fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let got = self.got.clone();
        eventually(15, &format!("{n} webhook requests"), move || {
            let got = got.clone();
            async move { got.lock().unwrap().len() >= n }
        })
        .await;
        self.requests()
    }
}

/// Checks `Platsen-Signature: t=…,v1=…` the way a receiver would.
fn verify(secret: &str, r: &Received) -> i64 {
    let header = r.header("platsen-signature").expect("signed");
    let (t, v1) = header.split_once(',').unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let v1 = v1.strip_prefix("v1=").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", r.body).as_bytes());
    mac.verify_slice(&hex::decode(v1).unwrap()).expect("the signature verifies");
    // A forged body does not.
    let mut forged = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    forged.update(format!("{t}.{}", r.body.replace("upsert", "removed")).as_bytes());
    if r.body.contains("upsert") {
        assert!(forged.verify_slice(&hex::decode(v1).unwrap()).is_err());
    }
    t.parse().unwrap()
}

async fn webhooks_deliver_signed_changes_and_retry_a_failing_receiver(app: &TestApp) {
    let receiver = Receiver::start(vec![500, 503]).await;
    let (employer, key) = app.employer_with_key("Nacka kommun").await;
    let (_, other_key) = app.employer_with_key("Värmdö kommun").await;
    // Changes before the webhook existed are not sent.
    app.publish_job(&key, app.job("Före webhooken")).await;

    let r = app.call(Method::POST, "/api/v1/webhooks", Some(&key), Some(json!({ "url": receiver.url }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() > 40);
    assert_eq!(r.body["employer_id"], employer);
    assert_eq!(r.header("location"), Some(format!("/api/v1/webhooks/{id}").as_str()));
    // The secret is shown once.
    let r = app.call(Method::GET, "/api/v1/webhooks", Some(&key), None).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert!(!r.text.contains(&secret));

    // Another employer's ad is not this webhook's business.
    app.publish_job(&other_key, app.job("Värmdös annons")).await;
    let ad = app.publish_job(&key, app.job("Upphandlare till Nacka")).await;

    // The receiver fails: the batch waits for its backoff, then comes again.
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    // The attempt is logged once the receiver has answered.
    let deliveries = format!("/api/v1/webhooks/{id}/deliveries");
    platsen_tests::eventually(10, "the first attempt in the log", || async {
        app.call(Method::GET, &deliveries, Some(&key), None).await.body.as_array().is_some_and(|d| !d.is_empty())
    })
    .await;
    let r = app.call(Method::GET, &deliveries, Some(&key), None).await;
    assert_eq!(r.body[0]["status_code"], 500, "{}", r.text);
    assert_eq!(r.body[0]["attempt"], 1);
    let r = app.call(Method::GET, "/api/v1/webhooks", Some(&key), None).await;
    assert_eq!(r.body[0]["failed_attempts"], 1, "{}", r.text);
    let next: chrono::DateTime<chrono::Utc> = r.body[0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert!(next > app.clock.now() + chrono::Duration::seconds(20), "backoff before the retry");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(receiver.requests().len(), 1, "no retry before the backoff has passed");

    app.clock.advance(chrono::Duration::minutes(5));
    receiver.wait_for(2).await;
    // The clock moves only once the failure is recorded: the backoff counts
    // from when the attempt was logged, so moving it between the receiver's
    // answer and the record would put the retry after the new time.
    eventually(10, "the second attempt in the log", || async {
        app.call(Method::GET, &deliveries, Some(&key), None).await.body.as_array().is_some_and(|d| d.len() >= 2)
    })
    .await;
    app.clock.advance(chrono::Duration::minutes(5));
    let got = receiver.wait_for(3).await;
    // The same batch each time, with the same delivery id.
    assert_eq!(got[0].body, got[2].body);
    assert_eq!(got[0].header("platsen-delivery"), got[2].header("platsen-delivery"));
    let delivered = &got[2];
    assert_eq!(delivered.header("content-type"), Some("application/json"));
    let t = verify(&secret, delivered);
    assert!((t - app.clock.now().timestamp()).abs() < 300, "a fresh timestamp");
    let body: Value = serde_json::from_str(&delivered.body).unwrap();
    assert_eq!(body["webhook_id"], id);
    let changes = body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "only its own employer's new change: {body}");
    assert_eq!(changes[0]["id"], ad);
    assert_eq!(changes[0]["change"], "upsert");
    assert_eq!(changes[0]["ad"]["title"], "Upphandlare till Nacka");

    // Once delivered, the next change follows: a tombstone for the close.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{ad}/close"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let got = receiver.wait_for(4).await;
    verify(&secret, &got[3]);
    let body: Value = serde_json::from_str(&got[3].body).unwrap();
    assert_eq!(body["changes"][0]["change"], "removed");
    assert_eq!(body["changes"][0]["reason"], "closed");
    assert_ne!(got[3].header("platsen-delivery"), got[2].header("platsen-delivery"));

    // The delivery log, newest first.
    let r = app.call(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries"), Some(&key), None).await;
    eventually(10, "the fourth delivery logged", || async {
        let r = app.call(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries"), Some(&key), None).await;
        r.body.as_array().unwrap().len() == 4
    })
    .await;
    let _ = r;
    let r = app.call(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries"), Some(&key), None).await;
    let statuses: Vec<i64> = r.body.as_array().unwrap().iter().map(|d| d["status_code"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [200, 200, 503, 500]);
    let r = app.call(Method::GET, "/api/v1/webhooks", Some(&key), None).await;
    assert_eq!(r.body[0]["failed_attempts"], 0);

    // Another employer neither sees nor removes it.
    let r = app.call(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries"), Some(&other_key), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call(Method::DELETE, &format!("/api/v1/webhooks/{id}"), Some(&other_key), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call(Method::GET, "/api/v1/webhooks", Some(&other_key), None).await;
    assert_eq!(r.body, json!([]));
    // The operator sees every webhook.
    let r = app.admin(Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);

    // Removed: nothing more is sent.
    let r = app.call(Method::DELETE, &format!("/api/v1/webhooks/{id}"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.publish_job(&key, app.job("Efter webhooken")).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(receiver.requests().len(), 4);
}

async fn webhook_registration_refuses_garbage(app: &TestApp) {
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    for bad in [
        json!({ "url": "" }),
        json!({ "url": "inte en adress" }),
        json!({ "url": "ftp://ats.example.org/" }),
        json!({ "url": "javascript:alert(1)" }),
        json!({ "url": "https://user:pw@ats.example.org/" }),
        json!({ "url": format!("https://ats.example.org/{}", "a".repeat(3000)) }),
    ] {
        let r = app.call(Method::POST, "/api/v1/webhooks", Some(&key), Some(bad.clone())).await;
        r.assert_problem(422, "url");
    }
    let r = app.call(Method::POST, "/api/v1/webhooks", Some(&key), Some(json!({ "url": 42 }))).await;
    assert!(r.status.is_client_error() && r.text.contains("url"), "{}", r.text);
    let r = app.call(Method::POST, "/api/v1/webhooks", Some(&key), Some(json!({}))).await;
    assert!(r.status.is_client_error() && r.text.contains("url"), "{}", r.text);
    let r = app.call(Method::POST, "/api/v1/webhooks", None, Some(json!({ "url": "https://ats.example.org/" }))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for bad in ["abc", "1.5", "99999999999999999999"] {
        let r = app.call(Method::GET, &format!("/api/v1/webhooks/{bad}/deliveries"), Some(&key), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
    }
    for missing in ["12345", "-1"] {
        let r = app.call(Method::DELETE, &format!("/api/v1/webhooks/{missing}"), Some(&key), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{missing}");
    }
    // At most ten per employer.
    for n in 0..10 {
        let url = format!("http://127.0.0.1:9/{n}");
        let r = app.call(Method::POST, "/api/v1/webhooks", Some(&key), Some(json!({ "url": url }))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r =
        app.call(Method::POST, "/api/v1/webhooks", Some(&key), Some(json!({ "url": "http://127.0.0.1:9/x" }))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
}

/// Without `PLATSEN_WEBHOOK_ALLOW_PRIVATE`, as in production: loopback,
/// private, link-local and shared addresses are refused, by literal and by
/// name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_refuse_private_targets() {
    let app = TestApp::sqlite_public_webhooks_only().await;
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    for target in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.7/hook",
        "http://172.20.1.1/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[64:ff9b:1::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://2130706433/hook",
    ] {
        let r = app.call(Method::POST, "/api/v1/webhooks", Some(&key), Some(json!({ "url": target }))).await;
        r.assert_problem(422, "url");
        assert!(r.text.contains("private_address"), "{target}: {}", r.text);
    }
    let r = app.call(Method::GET, "/api/v1/webhooks", Some(&key), None).await;
    assert_eq!(r.body, json!([]), "nothing was registered");
    app.stop().await;
}
