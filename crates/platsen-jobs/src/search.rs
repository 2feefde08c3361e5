//! What a search asks and answers, independent of the engine that answers it
//! (Meilisearch in `platsen-search`, or the database's full-text index in
//! [`crate::store`]). Both engines give the same shape, facets included.

use chrono::{DateTime, NaiveDate, Utc};
use platsen_taxonomy::{Municipality, Role};

use crate::model::{EmploymentType, RemoteMode, Salary};
use crate::store::JobFilter;

code_enum!(
    /// Order of search results.
    #[derive(Default)]
    SearchSort {
        /// Best match first (newest first when there is no query text).
        #[default]
        Relevance = "relevance" => "Relevans",
        Newest = "newest" => "Nyast",
        Deadline = "deadline" => "Sista ansökningsdag",
    }
);

/// A search of open ads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    /// The words as typed; see [`terms`] for how they are read.
    pub q: Option<String>,
    pub filter: JobFilter,
    /// Ads that pay at least this much per month (by their upper bound, or
    /// their lower bound when they give only one); ads without a salary are
    /// left out.
    pub salary_min: Option<i64>,
    pub published_after: Option<DateTime<Utc>>,
    pub sort: SearchSort,
    pub page: u32,
    pub per_page: u32,
}

/// At most this many words of a query are used (Meilisearch's own limit).
pub const MAX_TERMS: usize = 10;

/// Groups of words that mean the same job, one list for both engines (the
/// Meilisearch settings and the built-in index). Each spelling with and
/// without å/ä/ö is listed: with Swedish localization a Meilisearch synonym
/// key holding å/ä/ö stops matching (measured on 1.21), so the index is not
/// localized and both spellings are keys. English role titles are here so a
/// search in English finds the Swedish ads.
pub const SYNONYMS: &[&[&str]] = &[
    &[
        "upphandlare",
        "inköpare",
        "inkopare",
        "upphandlingsspecialist",
        "procurement officer",
        "procurement specialist",
        "buyer",
        "purchaser",
    ],
    &["avtalscontroller", "avtalsförvaltare", "avtalsforvaltare", "contract manager", "contract controller"],
    &["inköpschef", "inkopschef", "purchasing manager", "head of procurement", "head of purchasing"],
    &["upphandlingschef", "procurement manager"],
    &["kategoriledare", "category manager"],
    &["upphandlingsjurist", "procurement lawyer"],
    &["inköpsassistent", "inkopsassistent", "purchasing assistant"],
    &["upphandling", "procurement"],
    &["inköp", "inkop", "purchasing"],
];

/// Words too common to search by; neither engine indexes them.
pub const STOP_WORDS: &[&str] = &[
    "och", "i", "att", "det", "som", "en", "på", "är", "av", "för", "med", "till", "den", "har", "de", "inte", "om",
    "ett", "men", "var", "vi", "du", "så", "eller", "vid", "från", "hos", "inom", "ska", "oss", "dig", "vår", "våra",
];

/// The words of a query: runs of letters and digits, lower-cased, at most
/// [`MAX_TERMS`] of at most 50 characters. Everything else (quotes,
/// operators, punctuation) is a separator, so no query syntax of any engine
/// can be injected.
pub fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(50).flat_map(char::to_lowercase).collect::<String>())
        .take(MAX_TERMS)
        .collect()
}

/// One hit: a summary of the ad with the match marked.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The title as HTML, matches in `<mark>`; everything else escaped.
    pub title_highlighted: String,
    /// A cropped part of the description as HTML, matches in `<mark>`.
    pub snippet: String,
    pub employer_id: i64,
    pub employer_slug: String,
    pub employer_name: String,
    pub role: Role,
    /// The ad's first place.
    pub municipality: &'static Municipality,
    /// The ad's further places.
    pub more_places: Vec<&'static Municipality>,
    pub remote: RemoteMode,
    pub employment_type: EmploymentType,
    pub extent_percent: i64,
    pub salary: Option<Salary>,
    pub application_deadline: NaiveDate,
    pub published_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub featured: bool,
}

impl SearchHit {
    /// Every place of the ad, the first first.
    pub fn places(&self) -> impl Iterator<Item = &'static Municipality> + '_ {
        std::iter::once(self.municipality).chain(self.more_places.iter().copied())
    }

    /// Where the job is, in Swedish (see [`crate::model::place_text`]).
    pub fn place_text(&self) -> String {
        crate::model::place_text(self.municipality, &self.more_places)
    }
}

/// How many hits have one value of a dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCount {
    /// The code (role, county, municipality, employment type, remote mode) or
    /// the employer's slug.
    pub value: String,
    /// The Swedish display name.
    pub name: String,
    pub count: i64,
}

/// Counts per value for every filter dimension, over the hits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub role: Vec<FacetCount>,
    pub county: Vec<FacetCount>,
    pub municipality: Vec<FacetCount>,
    pub employment_type: Vec<FacetCount>,
    pub remote: Vec<FacetCount>,
    pub employer: Vec<FacetCount>,
}

impl Facets {
    /// Stores the counts of one dimension (`role`, `county`, `municipality`,
    /// `employment_type`, `remote`, `employer`), most common first, equal
    /// counts by name in Swedish order.
    pub fn set(&mut self, dim: &str, mut counts: Vec<FacetCount>) {
        counts.sort_by_cached_key(|c| (std::cmp::Reverse(c.count), platsen_taxonomy::swedish_sort_key(&c.name)));
        match dim {
            "role" => self.role = counts,
            "county" => self.county = counts,
            "municipality" => self.municipality = counts,
            "employment_type" => self.employment_type = counts,
            "remote" => self.remote = counts,
            _ => self.employer = counts,
        }
    }
}

