//! Turns an employer's description (Markdown or HTML) into HTML that is safe
//! to show on our pages and in other people's career pages.
//!
//! Sanitizing is ammonia's job (an allow-list HTML5 sanitizer); this module
//! only chooses the allow-list. No script, style, event handler, `javascript:`
//! URL, image or iframe survives.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

/// The formats a description may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionFormat {
    #[default]
    Markdown,
    Html,
}

impl DescriptionFormat {
    pub fn code(self) -> &'static str {
        match self {
            DescriptionFormat::Markdown => "markdown",
            DescriptionFormat::Html => "html",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "markdown" => Some(DescriptionFormat::Markdown),
            "html" => Some(DescriptionFormat::Html),
            _ => None,
        }
    }
}

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "p",
        "br",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "ul",
        "ol",
        "li",
        "h2",
        "h3",
        "h4",
        "a",
        "blockquote",
        "hr",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ]
    .into_iter()
    .collect();
    let schemes: HashSet<&str> = ["http", "https", "mailto", "tel"].into_iter().collect();
    let mut b = ammonia::Builder::default();
    b.tags(tags)
        .generic_attributes(HashSet::new())
        .tag_attributes([("a", ["href"].into_iter().collect::<HashSet<_>>())].into_iter().collect())
        .url_schemes(schemes)
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("nofollow noopener noreferrer ugc"))
        .strip_comments(true);
    b
});

/// Renders (if Markdown) and sanitizes a description.
pub fn description_html(source: &str, format: DescriptionFormat) -> String {
    let html = match format {
        DescriptionFormat::Html => source.to_owned(),
        DescriptionFormat::Markdown => {
            let parser = pulldown_cmark::Parser::new_ext(source, pulldown_cmark::Options::ENABLE_TABLES);
            let mut out = String::with_capacity(source.len() * 5 / 4);
            pulldown_cmark::html::push_html(&mut out, parser);
            out
        }
    };
    // Character references such as `&#1;` or `&#x202E;` decode to control or
    // bidi characters that the input check never saw; drop them here.
    let clean = CLEANER.clean(&html).to_string();
    clean.chars().filter(|&c| !crate::validate::bad_char(c, true)).collect::<String>().trim().to_owned()
}

/// The source to store next to its rendering `html`: none when
/// [`source_of`] gives it back from the rendering (HTML that needed no
/// sanitizing, Markdown that is plain paragraphs), so most ads do not keep
/// their description twice.
pub fn source_to_store<'a>(source: &'a str, format: DescriptionFormat, html: &str) -> Option<&'a str> {
    (source_of(None, format, html) != source).then_some(source)
}

/// The description as its employer wrote it, from what was stored by
/// [`source_to_store`] (ads stored before sources were kept have none and
/// are HTML: their source is that HTML).
pub fn source_of<'a>(stored: Option<&'a str>, format: DescriptionFormat, html: &'a str) -> Cow<'a, str> {
    match (stored, format) {
        (Some(source), _) => source.into(),
        (None, DescriptionFormat::Markdown) => plain_paragraphs(html).map_or(html.into(), Cow::Owned),
        (None, DescriptionFormat::Html) => html.into(),
    }
}

/// The Markdown of HTML that is nothing but paragraphs of plain text (how
/// most ads are written): the paragraphs' text, a blank line between them.
/// `None` for anything else; whatever it gets wrong, `source_to_store`
/// compares with what was written, so a source is never lost.
fn plain_paragraphs(html: &str) -> Option<String> {
    let mut out = String::with_capacity(html.len());
    for (i, block) in html.split('\n').enumerate() {
        let text = block.strip_prefix("<p>")?.strip_suffix("</p>")?;
        if text.contains(['<', '>']) {
            return None;
        }
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(
            &text
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&"),
        );
    }
    Some(out)
}

