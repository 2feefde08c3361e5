"""An applicant-tracking system's day, through a client generated from
Platsen's spec by openapi-python-client (tests/integration/contract.rs
generates `platsen_client` and runs this with PLATSEN_URL and
PLATSEN_ADMIN_TOKEN set). Every answer is parsed by the generated models,
so an answer that disagrees with the spec fails here."""

import datetime
import os
import sys

from platsen_client import AuthenticatedClient, Client
from platsen_client.api.employers import create_employer, create_key
from platsen_client.api.jobs import close_job, create_job, get_job, list_jobs, publish_job, search_jobs, update_job
from platsen_client.api.stream import change_stream, snapshot
from platsen_client.models import (
    CreateEmployer,
    CreateJob,
    CreateKey,
    EmploymentTypeCode,
    JobStatusCode,
    MunicipalityCode,
    PatchJob,
    Problem,
    RoleCode,
    SectorCode,
)

base = os.environ["PLATSEN_URL"]
admin = AuthenticatedClient(base_url=base, token=os.environ["PLATSEN_ADMIN_TOKEN"], raise_on_unexpected_status=True)
public = Client(base_url=base, raise_on_unexpected_status=True)


def ok(answer, what):
    """The parsed answer, or the problem it was, loudly."""
    if answer is None or isinstance(answer, Problem):
        sys.exit(f"{what}: {answer!r}")
    return answer


# The operator signs the employer up and issues its key.
employer = ok(
    create_employer.sync(
        client=admin,
        body=CreateEmployer(name="Klientprovets kommun", organization_number="212000-0142", sector=SectorCode("kommun")),
    ),
    "create the employer",
)
key = ok(create_key.sync(employer.id, client=admin, body=CreateKey(label="Rekryteringssystem")), "issue a key")
assert key.key.startswith("plk_"), key.key
ats = AuthenticatedClient(base_url=base, token=key.key, raise_on_unexpected_status=True)

# The ATS posts an ad, publishes it and corrects it.
deadline = datetime.date.today() + datetime.timedelta(days=30)
ad = ok(
    create_job.sync(
        client=ats,
        body=CreateJob(
            title="Upphandlare till Klientprovet",
            description="Du leder upphandlingar enligt LOU från behov till avtal.",
            role=RoleCode("upphandlare"),
            municipality_code=MunicipalityCode("0182"),
            employment_type=EmploymentTypeCode("tillsvidare"),
            application_deadline=deadline,
            apply_url="https://klientprovet.example.se/jobb/1",
            salary_min=42000,
            salary_max=52000,
        ),
    ),
    "create the ad",
)
assert ad.status == JobStatusCode.DRAFT, ad.status
published = ok(publish_job.sync(ad.id, client=ats), "publish the ad")
assert published.status == JobStatusCode.PUBLISHED, published.status
updated = ok(
    update_job.sync(
        ad.id,
        client=ats,
        body=PatchJob(title="Upphandlare till Klientprovets kommun"),
        if_match=f'"v{published.version}-published"',
    ),
    "update the ad",
)
assert updated.title == "Upphandlare till Klientprovets kommun", updated.title
assert updated.version > published.version

# Job seekers find it: in the list, by a search with a typo, by its slug.
listed = ok(list_jobs.sync(client=public, municipality=MunicipalityCode("0182"), per_page=100), "list the ads")
assert ad.id in [j.id for j in listed.items], "the published ad is listed"
found = ok(search_jobs.sync(client=public, q="upphandlare klientprovets"), "search")
assert ad.id in [h.id for h in found.hits], "the search finds the ad"
assert found.total >= 1
read = ok(get_job.sync(updated.slug, client=public), "read the ad")
assert read.salary is not None and read.salary.min_ == 42000, read.salary

# A career page keeps in step through the snapshot and the change stream.
snap = ok(snapshot.sync(client=public), "the snapshot")
assert ad.id in [j.id for j in snap.ads], "the snapshot has the ad"
stream = ok(change_stream.sync(client=public, since="0"), "the change stream")
assert ad.id in [c.id for c in stream.changes], "the stream has the ad's changes"

# The position is filled.
closed = ok(close_job.sync(ad.id, client=ats), "close the ad")
assert closed.status == JobStatusCode.CLOSED, closed.status
gone = get_job.sync_detailed(updated.slug, client=Client(base_url=base))
assert gone.status_code == 404, gone.status_code
after = ok(change_stream.sync(client=public, since=stream.next_cursor), "the stream after closing")
assert [c.change.value for c in after.changes if c.id == ad.id] == ["removed"], after.changes
print(f"closed ad {ad.id}")
