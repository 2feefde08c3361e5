//! Employers' logos: an upload is checked and made into a small PNG before
//! anything is stored, and the lists read which employer has which logo
//! from a map kept in memory.
//!
//! - Only PNG, JPEG and WebP are taken, told by their first bytes (not by
//!   the name or the declared type). SVG is refused: it can carry scripts.
//! - The size in pixels is read from the header before anything is decoded,
//!   so a small file that claims 20 000 × 20 000 is refused without the
//!   gigabytes it would take; the decoder has the same limits besides.
//! - The picture is turned upright (a phone's JPEG orientation), scaled to
//!   fit [`Logo::MAX_WIDTH`] × [`Logo::MAX_HEIGHT`] and written as a new
//!   PNG: nothing of the file as sent (metadata, extra chunks) is kept.
//! - Decoding runs on the blocking pool, not on the server's threads.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use platsen_jobs::FieldError;
use platsen_jobs::model::{Actor, Employer, Logo};
use platsen_jobs::store::NewLogo;
use sha2::{Digest, Sha256};

use crate::App;

/// The largest upload taken, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// The largest picture taken, in pixels on either side.
pub const MAX_SIDE: u32 = 6000;
/// The smallest, in pixels on either side.
pub const MIN_SIDE: u32 = 16;
/// How long the lists' map of logos is trusted before it is read again
/// (another instance may have changed a logo).
const MAP_SECONDS: i64 = 60;

fn refused(code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError::new("logo", code, message)
}

/// The message for a file that is too large, in bytes.
pub fn too_large_message() -> String {
    format!("Filen får vara högst {} MB.", MAX_UPLOAD_BYTES / 1024 / 1024)
}

/// Checks an uploaded file and makes the logo that is stored: or says,
/// naming the field `logo`, why not.
pub fn process(bytes: &[u8]) -> Result<NewLogo, FieldError> {
    if bytes.is_empty() {
        return Err(refused("required", "Välj en bildfil."));
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(refused("too_large", too_large_message()));
    }
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) => f,
        _ if looks_like_svg(bytes) => {
            return Err(refused(
                "unsupported_format",
                "SVG-bilder tas inte emot (de kan innehålla skript). Spara logotypen som PNG och ladda upp den.",
            ));
        }
        _ => return Err(refused("unsupported_format", "Filen är inte en PNG-, JPEG- eller WebP-bild.")),
    };
    let reader = || {
        let mut r = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        limits.max_alloc = Some(256 * 1024 * 1024);
        r.limits(limits);
        r
    };
    let unreadable = || refused("unreadable_image", "Bilden kunde inte läsas. Är filen hel?");
    // The header's size first: nothing is decoded for a picture too large.
    let (w, h) = match ImageReader::with_format(Cursor::new(bytes), format).into_dimensions() {
        Ok(d) => d,
        Err(_) => return Err(unreadable()),
    };
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(refused(
            "too_many_pixels",
            format!("Bilden får vara högst {MAX_SIDE} × {MAX_SIDE} bildpunkter; den här är {w} × {h}."),
        ));
    }
    if w < MIN_SIDE || h < MIN_SIDE {
        return Err(refused(
            "too_few_pixels",
            format!("Bilden måste vara minst {MIN_SIDE} × {MIN_SIDE} bildpunkter; den här är {w} × {h}."),
        ));
    }
    let mut decoder = reader().into_decoder().map_err(|_| unreadable())?;
    let orientation = decoder.orientation().map_err(|_| unreadable())?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| unreadable())?;
    picture.apply_orientation(orientation);
    if picture.width() > Logo::MAX_WIDTH || picture.height() > Logo::MAX_HEIGHT {
        picture = picture.resize(Logo::MAX_WIDTH, Logo::MAX_HEIGHT, image::imageops::FilterType::Lanczos3);
    }
    let picture = DynamicImage::ImageRgba8(picture.to_rgba8());
    let mut png = Vec::new();
    picture.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).map_err(|_| unreadable())?;
    let digest = hex::encode(Sha256::digest(&png))[..16].to_owned();
    Ok(NewLogo { width: picture.width(), height: picture.height(), png, digest })
}

/// Whether the bytes start, after white space and a byte order mark, like
/// XML or an `<svg` element.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<?xml") || head.starts_with("<svg") || head.starts_with("<!doctype svg") || head.contains("<svg")
}

/// Which employer has which logo.
pub type Logos = Arc<HashMap<i64, Logo>>;

/// The lists' map from employer to logo, and when it was read.
#[derive(Default)]
pub struct LogoMap {
    map: RwLock<Option<(DateTime<Utc>, Logos)>>,
    /// Counts the changes made here: a read that began before a change
    /// does not keep its (older) map.
    changes: AtomicU64,
}

/// How many logos are decoded at once: a picture of 6000 × 6000 takes some
/// hundred megabytes on its way to 400 × 200, so uploads queue for these.
const DECODING_AT_ONCE: usize = 2;

fn decoding() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| tokio::sync::Semaphore::new(DECODING_AT_ONCE))
}

