//! A realistic board of procurement ads, the same for every run: the
//! relevance comparison and the benchmarks search it. Titles as such boards
//! write them (Swedish, some English), forty public employers in their own
//! municipalities, descriptions of about 145 words drawn from sentences
//! about procurement work.

use chrono::{DateTime, Utc};
use platsen_jobs::Store;
use platsen_jobs::input::{EmployerInput, JobInput};
use platsen_jobs::model::{Actor, EmploymentType, RemoteMode};
use platsen_taxonomy::Role;

/// (name, municipality code).
pub const EMPLOYERS: [(&str, &str); 40] = [
    ("Nacka kommun", "0182"),
    ("Stockholms stad", "0180"),
    ("Region Stockholm", "0180"),
    ("Försäkringskassan", "0180"),
    ("Kammarkollegiet", "0180"),
    ("Trafikverket", "2081"),
    ("Region Skåne", "1280"),
    ("Malmö stad", "1280"),
    ("Lunds kommun", "1281"),
    ("Helsingborgs stad", "1283"),
    ("Göteborgs stad", "1480"),
    ("Västra Götalandsregionen", "1480"),
    ("Borås stad", "1490"),
    ("Uppsala kommun", "0380"),
    ("Region Uppsala", "0380"),
    ("Luleå kommun", "2580"),
    ("Kiruna kommun", "2584"),
    ("Region Norrbotten", "2580"),
    ("Umeå kommun", "2480"),
    ("Region Västerbotten", "2480"),
    ("Västerås stad", "1980"),
    ("Örebro kommun", "1880"),
    ("Region Örebro län", "1880"),
    ("Linköpings kommun", "0580"),
    ("Norrköpings kommun", "0581"),
    ("Jönköpings kommun", "0680"),
    ("Växjö kommun", "0780"),
    ("Kalmar kommun", "0880"),
    ("Gotlands kommun", "0980"),
    ("Karlskrona kommun", "1080"),
    ("Halmstads kommun", "1380"),
    ("Karlstads kommun", "1780"),
    ("Falu kommun", "2080"),
    ("Gävle kommun", "2180"),
    ("Sundsvalls kommun", "2281"),
    ("Östersunds kommun", "2380"),
    ("Skellefteå kommun", "2482"),
    ("Södertälje kommun", "0181"),
    ("Huddinge kommun", "0126"),
    ("Solna stad", "0184"),
];

/// (title pattern, role); `{e}` is the employer's name.
const TITLES: [(&str, Role); 24] = [
    ("Upphandlare till {e}", Role::Upphandlare),
    ("Upphandlare", Role::Upphandlare),
    ("Senior upphandlare", Role::Upphandlare),
    ("Upphandlare med inriktning bygg och anläggning", Role::Upphandlare),
    ("Upphandlingsspecialist", Role::Upphandlare),
    ("Procurement officer", Role::Upphandlare),
    ("Inköpare", Role::Inkopare),
    ("Strategisk inköpare", Role::Inkopare),
    ("Inköpare IT", Role::Inkopare),
    ("Buyer", Role::Inkopare),
    ("Inköpschef till {e}", Role::Inkopschef),
    ("Purchasing manager", Role::Inkopschef),
    ("Upphandlingschef", Role::Upphandlingschef),
    ("Chef för upphandlingsenheten", Role::Upphandlingschef),
    ("Avtalscontroller", Role::Avtalscontroller),
    ("Avtalsförvaltare inom IT", Role::Avtalscontroller),
    ("Contract manager", Role::Avtalscontroller),
    ("Kategoriledare IT", Role::Kategoriledare),
    ("Kategoriledare fastighet", Role::Kategoriledare),
    ("Category manager", Role::Kategoriledare),
    ("Upphandlingsjurist", Role::Upphandlingsjurist),
    ("Inköpsassistent", Role::Inkopsassistent),
    ("Inköpssamordnare", Role::Annan),
    ("Verksamhetsutvecklare inom inköp", Role::Annan),
];

