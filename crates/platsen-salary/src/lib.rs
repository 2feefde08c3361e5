//! Lönestatistik: survey responses in, privacy-safe tables and charts out.
//!
//! `import` reads and validates a survey file; `stats` computes n, mean and
//! percentiles with Polars (lazy, Hyndman–Fan type 7) and applies `privacy`
//! (thresholds, disclosure blocks); `charts` draws them with plotters, as
//! SVG or PNG. No HTTP and no SQL here: rows in, values and images out.

pub mod charts;
pub mod format;
pub mod import;
pub mod privacy;
pub mod stats;

pub use charts::{Chart, ChartError, Format};
pub use platsen_taxonomy::survey::{AgeBand, ExperienceBand, Gender, Response, Sector, Specialisation};
pub use privacy::Suppressed;
pub use stats::{Cell, Dataset, Dimension, Figure, Position, Row, StatsError, StatsQuery, Table};
