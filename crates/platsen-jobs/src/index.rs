//! The built-in search engine: an in-memory inverted index of the open ads,
//! answering the same questions as Meilisearch when none is configured (or
//! it fails).
//!
//! - **Terms** are the runs of letters and digits of the title, the role's
//!   name, the employer's name, the places and the description, lower-cased
//!   and folded (å, ä → a, ö → o, …), stop words left out. A query is folded
//!   the same way, so `inkopschef` finds "Inköpschef" and `inköpare` finds
//!   an ad that wrote "inkopare".
//! - **Postings** are roaring bitmaps of document slots, one for any field
//!   and one for the title and the role's name (the attribute rule).
//! - **Typos** as Meilisearch tolerates them: one from 5 letters, two from 9,
//!   transpositions counting as one, the first letter as typed. Candidate
//!   terms are those of the dictionary (a sorted map) that start with the
//!   word's first letter, each checked with a bounded edit distance; the
//!   last word is a prefix (with the same typo allowance on the prefix).
//! - **Synonyms**: the one list of [`crate::search::SYNONYMS`]; a run of
//!   query words that is a key (one to three words) also matches each of its
//!   synonyms (a phrase as all of its words).
//! - **Ranking**, Meilisearch's bucket sort with the project's rules:
//!   featured first, then more words matched (dropping words from the end,
//!   Meilisearch's `last` strategy), fewer typos, more words in the title,
//!   then the requested order (newest for relevance), the id last.
//! - **Facets** count every dimension over the matching ads by walking the
//!   matches once, with each ad's values as small integers.
//!
//! The index knows nothing of SQL: the application layer fills it from the
//! change log and keeps it in step (see `platsen_app::search`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use platsen_taxonomy::{Municipality, Role};
use roaring::RoaringBitmap;

use crate::IdOrSlug;
use crate::model::{EmploymentType, JobAd, RemoteMode, Salary, SalaryPeriod};
use crate::search::{
    FacetCount, Facets, MARK_END, MARK_START, MAX_TERMS, STOP_WORDS, SYNONYMS, SearchHit, SearchQuery, SearchResults,
    SearchSort, Suggestion, fold, html_to_text, marked_html,
};
use crate::store::{JobFilter, JobSort};

/// Words in a snippet (Meilisearch's crop length in the project's queries).
const SNIPPET_WORDS: usize = 30;

/// The facet dimensions, in the order of [`Doc::codes`].
const DIMS: [&str; 6] = ["role", "county", "municipality", "employment_type", "remote", "employer"];

/// An ad as the index keeps it: what a hit shows, no description.
#[derive(Debug)]
struct Doc {
    id: i64,
    slug: Box<str>,
    title: Box<str>,
    employer_id: i64,
    employer_slug: Box<str>,
    employer_name: Box<str>,
    role: Role,
    municipality: &'static Municipality,
    more_places: Box<[&'static Municipality]>,
    remote: RemoteMode,
    employment_type: EmploymentType,
    extent_percent: i64,
    salary: Option<Salary>,
    application_deadline: NaiveDate,
    published_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    featured: bool,
    /// The ad's distinct terms, to take it out of their postings.
    terms: Box<[u32]>,
}

/// The facet value ids of an ad's further places.
#[derive(Debug)]
struct MoreCodes {
    counties: Box<[u32]>,
    municipalities: Box<[u32]>,
}

/// The dimensions of places in [`DIMS`].
const COUNTY: usize = 1;
const MUNICIPALITY: usize = 2;

#[derive(Debug, Default)]
struct Posting {
    any: RoaringBitmap,
    /// In the title or the role's name.
    strong: RoaringBitmap,
}

/// The values of one facet dimension, each with its ads.
#[derive(Debug, Default)]
struct Facet {
    ids: HashMap<Box<str>, u32>,
    /// (value, display name).
    values: Vec<(Box<str>, Box<str>)>,
    docs: Vec<RoaringBitmap>,
}

impl Facet {
    fn intern(&mut self, value: &str, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            if *self.values[id as usize].1 != *name {
                self.values[id as usize].1 = name.into();
            }
            return id;
        }
        let id = self.values.len() as u32;
        self.ids.insert(value.into(), id);
        self.values.push((value.into(), name.into()));
        self.docs.push(RoaringBitmap::new());
        id
    }

    fn docs_of(&self, value: &str) -> Option<&RoaringBitmap> {
        self.ids.get(value).map(|&id| &self.docs[id as usize])
    }
}

