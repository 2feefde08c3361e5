//! Charts with plotters, as SVG or PNG. The fonts are compiled in; labels
//! are Swedish; colours are from the Okabe–Ito palette (safe for colour
//! vision deficiencies); hidden figures are left out with a note, never drawn.
//!
//! A chart is drawn for the width it is shown at (the page asks for a wide
//! one and a narrow one for phones), so its text is never scaled down: every
//! text is at least [`MIN_TEXT_PX`] pixels. Groups are drawn one per row,
//! the group's name above its bars, so long Swedish role names need no
//! label column and one group draws as well as twenty-one. Every chart has
//! an alternative text with its figures ([`describe`]).

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::{round_100, thousands};
use crate::stats::{Cell, Dataset, Dimension, Figure, Row, StatsError, StatsQuery};
use platsen_taxonomy::survey::Gender;

/// The width a chart is drawn at unless asked otherwise.
pub const DEFAULT_WIDTH: u32 = 900;
/// The narrowest and widest a chart may be asked for.
pub const WIDTH_RANGE: (u32, u32) = (320, 1600);
/// The smallest text on a chart, in pixels at the size it is drawn.
pub const MIN_TEXT_PX: f64 = 15.0;
/// Histograms only from this many respondents.
pub const HISTOGRAM_MIN: usize = 50;
/// The smallest number of respondents a histogram bar may show.
const BAR_MIN: usize = 5;

const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
const GREY: RGBColor = RGBColor(0x4A, 0x4A, 0x4A);
const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
const MESH: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);

/// Text sizes as plotters takes them: its SVG backend writes a font size
/// of the size given divided by 1.24, so a text meant to show at 15 px is
/// asked for at 15 × 1.24.
const PLOTTERS_SCALE: f64 = 1.24;
const TITLE_PX: f64 = 20.0 * PLOTTERS_SCALE;
const TEXT_PX: f64 = MIN_TEXT_PX * PLOTTERS_SCALE;
/// Line heights of the title and of body text.
const TITLE_LINE: i32 = 28;
const LINE: i32 = 21;
/// Left and right margin.
const MARGIN: i32 = 16;

/// The charts there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chart {
    PercentilesByRole,
    PercentilesBySector,
    PercentilesByCounty,
    PercentilesByExperience,
    MedianTrend,
    Distribution,
    Gender,
}

impl Chart {
    pub const ALL: [Chart; 7] = [
        Chart::PercentilesByRole,
        Chart::PercentilesBySector,
        Chart::PercentilesByCounty,
        Chart::PercentilesByExperience,
        Chart::MedianTrend,
        Chart::Distribution,
        Chart::Gender,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Chart::PercentilesByRole => "percentiles-by-role",
            Chart::PercentilesBySector => "percentiles-by-sector",
            Chart::PercentilesByCounty => "percentiles-by-county",
            Chart::PercentilesByExperience => "percentiles-by-experience",
            Chart::MedianTrend => "median-trend",
            Chart::Distribution => "distribution",
            Chart::Gender => "gender",
        }
    }

    pub fn from_name(name: &str) -> Option<Chart> {
        Chart::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The chart of percentiles per group of `d`, if there is one.
    pub fn percentiles_by(d: Dimension) -> Option<Chart> {
        match d {
            Dimension::Role => Some(Chart::PercentilesByRole),
            Dimension::Sector => Some(Chart::PercentilesBySector),
            Dimension::County => Some(Chart::PercentilesByCounty),
            Dimension::Experience => Some(Chart::PercentilesByExperience),
            _ => None,
        }
    }

    fn grouped_by(self) -> Option<Dimension> {
        match self {
            Chart::PercentilesByRole => Some(Dimension::Role),
            Chart::PercentilesBySector => Some(Dimension::Sector),
            Chart::PercentilesByCounty => Some(Dimension::County),
            Chart::PercentilesByExperience => Some(Dimension::Experience),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Svg,
    Png,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error(transparent)]
    Stats(#[from] StatsError),
    #[error("drawing failed: {0}")]
    Draw(String),
}

/// Registers the compiled-in fonts with plotters (once per process); every
/// chart Platsen draws calls it before drawing text.
pub fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The fonts are valid TrueType compiled in; a failure would be a build defect.
        let regular =
            plotters::style::register_font("sans-serif", FontStyle::Normal, include_bytes!("../fonts/DejaVuSans.ttf"));
        let bold = plotters::style::register_font(
            "sans-serif",
            FontStyle::Bold,
            include_bytes!("../fonts/DejaVuSans-Bold.ttf"),
        );
        assert!(regular.is_ok() && bold.is_ok(), "the embedded fonts could not be loaded");
    });
}

/// What a chart shows, worked out before drawing.
struct Spec {
    title: String,
    subtitle: String,
    source: String,
    notes: Vec<String>,
    body: Body,
}

/// A group's label, P10, P25, median, P75 and P90 (the deciles optional).
type Band = (String, Option<i64>, i64, i64, i64, Option<i64>);
/// A year, its median and the median's interval.
type TrendPoint = (i32, i64, Option<(i64, i64)>);

enum Body {
    /// Per group: label, P10, P25, median, P75, P90 (the deciles optional).
    Bands(Vec<Band>),
    /// Per year: median and its interval.
    Trend(Vec<TrendPoint>),
    /// Bars: label and count.
    Histogram(Vec<(String, usize)>),
    /// Per group: women's and men's medians.
    Pairs(Vec<(String, i64, i64)>),
    /// Nothing can be shown.
    Empty(String),
}

/// A chart's size and its alternative text (what it shows, with its figures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub width: u32,
    pub height: u32,
    pub alt: String,
}

/// The width to draw at: `width` within [`WIDTH_RANGE`].
pub fn clamp_width(width: Option<u32>) -> u32 {
    width.unwrap_or(DEFAULT_WIDTH).clamp(WIDTH_RANGE.0, WIDTH_RANGE.1)
}

/// A chart's size at `width` and its alternative text, without drawing it.
pub fn describe(data: &Dataset, chart: Chart, query: &StatsQuery, width: u32) -> Result<Described, StatsError> {
    let spec = spec(data, chart, query)?;
    let layout = Layout::of(&spec, clamp_width(Some(width)));
    Ok(Described { width: layout.width, height: layout.height, alt: alt_text(&spec) })
}

