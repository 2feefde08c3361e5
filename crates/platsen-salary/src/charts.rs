//! Charts with plotters, as SVG or PNG. The fonts are compiled in; labels
//! are Swedish; colours are from the Okabe–Ito palette (safe for colour
//! vision deficiencies); hidden figures are left out with a note, never drawn.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::{round_100, thousands};
use crate::privacy::Suppressed;
use crate::stats::{Cell, Dataset, Dimension, Figure, Row, StatsError, StatsQuery};
use platsen_taxonomy::survey::Gender;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;
/// Histograms only from this many respondents.
pub const HISTOGRAM_MIN: usize = 50;
/// The smallest number of respondents a histogram bar may show.
const BAR_MIN: usize = 5;

const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);
const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);

/// The charts there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chart {
    PercentilesByRole,
    PercentilesBySector,
    MedianTrend,
    Distribution,
    Gender,
}

impl Chart {
    pub const ALL: [Chart; 5] =
        [Chart::PercentilesByRole, Chart::PercentilesBySector, Chart::MedianTrend, Chart::Distribution, Chart::Gender];

    pub fn name(self) -> &'static str {
        match self {
            Chart::PercentilesByRole => "percentiles-by-role",
            Chart::PercentilesBySector => "percentiles-by-sector",
            Chart::MedianTrend => "median-trend",
            Chart::Distribution => "distribution",
            Chart::Gender => "gender",
        }
    }

    pub fn from_name(name: &str) -> Option<Chart> {
        Chart::ALL.into_iter().find(|c| c.name() == name)
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

fn fonts() {
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

/// Renders a chart for the query's filters and year.
pub fn render(data: &Dataset, chart: Chart, query: &StatsQuery, format: Format) -> Result<Vec<u8>, ChartError> {
    fonts();
    let spec = spec(data, chart, query)?;
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
                draw(&root, &spec).map_err(|e| ChartError::Draw(e.to_string()))?;
                root.present().map_err(|e| ChartError::Draw(e.to_string()))?;
            }
            Ok(svg.into_bytes())
        }
        Format::Png => {
            let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
                draw(&root, &spec).map_err(|e| ChartError::Draw(e.to_string()))?;
                root.present().map_err(|e| ChartError::Draw(e.to_string()))?;
            }
            let mut out = Vec::new();
            let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(|e| ChartError::Draw(e.to_string()))?;
            writer.write_image_data(&pixels).map_err(|e| ChartError::Draw(e.to_string()))?;
            writer.finish().map_err(|e| ChartError::Draw(e.to_string()))?;
            Ok(out)
        }
    }
}

/// `Upphandlare · Kommun · Stockholms län`, or `Alla`.
fn describe(filter: &Cell) -> String {
    let parts: Vec<String> =
        Dimension::WITHIN_YEAR.into_iter().filter(|d| filter.value(*d).is_some()).map(|d| filter.label(d)).collect();
    if parts.is_empty() { "Alla svarande".into() } else { parts.join(" · ") }
}

fn source(year: i32, total: &Row) -> String {
    match total.n.shown() {
        Some(n) => format!("Källa: Platsen lönestatistik {year}, n = {}", thousands(n)),
        None => format!("Källa: Platsen lönestatistik {year}"),
    }
}

fn hidden_note(labels: &[String], why: Suppressed) -> Option<String> {
    (!labels.is_empty()).then(|| {
        let why = match why {
            Suppressed::FewRespondents => "för få svar",
            _ => "kan inte jämföras",
        };
        format!("Visas inte ({why}): {}.", labels.join(", "))
    })
}