const SENTENCES: [&str; 32] = [
    "Vi söker dig som vill arbeta med offentlig upphandling i en verksamhet som växer.",
    "Du genomför upphandlingar enligt LOU från behovsanalys till tecknat avtal.",
    "I rollen följer du upp ramavtal och leverantörers åtaganden.",
    "Du stöttar verksamheten i strategiska inköpsfrågor och driver förbättringsarbete.",
    "Arbetet omfattar direktupphandlingar, förnyade konkurrensutsättningar och avrop.",
    "Du samarbetar med jurister, controllers och beställare i hela organisationen.",
    "Vi arbetar med hållbarhetskrav, sociala krav och klimatkrav i våra avtal.",
    "Du ansvarar för kategoristrategier inom IT, fastighet och tjänster.",
    "Erfarenhet av e-handel och upphandlingsverktyg som TendSign eller Visma är meriterande.",
    "Du har akademisk examen inom juridik, ekonomi eller inköp.",
    "Du har minst tre års erfarenhet av upphandling inom offentlig sektor.",
    "God kunskap om lagen om offentlig upphandling är ett krav.",
    "Du analyserar inköpsvolymer och tar fram underlag för beslut.",
    "Avtalsförvaltning och avtalsuppföljning är en stor del av arbetet.",
    "Du utbildar och vägleder beställare i inköpsprocessen.",
    "Vi erbjuder flexibel arbetstid, friskvårdsbidrag och möjlighet till distansarbete.",
    "Enheten består av tolv upphandlare, två avtalscontroller och en inköpschef.",
    "Du leder upphandlingsprojekt och håller i marknadsdialoger med leverantörer.",
    "Uppdraget innebär att granska anbud, skriva tilldelningsbeslut och hantera överprövningar.",
    "Du bidrar till att utveckla vår inköpsorganisation och våra rutiner.",
    "Vi ser gärna att du har erfarenhet av byggentreprenader enligt AB och ABT.",
    "Du arbetar nära kategoriledare och verksamhetsansvariga.",
    "Som person är du strukturerad, kommunikativ och har lätt för att samarbeta.",
    "Du driver arbetet med leverantörsuppföljning och riskanalys.",
    "Placeringen är centralt med goda kommunikationer.",
    "Tjänsten är en tillsvidareanställning på heltid med sex månaders provanställning.",
    "Vi tillämpar löpande urval, så skicka gärna din ansökan redan i dag.",
    "Du rapporterar till upphandlingschefen och ingår i ledningsgruppen för inköp.",
    "Arbetet innefattar även samordnade upphandlingar med andra kommuner och regioner.",
    "Du följer upp avtalstrohet och besparingar och rapporterar till ledningen.",
    "Digitalisering av inköpsprocessen är ett prioriterat område under året.",
    "Vi välkomnar sökande med olika bakgrunder och erfarenheter.",
];

/// A small deterministic generator (SplitMix64), so every run has the same ads.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Ad number `n` for employer `EMPLOYERS[n % 40]`.
pub fn ad(n: usize, now: DateTime<Utc>) -> JobInput {
    let r = |k: u64| mix((n as u64) << 8 | k);
    let (employer, municipality) = EMPLOYERS[n % EMPLOYERS.len()];
    let (title, role) = TITLES[(r(1) % TITLES.len() as u64) as usize];
    let mut description = String::new();
    let mut used = Vec::new();
    let mut k = 2;
    while description.split_whitespace().count() < 135 {
        let s = (r(k) % SENTENCES.len() as u64) as usize;
        k += 1;
        if used.contains(&s) {
            continue;
        }
        used.push(s);
        description.push_str(SENTENCES[s]);
        description.push(' ');
    }
    description.push_str(&format!("Välkommen med din ansökan till {employer}!"));
    let salary_min = 38_000 + (r(100) % 30) as i64 * 1_000;
    JobInput {
        title: Some(title.replace("{e}", employer)),
        description: Some(description),
        role: Some(role),
        municipality_code: Some(municipality.into()),
        employment_type: Some(match r(101) % 10 {
            0 | 1 => EmploymentType::Visstid,
            2 => EmploymentType::Vikariat,
            3 => EmploymentType::Konsultuppdrag,
            _ => EmploymentType::Tillsvidare,
        }),
        remote: Some(match r(102) % 4 {
            0 => RemoteMode::Hybrid,
            1 => RemoteMode::Remote,
            _ => RemoteMode::OnSite,
        }),
        application_deadline: Some(
            platsen_jobs::validate::today_in_sweden(now) + chrono::Duration::days(10 + (r(103) % 40) as i64),
        ),
        apply_url: Some("https://example.org/ansok".into()),
        salary_min: Some(salary_min),
        salary_max: Some(salary_min + 10_000),
        ..Default::default()
    }
}

/// Creates the forty employers (`org` gives each an organisation number);
/// returns their ids in the order of [`EMPLOYERS`].
pub async fn employers(store: &Store, now: DateTime<Utc>) -> Vec<i64> {
    let mut ids = Vec::new();
    for (i, (name, _)) in EMPLOYERS.iter().enumerate() {
        let input = EmployerInput {
            name: Some((*name).into()),
            organization_number: Some(crate::bench::org(1000 + i as u32)),
            ..Default::default()
        };
        ids.push(store.create_employer(input, false, now).await.expect("employer").id);
    }
    ids
}

/// Publishes ads `from..to` straight through the store, `tasks` at a time
/// (PostgreSQL takes several writers; SQLite queues them).
pub async fn publish(store: &Store, employers: &[i64], from: usize, to: usize, tasks: usize) {
    let now = chrono::Utc::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let store = store.clone();
        let employers = employers.to_vec();
        handles.push(tokio::spawn(async move {
            let mut n = from + t;
            while n < to {
                let ad = store.create_job(Actor::System, employers[n % employers.len()], ad(n, now), now).await;
                let ad = ad.expect("create an ad");
                store.publish_as_operator(ad.id, now).await.expect("publish an ad");
                n += tasks;
            }
        }));
    }
    for h in handles {
        h.await.expect("publishing task");
    }
}
