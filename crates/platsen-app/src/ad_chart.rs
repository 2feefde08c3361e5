//! The small chart of one ad's days on the employer's dashboard: views,
//! apply clicks and appearances in search results, one row of daily bars
//! each (their sizes differ by orders of magnitude, so each row has its own
//! scale and says its largest day in words). Drawn with plotters as SVG at
//! the width it is shown at, with the compiled-in fonts of the salary
//! charts; the page also gives the figures as a table and a sentence.

use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::swedish_date;
use platsen_jobs::store::DayCounts;
use platsen_salary::format::thousands;

/// The chart's width in pixels: it fits a phone without being scaled down.
pub const WIDTH: u32 = 340;
const MARGIN: i32 = 12;
const ROW_LABEL: i32 = 24;
const BAR_AREA: i32 = 56;
const ROW_GAP: i32 = 14;
/// Plotters' SVG writes a font size of the size given divided by 1.24.
const TEXT_PX: f64 = 15.0 * 1.24;
const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
const GREY: RGBColor = RGBColor(0x4A, 0x4A, 0x4A);
const BASELINE: RGBColor = RGBColor(0x9A, 0x9A, 0x9A);

/// The three things counted, with their Swedish names and colours
/// (Okabe–Ito: blue, vermillion, bluish green, each at least 3:1 on white).
const ROWS: [(&str, RGBColor); 3] = [
    ("Visningar", RGBColor(0x00, 0x72, 0xB2)),
    ("Klick på Ansök", RGBColor(0xD5, 0x5E, 0x00)),
    ("I sökresultat", RGBColor(0x00, 0x7D, 0x5C)),
];

fn values(days: &[DayCounts], row: usize) -> Vec<i64> {
    days.iter().map(|d| [d.views, d.apply_clicks, d.appearances][row]).collect()
}

/// The chart's height for [`WIDTH`].
pub fn height() -> u32 {
    (MARGIN + 3 * (ROW_LABEL + BAR_AREA + ROW_GAP) + 22 + MARGIN) as u32
}

/// The chart as SVG.
pub fn svg(days: &[DayCounts]) -> Result<String, String> {
    platsen_salary::charts::fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height())).into_drawing_area();
        draw(&root, days).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    days: &[DayCounts],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let font = |px: f64| ("sans-serif", px).into_font();
    let plot_w = WIDTH as i32 - 2 * MARGIN;
    let n = days.len().max(1) as i32;
    let step = plot_w as f64 / f64::from(n);
    let mut y = MARGIN;
    for (row, (name, colour)) in ROWS.iter().enumerate() {
        let v = values(days, row);
        let total: i64 = v.iter().sum();
        let max = v.iter().copied().max().unwrap_or(0);
        root.draw(&Text::new(
            format!("{name}: {}", thousands(total)),
            (MARGIN, y),
            font(TEXT_PX).style(FontStyle::Bold).color(&INK),
        ))?;
        if max > 0 {
            root.draw(&Text::new(
                format!("högst {} en dag", thousands(max)),
                (WIDTH as i32 - MARGIN, y),
                font(TEXT_PX).color(&GREY).pos(Pos::new(HPos::Right, VPos::Top)),
            ))?;
        }
        let bottom = y + ROW_LABEL + BAR_AREA;
        for (i, value) in v.iter().enumerate() {
            if *value == 0 {
                continue;
            }
            let h = ((*value as f64 / max as f64) * f64::from(BAR_AREA)).round().max(2.0) as i32;
            let x0 = MARGIN + (i as f64 * step).round() as i32;
            let x1 = MARGIN + ((i as f64 + 1.0) * step).round() as i32 - if step >= 4.0 { 1 } else { 0 };
            root.draw(&Rectangle::new([(x0, bottom - h), (x1.max(x0 + 1), bottom)], colour.filled()))?;
        }
        root.draw(&PathElement::new(vec![(MARGIN, bottom), (MARGIN + plot_w, bottom)], BASELINE))?;
        y = bottom + ROW_GAP;
    }
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        root.draw(&Text::new(short_date(first.day), (MARGIN, y), font(TEXT_PX).color(&GREY)))?;
        root.draw(&Text::new(
            short_date(last.day),
            (WIDTH as i32 - MARGIN, y),
            font(TEXT_PX).color(&GREY).pos(Pos::new(HPos::Right, VPos::Top)),
        ))?;
    }
    Ok(())
}