/// The in-memory index. Slots are reused; an ad's slot is stable while it
/// stays in the index.
#[derive(Debug, Default)]
pub struct Index {
    docs: Vec<Option<Doc>>,
    /// Per slot, for walking many matches fast: facet value ids, the sort keys.
    codes: Vec<[u32; 6]>,
    /// Per slot of an ad in several places: the facet value ids of its
    /// further counties and municipalities (the first place's are in
    /// `codes`; a county is named once however many of its places the ad has).
    more_codes: HashMap<u32, MoreCodes>,
    newest_key: Vec<i64>,
    deadline_key: Vec<i32>,
    ids: Vec<i64>,
    slots: HashMap<i64, u32>,
    free: Vec<u32>,
    live: RoaringBitmap,
    featured: RoaringBitmap,
    /// (expires_at, slot): ads whose time is up are left out of every answer
    /// even before their tombstone arrives.
    expiring: BTreeSet<(i64, u32)>,
    dict: BTreeMap<Box<str>, u32>,
    term_text: Vec<Box<str>>,
    postings: Vec<Posting>,
    facets: [Facet; 6],
    employer_ids: HashMap<i64, Box<str>>,
}

/// A search's answer before the snippets: the results (snippets empty) and
/// what marks the matches in a description.
#[derive(Debug)]
pub struct Answer {
    pub results: SearchResults,
    pub marks: Marks,
}

/// The folded terms a query matched, for highlighting.
#[derive(Debug, Default)]
pub struct Marks {
    terms: HashSet<Box<str>>,
}

/// One unit of a query: a word (with its typos and prefixes) or a synonym
/// key, with its synonyms.
#[derive(Debug, Default)]
struct Unit {
    any: RoaringBitmap,
    /// Matched with at most 0 and at most 1 typo (`any`: at most 2).
    exact: RoaringBitmap,
    one: RoaringBitmap,
    strong: RoaringBitmap,
}

impl Unit {
    /// Adds ads that match without a typo (a phrase or a synonym).
    fn add_exact(&mut self, any: RoaringBitmap, strong: RoaringBitmap) {
        self.exact |= &any;
        self.one |= &any;
        self.any |= any;
        self.strong |= strong;
    }

    /// The ads whose best match for this unit has exactly `typos` typos.
    fn with_typos(&self, typos: usize) -> RoaringBitmap {
        match typos {
            0 => self.exact.clone(),
            1 => &self.one - &self.exact,
            _ => &self.any - &self.one,
        }
    }
}

/// Folded synonym keys (as word lists) → the folded alternatives.
static SYNONYM_TABLE: LazyLock<HashMap<Vec<String>, Vec<Vec<String>>>> = LazyLock::new(|| {
    let mut table: HashMap<Vec<String>, Vec<Vec<String>>> = HashMap::new();
    for group in SYNONYMS {
        let phrases: Vec<Vec<String>> = group.iter().map(|p| words_of(p)).collect();
        for (i, key) in phrases.iter().enumerate() {
            let entry = table.entry(key.clone()).or_default();
            for (j, alt) in phrases.iter().enumerate() {
                if i != j && alt != key && !entry.contains(alt) {
                    entry.push(alt.clone());
                }
            }
        }
    }
    table
});

static STOPS: LazyLock<HashSet<String>> = LazyLock::new(|| STOP_WORDS.iter().map(|w| fold(w)).collect());

/// The folded words of a text, stop words included.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold).collect()
}

