//! Salary survey responses: imported a whole file at a time, in one
//! transaction, once per file.

use chrono::{DateTime, Utc};
use platsen_taxonomy::Role;
use platsen_taxonomy::survey::{Gender, Response, Sector, Specialisation};
use sqlx::Row;

use super::{Db, Store, ts};

use crate::error::{Error, Result};

/// An imported survey file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SalaryImport {
    pub id: i64,
    pub file_sha256: String,
    pub filename: String,
    pub responses: i64,
    /// The survey years in the file.
    pub years: Vec<i32>,
    pub created_at: DateTime<Utc>,
}

/// Rows per insert statement (13 binds each, well under both databases' limits).
const CHUNK: usize = 500;

impl Store {
    /// Stores a validated survey file in one transaction: all of it or, on
    /// any failure, nothing. A file whose SHA-256 was imported before is
    /// refused. `progress(done, of)` reports as rows are written.
    pub async fn import_salaries(
        &self,
        file_sha256: &str,
        filename: &str,
        rows: &[Response],
        now: DateTime<Utc>,
        progress: impl Fn(usize, usize),
    ) -> Result<SalaryImport> {
        let mut years: Vec<i32> = rows.iter().map(|r| r.year).collect();
        years.sort_unstable();
        years.dedup();
        let years_text = years.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
        let now = ts(now);
        let id: i64 = write_tx!(self, |tx| {
            let earlier: Option<(i64, DateTime<Utc>)> =
                sqlx::query_as("select id, created_at from salary_imports where file_sha256 = $1")
                    .bind(file_sha256)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((id, at)) = earlier {
                return Err(Error::Conflict {
                    code: "duplicate_import",
                    field: Some("file"),
                    message: format!(
                        "Filen har redan importerats (import {id}, {}).",
                        at.with_timezone(&chrono_tz::Europe::Stockholm).format("%Y-%m-%d %H:%M")
                    ),
                });
            }
            let id: i64 = sqlx::query_scalar(
                "insert into salary_imports (file_sha256, filename, responses, years, created_at)
                 values ($1, $2, $3, $4, $5) returning id",
            )
            .bind(file_sha256)
            .bind(filename)
            .bind(rows.len() as i64)
            .bind(years_text.as_str())
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for (i, chunk) in rows.chunks(CHUNK).enumerate() {
                let mut q = sqlx::QueryBuilder::new(
                    "insert into salary_responses (import_id, year, role, sector, county_code, gender, age,
                     experience_years, monthly_salary_sek, extent_percent, specialisation, is_manager) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(id)
                        .push_bind(r.year)
                        .push_bind(r.role.code())
                        .push_bind(r.sector.code())
                        .push_bind(r.county_code)
                        .push_bind(r.gender.code())
                        .push_bind(r.age as i32)
                        .push_bind(r.experience_years as i32)
                        .push_bind(r.monthly_salary_sek as i32)
                        .push_bind(r.extent_percent as i32)
                        .push_bind(r.specialisation.map(Specialisation::code))
                        .push_bind(r.is_manager);
                });
                q.build().execute(&mut *tx).await?;
                progress((i * CHUNK + chunk.len()).min(rows.len()), rows.len());
            }
            id
        });
        tracing::info!(import = id, responses = rows.len(), years = %years_text, "salary survey imported");
        Ok(SalaryImport {
            id,
            file_sha256: file_sha256.to_owned(),
            filename: filename.to_owned(),
            responses: rows.len() as i64,
            years,
            created_at: now,
        })
    }

    /// Every stored response, in import order.
    pub async fn salary_responses(&self) -> Result<Vec<Response>> {
        let rows = read!(self, |pool| {
            sqlx::query(
                "select year, role, sector, county_code, gender, age, experience_years, monthly_salary_sek,
                        extent_percent, specialisation, is_manager
                   from salary_responses order by id",
            )
            .fetch_all(pool)
            .await?
            .iter()
            .map(response_from_row)
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// Changes whenever a survey is imported: the newest import's id (0
    /// with none). Caches of statistics compare it.
    pub async fn salary_generation(&self) -> Result<i64> {
        let id: Option<i64> =
            read!(self, |pool| { sqlx::query_scalar("select max(id) from salary_imports").fetch_one(pool).await? });
        Ok(id.unwrap_or(0))
    }

    /// The imports, newest first.
    pub async fn salary_imports(&self) -> Result<Vec<SalaryImport>> {
        let rows = read!(self, |pool| {
            sqlx::query(
                "select id, file_sha256, filename, responses, years, created_at from salary_imports order by id desc",
            )
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| -> Result<SalaryImport> {
                let years: String = r.try_get("years")?;
                Ok(SalaryImport {
                    id: r.try_get("id")?,
                    file_sha256: r.try_get("file_sha256")?,
                    filename: r.try_get("filename")?,
                    responses: i64::from(r.try_get::<i32, _>("responses")?),
                    years: years.split(',').filter_map(|y| y.parse().ok()).collect(),
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }
}

fn response_from_row<R: Row>(r: &R) -> Result<Response>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i32: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let bad = |what: &str| Error::Database(sqlx::Error::Decode(format!("salary_responses: bad {what}").into()));
    let role: String = r.try_get("role")?;
    let sector: String = r.try_get("sector")?;
    let county: String = r.try_get("county_code")?;
    let gender: String = r.try_get("gender")?;
    let specialisation: Option<String> = r.try_get("specialisation")?;
    let whole = |name: &str| -> Result<u32> {
        let v: i32 = r.try_get(name)?;
        u32::try_from(v).map_err(|_| bad(name))
    };
    Ok(Response {
        year: r.try_get("year")?,
        role: Role::from_code(&role).ok_or_else(|| bad("role"))?,
        sector: Sector::from_code(&sector).ok_or_else(|| bad("sector"))?,
        county_code: platsen_taxonomy::county(&county).ok_or_else(|| bad("county_code"))?.code,
        gender: Gender::from_code(&gender).ok_or_else(|| bad("gender"))?,
        age: whole("age")?,
        experience_years: whole("experience_years")?,
        monthly_salary_sek: whole("monthly_salary_sek")?,
        extent_percent: whole("extent_percent")?,
        specialisation: match specialisation {
            None => None,
            Some(s) => Some(Specialisation::from_code(&s).ok_or_else(|| bad("specialisation"))?),
        },
        is_manager: r.try_get("is_manager")?,
    })
}