/// Renders a chart for the query's filters and year, `width` pixels wide
/// (its height follows from what it shows).
pub fn render(
    data: &Dataset,
    chart: Chart,
    query: &StatsQuery,
    format: Format,
    width: u32,
) -> Result<Vec<u8>, ChartError> {
    fonts();
    let spec = spec(data, chart, query)?;
    let layout = Layout::of(&spec, clamp_width(Some(width)));
    let (w, h) = (layout.width, layout.height);
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                draw(&root, &spec, &layout).map_err(|e| ChartError::Draw(e.to_string()))?;
                root.present().map_err(|e| ChartError::Draw(e.to_string()))?;
            }
            Ok(svg.into_bytes())
        }
        Format::Png => {
            let mut pixels = vec![0u8; (w * h * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
                draw(&root, &spec, &layout).map_err(|e| ChartError::Draw(e.to_string()))?;
                root.present().map_err(|e| ChartError::Draw(e.to_string()))?;
            }
            let mut out = Vec::new();
            let mut encoder = png::Encoder::new(&mut out, w, h);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(|e| ChartError::Draw(e.to_string()))?;
            writer.write_image_data(&pixels).map_err(|e| ChartError::Draw(e.to_string()))?;
            writer.finish().map_err(|e| ChartError::Draw(e.to_string()))?;
            Ok(out)
        }
    }
}

fn source(year: i32, total: &Row) -> String {
    // No-break spaces keep "n = 1 234" on one line where the text wraps.
    match total.n.shown() {
        Some(n) => {
            format!("Källa: Platsen lönestatistik {year}, n\u{a0}=\u{a0}{}", thousands(n).replace(' ', "\u{a0}"))
        }
        None => format!("Källa: Platsen lönestatistik {year}"),
    }
}

fn hidden_note(labels: &[String]) -> Option<String> {
    (!labels.is_empty()).then(|| format!("Visas inte (för få svar): {}.", labels.join(", ")))
}

/// The dimension a gender chart compares groups of: the query's first
/// grouping when it is one a respondent has one value of, else the role.
fn gender_groups(query: &StatsQuery) -> Dimension {
    match query.group_by.first() {
        Some(d) if !matches!(d, Dimension::Gender | Dimension::Year) => *d,
        _ => Dimension::Role,
    }
}

/// "roll", "sektor"… as in "Lön per roll".
fn per(d: Dimension) -> &'static str {
    match d {
        Dimension::Role => "roll",
        Dimension::Sector => "sektor",
        Dimension::County => "län",
        Dimension::Gender => "kön",
        Dimension::Experience => "erfarenhet",
        Dimension::Age => "ålder",
        Dimension::Year => "år",
    }
}

fn spec(data: &Dataset, chart: Chart, query: &StatsQuery) -> Result<Spec, StatsError> {
    let base = StatsQuery { year: query.year, group_by: vec![], filter: query.filter };
    let total = data.stats(&base)?;
    let year = total.year;
    let subtitle = format!("{} · {year} · månadslön omräknad till heltid", Cell::selection_label(&query.filter));
    let mut notes = Vec::new();
    let (title, body) = match chart {
        Chart::PercentilesByRole
        | Chart::PercentilesBySector
        | Chart::PercentilesByCounty
        | Chart::PercentilesByExperience => {
            let d = chart.grouped_by().expect("a percentile chart groups");
            let table = data.stats(&StatsQuery { group_by: vec![d], ..base.clone() })?;
            let mut bands = Vec::new();
            let mut hidden = Vec::new();
            for row in &table.rows {
                let label = row.cell.label(d);
                match (row.p25.shown(), row.median.shown(), row.p75.shown()) {
                    (Some(q1), Some(m), Some(q3)) => bands.push((label, row.p10.shown(), q1, m, q3, row.p90.shown())),
                    _ => hidden.push(label),
                }
            }
            notes.extend(hidden_note(&hidden));
            if bands.iter().any(|b| b.1.is_none()) {
                notes.push("Grupper med färre än 21 svar visas utan P10–P90.".into());
            }
            (
                format!("Lön per {}", per(d)),
                if bands.is_empty() {
                    Body::Empty("För få svar för att visa någon grupp.".into())
                } else {
                    Body::Bands(bands)
                },
            )
        }
        Chart::MedianTrend => {
            let table = data.stats(&StatsQuery { group_by: vec![Dimension::Year], ..base.clone() })?;
            let mut points = Vec::new();
            let mut hidden = Vec::new();
            for row in &table.rows {
                match row.median.shown() {
                    Some(m) => points.push((row.cell.year, m, row.median_ci.shown())),
                    None => hidden.push(row.cell.year.to_string()),
                }
            }
            notes.extend(hidden_note(&hidden));
            notes.push("Skuggat: 95 % konfidensintervall för medianen (visas från 21 svar).".into());
            (
                "Medianlön per år".to_owned(),
                if points.is_empty() { Body::Empty("För få svar.".into()) } else { Body::Trend(points) },
            )
        }
        Chart::Distribution => {
            let cell = Cell { year, ..query.filter };
            // The bars add up to the group's count, so a group whose count
            // is hidden (for whatever reason) gets none.
            let body = match total.total.n {
                Figure::Shown(n) if n as usize >= HISTOGRAM_MIN => {
                    notes.push(format!(
                        "Staplarna är 5\u{a0}000 kr breda och deras höjd är antal svar; ytterkanterna slås ihop och \
                         varje stapel har minst {BAR_MIN} svar."
                    ));
                    let (p10, p90) = (total.total.p10.shown(), total.total.p90.shown());
                    let bars = data.histogram(&cell, |values| histogram(values, p10, p90));
                    Body::Histogram(bars.as_ref().clone())
                }
                Figure::Shown(_) => Body::Empty(format!("Fördelningen visas först från {HISTOGRAM_MIN} svar.")),
                Figure::Hidden(_) => {
                    Body::Empty("Fördelningen visas inte för den här gruppen: antalet svar kan inte publiceras.".into())
                }
            };
            ("Lönefördelning".to_owned(), body)
        }
        Chart::Gender => {
            let d = gender_groups(query);
            let table = data.stats(&StatsQuery { group_by: vec![d, Dimension::Gender], ..base.clone() })?;
            let mut pairs = Vec::new();
            let mut hidden = Vec::new();
            let groups: Vec<Cell> = {
                let mut g: Vec<Cell> = table.rows.iter().map(|r| Cell { gender: None, ..r.cell }).collect();
                g.dedup();
                g
            };
            for group in groups {
                let median = |g: Gender| {
                    table
                        .rows
                        .iter()
                        .find(|r| r.cell == Cell { gender: Some(g), ..group })
                        .and_then(|r| r.median.shown())
                };
                match (median(Gender::Kvinna), median(Gender::Man)) {
                    (Some(w), Some(m)) => pairs.push((group.label(d), w, m)),
                    _ => hidden.push(group.label(d)),
                }
            }
            notes.extend(hidden_note(&hidden));
            (
                format!("Medianlön för kvinnor och män per {}", per(d)),
                if pairs.is_empty() { Body::Empty("För få svar.".into()) } else { Body::Pairs(pairs) },
            )
        }
    };
    Ok(Spec { title, subtitle, source: source(year, &total.total), notes, body })
}

