//! The demo board: fictional employers and ads so that a fresh `cargo run`
//! shows a realistic board. Everything here is marked `is_demo` and named so
//! that nobody mistakes it for a real ad.

use chrono::{DateTime, Duration, Utc};
use platsen_taxonomy::Role;

use crate::error::Result;
use crate::input::{ContactInput, EmployerInput, JobInput};
use crate::model::{Actor, EmploymentType, RemoteMode, SalaryPeriod};
use crate::store::Store;
use crate::validate::today_in_sweden;

/// A fictional employer: name, organisation number (valid check digit, not
/// a real organisation's), home municipality, and a line about it.
struct DemoEmployer {
    name: &'static str,
    org: &'static str,
    municipality: &'static str,
    about: &'static str,
    requires_review: bool,
}

const EMPLOYERS: &[DemoEmployer] = &[
    DemoEmployer {
        name: "Sjövikens kommun (demo)",
        org: "212000-9994",
        municipality: "0182",
        about: "En växande kommun vid Saltsjön med 110 000 invånare.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Region Mälardalen (demo)",
        org: "232100-9991",
        municipality: "0380",
        about: "Regionen ansvarar för hälso- och sjukvård och kollektivtrafik.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Norrfjärdens kommun (demo)",
        org: "212000-9986",
        municipality: "2581",
        about: "Kustkommun i Norrbotten med stora investeringar i infrastruktur.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Västkustens upphandlingsbolag (demo)",
        org: "556900-9995",
        municipality: "1480",
        about: "Samordnar upphandlingar för tolv kommuner i Västsverige.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Statens inköpsmyndighet (demo)",
        org: "202100-9994",
        municipality: "0180",
        about: "Myndigheten samordnar statliga ramavtal.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Skånegårdens bostäder AB (demo)",
        org: "556900-9987",
        municipality: "1280",
        about: "Kommunalt bostadsbolag med 24 000 lägenheter i Malmö.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Ekbackens kommun (demo)",
        org: "212000-9978",
        municipality: "0580",
        about: "Universitetsstad i Östergötland.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Region Norrland Mitt (demo)",
        org: "232100-9983",
        municipality: "2281",
        about: "Region med ansvar för vård och regional utveckling.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Inköpskonsulterna i Sverige AB (demo)",
        org: "556900-9979",
        municipality: "0180",
        about: "Konsultbolag specialiserat på offentlig upphandling.",
        requires_review: true,
    },
    DemoEmployer {
        name: "Dalälvens energi AB (demo)",
        org: "556900-9961",
        municipality: "2080",
        about: "Kommunägt energibolag i Dalarna.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Gotlands hamnar (demo)",
        org: "556900-9953",
        municipality: "0980",
        about: "Driver hamnarna på Gotland.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Uppsala vatten och miljö (demo)",
        org: "556900-9946",
        municipality: "0380",
        about: "Ansvarar för vatten, avlopp och avfall.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Jönköpings skolförbund (demo)",
        org: "222000-9993",
        municipality: "0680",
        about: "Kommunalförbund för gymnasieskolor i länet.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Kalmarsundets trafik AB (demo)",
        org: "556900-9938",
        municipality: "0880",
        about: "Regional kollektivtrafik i Kalmar län.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Värmlands fastighetsförvaltning (demo)",
        org: "556900-9920",
        municipality: "1780",
        about: "Förvaltar regionens sjukhus och skolor.",
        requires_review: false,
    },
    DemoEmployer {
        name: "Örebro läns räddningstjänst (demo)",
        org: "222000-9985",
        municipality: "1880",
        about: "Räddningstjänstförbund för sex kommuner.",
        requires_review: false,
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

/// Seeds a fictional salary survey (three years, about 1,700 answers each)
/// when none is imported, so Lönestatistik has something to show. The
/// numbers are drawn from a fixed seed around the trade press's published
/// means (upphandlare about 45 000 kr, upphandlingschef about 63 000 kr,
/// state employers above municipalities, regions lowest).
pub async fn seed_salaries_if_empty(store: &Store, now: DateTime<Utc>) -> Result<usize> {
    use platsen_taxonomy::survey::{Gender, Response, Sector, Specialisation};
    use rand::{Rng, SeedableRng};
    if store.salary_generation().await? != 0 {
        return Ok(0);
    }
    let latest = chrono::Datelike::year(&today_in_sweden(now)) - 1;
    let mut rng = rand::rngs::StdRng::seed_from_u64(2025);
    let pick = |rng: &mut rand::rngs::StdRng, weights: &[u32]| {
        let mut x = rng.random_range(0..weights.iter().sum::<u32>());
        weights
            .iter()
            .position(|w| {
                if x < *w {
                    true
                } else {
                    x -= w;
                    false
                }
            })
            .unwrap_or(0)
    };
    // Role::ALL order: upphandlare, inköpare, upphandlingschef, inköpschef,
    // avtalscontroller, kategoriledare, upphandlingsjurist, inköpsassistent, annan.
    let role_weights = [40, 15, 8, 6, 8, 6, 4, 5, 8];
    let role_base = [45_300.0, 41_500.0, 63_100.0, 66_000.0, 44_500.0, 52_000.0, 56_000.0, 33_500.0, 43_000.0];
    let sector_weights = [45, 12, 20, 8, 10, 5];
    let sector_factor = [1.0, 0.97, 1.085, 1.03, 1.08, 1.12];
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
    let mut rows = Vec::new();
    for (k, year) in [latest - 2, latest - 1, latest].into_iter().enumerate() {
        for _ in 0..(1_650 + 40 * k) {
            let role = Role::ALL[pick(&mut rng, &role_weights)];
            let r = Role::ALL.iter().position(|x| *x == role).unwrap_or(0);
            let s = pick(&mut rng, &sector_weights);
            let gender =
                [Gender::Kvinna, Gender::Man, Gender::Annat, Gender::UppgiftSaknas][pick(&mut rng, &[62, 35, 1, 2])];
            let age: u32 = rng.random_range(24..66);
            let experience: u32 = rng.random_range(0..=(age - 22).min(30));
            let extent: u32 = if rng.random_range(0..10) < 9 { 100 } else { [50, 75, 80, 90][rng.random_range(0..4)] };
            let full_time = role_base[r]
                * sector_factor[s]
                * (1.0 + 0.012 * f64::from(experience.min(20)))
                * (if gender == Gender::Man { 1.02 } else { 1.0 })
                * 1.033_f64.powi(k as i32 - 2)
                * rng.random_range(0.86..1.16)
                * 0.9;
            let county = counties[pick(&mut rng, &county_weights)].code;
            rows.push(Response {
                year,
                role,
                sector: Sector::ALL[s],
                county_code: county,
                gender,
                age,
                experience_years: experience,
                monthly_salary_sek: (full_time * f64::from(extent) / 100.0 / 100.0).round() as u32 * 100,
                extent_percent: extent,
                specialisation: [
                    None,
                    Some(Specialisation::It),
                    Some(Specialisation::Entreprenad),
                    Some(Specialisation::Avtalsforvaltning),
                ][rng.random_range(0..4)],
                is_manager: matches!(role, Role::Upphandlingschef | Role::Inkopschef),
            });
        }
    }
    let n = rows.len();
    store.import_salaries("demo-survey", "demo-lonestatistik.csv", &rows, now, |_, _| {}).await?;
    tracing::info!(responses = n, "seeded demo salary survey");
    Ok(n)
}