/// "8 nov." for the axis (mars, maj, juni and juli are not shortened).
fn short_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    const MONTHS: [&str; 12] =
        ["jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "dec."];
    format!("{} {}", d.day(), MONTHS[d.month0() as usize])
}

/// The chart in one sentence, for its alternative text.
pub fn describe(days: &[DayCounts]) -> String {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return "Inga dagar att visa.".to_owned();
    };
    let sum = |row: usize| values(days, row).iter().sum::<i64>();
    let counted = |n: i64, one: &str, many: &str| format!("{} {}", thousands(n), if n == 1 { one } else { many });
    let mut text = format!(
        "Från {} till {}: {}, {} på Ansök och {} i sökresultat.",
        swedish_date(first.day),
        swedish_date(last.day),
        counted(sum(0), "visning", "visningar"),
        counted(sum(1), "klick", "klick"),
        counted(sum(2), "gång", "gånger"),
    );
    if let Some(best) = days.iter().filter(|d| d.views > 0).max_by_key(|d| (d.views, std::cmp::Reverse(d.day))) {
        text.push_str(&format!(" Flest visningar den {} ({}).", swedish_date(best.day), thousands(best.views)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn days(values: &[(i64, i64, i64)]) -> Vec<DayCounts> {
        let start = NaiveDate::from_ymd_opt(2026, 11, 8).unwrap();
        values
            .iter()
            .enumerate()
            .map(|(i, &(views, apply_clicks, appearances))| DayCounts {
                day: start + chrono::Duration::days(i as i64),
                views,
                apply_clicks,
                appearances,
            })
            .collect()
    }

    #[test]
    fn the_chart_draws_one_bar_per_day_with_a_count_and_names_its_rows_in_swedish() {
        let mut v = vec![(0, 0, 0); 30];
        v[3] = (12, 1, 400);
        v[29] = (3, 0, 1200);
        let svg = svg(&days(&v)).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for text in
            ["Visningar: 15", "Klick på Ansök: 1", "I sökresultat: 1 600", "högst 12 en dag", "8 nov.", "7 dec."]
        {
            assert!(svg.contains(text), "{text} in {svg}");
        }
        // Bars: two views, one click, two appearances (and the white ground).
        let coloured = |c: &str| svg.matches(&format!("fill=\"#{c}\"")).count();
        assert_eq!((coloured("0072B2"), coloured("D55E00"), coloured("007D5C")), (2, 1, 2), "{svg}");
    }

    #[test]
    fn axis_dates_are_shortened_as_swedish_months_are() {
        let d = |m| chrono::NaiveDate::from_ymd_opt(2026, m, 1).unwrap();
        assert_eq!(
            (short_date(d(3)), short_date(d(5)), short_date(d(7)), short_date(d(9))),
            ("1 mars".into(), "1 maj".into(), "1 juli".into(), "1 sep.".into())
        );
    }

    #[test]
    fn an_ad_nobody_has_seen_draws_empty_rows_and_says_so() {
        let d = days(&[(0, 0, 0); 30]);
        let svg = svg(&d).unwrap();
        assert!(svg.contains("Visningar: 0") && !svg.contains("högst"), "{svg}");
        assert_eq!(
            describe(&d),
            "Från 8 november 2026 till 7 december 2026: 0 visningar, 0 klick på Ansök och 0 gånger i sökresultat."
        );
        assert_eq!(describe(&[]), "Inga dagar att visa.");
    }

    #[test]
    fn the_sentence_gives_the_sums_and_the_best_day() {
        let one = days(&[(1, 1, 1)]);
        assert_eq!(
            describe(&one),
            "Från 8 november 2026 till 8 november 2026: 1 visning, 1 klick på Ansök och 1 gång i sökresultat. \
             Flest visningar den 8 november 2026 (1)."
        );
        let d = days(&[(2, 0, 10), (9, 2, 30), (9, 1, 5)]);
        assert_eq!(
            describe(&d),
            "Från 8 november 2026 till 10 november 2026: 20 visningar, 3 klick på Ansök och 45 gånger i sökresultat. \
             Flest visningar den 9 november 2026 (9)."
        );
    }
}
