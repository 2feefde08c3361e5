//! The demo board: fictional employers and ads so that a fresh `cargo run`
//! shows a realistic board. Everything here is marked `is_demo` and named so
//! that nobody mistakes it for a real ad.

use chrono::{DateTime, Duration, Utc};
use platsen_taxonomy::Role;
use platsen_taxonomy::survey::Sector;

use crate::error::Result;
use crate::input::{ContactInput, EmployerInput, JobInput};
use crate::model::{Actor, EmploymentType, RemoteMode, SalaryPeriod};
use crate::store::Store;
use crate::validate::today_in_sweden;

/// A fictional employer: name, organisation number (valid check digit, not
/// a real organisation's), home municipality, and a line about it.
struct DemoEmployer {
    name: &'static str,
    sector: Sector,
    org: &'static str,
    municipality: &'static str,
    about: &'static str,
    requires_review: bool,
    /// Further places of its first ad (an ad in several municipalities).
    branches: &'static [&'static str],
}

const EMPLOYERS: &[DemoEmployer] = &[
    DemoEmployer {
        name: "Sjövikens kommun (demo)",
        sector: Sector::Kommun,
        org: "212000-9994",
        municipality: "0182",
        about: "En växande kommun vid Saltsjön med 110 000 invånare.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Region Mälardalen (demo)",
        sector: Sector::Region,
        org: "232100-9991",
        municipality: "0380",
        about: "Regionen ansvarar för hälso- och sjukvård och kollektivtrafik.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Norrfjärdens kommun (demo)",
        sector: Sector::Kommun,
        org: "212000-9986",
        municipality: "2581",
        about: "Kustkommun i Norrbotten med stora investeringar i infrastruktur.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Västkustens upphandlingsbolag (demo)",
        sector: Sector::OffentligtBolag,
        org: "556900-9995",
        municipality: "1480",
        about: "Samordnar upphandlingar för tolv kommuner i Västsverige.",
        requires_review: false,
        // Göteborg, Kungsbacka (Halland) and Härryda.
        branches: &["1384", "1401"],
    },
    DemoEmployer {
        name: "Statens inköpsmyndighet (demo)",
        sector: Sector::Stat,
        org: "202100-9994",
        municipality: "0180",
        about: "Myndigheten samordnar statliga ramavtal.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Skånegårdens bostäder AB (demo)",
        sector: Sector::OffentligtBolag,
        org: "556900-9987",
        municipality: "1280",
        about: "Kommunalt bostadsbolag med 24 000 lägenheter i Malmö.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Ekbackens kommun (demo)",
        sector: Sector::Kommun,
        org: "212000-9978",
        municipality: "0580",
        about: "Universitetsstad i Östergötland.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Region Norrland Mitt (demo)",
        sector: Sector::Region,
        org: "232100-9983",
        municipality: "2281",
        about: "Region med ansvar för vård och regional utveckling.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Inköpskonsulterna i Sverige AB (demo)",
        sector: Sector::Konsult,
        org: "556900-9979",
        municipality: "0180",
        about: "Konsultbolag specialiserat på offentlig upphandling.",
        requires_review: true,
        branches: &[],
    },
    DemoEmployer {
        name: "Dalälvens energi AB (demo)",
        sector: Sector::OffentligtBolag,
        org: "556900-9961",
        municipality: "2080",
        about: "Kommunägt energibolag i Dalarna.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Gotlands hamnar (demo)",
        sector: Sector::OffentligtBolag,
        org: "556900-9953",
        municipality: "0980",
        about: "Driver hamnarna på Gotland.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Uppsala vatten och miljö (demo)",
        sector: Sector::OffentligtBolag,
        org: "556900-9946",
        municipality: "0380",
        about: "Ansvarar för vatten, avlopp och avfall.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Jönköpings skolförbund (demo)",
        sector: Sector::Kommun,
        org: "222000-9993",
        municipality: "0680",
        about: "Kommunalförbund för gymnasieskolor i länet.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Kalmarsundets trafik AB (demo)",
        sector: Sector::OffentligtBolag,
        org: "556900-9938",
        municipality: "0880",
        about: "Regional kollektivtrafik i Kalmar län.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Värmlands fastighetsförvaltning (demo)",
        sector: Sector::Region,
        org: "556900-9920",
        municipality: "1780",
        about: "Förvaltar regionens sjukhus och skolor.",
        requires_review: false,
        branches: &[],
    },
    DemoEmployer {
        name: "Örebro läns räddningstjänst (demo)",
        sector: Sector::Kommun,
        org: "222000-9985",
        municipality: "1880",
        about: "Räddningstjänstförbund för sex kommuner.",
        requires_review: false,
        branches: &[],
    },
];