fn spec(data: &Dataset, chart: Chart, query: &StatsQuery) -> Result<Spec, StatsError> {
    let base = StatsQuery { year: query.year, group_by: vec![], filter: query.filter };
    let total = data.stats(&base)?;
    let year = total.year;
    let subtitle = format!("{} · {year} · månadslön omräknad till heltid", describe(&query.filter));
    let mut notes = Vec::new();
    let (title, body) = match chart {
        Chart::PercentilesByRole | Chart::PercentilesBySector => {
            let d = if chart == Chart::PercentilesByRole { Dimension::Role } else { Dimension::Sector };
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
            notes.extend(hidden_note(&hidden, Suppressed::FewRespondents));
            if bands.iter().any(|b| b.1.is_none()) {
                notes.push("Grupper med färre än 21 svar visas utan P10–P90.".into());
            }
            let title = if d == Dimension::Role { "Lön per roll" } else { "Lön per sektor" };
            (
                title,
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
            notes.extend(hidden_note(&hidden, Suppressed::FewRespondents));
            notes.push("Skuggat: 95 % konfidensintervall för medianen (visas från 21 svar).".into());
            (
                "Medianlön per år",
                if points.is_empty() { Body::Empty("För få svar.".into()) } else { Body::Trend(points) },
            )
        }
        Chart::Distribution => {
            let cell = Cell { year, ..query.filter };
            // The bars add up to the group's count, so a group whose count
            // is hidden (too few, or derivable from other figures) gets none.
            let body = match total.total.n {
                Figure::Hidden(Suppressed::Complementary) => {
                    Body::Empty("Fördelningen visas inte för den här gruppen: antalet svar kan inte publiceras.".into())
                }
                Figure::Shown(n) if n as usize >= HISTOGRAM_MIN => {
                    notes.push(format!(
                    "Staplarna är 5 000 kr breda; ytterkanterna slås ihop och varje stapel har minst {BAR_MIN} svar."
                ));
                    let (p10, p90) = (total.total.p10.shown(), total.total.p90.shown());
                    let bars = data.histogram(&cell, |values| histogram(values, p10, p90));
                    Body::Histogram(bars.as_ref().clone())
                }
                _ => Body::Empty(format!("Fördelningen visas först från {HISTOGRAM_MIN} svar.")),
            };
            ("Lönefördelning", body)
        }
        Chart::Gender => {
            let d =
                if query.group_by.first() == Some(&Dimension::Sector) { Dimension::Sector } else { Dimension::Role };
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
            notes.extend(hidden_note(&hidden, Suppressed::FewRespondents));
            (
                "Medianlön för kvinnor och män",
                if pairs.is_empty() { Body::Empty("För få svar.".into()) } else { Body::Pairs(pairs) },
            )
        }
    };
    Ok(Spec { title: title.into(), subtitle, source: source(year, &total.total), notes, body })
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

/// `k` category slots (plotters' segmented range `0..n` has `n + 1`).
fn segments(k: i32) -> plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordi32> {
    (0..(k - 1).max(0)).into_segmented()
}

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, spec: &Spec) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let font = |size: f64| ("sans-serif", size).into_font();
    root.draw(&Text::new(spec.title.as_str(), (24, 16), font(24.0).style(FontStyle::Bold).color(&INK)))?;
    root.draw(&Text::new(spec.subtitle.as_str(), (24, 48), font(15.0).color(&GREY)))?;
    let footer = 30 + 20 * spec.notes.len() as i32;
    for (i, note) in spec.notes.iter().enumerate() {
        root.draw(&Text::new(
            note.as_str(),
            (24, HEIGHT as i32 - footer + 4 + 20 * i as i32),
            font(13.0).color(&GREY),
        ))?;
    }
    root.draw(&Text::new(spec.source.as_str(), (24, HEIGHT as i32 - 24), font(13.0).color(&INK)))?;
    let area = root.margin(76, footer as u32 + 4, 16, 24);
    let axis = |size: f64| font(size).color(&INK);
    match &spec.body {
        Body::Empty(message) => {
            area.draw(&Text::new(
                message.as_str(),
                (WIDTH as i32 / 2 - 24, (HEIGHT as i32 - footer) / 2 - 76),
                font(18.0).color(&GREY).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        Body::Bands(bands) => {
            let lo = bands.iter().map(|b| b.1.unwrap_or(b.2)).min().unwrap_or(0) as f64;
            let hi = bands.iter().map(|b| b.5.unwrap_or(b.4)).max().unwrap_or(1) as f64;
            let pad = ((hi - lo) * 0.08).max(1_000.0);
            let k = bands.len() as i32;
            let labels: Vec<String> = bands.iter().map(|b| b.0.clone()).collect();
            let mut chart = ChartBuilder::on(&area)
                .x_label_area_size(44)
                .y_label_area_size(190)
                .build_cartesian_2d((lo - pad)..(hi + pad * 2.5), segments(k))?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(bands.len() + 1)
                // The first group at the top.
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) if *i < k => {
                        labels.get((k - 1 - *i) as usize).cloned().unwrap_or_default()
                    }
                    _ => String::new(),
                })
                .x_label_formatter(&|x| thousands(*x as i64))
                .x_desc("kr per månad")
                .label_style(axis(13.0))
                .axis_desc_style(axis(13.0))
                .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
                .draw()?;
            let plot = chart.plotting_area();
            for (i, (_, p10, q1, m, q3, p90)) in bands.iter().enumerate() {
                let y = |x: i64| plot.map_coordinate(&(x as f64, SegmentValue::CenterOf(k - 1 - i as i32)));
                let (x1, yc) = y(*q1);
                let (x3, _) = y(*q3);
                let (xm, _) = y(*m);
                let mut label_at = x3;
                if let (Some(a), Some(b)) = (p10, p90) {
                    let (xa, _) = y(*a);
                    let (xb, _) = y(*b);
                    root.draw(&PathElement::new(vec![(xa, yc), (xb, yc)], SKY.stroke_width(3)))?;
                    for x in [xa, xb] {
                        root.draw(&PathElement::new(vec![(x, yc - 6), (x, yc + 6)], SKY.stroke_width(3)))?;
                    }
                    label_at = xb;
                }
                root.draw(&Rectangle::new([(x1, yc - 11), (x3, yc + 11)], BLUE.filled()))?;
                root.draw(&PathElement::new(vec![(xm, yc - 15), (xm, yc + 15)], VERMILLION.stroke_width(4)))?;
                root.draw(&Text::new(
                    format!("{} kr", thousands(*m)),
                    (label_at + 8, yc),
                    font(12.0).color(&INK).pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
            }
            legend(root, &[(SKY, "P10–P90"), (BLUE, "P25–P75"), (VERMILLION, "Median")])?;
        }
        Body::Trend(points) => {
            let lo = points.iter().map(|p| p.2.map_or(p.1, |c| c.0)).min().unwrap_or(0) as f64;
            let hi = points.iter().map(|p| p.2.map_or(p.1, |c| c.1)).max().unwrap_or(1) as f64;
            let pad = ((hi - lo) * 0.15).max(1_000.0);
            let (y0, y1) = (points[0].0, points[points.len() - 1].0);
            let mut chart = ChartBuilder::on(&area)
                .x_label_area_size(40)
                .y_label_area_size(80)
                .build_cartesian_2d((y0 as f64 - 0.5)..(y1 as f64 + 0.5), (lo - pad)..(hi + pad))?;
            chart
                .configure_mesh()
                .x_labels((y1 - y0 + 1) as usize)
                .x_label_formatter(&|x| {
                    if (x - x.round()).abs() < 1e-6 { format!("{}", x.round() as i64) } else { String::new() }
                })
                .y_label_formatter(&|y| thousands(*y as i64))
                .y_desc("kr per månad")
                .label_style(axis(13.0))
                .axis_desc_style(axis(13.0))
                .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
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
            for (y, m, _) in points {
                chart.draw_series(std::iter::once(Circle::new((f64::from(*y), *m as f64), 5, BLUE.filled())))?;
                chart.draw_series(std::iter::once(Text::new(
                    format!("{} kr", thousands(*m)),
                    (f64::from(*y), *m as f64),
                    font(12.0).color(&INK).pos(Pos::new(HPos::Left, VPos::Bottom)),
                )))?;
            }
            legend(root, &[(BLUE, "Median"), (SKY, "95 % konfidensintervall")])?;
        }
        Body::Histogram(bars) => {
            let k = bars.len() as i32;
            let top = bars.iter().map(|b| b.1).max().unwrap_or(1) as f64 * 1.12;
            let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
            let mut chart = ChartBuilder::on(&area)
                .x_label_area_size(44)
                .y_label_area_size(60)
                .build_cartesian_2d(segments(k), 0.0..top)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(bars.len() + 1)
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .y_label_formatter(&|y| format!("{}", y.round() as i64))
                .x_desc("tusen kr per månad")
                .y_desc("antal svar")
                .label_style(axis(11.0))
                .axis_desc_style(axis(13.0))
                .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
                .draw()?;
            let plot = chart.plotting_area();
            for (i, (_, n)) in bars.iter().enumerate() {
                let (xa, y0) = plot.map_coordinate(&(SegmentValue::Exact(i as i32), 0.0));
                let (xb, yn) = plot.map_coordinate(&(SegmentValue::Exact(i as i32 + 1), *n as f64));
                root.draw(&Rectangle::new([(xa + 3, yn), (xb - 3, y0)], BLUE.filled()))?;
            }
        }
        Body::Pairs(pairs) => {
            // Horizontal, like the bands: long Swedish role names stay readable.
            let hi = pairs.iter().map(|p| p.1.max(p.2)).max().unwrap_or(1) as f64 * 1.18;
            let k = pairs.len() as i32;
            let labels: Vec<String> = pairs.iter().map(|p| p.0.clone()).collect();
            let mut chart = ChartBuilder::on(&area)
                .x_label_area_size(44)
                .y_label_area_size(190)
                .build_cartesian_2d(0.0..hi, segments(k))?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(pairs.len() + 1)
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) if *i < k => {
                        labels.get((k - 1 - *i) as usize).cloned().unwrap_or_default()
                    }
                    _ => String::new(),
                })
                .x_label_formatter(&|x| thousands(*x as i64))
                .x_desc("kr per månad (median)")
                .label_style(axis(13.0))
                .axis_desc_style(axis(13.0))
                .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
                .draw()?;
            let plot = chart.plotting_area();
            for (i, (_, w, m)) in pairs.iter().enumerate() {
                let row = k - 1 - i as i32;
                let (x0, yc) = plot.map_coordinate(&(0.0, SegmentValue::CenterOf(row)));
                for (value, colour, y0, y1) in [(*w, ORANGE, yc - 13, yc - 1), (*m, BLUE, yc + 1, yc + 13)] {
                    let (xv, _) = plot.map_coordinate(&(value as f64, SegmentValue::CenterOf(row)));
                    root.draw(&Rectangle::new([(x0, y0), (xv, y1)], colour.filled()))?;
                    root.draw(&Text::new(
                        format!("{} kr", thousands(value)),
                        (xv + 6, (y0 + y1) / 2),
                        font(11.0).color(&INK).pos(Pos::new(HPos::Left, VPos::Center)),
                    ))?;
                }
            }
            legend(root, &[(ORANGE, "Kvinnor"), (BLUE, "Män")])?;
        }
    }
    Ok(())
}

