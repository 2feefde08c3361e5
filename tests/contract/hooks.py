"""schemathesis hooks for Platsen's contract test (SCHEMATHESIS_HOOKS=hooks).

An ad's application deadline must lie between today and a year ahead, its
expiry after the deadline, and it needs a way to apply (`apply_url` or
`apply_email`). No JSON Schema can say "within a year from today" or "one of
these two", so almost every ad schemathesis draws is refused with a 422, and
its stateful phase never gets past creating one. For data schemathesis means
to be valid (positive mode) this hook moves those fields inside the rules;
every other field stays as drawn, and negative data is left alone."""

import datetime

import schemathesis

AD_OPERATIONS = {"createJob", "updateJob"}


@schemathesis.hook
def map_case(context, case):
    operation_id = case.operation.definition.raw.get("operationId")
    meta = case.meta
    positive = meta is not None and meta.generation.mode.is_positive
    if operation_id not in AD_OPERATIONS or not positive or not isinstance(case.body, dict):
        return case
    body = dict(case.body)
    today = datetime.date.today()
    if "application_deadline" in body or operation_id == "createJob":
        body["application_deadline"] = (today + datetime.timedelta(days=30)).isoformat()
    body.pop("expires_at", None)
    if operation_id == "createJob" and not body.get("apply_url") and not body.get("apply_email"):
        body["apply_url"] = "https://karriar.example.se/jobb/1"
    low, high = body.get("salary_min"), body.get("salary_max")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        body["salary_min"], body["salary_max"] = high, low
    case.body = body
    return case