/// An ad template: role, title stem, employment type, remote mode, salary range.
type Template = (Role, &'static str, EmploymentType, RemoteMode, Option<(i64, i64)>);

const ADS: &[Template] = &[
    (Role::Upphandlare, "Upphandlare", EmploymentType::Tillsvidare, RemoteMode::Hybrid, Some((42_000, 52_000))),
    (Role::Inkopschef, "Inköpschef", EmploymentType::Tillsvidare, RemoteMode::OnSite, Some((68_000, 80_000))),
    (
        Role::Avtalscontroller,
        "Avtalscontroller",
        EmploymentType::Tillsvidare,
        RemoteMode::Hybrid,
        Some((44_000, 50_000)),
    ),
    (
        Role::Upphandlingsjurist,
        "Upphandlingsjurist",
        EmploymentType::Tillsvidare,
        RemoteMode::Hybrid,
        Some((55_000, 68_000)),
    ),
    (Role::Kategoriledare, "Kategoriledare IT", EmploymentType::Tillsvidare, RemoteMode::Remote, None),
    (Role::Inkopare, "Inköpare", EmploymentType::Visstid, RemoteMode::OnSite, Some((36_000, 42_000))),
    (
        Role::Upphandlingschef,
        "Upphandlingschef",
        EmploymentType::Tillsvidare,
        RemoteMode::OnSite,
        Some((70_000, 85_000)),
    ),
    (Role::Inkopsassistent, "Inköpsassistent", EmploymentType::Vikariat, RemoteMode::OnSite, Some((29_000, 33_000))),
    (
        Role::Upphandlare,
        "Senior upphandlare bygg och entreprenad",
        EmploymentType::Tillsvidare,
        RemoteMode::Hybrid,
        Some((50_000, 60_000)),
    ),
    (Role::Avtalscontroller, "Avtalsförvaltare", EmploymentType::Visstid, RemoteMode::Hybrid, None),
    (
        Role::Annan,
        "Strategisk inköpsutvecklare",
        EmploymentType::Tillsvidare,
        RemoteMode::Hybrid,
        Some((52_000, 62_000)),
    ),
    (Role::Upphandlare, "Upphandlingskonsult", EmploymentType::Konsultuppdrag, RemoteMode::Remote, None),
];

fn description(stem: &str, employer: &str, about: &str) -> String {
    format!(
        "**Det här är en påhittad demoannons.** {employer} finns inte på riktigt.\n\n\
         ## Om oss\n\n{about}\n\n\
         ## Om tjänsten\n\nSom {title_lc} leder du upphandlingar från behovsanalys till avtal och \
         uppföljning enligt LOU. Du samarbetar med verksamheterna, skriver förfrågningsunderlag och \
         utvärderar anbud.\n\n\
         ## Vi söker dig som\n\n- har högskoleutbildning inom juridik, ekonomi eller teknik\n\
         - har erfarenhet av offentlig upphandling\n- uttrycker dig väl i tal och skrift på svenska\n\n\
         Vi tillämpar löpande urval.",
        title_lc = stem.to_lowercase()
    )
}

/// Seeds the demo board if the database has no employers. Returns how many
/// ads it published (0 when the database already had data).
pub async fn seed_if_empty(store: &Store, now: DateTime<Utc>) -> Result<usize> {
    if !store.is_empty().await? {
        return Ok(0);
    }
    let today = today_in_sweden(now);
    let mut published = 0;
    for (i, e) in EMPLOYERS.iter().enumerate() {
        let employer = store
            .create_employer(
                EmployerInput {
                    name: Some(e.name.into()),
                    organization_number: Some(e.org.into()),
                    website: Some(format!("https://example.org/demo/{}", i + 1)),
                    description: Some(format!("{} Fiktiv arbetsgivare på Platsens demotavla.", e.about)),
                    requires_review: Some(e.requires_review),
                    sector: Some(e.sector.code().into()),
                    ..Default::default()
                },
                true,
                now,
            )
            .await?;
        let municipality = platsen_taxonomy::municipality(e.municipality).expect("demo municipality exists");
        // Three ads per employer, spread over the templates and the calendar.
        for k in 0..3 {
            let n = i * 3 + k;
            let (role, stem, employment_type, remote, salary) = ADS[n % ADS.len()];
            let title = format!("{stem} till {}", e.name.trim_end_matches(" (demo)"));
            let deadline = today + Duration::days(7 + (n as i64 * 5) % 45);
            let input = JobInput {
                title: Some(title.clone()),
                description: Some(description(stem, e.name, e.about)),
                role: Some(role),
                municipality_code: Some(municipality.code.into()),
                municipality_codes: (k == 0 && !e.branches.is_empty()).then(|| {
                    std::iter::once(municipality.code).chain(e.branches.iter().copied()).map(Into::into).collect()
                }),
                remote: Some(remote),
                employment_type: Some(employment_type),
                extent_percent: Some(if n % 7 == 3 { 80 } else { 100 }),
                salary_min: salary.map(|s| s.0),
                salary_max: salary.map(|s| s.1),
                salary_period: salary.map(|_| SalaryPeriod::Month),
                vacancies: Some(1 + (n as i64 % 5 == 0) as i64),
                application_deadline: Some(deadline),
                start_text: Some("Enligt överenskommelse".into()),
                apply_url: Some(format!("https://example.org/demo/{}/jobb/{}", i + 1, k + 1)),
                contacts: Some(vec![ContactInput {
                    name: Some(["Anna Lind", "Erik Berg", "Sara Holm", "Johan Ek"][n % 4].into()),
                    title: Some("Rekryterande chef".into()),
                    email: None,
                    phone: Some("08-123 456 78".into()),
                }]),
                ..Default::default()
            };
            // Stagger publication times so "newest" has a meaningful order.
            let at = now - Duration::hours(n as i64 * 7);
            let ad = store.create_job(Actor::System, employer.id, input, at).await?;
            store.publish_as_operator(ad.id, at).await?;
            published += 1;
        }
    }
    tracing::info!(employers = EMPLOYERS.len(), ads = published, "seeded demo board");
    Ok(published)
}

/// Seeds the synthetic salary survey (see [`synthetic_survey`]) when none
/// is imported, so Lönestatistik has something to show.
pub async fn seed_salaries_if_empty(store: &Store, now: DateTime<Utc>) -> Result<usize> {
    if store.salary_generation().await? != 0 {
        return Ok(0);
    }
    let rows = synthetic_survey(2023, 1);
    let n = rows.len();
    store.import_salaries("demo-survey-2021-2025", "demo-lonestatistik.csv", &rows, now, |_, _| {}).await?;
    tracing::info!(responses = n, "seeded demo salary survey");
    Ok(n)
}

/// The demo board's offer (prices excluding VAT, in öre): one standard ad
/// for 30 days, one featured ad for 45 days, and five standard ads to use
/// within a year.
pub const PRODUCTS: [(&str, &str, i64, i64, i64, bool, i64); 3] = [
    (
        "Standardannons",
        "En annons i 30 dagar på Platsen, i flöden, widgetar och Google for Jobs.",
        490_000,
        1,
        30,
        false,
        365,
    ),
    (
        "Premiumannons",
        "En utvald annons i 45 dagar: först i sökträffarna, under Utvalda jobb på startsidan och först i jobbevakningarnas mejl.",
        890_000,
        1,
        45,
        true,
        365,
    ),
    ("Annonspaket 5", "Fem annonser i 30 dagar vardera, att använda inom tolv månader.", 1_990_000, 5, 30, false, 365),
];

/// Seeds [`PRODUCTS`] if the catalogue is empty (retired products count:
/// an operator who retired the demo's does not get them back).
pub async fn seed_products_if_empty(store: &Store, now: DateTime<Utc>) -> Result<usize> {
    if !store.products(true).await?.is_empty() {
        return Ok(0);
    }
    for (name, description, price_ore, ad_credits, ad_days, featured, credit_valid_days) in PRODUCTS {
        store
            .create_product(
                crate::input::ProductInput {
                    name: Some(name.into()),
                    description: Some(description.into()),
                    price_ore: Some(price_ore),
                    vat_percent: Some(25),
                    ad_credits: Some(ad_credits),
                    ad_days: Some(ad_days),
                    featured: Some(featured),
                    credit_valid_days: Some(credit_valid_days),
                },
                now,
            )
            .await?;
    }
    tracing::info!(products = PRODUCTS.len(), "seeded the demo offer");
    Ok(PRODUCTS.len())
}

/// The survey years of the synthetic survey.
pub const SYNTHETIC_YEARS: [i32; 5] = [2021, 2022, 2023, 2024, 2025];

/// A fictional salary survey, five years (2021–2025), deterministic for a
/// seed, calibrated to the published figures of the 2023 survey of Swedish
/// procurement professionals: 1,727 respondents in 2023; mean monthly salary
/// of upphandlare 45,312 kr (+3.3 % on 2022), of upphandlingschef 63,149 kr;
/// upphandlare working with construction contracts (entreprenad) 48,024 kr;
/// state employers about 8.5 % above municipalities, regions lowest. The
/// three means are met exactly (to the krona) in 2023; the sector gap is
/// built into the model. `scale` multiplies the number of respondents (the
/// benchmark uses it for a million).
pub fn synthetic_survey(seed: u64, scale: usize) -> Vec<platsen_taxonomy::survey::Response> {
    use platsen_taxonomy::survey::{Gender, Response, Specialisation};
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    fn pick(rng: &mut rand::rngs::StdRng, weights: &[u32]) -> usize {
        let mut x = rng.random_range(0..weights.iter().sum::<u32>());
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        0
    }
    // Role::ALL order: upphandlare, inköpare, upphandlingschef, inköpschef,
    // avtalscontroller, kategoriledare, upphandlingsjurist, inköpsassistent, annan.
    let role_weights = [40, 15, 8, 6, 8, 6, 4, 5, 8];
    let role_base = [45_312.0, 41_500.0, 63_149.0, 66_000.0, 44_500.0, 52_000.0, 56_000.0, 33_500.0, 43_000.0];
    // Sector::ALL order: kommun, region, stat, offentligt_bolag, privat, konsult.
    let sector_weights = [45, 12, 20, 8, 10, 5];
    let sector_factor = [1.0, 0.965, 1.085, 1.03, 1.06, 1.10];
    // The salary level of each year relative to 2023 (2023 on 2022: +3.3 %).
    let level = [0.945, 0.968, 1.0, 1.036, 1.068];
    let respondents = [1_580, 1_650, 1_727, 1_760, 1_790];
    let counties = platsen_taxonomy::counties();
    let county_weights: Vec<u32> = counties
        .iter()
        .map(|c| match c.code {
            "01" => 25,
            "14" => 17,
            "12" => 13,
            "03" | "05" | "18" => 4,
            _ => 2,
        })
        .collect();
    // Full-time salaries before calibration, per year.
    let mut rows: Vec<(usize, Response, f64)> = Vec::new();
    for (y, year) in SYNTHETIC_YEARS.into_iter().enumerate() {
        for _ in 0..respondents[y] * scale {
            let r = pick(&mut rng, &role_weights);
            let s = pick(&mut rng, &sector_weights);
            let gender =
                [Gender::Kvinna, Gender::Man, Gender::Annat, Gender::UppgiftSaknas][pick(&mut rng, &[62, 35, 1, 2])];
            let age: u32 = rng.random_range(24..66);
            let experience: u32 = rng.random_range(0..=(age - 22).min(30));
            let specialisation = [
                None,
                Some(Specialisation::It),
                Some(Specialisation::Entreprenad),
                Some(Specialisation::Avtalsforvaltning),
            ][pick(&mut rng, &[40, 15, 25, 20])];
            let noise: f64 = (0..3).map(|_| rng.random_range(0.9..1.1)).product();
            let full_time = role_base[r]
                * sector_factor[s]
                * (if specialisation == Some(Specialisation::Entreprenad) { 1.06 } else { 1.0 })
                * (0.9 + 0.01 * f64::from(experience.min(20)))
                * (if gender == Gender::Man { 1.02 } else { 1.0 })
                * level[y]
                * noise;
            let extent: u32 = if rng.random_range(0..10) < 9 { 100 } else { [50, 75, 80, 90][rng.random_range(0..4)] };
            let role = Role::ALL[r];
            rows.push((
                y,
                Response {
                    year,
                    role,
                    sector: Sector::ALL[s],
                    county_code: counties[pick(&mut rng, &county_weights)].code,
                    gender,
                    age,
                    experience_years: experience,
                    monthly_salary_sek: 0,
                    extent_percent: extent,
                    specialisation,
                    is_manager: matches!(role, Role::Upphandlingschef | Role::Inkopschef),
                },
                full_time,
            ));
        }
    }
    // Calibrate on 2023: scale groups so their means are the published ones;
    // the same factor applies to that group in every year.
    let mean = |rows: &[(usize, Response, f64)], f: &dyn Fn(&Response) -> bool| {
        let v: Vec<f64> = rows.iter().filter(|(y, r, _)| *y == 2 && f(r)).map(|t| t.2).collect();
        (v.iter().sum::<f64>(), v.len() as f64)
    };
    let entreprenad = |r: &Response| r.specialisation == Some(Specialisation::Entreprenad);
    let (sum_e, n_e) = mean(&rows, &|r| r.role == Role::Upphandlare && entreprenad(r));
    let (sum_o, n_o) = mean(&rows, &|r| r.role == Role::Upphandlare && !entreprenad(r));
    let factor_e = 48_024.0 * n_e / sum_e;
    let factor_o = (45_312.0 * (n_e + n_o) - 48_024.0 * n_e) / sum_o;
    let (sum_c, n_c) = mean(&rows, &|r| r.role == Role::Upphandlingschef);
    let factor_c = 63_149.0 * n_c / sum_c;
    for (_, r, full_time) in &mut rows {
        *full_time *= match r.role {
            Role::Upphandlare if entreprenad(r) => factor_e,
            Role::Upphandlare => factor_o,
            Role::Upphandlingschef => factor_c,
            _ => 1.0,
        };
    }
    // Part-time pay is what the respondent actually earns; whole kronor.
    rows.into_iter()
        .map(|(_, mut r, full_time)| {
            r.monthly_salary_sek = (full_time * f64::from(r.extent_percent) / 100.0).round() as u32;
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use platsen_taxonomy::survey::{Response, Specialisation};

    use super::*;

    fn mean(rows: &[Response], f: impl Fn(&Response) -> bool) -> f64 {
        let v: Vec<f64> = rows.iter().filter(|r| f(r)).map(Response::full_time_salary).collect();
        v.iter().sum::<f64>() / v.len() as f64
    }

    #[test]
    fn the_synthetic_survey_meets_the_published_2023_figures() {
        let rows = synthetic_survey(2023, 1);
        assert_eq!(rows, synthetic_survey(2023, 1), "deterministic");
        let y2023 = |r: &Response| r.year == 2023;
        assert_eq!(rows.iter().filter(|r| y2023(r)).count(), 1_727);
        let years: std::collections::BTreeSet<i32> = rows.iter().map(|r| r.year).collect();
        assert_eq!(years.len(), 5);
        let upph = mean(&rows, |r| y2023(r) && r.role == Role::Upphandlare);
        assert!((upph - 45_312.0).abs() < 2.0, "{upph}");
        let chef = mean(&rows, |r| y2023(r) && r.role == Role::Upphandlingschef);
        assert!((chef - 63_149.0).abs() < 2.0, "{chef}");
        let entreprenad = mean(&rows, |r| {
            y2023(r) && r.role == Role::Upphandlare && r.specialisation == Some(Specialisation::Entreprenad)
        });
        assert!((entreprenad - 48_024.0).abs() < 2.0, "{entreprenad}");
        let before = mean(&rows, |r| r.year == 2022 && r.role == Role::Upphandlare);
        let change = upph / before - 1.0;
        assert!((0.018..0.048).contains(&change), "{change}");
        let sector = |s: Sector| mean(&rows, |r| y2023(r) && r.sector == s);
        let state = sector(Sector::Stat) / sector(Sector::Kommun) - 1.0;
        assert!((0.05..0.12).contains(&state), "{state}");
        for s in [Sector::Kommun, Sector::Stat, Sector::OffentligtBolag, Sector::Privat, Sector::Konsult] {
            assert!(sector(Sector::Region) < sector(s), "regions pay least");
        }
    }
}