/// The byte ranges of the words of `text`.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// How many typos a query word of `len` characters may have.
fn typo_budget(len: usize) -> u8 {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The edit distance (insertions, deletions, substitutions and adjacent
/// transpositions, each one) between `query` and `term`, or with `prefix`
/// between `query` and the closest prefix of `term`; `None` beyond `max`.
fn distance(query: &[char], term: &str, prefix: bool, max: u8) -> Option<u8> {
    let term: Vec<char> = term.chars().take(64).collect();
    let (m, n) = (query.len(), term.len());
    if !prefix && n.abs_diff(m) > max as usize {
        return None;
    }
    if prefix && n + (max as usize) < m {
        return None;
    }
    // Three rows of the optimal-string-alignment table, rows by query char.
    let width = n + 1;
    let mut prev2 = vec![u8::MAX; width];
    let mut prev: Vec<u8> = (0..=n).map(|j| j.min(255) as u8).collect();
    let mut cur = vec![0u8; width];
    for i in 1..=m {
        cur[0] = i.min(255) as u8;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = u8::from(query[i - 1] != term[j - 1]);
            let mut v =
                (prev[j - 1].saturating_add(cost)).min(prev[j].saturating_add(1)).min(cur[j - 1].saturating_add(1));
            if i > 1 && j > 1 && query[i - 1] == term[j - 2] && query[i - 2] == term[j - 1] {
                v = v.min(prev2[j - 2].saturating_add(1));
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = if prefix { *prev.iter().min().unwrap_or(&u8::MAX) } else { prev[n] };
    (d <= max).then_some(d)
}

/// Splits `set` by how many of `sets` hold each member: element `k` of the
/// answer holds those in exactly `k`.
fn split_by_count(set: &RoaringBitmap, sets: &[&RoaringBitmap]) -> Vec<RoaringBitmap> {
    let mut counts = vec![set.clone()];
    for s in sets {
        let mut next = vec![RoaringBitmap::new(); counts.len() + 1];
        for (k, b) in counts.iter().enumerate() {
            next[k + 1] |= b & *s;
            next[k] |= b - *s;
        }
        counts = next;
    }
    counts
}

/// Splits `set` by the total of typos over `units`, fewest first.
fn split_by_typos(set: &RoaringBitmap, units: &[Unit]) -> Vec<RoaringBitmap> {
    let mut totals = vec![set.clone()];
    for u in units {
        let parts = [u.with_typos(0), u.with_typos(1), u.with_typos(2)];
        let mut next = vec![RoaringBitmap::new(); totals.len() + 2];
        for (t, b) in totals.iter().enumerate() {
            for (c, part) in parts.iter().enumerate() {
                next[t + c] |= b & part;
            }
        }
        totals = next;
    }
    totals
}

/// An ad's words, from `Index::terms_of`.
#[derive(Debug)]
pub struct Terms(HashMap<String, bool>);

impl Index {
    pub fn new() -> Index {
        Index::default()
    }

    /// How many ads the index holds (expired ones until their tombstone).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Puts an ad in the index, or takes it out when the public does not see
    /// it. Replaces what the index held for the ad.
    pub fn upsert(&mut self, ad: &JobAd) {
        self.upsert_with_terms(ad, Index::terms_of(ad));
    }

    /// The words an ad is found by, each with whether it is in the title or
    /// role name (the costly half of `upsert`, which needs no index, so
    /// filling the index can split it between threads).
    pub fn terms_of(ad: &JobAd) -> Terms {
        let mut terms: HashMap<String, bool> = HashMap::new();
        if !ad.is_public() {
            return Terms(terms);
        }
        let description = html_to_text(&ad.description);
        let places = ad.places().flat_map(|m| [m.name, m.county.name]);
        let fields = [(ad.title.as_str(), true), (ad.role.name_sv(), true), (ad.employer_name.as_str(), false)]
            .into_iter()
            .chain(places.map(|name| (name, false)))
            .chain([(description.as_str(), false)]);
        for (text, strong) in fields {
            for w in words_of(text) {
                if STOPS.contains(&w) {
                    continue;
                }
                let e = terms.entry(w).or_insert(false);
                *e |= strong;
            }
        }
        Terms(terms)
    }

    /// `upsert` with the ad's terms already made by `terms_of`.
    pub fn upsert_with_terms(&mut self, ad: &JobAd, terms: Terms) {
        self.remove(ad.id);
        if !ad.is_public() {
            return;
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.docs.push(None);
            self.codes.push([0; 6]);
            self.newest_key.push(0);
            self.deadline_key.push(0);
            self.ids.push(0);
            (self.docs.len() - 1) as u32
        });
        let mut ids = Vec::with_capacity(terms.0.len());
        for (term, strong) in terms.0 {
            let id = match self.dict.get(term.as_str()) {
                Some(&id) => id,
                None => {
                    let id = self.postings.len() as u32;
                    self.dict.insert(term.as_str().into(), id);
                    self.term_text.push(term.into());
                    self.postings.push(Posting::default());
                    id
                }
            };
            let p = &mut self.postings[id as usize];
            p.any.insert(slot);
            if strong {
                p.strong.insert(slot);
            }
            ids.push(id);
        }
        let employer_label = ad.employer_name.as_str();
        let values: [(&str, &str); 6] = [
            (ad.role.code(), ad.role.name_sv()),
            (ad.municipality.county.code, ad.municipality.county.name),
            (ad.municipality.code, ad.municipality.name),
            (ad.employment_type.code(), ad.employment_type.name_sv()),
            (ad.remote.code(), ad.remote.name_sv()),
            (&ad.employer_slug, employer_label),
        ];
        let mut codes = [0u32; 6];
        for (d, (value, name)) in values.into_iter().enumerate() {
            let id = self.facets[d].intern(value, name);
            self.facets[d].docs[id as usize].insert(slot);
            codes[d] = id;
        }
        if !ad.more_places.is_empty() {
            let mut counties = Vec::new();
            for c in crate::model::counties_of(ad.places()).into_iter().skip(1) {
                let id = self.facets[COUNTY].intern(c.code, c.name);
                self.facets[COUNTY].docs[id as usize].insert(slot);
                counties.push(id);
            }
            let mut municipalities = Vec::new();
            for m in &ad.more_places {
                let id = self.facets[MUNICIPALITY].intern(m.code, m.name);
                self.facets[MUNICIPALITY].docs[id as usize].insert(slot);
                municipalities.push(id);
            }
            self.more_codes.insert(
                slot,
                MoreCodes { counties: counties.into_boxed_slice(), municipalities: municipalities.into_boxed_slice() },
            );
        }
        self.employer_ids.insert(ad.employer_id, ad.employer_slug.as_str().into());
        let s = slot as usize;
        self.codes[s] = codes;
        self.newest_key[s] = -ad.published_at.map_or(0, |t| t.timestamp());
        self.deadline_key[s] = (ad.application_deadline - NaiveDate::MIN).num_days() as i32;
        self.ids[s] = ad.id;
        self.live.insert(slot);
        if ad.featured {
            self.featured.insert(slot);
        }
        self.expiring.insert((ad.expires_at.timestamp(), slot));
        self.slots.insert(ad.id, slot);
        self.docs[s] = Some(Doc {
            id: ad.id,
            slug: ad.slug.as_str().into(),
            title: ad.title.as_str().into(),
            employer_id: ad.employer_id,
            employer_slug: ad.employer_slug.as_str().into(),
            employer_name: ad.employer_name.as_str().into(),
            role: ad.role,
            municipality: ad.municipality,
            more_places: ad.more_places.clone().into_boxed_slice(),
            remote: ad.remote,
            employment_type: ad.employment_type,
            extent_percent: ad.extent_percent,
            salary: ad.salary,
            application_deadline: ad.application_deadline,
            published_at: ad.published_at,
            expires_at: ad.expires_at,
            featured: ad.featured,
            terms: ids.into_boxed_slice(),
        });
    }

    /// Takes an ad out of the index (nothing if it is not there).
    pub fn remove(&mut self, id: i64) {
        let Some(slot) = self.slots.remove(&id) else { return };
        let Some(doc) = self.docs[slot as usize].take() else { return };
        for t in doc.terms.iter() {
            let p = &mut self.postings[*t as usize];
            p.any.remove(slot);
            p.strong.remove(slot);
        }
        for (d, code) in self.codes[slot as usize].iter().enumerate() {
            self.facets[d].docs[*code as usize].remove(slot);
        }
        if let Some(more) = self.more_codes.remove(&slot) {
            for id in more.counties.iter() {
                self.facets[COUNTY].docs[*id as usize].remove(slot);
            }
            for id in more.municipalities.iter() {
                self.facets[MUNICIPALITY].docs[*id as usize].remove(slot);
            }
        }
        self.live.remove(slot);
        self.featured.remove(slot);
        self.expiring.remove(&(doc.expires_at.timestamp(), slot));
        self.free.push(slot);
    }

    /// The slots of the ads whose expiry has not passed at `now`.
    fn open(&self, now: DateTime<Utc>) -> RoaringBitmap {
        let mut set = self.live.clone();
        for (_, slot) in self.expiring.range(..=(now.timestamp(), u32::MAX)) {
            set.remove(*slot);
        }
        set
    }

    /// The slots of open ads that pass the query's filters.
    fn filtered(&self, q: &SearchQuery, now: DateTime<Utc>) -> RoaringBitmap {
        let mut set = self.open(now);
        let f = &q.filter;
        let employer_slug = match &f.employer {
            Some(IdOrSlug::Slug(s)) => Some(s.as_str()),
            Some(IdOrSlug::Id(id)) => Some(self.employer_ids.get(id).map_or("", |s| &**s)),
            None => None,
        };
        let wanted: [Option<&str>; 6] = [
            f.role.map(Role::code),
            f.county_code.as_deref(),
            f.municipality_code.as_deref(),
            f.employment_type.map(EmploymentType::code),
            f.remote.map(RemoteMode::code),
            employer_slug,
        ];
        for (d, value) in wanted.into_iter().enumerate() {
            if let Some(v) = value {
                match self.facets[d].docs_of(v) {
                    Some(docs) => set &= docs,
                    None => return RoaringBitmap::new(),
                }
            }
        }
        if q.salary_min.is_some() || q.published_after.is_some() {
            set = set
                .iter()
                .filter(|slot| {
                    let Some(doc) = &self.docs[*slot as usize] else { return false };
                    let pays = match q.salary_min {
                        Some(min) => doc
                            .salary
                            .filter(|s| s.period == SalaryPeriod::Month)
                            .and_then(|s| s.max.or(s.min))
                            .is_some_and(|m| m >= min),
                        None => true,
                    };
                    let recent = match q.published_after {
                        Some(after) => doc.published_at.is_some_and(|p| p >= after),
                        None => true,
                    };
                    pays && recent
                })
                .collect();
        }
        set
    }

    /// The terms `word` matches, with their typos: every term `word` starts
    /// when it is the `prefix` being typed, else the term itself; and those
    /// within the typo budget that start with the same letter.
    fn matching_terms(&self, word: &str, prefix: bool) -> Vec<(u32, u8)> {
        let mut out: Vec<(u32, u8)> = Vec::new();
        if prefix {
            for (t, id) in self.dict.range::<str, _>((std::ops::Bound::Included(word), std::ops::Bound::Unbounded)) {
                if !t.starts_with(word) {
                    break;
                }
                out.push((*id, 0));
            }
        } else if let Some(id) = self.dict.get(word) {
            out.push((*id, 0));
        }
        let chars: Vec<char> = word.chars().collect();
        let budget = typo_budget(chars.len());
        if budget == 0 || chars.iter().all(char::is_ascii_digit) {
            return out;
        }
        let first = chars[0];
        let from = first.to_string();
        let mut exact: HashSet<u32> = out.iter().map(|(id, _)| *id).collect();
        for (t, id) in self.dict.range::<str, _>((std::ops::Bound::Included(from.as_str()), std::ops::Bound::Unbounded))
        {
            if !t.starts_with(first) {
                break;
            }
            if exact.contains(id) {
                continue;
            }
            if let Some(d) = distance(&chars, t, prefix, budget) {
                out.push((*id, d));
                exact.insert(*id);
            }
        }
        out
    }

    /// Every ad holding all of `words` exactly (a synonym phrase).
    fn phrase(&self, words: &[String], marks: &mut Marks) -> (RoaringBitmap, RoaringBitmap) {
        let mut any: Option<RoaringBitmap> = None;
        let mut strong: Option<RoaringBitmap> = None;
        for w in words {
            let Some(&id) = self.dict.get(w.as_str()) else { return Default::default() };
            let p = &self.postings[id as usize];
            any = Some(match any {
                None => p.any.clone(),
                Some(a) => a & &p.any,
            });
            strong = Some(match strong {
                None => p.strong.clone(),
                Some(s) => s | &p.strong,
            });
        }
        let any = any.unwrap_or_default();
        if !any.is_empty() {
            marks.terms.extend(words.iter().map(|w| Box::<str>::from(w.as_str())));
        }
        let strong = strong.unwrap_or_default() & &any;
        (any, strong)
    }

    /// The query's units, in order, and the terms to mark.
    fn units(&self, words: &[String]) -> (Vec<Unit>, Marks) {
        let mut marks = Marks::default();
        let mut units = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let key_len = (1..=3.min(words.len() - i)).rev().find(|len| SYNONYM_TABLE.contains_key(&words[i..i + len]));
            let mut unit = Unit::default();
            let len = key_len.unwrap_or(1);
            if len == 1 {
                // The word as typed, with typos; the last one as a prefix.
                let last = i + 1 == words.len();
                for (id, typos) in self.matching_terms(&words[i], last) {
                    let p = &self.postings[id as usize];
                    if p.any.is_empty() {
                        continue;
                    }
                    unit.any |= &p.any;
                    unit.strong |= &p.strong;
                    if typos == 0 {
                        unit.exact |= &p.any;
                    }
                    if typos <= 1 {
                        unit.one |= &p.any;
                    }
                    marks.terms.insert(self.term_text[id as usize].clone());
                }
            } else {
                let (any, strong) = self.phrase(&words[i..i + len], &mut marks);
                unit.add_exact(any, strong);
            }
            if let Some(alts) = key_len.and_then(|len| SYNONYM_TABLE.get(&words[i..i + len])) {
                for alt in alts {
                    let (any, strong) = self.phrase(alt, &mut marks);
                    unit.add_exact(any, strong);
                }
            }
            units.push(unit);
            i += len;
        }
        (units, marks)
    }

    /// Answers a search. Snippets are left empty: the description is not in
    /// memory; [`Marks::snippet`] makes one from it.
    pub fn search(&self, q: &SearchQuery, now: DateTime<Utc>) -> Answer {
        let started = std::time::Instant::now();
        let words: Vec<String> =
            q.q.as_deref()
                .map(|text| {
                    let useful = words_of(text).into_iter().filter(|w| !STOPS.contains(w)).take(MAX_TERMS);
                    useful.map(|w| w.chars().take(50).collect()).collect()
                })
                .unwrap_or_default();
        let (units, marks) = self.units(&words);
        let mut candidates = self.filtered(q, now);
        if let Some(first) = units.first() {
            candidates &= &first.any;
        }
        let total = candidates.len() as i64;
        let facets = self.facet_counts(&candidates);
        let offset = (q.page.max(1) as usize - 1) * q.per_page as usize;
        let need = offset + q.per_page as usize;
        let sort = match q.sort {
            SearchSort::Deadline => SearchSort::Deadline,
            _ => SearchSort::Newest,
        };
        let mut order = Vec::with_capacity(need.min(total as usize));
        for part in [&candidates & &self.featured, &candidates - &self.featured] {
            self.rank(part, &units, sort, need, &mut order);
            if order.len() >= need {
                break;
            }
        }
        let hits = order.iter().skip(offset).filter_map(|slot| self.hit(*slot, &marks)).collect();
        Answer {
            results: SearchResults {
                hits,
                total,
                facets,
                processing_ms: started.elapsed().as_millis() as u64,
                engine: "database",
            },
            marks,
        }
    }

    /// The public list (no words): the open ads passing `filter`, featured
    /// first, then in `filter.sort`'s order (as the SQL list orders them:
    /// newest publication, or earliest deadline, then id). Returns the ids
    /// on page `page` and how many ads pass in all.
    pub fn list(&self, filter: &JobFilter, page: u32, per_page: u32, now: DateTime<Utc>) -> (Vec<i64>, i64) {
        let q = SearchQuery { filter: filter.clone(), ..SearchQuery::default() };
        let set = self.filtered(&q, now);
        let total = set.len() as i64;
        let sort = match filter.sort {
            JobSort::Deadline => SearchSort::Deadline,
            JobSort::Newest => SearchSort::Newest,
        };
        let offset = (page.max(1) as usize - 1) * per_page as usize;
        let need = offset + per_page as usize;
        let mut order = Vec::with_capacity(need.min(set.len() as usize));
        for part in [&set & &self.featured, &set - &self.featured] {
            self.sorted(part, sort, need, &mut order);
            if order.len() >= need {
                break;
            }
        }
        (order.iter().skip(offset).map(|slot| self.ids[*slot as usize]).collect(), total)
    }

    /// Appends `set`'s slots to `out` in rank order until `out` holds `need`.
    fn rank(&self, set: RoaringBitmap, units: &[Unit], sort: SearchSort, need: usize, out: &mut Vec<u32>) {
        if units.is_empty() {
            return self.sorted(set, sort, need, out);
        }
        // Prefixes: docs matching units 0..k, for k = 1..=n.
        let mut matching = Vec::with_capacity(units.len());
        let mut acc = set;
        for u in units {
            acc &= &u.any;
            matching.push(acc.clone());
        }
        let mut above = RoaringBitmap::new();
        for k in (1..=units.len()).rev() {
            let bucket = &matching[k - 1] - &above;
            above |= &matching[k - 1];
            if bucket.is_empty() {
                continue;
            }
            for by_typo in split_by_typos(&bucket, &units[..k]) {
                let strong: Vec<&RoaringBitmap> = units[..k].iter().map(|u| &u.strong).collect();
                for by_attr in split_by_count(&by_typo, &strong).into_iter().rev() {
                    self.sorted(by_attr, sort, need, out);
                    if out.len() >= need {
                        return;
                    }
                }
            }
        }
    }

    /// Appends `set`'s slots to `out` in the requested order, until `out`
    /// holds `need`.
    fn sorted(&self, set: RoaringBitmap, sort: SearchSort, need: usize, out: &mut Vec<u32>) {
        let want = need.saturating_sub(out.len());
        if want == 0 || set.is_empty() {
            return;
        }
        let mut v: Vec<u32> = set.iter().collect();
        let key = |s: &u32| -> (i64, i64) {
            let s = *s as usize;
            match sort {
                SearchSort::Deadline => (i64::from(self.deadline_key[s]), self.ids[s]),
                _ => (self.newest_key[s], -self.ids[s]),
            }
        };
        if v.len() > want {
            v.select_nth_unstable_by_key(want - 1, key);
            v.truncate(want);
        }
        v.sort_unstable_by_key(key);
        out.extend(v);
    }

    fn facet_counts(&self, set: &RoaringBitmap) -> Facets {
        let mut counts: Vec<Vec<i64>> = self.facets.iter().map(|f| vec![0; f.values.len()]).collect();
        for slot in set {
            for (d, code) in self.codes[slot as usize].iter().enumerate() {
                counts[d][*code as usize] += 1;
            }
        }
        // Ads in several places count once for each further county and
        // municipality (few ads: walked from the map, not per slot).
        for (slot, more) in &self.more_codes {
            if set.contains(*slot) {
                for id in more.counties.iter() {
                    counts[COUNTY][*id as usize] += 1;
                }
                for id in more.municipalities.iter() {
                    counts[MUNICIPALITY][*id as usize] += 1;
                }
            }
        }
        let mut facets = Facets::default();
        for (d, dim) in DIMS.iter().enumerate() {
            let list = counts[d]
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(v, n)| {
                    let (value, name) = &self.facets[d].values[v];
                    FacetCount { value: value.to_string(), name: name.to_string(), count: *n }
                })
                .collect();
            facets.set(dim, list);
        }
        facets
    }

    fn hit(&self, slot: u32, marks: &Marks) -> Option<SearchHit> {
        let d = self.docs[slot as usize].as_ref()?;
        Some(SearchHit {
            id: d.id,
            slug: d.slug.to_string(),
            title: d.title.to_string(),
            title_highlighted: marked_html(&marks.mark(&d.title)),
            snippet: String::new(),
            employer_id: d.employer_id,
            employer_slug: d.employer_slug.to_string(),
            employer_name: d.employer_name.to_string(),
            role: d.role,
            municipality: d.municipality,
            more_places: d.more_places.to_vec(),
            remote: d.remote,
            employment_type: d.employment_type,
            extent_percent: d.extent_percent,
            salary: d.salary,
            application_deadline: d.application_deadline,
            published_at: d.published_at,
            expires_at: d.expires_at,
            featured: d.featured,
        })
    }

    /// Typeahead: roles and places whose name has a word starting with the
    /// last word typed (typos allowed as in search), employers and titles of
    /// open ads likewise.
    pub fn suggest(&self, text: &str, now: DateTime<Utc>) -> Vec<Suggestion> {
        let Some(last) = words_of(text).pop() else { return Vec::new() };
        let last: String = last.chars().take(50).collect();
        let chars: Vec<char> = last.chars().collect();
        let budget = typo_budget(chars.len());
        let fits = |name: &str| {
            words_of(name).iter().any(|w| {
                w.starts_with(&last)
                    || (budget > 0 && w.starts_with(chars[0]) && distance(&chars, w, true, budget).is_some())
            })
        };
        let mut out = Vec::new();
        for role in Role::ALL {
            if fits(role.name_sv()) {
                out.push(Suggestion { kind: "role", text: role.name_sv().into(), value: role.code().into() });
            }
        }
        for c in platsen_taxonomy::counties() {
            if fits(c.name) {
                out.push(Suggestion { kind: "county", text: c.name.into(), value: c.code.into() });
            }
        }
        for m in platsen_taxonomy::municipalities() {
            if fits(m.name) {
                out.push(Suggestion { kind: "municipality", text: m.name.into(), value: m.code.into() });
            }
        }
        out.truncate(8);
        let open = self.open(now);
        let employers = &self.facets[5];
        let mut found: Vec<(&str, &str)> = employers
            .values
            .iter()
            .zip(&employers.docs)
            .filter(|((slug, name), docs)| (fits(name) || slug.starts_with(&last)) && !docs.is_disjoint(&open))
            .map(|((slug, name), _)| (&**name, &**slug))
            .collect();
        found.sort_by_cached_key(|(name, slug)| (platsen_taxonomy::swedish_sort_key(name), slug.to_string()));
        out.extend(found.into_iter().take(5).map(|(name, slug)| Suggestion {
            kind: "employer",
            text: name.into(),
            value: slug.into(),
        }));
        let mut in_titles = RoaringBitmap::new();
        let mut matched: HashSet<&str> = HashSet::new();
        for (id, _) in self.matching_terms(&last, true) {
            in_titles |= &self.postings[id as usize].strong;
            matched.insert(&self.term_text[id as usize]);
        }
        in_titles &= &open;
        let mut titles: BTreeSet<&str> = BTreeSet::new();
        for slot in in_titles.iter().take(2000) {
            if let Some(d) = &self.docs[slot as usize]
                && words_of(&d.title).iter().any(|w| matched.contains(w.as_str()))
            {
                titles.insert(&d.title);
            }
        }
        out.extend(titles.into_iter().take(5).map(|t| Suggestion { kind: "title", text: t.into(), value: t.into() }));
        out
    }
}

impl Marks {
    /// `text` with the matched words between [`MARK_START`] and [`MARK_END`].
    pub fn mark(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 8);
        let mut at = 0;
        for (s, e) in word_spans(text) {
            if self.terms.contains(fold(&text[s..e]).as_str()) {
                out.push_str(&text[at..s]);
                out.push(MARK_START);
                out.push_str(&text[s..e]);
                out.push(MARK_END);
                at = e;
            }
        }
        out.push_str(&text[at..]);
        out
    }

    /// A snippet of a description's text as HTML: the 30 words with the most
    /// matches (the first 30 when none match), matches in `<mark>`, `…`
    /// where it was cut.
    pub fn snippet(&self, text: &str) -> String {
        let spans = word_spans(text);
        if spans.is_empty() {
            return String::new();
        }
        let hit: Vec<bool> = spans.iter().map(|(s, e)| self.terms.contains(fold(&text[*s..*e]).as_str())).collect();
        let window = SNIPPET_WORDS.min(spans.len());
        // Windows start three words before a match, for context; the one
        // with the most matches wins, the earliest among equals.
        let mut best = (0usize, 0usize);
        for (i, _) in hit.iter().enumerate().filter(|(_, h)| **h) {
            let start = i.saturating_sub(3).min(spans.len() - window);
            let count = hit[start..start + window].iter().filter(|h| **h).count();
            if count > best.1 {
                best = (start, count);
            }
        }
        let (first, last) = (best.0, best.0 + window - 1);
        let begin = if first == 0 { 0 } else { spans[first].0 };
        let end = if last + 1 == spans.len() { text.len() } else { spans[last].1 };
        let mut out = String::new();
        if first > 0 {
            out.push('…');
        }
        out.push_str(&self.mark(&text[begin..end]));
        if last + 1 < spans.len() {
            out.push('…');
        }
        marked_html(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_typos_like_meilisearch() {
        let d = |q: &str, t: &str, p: bool| distance(&q.chars().collect::<Vec<_>>(), t, p, 2);
        assert_eq!(d("upphandlre", "upphandlare", false), Some(1));
        assert_eq!(d("uphandlare", "upphandlare", false), Some(1));
        assert_eq!(d("upphnadlare", "upphandlare", false), Some(1), "a transposition is one typo");
        assert_eq!(d("ramavtl", "ramavtal", false), Some(1));
        assert_eq!(d("upphandl", "upphandlare", true), Some(0));
        assert_eq!(d("uphandl", "upphandlingschef", true), Some(1));
        assert_eq!(d("kock", "upphandlare", false), None);
        assert_eq!(d("abcdefgh", "hgfedcba", false), None);
        assert_eq!(typo_budget(4), 0);
        assert_eq!(typo_budget(5), 1);
        assert_eq!(typo_budget(9), 2);
    }

    #[test]
    fn split_by_count_counts_membership() {
        let set: RoaringBitmap = (0..6).collect();
        let a: RoaringBitmap = [0, 1, 2].into_iter().collect();
        let b: RoaringBitmap = [1, 2, 3].into_iter().collect();
        let parts = split_by_count(&set, &[&a, &b]);
        assert_eq!(parts[0].iter().collect::<Vec<_>>(), [4, 5]);
        assert_eq!(parts[1].iter().collect::<Vec<_>>(), [0, 3]);
        assert_eq!(parts[2].iter().collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn marks_and_snippets_fold_and_escape() {
        let marks = Marks { terms: ["inkopare".into(), "lou".into()].into_iter().collect() };
        assert_eq!(marks.mark("Inköpare <LOU>"), "\u{E000}Inköpare\u{E001} <\u{E000}LOU\u{E001}>");
        let text =
            (0..100).map(|i| if i == 60 { "inköpare".to_owned() } else { format!("ord{i}") }).collect::<Vec<_>>();
        let snippet = marks.snippet(&text.join(" "));
        assert!(snippet.starts_with('…') && snippet.ends_with('…'), "{snippet}");
        assert!(snippet.contains("<mark>inköpare</mark>"), "{snippet}");
        assert!(snippet.contains("ord57"), "context before the match: {snippet}");
        assert_eq!(marks.snippet("<b>kort</b>"), "&lt;b&gt;kort&lt;/b&gt;");
    }
}