fn legend<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, items: &[(RGBColor, &str)]) -> Drawn<DB> {
    let mut x = WIDTH as i32 - 24;
    for (colour, label) in items.iter().rev() {
        let width = 22 + 8 * label.chars().count() as i32;
        x -= width + 16;
        root.draw(&Rectangle::new([(x, 52), (x + 14, 66)], colour.filled()))?;
        root.draw(&Text::new(*label, (x + 20, 52), ("sans-serif", 13.0).into_font().color(&INK)))?;
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
            let svg = String::from_utf8(render(&data, chart, &StatsQuery::default(), Format::Svg).unwrap()).unwrap();
            let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{}: {e}", chart.name()));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).map(str::trim).collect();
            assert!(texts.contains(&"Källa: Platsen lönestatistik 2025, n = 300"), "{}: {texts:?}", chart.name());
            assert!(svg.contains("Källa: Platsen lönestatistik 2025, n = 300"), "{}", chart.name());
            assert!(svg.contains("månadslön omräknad till heltid"), "{}", chart.name());
        }
        let roles =
            String::from_utf8(render(&data, Chart::PercentilesByRole, &StatsQuery::default(), Format::Svg).unwrap())
                .unwrap();
        assert!(roles.contains("Lön per roll"));
        assert!(roles.contains("Upphandlingschef"));
        // Hidden groups are named in a note, never drawn as a band.
        assert!(roles.contains("Visas inte (för få svar): Inköpsassistent."));
        assert_eq!(roles.matches("Inköpsassistent").count(), 1);
        // Thousands with a space, and "kr".
        assert!(regex_like_amount(&roles), "no amount like \"45 300 kr\"");
        let trend =
            String::from_utf8(render(&data, Chart::MedianTrend, &StatsQuery::default(), Format::Svg).unwrap()).unwrap();
        for year in ["2023", "2024", "2025"] {
            assert!(trend.contains(year));
        }
    }

    fn regex_like_amount(svg: &str) -> bool {
        svg.split(['>', '<']).any(|t| {
            let t = t.trim();
            t.ends_with(" kr")
                && t.len() > 7
                && t[..t.len() - 3].split(' ').enumerate().all(|(i, g)| {
                    g.chars().all(|c| c.is_ascii_digit())
                        && if i == 0 { !g.is_empty() && g.len() <= 3 } else { g.len() == 3 }
                })
        })
    }

    #[test]
    fn png_is_a_real_image_of_the_stated_size() {
        let png_bytes = render(&data(), Chart::Gender, &StatsQuery::default(), Format::Png).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (WIDTH, HEIGHT));
    }

    #[test]
    fn a_histogram_needs_fifty_answers_and_each_bar_holds_five() {
        let data = data();
        let few = StatsQuery {
            filter: Cell { role: Some(Role::Upphandlingschef), sector: Some(Sector::Stat), ..Cell::default() },
            ..Default::default()
        };
        let svg = String::from_utf8(render(&data, Chart::Distribution, &few, Format::Svg).unwrap()).unwrap();
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
        assert_eq!(data.stats(&women).unwrap().total.n, Figure::Hidden(Suppressed::Complementary));
        let svg = String::from_utf8(render(&data, Chart::Distribution, &women, Format::Svg).unwrap()).unwrap();
        assert!(svg.contains("antalet svar kan inte publiceras"), "{svg}");
        assert!(!svg.contains("Staplarna"));
        // All 63 together are a whole block: drawn.
        let all = String::from_utf8(render(&data, Chart::Distribution, &StatsQuery::default(), Format::Svg).unwrap())
            .unwrap();
        assert!(all.contains("Staplarna"), "{all}");
    }
}