/// The answer to a search.
#[derive(Debug, Clone)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub total: i64,
    pub facets: Facets,
    pub processing_ms: u64,
    /// `meilisearch` or `database`.
    pub engine: &'static str,
}

/// One typeahead suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// `title`, `role`, `employer`, `county` or `municipality`.
    pub kind: &'static str,
    /// What to show.
    pub text: String,
    /// What to search or filter by: the title, a code, or a slug.
    pub value: String,
}

/// The Swedish display name of a coded facet value.
pub fn facet_name(dim: &str, value: &str) -> String {
    match dim {
        "role" => Role::from_code(value).map(|r| r.name_sv().to_owned()),
        "county" => platsen_taxonomy::county(value).map(|c| c.name.to_owned()),
        "municipality" => platsen_taxonomy::municipality(value).map(|m| m.name.to_owned()),
        "employment_type" => EmploymentType::from_code(value).map(|t| t.name_sv().to_owned()),
        "remote" => RemoteMode::from_code(value).map(|r| r.name_sv().to_owned()),
        _ => None,
    }
    .unwrap_or_else(|| value.to_owned())
}

/// Marks engines put around matches before escaping: private-use
/// characters, which never occur in stored text.
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

/// Escapes engine output for HTML and turns the marks into `<mark>` tags, so
/// a title like `<script>` stays text however it matched.
pub fn marked_html(text: &str) -> String {
    html_escaped(text, true)
}

/// Text as HTML: the five characters that mean something there, escaped
/// (the marks too, as the characters they are).
pub fn escape_html(text: &str) -> String {
    html_escaped(text, false)
}

fn html_escaped(text: &str, marks: bool) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            MARK_START if marks => out.push_str("<mark>"),
            MARK_END if marks => out.push_str("</mark>"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The visible text of sanitized description HTML (for indexing and
/// snippets): tags become spaces, the entities ammonia writes are decoded,
/// and the end of a heading, paragraph or list item ends a sentence, so a
/// snippet does not run a heading into the text ("Om oss. En växande…").
pub fn html_to_text(html: &str) -> String {
    const BLOCKS: [&str; 11] = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "div", "tr", "blockquote"];
    let mut out = String::with_capacity(html.len());
    let mut tag = String::new();
    let mut in_tag = false;
    let mut break_pending = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                tag.clear();
            }
            '>' if in_tag => {
                in_tag = false;
                let name: String = tag
                    .trim_start_matches('/')
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .flat_map(|c| c.to_lowercase())
                    .collect();
                let closes_block = tag.starts_with('/') && BLOCKS.contains(&name.as_str());
                break_pending |= closes_block;
                out.push(' ');
            }
            c if in_tag => tag.push(c),
            c => {
                if break_pending && !c.is_whitespace() {
                    break_pending = false;
                    let last = out.trim_end().chars().last();
                    if last.is_some_and(|l| !".!?:;…".contains(l)) {
                        let trimmed = out.trim_end().len();
                        out.truncate(trimmed);
                        out.push('.');
                    }
                    out.push(' ');
                }
                out.push(c);
            }
        }
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `max` characters of `text`, cut at a word, with an ellipsis.
pub fn crop(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// Folds case and the diacritics Swedish users leave out when typing, for
/// prefix matching of names (`ore` → `Örebro`, `malmo` → `Malmö`).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        // Most letters are ASCII: no need for Unicode's case tables.
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        out.extend(c.to_lowercase().map(|c| match c {
            'å' | 'ä' | 'á' | 'à' => 'a',
            'ö' | 'ø' | 'ó' => 'o',
            'é' | 'è' | 'ë' => 'e',
            'ü' => 'u',
            c => c,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_strip_every_operator() {
        assert_eq!(terms("Upphandlare  Stockholm"), ["upphandlare", "stockholm"]);
        assert_eq!(terms("\"inköp\" OR -chef* NEAR(a b)"), ["inköp", "or", "chef", "near", "a", "b"]);
        assert_eq!(terms("01\" OR employer_id = 5"), ["01", "or", "employer", "id", "5"]);
        assert_eq!(terms("a b c d e f g h i j k l").len(), MAX_TERMS);
        assert!(terms("  ;;; ").is_empty());
    }

    #[test]
    fn marks_are_the_only_markup() {
        let s = format!("<script>{MARK_START}upp{MARK_END}handlare & co");
        assert_eq!(marked_html(&s), "&lt;script&gt;<mark>upp</mark>handlare &amp; co");
    }

    #[test]
    fn text_from_html() {
        assert_eq!(html_to_text("<h2>Om oss</h2><p>Vi &amp; ni &lt;3</p>"), "Om oss. Vi & ni <3");
        assert_eq!(
            html_to_text("<h2>Vi erbjuder:</h2><ul><li>Friskvård</li><li>Flex</li></ul><p>Välkommen!</p>"),
            "Vi erbjuder: Friskvård. Flex. Välkommen!"
        );
        assert_eq!(html_to_text("<p>Storgatan 1<br>Nacka</p><p>Ring oss</p>"), "Storgatan 1 Nacka. Ring oss");
        assert_eq!(html_to_text("Fet <strong>text</strong> i mitten"), "Fet text i mitten");
        assert_eq!(crop("ett två tre fyra", 9), "ett två…");
        assert_eq!(fold("Örebro Malmö Å"), "orebro malmo a");
    }
}