/// The chart's alternative text: its title, what it covers, and every
/// figure it draws, in the order drawn.
fn alt_text(spec: &Spec) -> String {
    let kr = |v: i64| format!("{} kr", thousands(v));
    let figures = match &spec.body {
        Body::Empty(message) => message.clone(),
        Body::Bands(bands) => bands
            .iter()
            .map(|(label, p10, q1, m, q3, p90)| {
                let mut parts = Vec::new();
                if let Some(v) = p10 {
                    parts.push(format!("P10 {}", kr(*v)));
                }
                parts.push(format!("P25 {}", kr(*q1)));
                parts.push(format!("median {}", kr(*m)));
                parts.push(format!("P75 {}", kr(*q3)));
                if let Some(v) = p90 {
                    parts.push(format!("P90 {}", kr(*v)));
                }
                format!("{label}: {}", parts.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; "),
        Body::Trend(points) => points
            .iter()
            .map(|(y, m, ci)| match ci {
                Some((lo, hi)) => format!("{y}: {} (95 % intervall {}–{})", kr(*m), thousands(*lo), kr(*hi)),
                None => format!("{y}: {}", kr(*m)),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Body::Histogram(bars) => {
            let bars: Vec<String> = bars.iter().map(|(label, n)| format!("{label} tusen kr: {n} svar")).collect();
            bars.join("; ")
        }
        Body::Pairs(pairs) => pairs
            .iter()
            .map(|(label, w, m)| format!("{label}: kvinnor {}, män {}", kr(*w), kr(*m)))
            .collect::<Vec<_>>()
            .join("; "),
    };
    let mut text = format!("{} ({}). {figures}.", spec.title, spec.subtitle);
    for note in &spec.notes {
        text.push(' ');
        text.push_str(note);
    }
    text.push(' ');
    text.push_str(&spec.source);
    text.push('.');
    text
}

/// Bars 5 000 kr wide between P10 and P90 (rounded outwards), the tails
/// merged into the outermost bars, and bars under [`BAR_MIN`] merged into a
/// neighbour, so no bar shows a handful of people.
fn histogram(values: &[f64], p10: Option<i64>, p90: Option<i64>) -> Vec<(String, usize)> {
    const STEP: i64 = 5_000;
    let lo = (p10.unwrap_or(round_100(values[values.len() / 10])) / STEP) * STEP;
    let hi = (p90.unwrap_or(round_100(values[values.len() * 9 / 10])) / STEP + 1) * STEP;
    // (from, to, count); None = open end
    let mut bins: Vec<(Option<i64>, Option<i64>, usize)> = vec![(None, Some(lo), 0)];
    let mut edge = lo;
    while edge < hi {
        bins.push((Some(edge), Some(edge + STEP), 0));
        edge += STEP;
    }
    bins.push((Some(hi), None, 0));
    for &v in values {
        let at = bins
            .iter()
            .position(|(from, to, _)| from.is_none_or(|f| v >= f as f64) && to.is_none_or(|t| v < t as f64))
            .unwrap_or(bins.len() - 1);
        bins[at].2 += 1;
    }
    bins.retain(|b| b.2 > 0 || (b.0.is_some() && b.1.is_some()));
    // Merge small bars into the next (the last into the one before).
    let mut i = 0;
    while i < bins.len() && bins.len() > 1 {
        if bins[i].2 < BAR_MIN {
            let j = if i + 1 < bins.len() { i + 1 } else { i - 1 };
            let (a, b) = (bins[i], bins[j]);
            let merged = (if j > i { a.0 } else { b.0 }, if j > i { b.1 } else { a.1 }, a.2 + b.2);
            bins[j] = merged;
            bins.remove(i);
            if j < i {
                i = i.saturating_sub(1);
            }
            continue;
        }
        i += 1;
    }
    let k = |v: i64| thousands(v / 1000);
    bins.into_iter()
        .map(|(from, to, n)| {
            let label = match (from, to) {
                (None, Some(t)) => format!("under {}", k(t)),
                (Some(f), None) => format!("{} –", k(f)),
                (Some(f), Some(t)) => format!("{}–{}", k(f), k(t)),
                (None, None) => "alla".into(),
            };
            (label, n)
        })
        .collect()
}

/// About how wide a text is at `px` in DejaVu Sans (its average advance is
/// a little over half the size; digits and capitals are wider).
fn text_width(text: &str, px: f64) -> i32 {
    (text.chars().count() as f64 * px / PLOTTERS_SCALE * 0.6).ceil() as i32
}

/// `text` in lines of at most `width` pixels at `px`, broken between words.
fn wrap(text: &str, px: f64, width: i32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
        if !line.is_empty() && text_width(&candidate, px) > width {
            lines.push(std::mem::take(&mut line));
            line = word.to_owned();
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Where everything goes, worked out from the spec and the width, so the
/// page can state an image's size without drawing it.
struct Layout {
    width: u32,
    height: u32,
    title: Vec<String>,
    subtitle: Vec<String>,
    /// Legend items in rows that fit the width.
    legend: Vec<Vec<(RGBColor, &'static str)>>,
    notes: Vec<String>,
    source: Vec<String>,
    /// The top of the plot and its height.
    plot_top: i32,
    plot_height: i32,
    /// For charts of one row per group: each group's label, in lines that
    /// fit above its bars.
    row_labels: Vec<Vec<String>>,
}

/// A group's label above its band: "Upphandlare: median 45 300 kr".
fn band_label(band: &Band) -> String {
    format!("{}: median {}\u{a0}kr", band.0, thousands(band.3).replace(' ', "\u{a0}"))
}

/// The height of a group's bars under its label: one band, or two bars.
const BAND_BARS: i32 = 30;
const PAIR_BARS: i32 = 42;
/// Room the row charts leave at each end for half an outer tick label.
const ROW_PLOT_INSET: i32 = 28;
/// The x axis under a plot of rows: tick labels and the axis name.
const X_AXIS: i32 = 48;

impl Layout {
    fn of(spec: &Spec, width: u32) -> Layout {
        let inner = width as i32 - 2 * MARGIN;
        let title = wrap(&spec.title, TITLE_PX, inner);
        let subtitle = wrap(&spec.subtitle, TEXT_PX, inner);
        let items: &[(RGBColor, &'static str)] = match spec.body {
            Body::Bands(_) => &[(SKY, "P10–P90"), (BLUE, "P25–P75"), (VERMILLION, "Median")],
            Body::Trend(_) => &[(BLUE, "Median"), (SKY, "95 % konfidensintervall")],
            Body::Pairs(_) => &[(ORANGE, "Kvinnor"), (BLUE, "Män")],
            Body::Histogram(_) | Body::Empty(_) => &[],
        };
        let mut legend: Vec<Vec<(RGBColor, &'static str)>> = Vec::new();
        let mut used = 0;
        for item in items {
            let w = 22 + text_width(item.1, TEXT_PX) + 16;
            if legend.is_empty() || used + w > inner {
                legend.push(Vec::new());
                used = 0;
            }
            legend.last_mut().expect("a row").push(*item);
            used += w;
        }
        let notes: Vec<String> = spec.notes.iter().flat_map(|n| wrap(n, TEXT_PX, inner)).collect();
        let source = wrap(&spec.source, TEXT_PX, inner);
        let header = 14 + TITLE_LINE * title.len() as i32 + LINE * (subtitle.len() + legend.len()) as i32 + 12;
        let label_width = inner - 2 * ROW_PLOT_INSET;
        let row_labels: Vec<Vec<String>> = match &spec.body {
            Body::Bands(b) => b.iter().map(|band| wrap(&band_label(band), TEXT_PX, label_width)).collect(),
            Body::Pairs(p) => p.iter().map(|pair| wrap(&pair.0, TEXT_PX, label_width)).collect(),
            _ => Vec::new(),
        };
        let bars = if matches!(spec.body, Body::Pairs(_)) { PAIR_BARS } else { BAND_BARS };
        let rows: i32 = row_labels.iter().map(|lines| LINE * lines.len() as i32 + bars).sum();
        let plot_height = match &spec.body {
            Body::Bands(_) | Body::Pairs(_) => rows + X_AXIS,
            Body::Trend(_) | Body::Histogram(_) => ((width as f64) * 0.42).clamp(240.0, 380.0) as i32,
            Body::Empty(_) => 120,
        };
        let footer = 8 + LINE * (notes.len() + source.len()) as i32 + 8;
        Layout {
            width,
            height: (header + plot_height + footer) as u32,
            title,
            subtitle,
            legend,
            notes,
            source,
            plot_top: header,
            plot_height,
            row_labels,
        }
    }

    fn narrow(&self) -> bool {
        self.width < 600
    }
}

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn font(size: f64) -> FontDesc<'static> {
    ("sans-serif", size).into_font()
}

/// Tick labels for an axis of amounts: as many as fit the plot's width.
fn amount_ticks(plot_width: i32) -> usize {
    (plot_width / 90).clamp(2, 9) as usize
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, spec: &Spec, l: &Layout) -> Drawn<DB> {
    draw_frame(root, l)?;
    let (top, height) = (l.plot_top, l.plot_height);
    let area = root.margin(top as u32, (l.height as i32 - top - height) as u32, MARGIN as u32, MARGIN as u32);
    match &spec.body {
        Body::Empty(message) => draw_empty(&area, l, message),
        Body::Bands(bands) => draw_bands(root, &area, l, bands),
        Body::Pairs(pairs) => draw_pairs(root, &area, l, pairs),
        Body::Trend(points) => draw_trend(&area, l, points),
        Body::Histogram(bars) => draw_histogram(root, &area, l, bars),
    }
}

/// What surrounds the plot: title, subtitle and legend above, notes and
/// source below.
fn draw_frame<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, l: &Layout) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let mut y = 14;
    for line in &l.title {
        root.draw(&Text::new(line.as_str(), (MARGIN, y), font(TITLE_PX).style(FontStyle::Bold).color(&INK)))?;
        y += TITLE_LINE;
    }
    for line in &l.subtitle {
        root.draw(&Text::new(line.as_str(), (MARGIN, y), font(TEXT_PX).color(&GREY)))?;
        y += LINE;
    }
    for items in &l.legend {
        let mut x = MARGIN;
        for (colour, label) in items {
            root.draw(&Rectangle::new([(x, y + 2), (x + 14, y + 16)], colour.filled()))?;
            root.draw(&Text::new(*label, (x + 20, y + 1), font(TEXT_PX).color(&INK)))?;
            x += 22 + text_width(label, TEXT_PX) + 16;
        }
        y += LINE;
    }
    let mut fy = l.plot_top + l.plot_height + 8;
    for line in &l.notes {
        root.draw(&Text::new(line.as_str(), (MARGIN, fy), font(TEXT_PX).color(&GREY)))?;
        fy += LINE;
    }
    for line in &l.source {
        root.draw(&Text::new(line.as_str(), (MARGIN, fy), font(TEXT_PX).color(&INK)))?;
        fy += LINE;
    }
    Ok(())
}

/// Nothing to show: the reason, centred.
fn draw_empty<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, l: &Layout, message: &str) -> Drawn<DB> {
    let w = l.width as i32;
    for (i, line) in wrap(message, TEXT_PX + 2.0, w - 2 * MARGIN).iter().enumerate() {
        area.draw(&Text::new(
            line.as_str(),
            ((w - 2 * MARGIN) / 2, 40 + i as i32 * 22),
            font(TEXT_PX + 2.0).color(&GREY).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// Percentile bands, a row per group.
fn draw_bands<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    l: &Layout,
    bands: &[Band],
) -> Drawn<DB> {
    let lo = bands.iter().map(|b| b.1.unwrap_or(b.2)).min().unwrap_or(0) as f64;
    let hi = bands.iter().map(|b| b.5.unwrap_or(b.4)).max().unwrap_or(1) as f64;
    let pad = ((hi - lo) * 0.06).max(1_000.0);
    draw_rows(area, l, (lo - pad)..(hi + pad), "kr per månad", BAND_BARS, |plot, i, row_top| {
        let (_, p10, q1, m, q3, p90) = &bands[i];
        let x = |v: i64| plot.map_coordinate(&(v as f64, 0.0)).0;
        let below = draw_label(root, plot, &l.row_labels[i], row_top)?;
        let yc = below + 14;
        if let (Some(a), Some(b)) = (p10, p90) {
            root.draw(&PathElement::new(vec![(x(*a), yc), (x(*b), yc)], SKY.stroke_width(3)))?;
            for xe in [x(*a), x(*b)] {
                root.draw(&PathElement::new(vec![(xe, yc - 6), (xe, yc + 6)], SKY.stroke_width(3)))?;
            }
        }
        root.draw(&Rectangle::new([(x(*q1), yc - 8), (x(*q3).max(x(*q1) + 2), yc + 8)], BLUE.filled()))?;
        root.draw(&PathElement::new(vec![(x(*m), yc - 11), (x(*m), yc + 11)], VERMILLION.stroke_width(4)))?;
        Ok(())
    })
}

/// Women's and men's medians, a row per group.
fn draw_pairs<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    l: &Layout,
    pairs: &[(String, i64, i64)],
) -> Drawn<DB> {
    let hi = pairs.iter().map(|p| p.1.max(p.2)).max().unwrap_or(1) as f64;
    let right = if l.narrow() { 1.45 } else { 1.2 };
    draw_rows(area, l, 0.0..hi * right, "kr per månad (median)", PAIR_BARS, |plot, i, row_top| {
        let (_, women, men) = &pairs[i];
        let x = |v: i64| plot.map_coordinate(&(v as f64, 0.0)).0;
        let below = draw_label(root, plot, &l.row_labels[i], row_top)?;
        for (value, colour, y0) in [(*women, ORANGE, below + 2), (*men, BLUE, below + 20)] {
            let (x0, xv) = (x(0), x(value));
            root.draw(&Rectangle::new([(x0, y0), (xv.max(x0 + 2), y0 + 16)], colour.filled()))?;
            root.draw(&Text::new(
                format!("{} kr", thousands(value)),
                (xv + 6, y0 + 8),
                font(TEXT_PX).color(&INK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(())
    })
}

/// The median year by year, with its interval.
fn draw_trend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, l: &Layout, points: &[TrendPoint]) -> Drawn<DB> {
    let lo = points.iter().map(|p| p.2.map_or(p.1, |c| c.0)).min().unwrap_or(0) as f64;
    let hi = points.iter().map(|p| p.2.map_or(p.1, |c| c.1)).max().unwrap_or(1) as f64;
    let pad = ((hi - lo) * 0.15).max(1_000.0);
    let (y0, y1) = (points[0].0, points[points.len() - 1].0);
    let y_area = if l.narrow() { 64 } else { 100 };
    let mut chart = ChartBuilder::on(area)
        .margin_right(if l.narrow() { 24 } else { 48 })
        .x_label_area_size(30)
        .y_label_area_size(y_area)
        .build_cartesian_2d((y0 as f64 - 0.5)..(y1 as f64 + 0.5), (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .x_labels((y1 - y0 + 1) as usize)
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-6 { format!("{}", x.round() as i64) } else { String::new() }
        })
        .y_labels(5)
        .y_label_formatter(&|y| thousands(*y as i64))
        .y_desc(if l.narrow() { "" } else { "kr per månad" })
        .label_style(font(TEXT_PX).color(&INK))
        .axis_desc_style(font(TEXT_PX).color(&GREY))
        .light_line_style(MESH)
        .draw()?;
    // The interval as a band over consecutive years that have one.
    let with_ci: Vec<(f64, (i64, i64))> =
        points.iter().filter_map(|(y, _, ci)| ci.map(|c| (f64::from(*y), c))).collect();
    if with_ci.len() >= 2 {
        let mut polygon: Vec<(f64, f64)> = with_ci.iter().map(|(x, c)| (*x, c.1 as f64)).collect();
        polygon.extend(with_ci.iter().rev().map(|(x, c)| (*x, c.0 as f64)));
        chart.draw_series(std::iter::once(Polygon::new(polygon, SKY.mix(0.35).filled())))?;
    }
    for (x, c) in &with_ci {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(*x, c.0 as f64), (*x, c.1 as f64)],
            SKY.stroke_width(2),
        )))?;
    }
    // The line only joins consecutive years.
    for w in points.windows(2) {
        if w[1].0 == w[0].0 + 1 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(f64::from(w[0].0), w[0].1 as f64), (f64::from(w[1].0), w[1].1 as f64)],
                BLUE.stroke_width(3),
            )))?;
        }
    }
    // Every point is labelled where there is room; on a phone the
    // last (the table under the chart has them all).
    let labelled = if l.narrow() { &points[points.len() - 1..] } else { points };
    for (y, m, _) in points {
        chart.draw_series(std::iter::once(Circle::new((f64::from(*y), *m as f64), 5, BLUE.filled())))?;
    }
    for (y, m, _) in labelled {
        let pos = if *y == y1 { HPos::Right } else { HPos::Left };
        chart.draw_series(std::iter::once(Text::new(
            format!("{} kr", thousands(*m)),
            (f64::from(*y), *m as f64),
            font(TEXT_PX).color(&INK).pos(Pos::new(pos, VPos::Bottom)),
        )))?;
    }
    Ok(())
}

/// The distribution as bars of counts.
fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    l: &Layout,
    bars: &[(String, usize)],
) -> Drawn<DB> {
    let k = bars.len();
    let top = bars.iter().map(|b| b.1).max().unwrap_or(1) as f64 * 1.12;
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(52)
        .y_label_area_size(if l.narrow() { 40 } else { 56 })
        .build_cartesian_2d(0.0..k as f64, 0.0..top)?;
    let plot_px = chart.plotting_area().dim_in_pixel().0 as i32;
    // Every bar is labelled when the labels fit, else every other.
    let widest = bars.iter().map(|b| text_width(&b.0, TEXT_PX)).max().unwrap_or(0) + 8;
    let every = ((widest * k as i32) / plot_px.max(1) + 1).max(1) as usize;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_labels(5)
        .y_label_formatter(&|y| format!("{}", y.round() as i64))
        .label_style(font(TEXT_PX).color(&INK))
        .light_line_style(MESH)
        .draw()?;
    let plot = chart.plotting_area();
    for (i, (label, n)) in bars.iter().enumerate() {
        let (xa, y0) = plot.map_coordinate(&(i as f64, 0.0));
        let (xb, yn) = plot.map_coordinate(&(i as f64 + 1.0, *n as f64));
        root.draw(&Rectangle::new([(xa + 2, yn), (xb - 2, y0)], BLUE.filled()))?;
        if i % every == 0 {
            root.draw(&Text::new(
                label.as_str(),
                ((xa + xb) / 2, y0 + 6),
                font(TEXT_PX).color(&INK).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
    }
    let (x_left, y_bottom) = plot.map_coordinate(&(0.0, 0.0));
    root.draw(&Text::new("tusen kr per månad", (x_left, y_bottom + 28), font(TEXT_PX).color(&GREY)))?;
    Ok(())
}

/// The left edge of a plot, in the root's pixels.
fn x_start<DB: DrawingBackend, CT: CoordTranslate>(plot: &DrawingArea<DB, CT>) -> i32 {
    plot.get_base_pixel().0
}

/// The coordinates of a plot of rows: amounts across, rows up.
type Rows = plotters::coord::cartesian::Cartesian2d<
    plotters::coord::types::RangedCoordf64,
    plotters::coord::types::RangedCoordf64,
>;

/// A group's label lines above its bars, from `top`; returns where the bars start.
fn draw_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &DrawingArea<DB, Rows>,
    lines: &[String],
    top: i32,
) -> Result<i32, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut y = top + 2;
    for line in lines {
        root.draw(&Text::new(line.as_str(), (x_start(plot), y), font(TEXT_PX).color(&INK)))?;
        y += LINE;
    }
    Ok(y)
}

/// A plot of one row per group, top to bottom, over an x axis of amounts:
/// each row is its label lines (from the layout) and `bars` pixels of bars;
/// `each(plot, i, top)` draws group `i`'s row, whose top is at `top`.
fn draw_rows<DB: DrawingBackend, F>(
    area: &DrawingArea<DB, Shift>,
    l: &Layout,
    x: std::ops::Range<f64>,
    x_desc: &str,
    bars: i32,
    mut each: F,
) -> Drawn<DB>
where
    F: FnMut(&DrawingArea<DB, Rows>, usize, i32) -> Drawn<DB>,
{
    let plot_px = l.width as i32 - 2 * MARGIN - 2 * ROW_PLOT_INSET;
    let heights: Vec<i32> = l.row_labels.iter().map(|lines| LINE * lines.len() as i32 + bars).collect();
    let total: i32 = heights.iter().sum();
    let mut chart = ChartBuilder::on(area)
        .margin_left(ROW_PLOT_INSET)
        .margin_right(ROW_PLOT_INSET)
        .x_label_area_size(X_AXIS)
        .y_label_area_size(0)
        .build_cartesian_2d(x, 0.0..f64::from(total.max(1)))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_labels(amount_ticks(plot_px))
        .x_label_formatter(&|v| thousands(*v as i64))
        .x_desc(x_desc)
        .label_style(font(TEXT_PX).color(&INK))
        .axis_desc_style(font(TEXT_PX).color(&GREY))
        .light_line_style(MESH)
        .draw()?;
    let plot = chart.plotting_area();
    // The first group at the top: y counts up from the bottom of the plot.
    let mut above = 0;
    for (i, h) in heights.iter().enumerate() {
        let top = plot.map_coordinate(&(0.0, f64::from(total - above))).1;
        each(plot, i, top)?;
        above += h;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use platsen_taxonomy::Role;
    use platsen_taxonomy::survey::{Response, Sector};
    use rand::{Rng, SeedableRng};

    use super::*;

    fn data() -> Dataset {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut rows = Vec::new();
        for year in [2023, 2024, 2025] {
            for i in 0..300 {
                // Inköpsassistent gets only 3 answers a year: never drawn.
                let role = if i < 3 {
                    Role::Inkopsassistent
                } else {
                    [Role::Upphandlare, Role::Inkopare, Role::Upphandlingschef][i % 3]
                };
                rows.push(Response {
                    year,
                    role,
                    sector: Sector::ALL[i % 6],
                    county_code: "01",
                    gender: if i % 3 == 0 { Gender::Man } else { Gender::Kvinna },
                    age: 40,
                    experience_years: 5,
                    monthly_salary_sek: rng.random_range(35_000..65_000),
                    extent_percent: 100,
                    specialisation: None,
                    is_manager: false,
                });
            }
        }
        Dataset::new(rows).unwrap()
    }

    #[test]
    fn every_chart_renders_as_svg_with_swedish_labels_and_a_source_line() {
        let data = data();
        for chart in Chart::ALL {
            let svg =
                String::from_utf8(render(&data, chart, &StatsQuery::default(), Format::Svg, DEFAULT_WIDTH).unwrap())
                    .unwrap();
            let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{}: {e}", chart.name()));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).map(str::trim).collect();
            let source = "Källa: Platsen lönestatistik 2025, n\u{a0}=\u{a0}300";
            assert!(texts.contains(&source), "{}: {texts:?}", chart.name());
            assert!(svg.contains(source), "{}", chart.name());
            assert!(svg.contains("månadslön omräknad till heltid"), "{}", chart.name());
        }
        let roles = svg_of(&data, Chart::PercentilesByRole, &StatsQuery::default(), DEFAULT_WIDTH);
        assert!(roles.contains("Lön per roll"));
        assert!(roles.contains("Upphandlingschef"));
        // A group of fewer than five is not drawn, not named: as if empty.
        assert!(!roles.contains("Inköpsassistent"));
        // Thousands with a space, and "kr".
        assert!(regex_like_amount(&roles), "no amount like \"45 300 kr\"");
        let trend = svg_of(&data, Chart::MedianTrend, &StatsQuery::default(), DEFAULT_WIDTH);
        for year in ["2023", "2024", "2025"] {
            assert!(trend.contains(year));
        }
    }

    /// Whether some text ends with an amount like "45 300 kr".
    fn regex_like_amount(svg: &str) -> bool {
        svg.split(['>', '<']).any(|t| {
            let t = t.replace('\u{a0}', " ");
            let Some(number) = t.trim().strip_suffix(" kr") else { return false };
            let digits = number.rsplit(|c: char| !(c.is_ascii_digit() || c == ' ')).next().unwrap_or("").trim();
            let groups: Vec<&str> = digits.split(' ').collect();
            groups.len() >= 2
                && (1..=3).contains(&groups[0].len())
                && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
                && groups[1..].iter().all(|g| g.len() == 3)
        })
    }

    fn svg_of(data: &Dataset, chart: Chart, query: &StatsQuery, width: u32) -> String {
        String::from_utf8(render(data, chart, query, Format::Svg, width).unwrap()).unwrap()
    }

    #[test]
    fn png_is_a_real_image_of_the_stated_size() {
        let data = data();
        for width in [360, 900] {
            let png_bytes = render(&data, Chart::Gender, &StatsQuery::default(), Format::Png, width).unwrap();
            let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
            let reader = decoder.read_info().unwrap();
            let d = describe(&data, Chart::Gender, &StatsQuery::default(), width).unwrap();
            assert_eq!((reader.info().width, reader.info().height), (d.width, d.height));
        }
    }

    /// A drawn shape, as the SVG has it.
    #[derive(Debug)]
    struct Shape {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: String,
    }

    /// Every filled rectangle of an SVG, and the text elements with their
    /// position and size.
    /// A text element: its text, x, y and font size.
    type TextAt = (String, f64, f64, f64);

    fn shapes(svg: &str) -> (f64, f64, Vec<Shape>, Vec<TextAt>) {
        let doc = roxmltree::Document::parse(svg).unwrap();
        let root = doc.root_element();
        let num = |n: roxmltree::Node, a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let (w, h) = (num(root, "width"), num(root, "height"));
        let rects = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect"))
            .map(|n| Shape {
                x: num(n, "x"),
                y: num(n, "y"),
                w: num(n, "width"),
                h: num(n, "height"),
                fill: n.attribute("fill").unwrap_or("").to_lowercase(),
            })
            .collect();
        let texts = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| {
                let size = n.attribute("font-size").and_then(|v| v.trim_end_matches("px").parse().ok()).unwrap_or(0.0);
                (n.text().unwrap_or("").trim().to_owned(), num(n, "x"), num(n, "y"), size)
            })
            .collect();
        (w, h, rects, texts)
    }

    /// A survey with `groups` roles (each with 30 answers a year, women and men).
    fn roles(groups: usize) -> Dataset {
        let mut rows = Vec::new();
        for year in [2024, 2025] {
            for (r, role) in Role::ALL.iter().take(groups).enumerate() {
                for i in 0..30 {
                    rows.push(Response {
                        year,
                        role: *role,
                        // Ten of each role in each of three sectors: their quartiles show.
                        sector: Sector::ALL[(i / 10) % 3],
                        county_code: platsen_taxonomy::counties()[(i + r) % 21].code,
                        gender: if i % 2 == 0 { Gender::Man } else { Gender::Kvinna },
                        age: 30 + (i as u32 % 30),
                        experience_years: (i % 12) as u32,
                        monthly_salary_sek: 38_000 + 700 * i as u32 + 900 * r as u32,
                        extent_percent: 100,
                        specialisation: None,
                        is_manager: false,
                    });
                }
            }
        }
        Dataset::new(rows).unwrap()
    }

    /// The failures seen on the salary page: with a role chosen, the gender
    /// chart had one group and drew its bars off the canvas, over the title.
    /// Every chart with groups draws one bar per group, inside the canvas
    /// and below the title and legend, for one group, two, and the largest
    /// grouping, wide and narrow.
    #[test]
    fn every_chart_draws_one_two_and_all_groups_inside_its_canvas() {
        let one_role =
            StatsQuery { filter: Cell { role: Some(Role::Upphandlare), ..Cell::default() }, ..Default::default() };
        let one_sector = StatsQuery {
            filter: Cell { sector: Some(Sector::Kommun), role: Some(Role::Upphandlare), ..Cell::default() },
            ..Default::default()
        };
        let cases: Vec<(Dataset, Chart, StatsQuery, usize)> = vec![
            (roles(1), Chart::PercentilesByRole, StatsQuery::default(), 1),
            (roles(2), Chart::PercentilesByRole, StatsQuery::default(), 2),
            (roles(Role::ALL.len()), Chart::PercentilesByRole, StatsQuery::default(), Role::ALL.len()),
            (roles(1), Chart::Gender, StatsQuery::default(), 1),
            (roles(2), Chart::Gender, StatsQuery::default(), 2),
            (roles(Role::ALL.len()), Chart::Gender, StatsQuery::default(), Role::ALL.len()),
            (roles(3), Chart::Gender, one_role.clone(), 1),
            (roles(3), Chart::PercentilesBySector, one_sector, 1),
        ];
        for (data, chart, query, groups) in cases {
            for width in [360, 900] {
                let svg = svg_of(&data, chart, &query, width);
                let (w, h, rects, texts) = shapes(&svg);
                let d = describe(&data, chart, &query, width).unwrap();
                assert_eq!((w, h), (f64::from(d.width), f64::from(d.height)), "{chart:?} {width}");
                let title_bottom =
                    texts.iter().find(|t| t.0.starts_with("Lön") || t.0.starts_with("Median")).unwrap().2 + 20.0;
                let colour = |c: RGBColor| format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2);
                let bars: Vec<&Shape> = rects
                    .iter()
                    .filter(|r| {
                        // Bars are 16 px high; the legend's swatches 14.
                        (r.fill == colour(BLUE) || r.fill == colour(ORANGE)) && r.h >= 15.5 && r.w > 0.0
                    })
                    .filter(|r| r.y > title_bottom + 20.0)
                    .collect();
                let per_group = if chart == Chart::Gender { 2 } else { 1 };
                assert_eq!(bars.len(), groups * per_group, "{chart:?} at {width} with {groups} groups: {rects:?}");
                for r in rects.iter().filter(|r| r.fill != "#ffffff" && r.fill != "white") {
                    assert!(
                        r.x >= 0.0 && r.y >= 0.0 && r.x + r.w <= w + 0.5 && r.y + r.h <= h + 0.5,
                        "{chart:?} {width}: {r:?} outside {w}×{h}"
                    );
                }
                for b in &bars {
                    assert!(b.y > title_bottom, "{chart:?} {width}: a bar over the title: {b:?}");
                }
                for (text, x, y, size) in &texts {
                    if text.trim().is_empty() {
                        continue;
                    }
                    assert!(*size >= MIN_TEXT_PX, "{chart:?} {width}: {text:?} at {size} px");
                    assert!(*x >= 0.0 && *x <= w && *y >= 0.0 && *y <= h, "{chart:?} {width}: {text:?} at ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn every_chart_has_an_alternative_text_with_its_figures() {
        let data = data();
        let d = describe(&data, Chart::PercentilesByRole, &StatsQuery::default(), 900).unwrap();
        let t = data.stats(&StatsQuery { group_by: vec![Dimension::Role], ..Default::default() }).unwrap();
        let upph = t.rows.iter().find(|r| r.cell.role == Some(Role::Upphandlare)).unwrap();
        let median = format!("Upphandlare: P10 {} kr", thousands(upph.p10.shown().unwrap()));
        assert!(d.alt.contains(&median), "{}", d.alt);
        assert!(d.alt.contains(&format!("median {} kr", thousands(upph.median.shown().unwrap()))), "{}", d.alt);
        let trend = describe(&data, Chart::MedianTrend, &StatsQuery::default(), 900).unwrap();
        for year in ["2023: ", "2024: ", "2025: "] {
            assert!(trend.alt.contains(year), "{}", trend.alt);
        }
        let gender = describe(&data, Chart::Gender, &StatsQuery::default(), 900).unwrap();
        assert!(gender.alt.contains("kvinnor ") && gender.alt.contains("män "), "{}", gender.alt);
        let dist = describe(&data, Chart::Distribution, &StatsQuery::default(), 900).unwrap();
        assert!(dist.alt.contains(" svar"), "{}", dist.alt);
        for chart in Chart::ALL {
            let d = describe(&data, chart, &StatsQuery::default(), 360).unwrap();
            assert!(d.alt.contains("Källa: Platsen lönestatistik 2025"), "{chart:?}: {}", d.alt);
        }
    }

    #[test]
    fn a_histogram_needs_fifty_answers_and_each_bar_holds_five() {
        let data = data();
        let few = StatsQuery {
            filter: Cell { role: Some(Role::Upphandlingschef), sector: Some(Sector::Stat), ..Cell::default() },
            ..Default::default()
        };
        let svg = svg_of(&data, Chart::Distribution, &few, DEFAULT_WIDTH);
        assert!(svg.contains("Fördelningen visas först från 50 svar."));
        let values = data.salaries(&Cell { year: 2025, ..Cell::default() });
        let bars = histogram(&values, None, None);
        assert!(bars.len() >= 3);
        assert!(bars.iter().all(|(_, n)| *n >= BAR_MIN));
        assert_eq!(bars.iter().map(|(_, n)| n).sum::<usize>(), values.len());
        // Outliers never get a bar of their own: the tails merge inwards.
        let mut skewed: Vec<f64> = (0..60).map(|i| 40_000.0 + 170.0 * f64::from(i)).collect();
        skewed.extend([21_000.0, 23_000.0, 140_000.0]);
        skewed.sort_by(f64::total_cmp);
        let bars = histogram(&skewed, None, None);
        assert!(bars[0].0.starts_with("under "), "{bars:?}");
        assert!(bars[bars.len() - 1].0.ends_with('–'), "{bars:?}");
        assert!(bars.iter().all(|(_, n)| *n >= BAR_MIN), "{bars:?}");
        assert_eq!(bars.iter().map(|(_, n)| n).sum::<usize>(), 63);
    }

    #[test]
    fn a_group_whose_count_is_hidden_gets_no_histogram() {
        // 60 women and 3 men: the women's count would give away the men's,
        // and so would the sum of their bars.
        let rows: Vec<Response> = (0..63)
            .map(|i| Response {
                year: 2025,
                role: Role::Upphandlare,
                sector: Sector::Kommun,
                county_code: "01",
                gender: if i < 60 { Gender::Kvinna } else { Gender::Man },
                age: 40,
                experience_years: 5,
                monthly_salary_sek: 35_000 + 400 * i,
                extent_percent: 100,
                specialisation: None,
                is_manager: false,
            })
            .collect();
        let data = Dataset::new(rows).unwrap();
        let women =
            StatsQuery { filter: Cell { gender: Some(Gender::Kvinna), ..Cell::default() }, ..Default::default() };
        assert_eq!(data.stats(&women).unwrap().total.n, Figure::Hidden(crate::Suppressed::Complementary));
        let svg = svg_of(&data, Chart::Distribution, &women, DEFAULT_WIDTH);
        assert!(svg.contains("antalet svar kan inte publiceras"), "{svg}");
        assert!(!svg.contains("Staplarna"));
        // All 63 together are a whole block: drawn.
        let all = svg_of(&data, Chart::Distribution, &StatsQuery::default(), DEFAULT_WIDTH);
        assert!(all.contains("Staplarna"), "{all}");
    }
}