/// The visible text of sanitized HTML, for checks such as "is it empty?".
pub fn visible_text_len(html: &str) -> usize {
    let mut in_tag = false;
    html.chars()
        .filter(|c| match c {
            '<' => {
                in_tag = true;
                false
            }
            '>' => {
                in_tag = false;
                false
            }
            c => !in_tag && !c.is_whitespace(),
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever was written comes back exactly; only sources the rendering
    /// gives back are left unstored.
    #[test]
    fn a_source_is_stored_only_when_the_rendering_cannot_give_it_back() {
        let cases = [
            ("Du leder upphandlingar.\n\nVi erbjuder flextid.", DescriptionFormat::Markdown, false),
            ("Avtal & anbud, 5 < 6 och \"LOU\" ('22)", DescriptionFormat::Markdown, false),
            ("Avtal & <LOU> för alla", DescriptionFormat::Markdown, true),
            ("En rad\nmed radbrytning.", DescriptionFormat::Markdown, true),
            ("<p>Vi söker en <strong>inköpschef</strong>.</p>", DescriptionFormat::Html, false),
            ("Du leder **upphandlingar**.", DescriptionFormat::Markdown, true),
            ("Rad ett.  \n\n\nRad två.\n", DescriptionFormat::Markdown, true),
            ("- avtal\n- analys", DescriptionFormat::Markdown, true),
            ("<p onclick=\"x()\">Hej</p><script>x()</script>", DescriptionFormat::Html, true),
            ("\u{1F600} &amp; &#1; \u{202E}", DescriptionFormat::Markdown, true),
        ];
        for (source, format, kept) in cases {
            let html = description_html(source, format);
            let stored = source_to_store(source, format, &html);
            assert_eq!(stored.is_some(), kept, "{source:?} → {html:?}");
            assert_eq!(source_of(stored, format, &html), source, "{source:?} → {html:?}");
        }
    }

    #[test]
    fn markdown_becomes_html() {
        let html = description_html(
            "## Om jobbet\n\nDu blir **inköpschef**.\n\n- avtal\n- analys",
            DescriptionFormat::Markdown,
        );
        assert!(html.contains("<h2>Om jobbet</h2>"), "{html}");
        assert!(html.contains("<strong>inköpschef</strong>"), "{html}");
        assert!(html.contains("<li>avtal</li>"), "{html}");
    }

    #[test]
    fn nothing_executable_survives() {
        let attacks = [
            "<script>alert(1)</script>Hej",
            "<img src=x onerror=alert(1)>Hej",
            "<a href=\"javascript:alert(1)\">Hej</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">Hej</a>",
            "<p onclick=\"alert(1)\" style=\"color:red\">Hej</p>",
            "<iframe src=\"https://evil.example\"></iframe>Hej",
            "<svg><script>alert(1)</script></svg>Hej",
            "[Hej](javascript:alert(1))",
            "<style>body{display:none}</style>Hej",
            "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">Hej</a>",
        ];
        for format in [DescriptionFormat::Html, DescriptionFormat::Markdown] {
            for attack in attacks {
                let html = description_html(attack, format).to_lowercase();
                // Text that merely mentions `javascript:` is harmless; markup is not.
                for needle in [
                    "<script",
                    "onerror=",
                    "onclick=",
                    "href=\"javascript",
                    "<iframe",
                    "<style",
                    "style=",
                    "href=\"data:",
                    "<img",
                    "<svg",
                ] {
                    assert!(!html.contains(needle), "{format:?} {attack:?} left {needle:?} in {html:?}");
                }
                assert!(html.contains("hej"), "{attack:?} lost its text: {html:?}");
            }
        }
    }

    #[test]
    fn character_references_cannot_smuggle_controls() {
        let html = description_html("Hej&#1; d&#x202E;å &#0;", DescriptionFormat::Html);
        assert!(!html.chars().any(|c| c.is_control() || c == '\u{202E}'), "{html:?}");
        assert!(html.contains("Hej"));
    }

    #[test]
    fn links_are_kept_and_marked() {
        let html = description_html("Läs mer på [nacka.se](https://www.nacka.se).", DescriptionFormat::Markdown);
        assert!(html.contains("href=\"https://www.nacka.se\""), "{html}");
        assert!(html.contains("rel=\"nofollow noopener noreferrer ugc\""), "{html}");
    }

    #[test]
    fn counts_visible_text() {
        assert_eq!(visible_text_len("<p> </p><script></script>"), 0);
        assert_eq!(visible_text_len("<p>Hej då</p>"), 5);
    }
}