impl App {
    /// Checks and stores an uploaded logo for `employer_id`, as `actor`.
    pub async fn upload_logo(&self, actor: Actor, employer_id: i64, bytes: Vec<u8>) -> platsen_jobs::Result<Employer> {
        // A decoder that panics on a crafted file has found it unreadable.
        // The semaphore is never closed, so a permit always comes.
        let _permit = decoding().acquire().await.expect("the decoding semaphore is never closed");
        let logo = tokio::task::spawn_blocking(move || process(&bytes))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, employer_id, "decoding an uploaded logo panicked");
                Err(refused("unreadable_image", "Bilden kunde inte läsas. Är filen hel?"))
            })
            .map_err(|e| platsen_jobs::Error::Invalid(vec![e]))?;
        let employer = self.store.set_logo(actor, employer_id, &logo, self.clock.now()).await?;
        self.forget_logos();
        Ok(employer)
    }

    /// Removes `employer_id`'s logo, as `actor`.
    pub async fn remove_logo(&self, actor: Actor, employer_id: i64) -> platsen_jobs::Result<Employer> {
        let employer = self.store.remove_logo(actor, employer_id, self.clock.now()).await?;
        self.forget_logos();
        Ok(employer)
    }

    /// Every employer's logo, by employer id, read again at most once a
    /// minute (and at once after a change on this instance). A failed read
    /// shows lists without logos rather than failing them.
    pub async fn logos(&self) -> Logos {
        let now = self.clock.now();
        let changes = self.logo_map.changes.load(Ordering::Acquire);
        if let Some((at, map)) = self.logo_map.map.read().expect("logo map lock").as_ref()
            && (now - *at).num_seconds() < MAP_SECONDS
        {
            return map.clone();
        }
        match self.store.logos().await {
            Ok(map) => {
                let map = Arc::new(map);
                let mut kept = self.logo_map.map.write().expect("logo map lock");
                if self.logo_map.changes.load(Ordering::Acquire) == changes {
                    *kept = Some((now, map.clone()));
                }
                map
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the employers' logos failed; lists show none");
                Arc::default()
            }
        }
    }

    fn forget_logos(&self) {
        let mut kept = self.logo_map.map.write().expect("logo map lock");
        self.logo_map.changes.fetch_add(1, Ordering::AcqRel);
        *kept = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgba, RgbaImage};

    fn png_of(w: u32, h: u32) -> Vec<u8> {
        let img = RgbaImage::from_fn(w, h, |x, _| Rgba([(x % 256) as u8, 40, 90, 255]));
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn a_large_logo_is_scaled_to_fit_and_stored_as_a_fresh_png() {
        let logo = process(&png_of(1200, 300)).unwrap();
        assert_eq!((logo.width, logo.height), (400, 100), "the aspect kept");
        let back = image::load_from_memory_with_format(&logo.png, ImageFormat::Png).unwrap();
        assert_eq!((back.width(), back.height()), (400, 100));
        assert_eq!(logo.digest.len(), 16);
        assert_eq!(logo.digest, hex::encode(Sha256::digest(&logo.png))[..16]);
        // A small one keeps its size.
        let small = process(&png_of(120, 40)).unwrap();
        assert_eq!((small.width, small.height), (120, 40));
    }

    #[test]
    fn a_jpeg_is_taken_and_written_as_png() {
        let img = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([(x % 200) as u8, (y % 200) as u8, 30]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .write_image(img.as_raw(), 640, 480, image::ExtendedColorType::Rgb8)
            .unwrap();
        let logo = process(&jpeg).unwrap();
        assert_eq!((logo.width, logo.height), (267, 200));
        assert!(logo.png.starts_with(b"\x89PNG"));
    }

    #[test]
    fn garbage_is_refused_naming_the_field_and_the_reason() {
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        let mut truncated = png_of(100, 100);
        truncated.truncate(truncated.len() / 2);
        // 20 000 pixels wide: refused from the header, before decoding.
        let mut huge = Vec::new();
        image::codecs::png::PngEncoder::new(&mut huge)
            .write_image(&vec![0u8; 20_000], 20_000, 1, image::ExtendedColorType::L8)
            .unwrap();
        let tiny = png_of(8, 8);
        let cases: [(&[u8], &str); 8] = [
            (b"".as_slice(), "required"),
            (b"not an image at all".as_slice(), "unsupported_format"),
            (b"%PDF-1.7 \n".as_slice(), "unsupported_format"),
            (svg.as_slice(), "unsupported_format"),
            (b"  <svg onload='alert(1)'/>".as_slice(), "unsupported_format"),
            (truncated.as_slice(), "unreadable_image"),
            (huge.as_slice(), "too_many_pixels"),
            (tiny.as_slice(), "too_few_pixels"),
        ];
        for (bytes, code) in cases {
            let e = process(bytes).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code),
                ("logo", code),
                "{}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
            );
            assert!(!e.message.is_empty());
        }
        let e = process(&vec![0u8; MAX_UPLOAD_BYTES + 1]).unwrap_err();
        assert_eq!(e.code, "too_large");
        assert!(process(svg).unwrap_err().message.contains("SVG"));
    }
}
